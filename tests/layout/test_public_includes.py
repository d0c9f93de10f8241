#!/usr/bin/env python3
"""The tools and benchmarks use the library through its public headers only.

Every `#include` in tools/ and bench/ must name one of:
  * a public header, "edgehdf5/<name>" that exists under include/edgehdf5/;
  * a header of the including file's own folder, by its bare name ("migration.hpp" from
    tools/migrate/), or of a folder it is allowed to use (ALLOWED_FOLDERS);
  * a system or third-party header in angle brackets, as long as it is not one of the
    library's internal headers under src/ (<store/schema.hpp> would be).
The public headers themselves (include/edgehdf5/) may include only each other and <...>
headers that are not under src/: an installed header cannot reach src/.

Run with the repository root as argument (CTest does); without one, the root is found from
this file's place. Exit status 0 when every include is allowed; otherwise each offending
line is listed as PATH:LINE: #include ... and the status is 1. The checker checks itself
first, on a small tree it plants bad includes in, so it cannot pass by finding nothing.
"""

import re
import sys
import tempfile
import unittest
from pathlib import Path

SOURCE_SUFFIXES = {".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".inc"}
CHECKED_FOLDERS = ("tools", "bench")
# Folders whose headers another folder may include besides its own: bench/'s migrate
# workload times edgehdf5-migrate's engine (it links the edgehdf5_migration library).
ALLOWED_FOLDERS = {"bench": ("tools/migrate",)}
# Single files allowed internal headers, with the reason: the gpu workload measures the CUDA
# module's scoring alone (cuBLAS without top-k, the device's bandwidth) beside the store's
# search; the checkpoint workload writes one store state with three file writers side by
# side (the seam driver, the in-memory image, HDF5's sec2); the oneshot workload writes a
# checkpoint of one state with and without its keyword index; no public header exposes
# these, and none should.
INTERNAL_ALLOWED = {
    "bench/gpu_workload.cpp": ("gpu/gpu_loader.hpp", "gpu/gpu_search.hpp"),
    "bench/checkpoint_workload.cpp": ("h5/h5.hpp", "store/checkpoint_file.hpp",
                                      "store/posix_file.hpp", "store/schema.hpp"),
    "bench/oneshot_workload.cpp": ("store/checkpoint_file.hpp", "store/schema.hpp",
                                   "store/sidecar_paths.hpp"),
}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def source_files(folder: Path):
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in SOURCE_SUFFIXES:
            yield path


def includes(path: Path):
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        match = INCLUDE.match(line)
        if match:
            yield number, match.group(1), match.group(2).strip(), line.strip()


def is_internal(root: Path, name: str) -> bool:
    """True when `name` names one of the library's internal headers (under src/)."""
    return name.startswith("src/") or (root / "src" / name).is_file()


def is_public(root: Path, name: str) -> bool:
    return name.startswith("edgehdf5/") and (root / "include" / name).is_file()


def allowed(root: Path, path: Path, quote: str, name: str, public_header: bool) -> bool:
    if is_internal(root, name):
        return False
    if quote == "<":
        return True
    if is_public(root, name):
        return True
    if public_header or "/" in name or "\\" in name:
        return False
    folder = path.parent.relative_to(root).as_posix()
    top = folder.split("/")[0]
    folders = (folder,) + ALLOWED_FOLDERS.get(folder, ()) + ALLOWED_FOLDERS.get(top, ())
    return any((root / own / name).is_file() for own in folders)


def violations(root: Path) -> list[str]:
    root = root.resolve()
    found = []
    checked = [(root / folder, False) for folder in CHECKED_FOLDERS]
    checked.append((root / "include" / "edgehdf5", True))
    for folder, public_header in checked:
        for path in source_files(folder):
            for number, quote, name, line in includes(path):
                relative = path.relative_to(root).as_posix()
                if name in INTERNAL_ALLOWED.get(relative, ()):
                    continue
                if not allowed(root, path, quote, name, public_header):
                    found.append(f"{path.relative_to(root).as_posix()}:{number}: {line}")
    return found


TREE = {
    "include/edgehdf5/memory.hpp": '#include <string>\n#include "edgehdf5/entry.hpp"\n',
    "include/edgehdf5/entry.hpp": "",
    "src/store/schema.hpp": "",
    "src/util/text.hpp": "",
    "tools/migrate/migration.hpp": '#include "edgehdf5/memory.hpp"\n',
    "tools/migrate/main.cpp": '#include <CLI/CLI.hpp>\n#include "migration.hpp"\n',
    "tools/edgehdf5/main.cpp": '#include "edgehdf5/entry.hpp"\n',
    "bench/workload.hpp": "",
    "bench/main.cpp": '#include "workload.hpp"\n#include "migration.hpp"\n',
}


class CheckerTest(unittest.TestCase):
    """The checker on a small tree: what it must accept, and planted includes it must refuse."""

    def found_with(self, name: str = "", line: str = "") -> list[str]:
        """violations() of TREE, with `line` appended to the file `name` when given."""
        with tempfile.TemporaryDirectory() as temporary:
            root = Path(temporary)
            for file, text in TREE.items():
                (root / file).parent.mkdir(parents=True, exist_ok=True)
                (root / file).write_text(text)
            if name:
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                with (root / name).open("a") as out:
                    out.write(line + "\n")
            return violations(root)

    def test_accepts_public_own_folder_and_system_headers(self):
        self.assertEqual(self.found_with(), [])

    def test_refuses_internal_headers(self):
        for line in ('#include "store/schema.hpp"', "#include <util/text.hpp>",
                     '#include "../../src/store/schema.hpp"', '#  include "src/util/text.hpp"'):
            with self.subTest(line=line):
                self.assertEqual(self.found_with("tools/migrate/new.cpp", line),
                                 [f"tools/migrate/new.cpp:1: {line}"])

    def test_refuses_another_tools_header_and_unknown_public_names(self):
        self.assertEqual(self.found_with("tools/edgehdf5/x.cpp", '#include "migration.hpp"'),
                         ['tools/edgehdf5/x.cpp:1: #include "migration.hpp"'])
        self.assertEqual(self.found_with("bench/x.cpp", '#include "edgehdf5/missing.hpp"'),
                         ['bench/x.cpp:1: #include "edgehdf5/missing.hpp"'])

    def test_public_headers_include_only_public_headers(self):
        self.assertEqual(self.found_with("include/edgehdf5/entry.hpp", '#include "memory.hpp"'),
                         ['include/edgehdf5/entry.hpp:1: #include "memory.hpp"'])


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
    checker = unittest.TextTestRunner(verbosity=0).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(CheckerTest))
    if not checker.wasSuccessful():
        print("the include checker failed its own tests", file=sys.stderr)
        return 1
    found = violations(root)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(f"{len(found)} include(s) in tools/, bench/ or include/edgehdf5/ reach past the "
              "public headers (see tests/layout/test_public_includes.py)", file=sys.stderr)
        return 1
    print(f"every include in {', '.join(CHECKED_FOLDERS)} and include/edgehdf5 is allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
