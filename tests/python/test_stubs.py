"""The type stubs (edgehdf5/__init__.pyi) against the package itself: every name the stubs
declare exists with the same parameters (and async where the stub says async), every public
name of the package is declared, and every public method and property has a docstring."""
import ast
import inspect
import pathlib
import re

import pytest

import edgehdf5

STUB = pathlib.Path(edgehdf5.__file__).with_name("__init__.pyi")


def stub_classes():
    tree = ast.parse(STUB.read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def stub_members(node):
    """name -> ast node of a class body's functions and annotated attributes."""
    members = {}
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            members.setdefault(item.name, item)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            members[item.target.id] = item
    return members


def stub_parameters(function):
    args = function.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    return [n for n in names if n not in ("self", "cls")], args.kwarg is not None


SIGNATURE = re.compile(r"^\w+\((.*)\)(?: -> .*)?$")


def runtime_parameters(value):
    """Parameter names of a Python function, or of a pybind11 function from its docstring's
    signature line; None when they cannot be known (an overloaded pybind11 function)."""
    function = getattr(value, "__func__", value)
    if inspect.isfunction(function):
        parameters = inspect.signature(function).parameters.values()
        return [p.name for p in parameters
                if p.name not in ("self", "cls") and p.kind is not p.VAR_KEYWORD
                and p.kind is not p.VAR_POSITIONAL]
    first = (function.__doc__ or "").splitlines()[0] if function.__doc__ else ""
    match = SIGNATURE.match(first)
    if not match:
        return None
    names = []
    depth, current = 0, ""
    for ch in match.group(1) + ",":
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            name = current.strip().split(":")[0].split("=")[0].strip()
            if name and name not in ("self", "*", "/", "cls"):
                names.append(name)
            current = ""
        else:
            current += ch
    return names


def public_runtime_names(cls):
    """Public names of a class of ours, less what Python's own bases (object, Exception,
    OSError, KeyError...) give it."""
    builtin = set()
    for base in cls.__mro__:
        if base.__module__ == "builtins":
            builtin |= set(dir(base))
    return {n for n in dir(cls) if not n.startswith("_") and n not in builtin}


def stub_members_with_bases(name, classes):
    """A stub class's members and those of its stub bases (an error's `code` is Error's)."""
    node = classes[name]
    members = dict(stub_members(node))
    for base in node.bases:
        if isinstance(base, ast.Name) and base.id in classes:
            for key, value in stub_members_with_bases(base.id, classes).items():
                members.setdefault(key, value)
    return members


def documented(value):
    doc = inspect.getdoc(value) or ""
    lines = [line for line in doc.splitlines() if line.strip()]
    if not lines:
        return False
    # pybind11 puts the signature first; a docstring must say more than that.
    return len(lines) > 1 or not SIGNATURE.match(lines[0])


CLASSES = sorted(stub_classes())


@pytest.mark.parametrize("name", CLASSES)
def test_stub_class_matches_the_package(name):
    cls = getattr(edgehdf5, name)
    members = stub_members_with_bases(name, stub_classes())
    missing_at_runtime = [m for m in members if not m.startswith("__") and not hasattr(cls, m)]
    assert not missing_at_runtime, f"{name}: the stub declares {missing_at_runtime}"
    undeclared = sorted(public_runtime_names(cls) - set(members))
    assert not undeclared, f"{name}: not in the stub: {undeclared}"
    for member, item in members.items():
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) or member.startswith("__"):
            continue
        value = inspect.getattr_static(cls, member)
        want, takes_kwargs = stub_parameters(item)
        got = runtime_parameters(value)
        if got is not None:
            if takes_kwargs:
                assert set(want) <= set(got) or inspect.isfunction(getattr(value, "__func__", value)), \
                    f"{name}.{member}: stub {want}, package {got}"
            else:
                assert want == got, f"{name}.{member}: stub {want}, package {got}"
        function = getattr(value, "__func__", value)
        assert inspect.iscoroutinefunction(function) == isinstance(item, ast.AsyncFunctionDef), \
            f"{name}.{member}: async in one and not the other"


@pytest.mark.parametrize("name", CLASSES)
def test_every_public_member_has_a_docstring(name):
    cls = getattr(edgehdf5, name)
    if issubclass(cls, BaseException):
        assert documented(cls), name
        return
    undocumented = [m for m in public_runtime_names(cls)
                    if not documented(inspect.getattr_static(cls, m))]
    assert not undocumented, f"{name}: no docstring on {sorted(undocumented)}"


def test_module_functions_match_the_stub():
    tree = ast.parse(STUB.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            value = getattr(edgehdf5, node.name)
            assert runtime_parameters(value) == stub_parameters(node)[0], node.name
            assert documented(value), node.name
    declared = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    assert set(edgehdf5.__all__) <= declared, set(edgehdf5.__all__) - declared
