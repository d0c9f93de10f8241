"""Helpers shared by the interop tests: running the C++ programs CTest built (the fixture
writer, the open probe), and reading strings and dtypes the way every test compares them."""

import json
import os
import subprocess
from pathlib import Path

import h5py


def program(env_var):
    """The path of a program CTest passes in the environment (see CMakeLists.txt)."""
    path = os.environ.get(env_var)
    if not path:
        raise RuntimeError(f"{env_var} is not set: run this test through CTest, or set it to "
                           f"the program's path")
    return path


def write_library_fixtures(out_dir):
    """Runs interop_write_fixture into out_dir and returns its manifest."""
    subprocess.run([program("EDGEHDF5_WRITE_FIXTURE"), str(out_dir)], check=True)
    return json.loads((Path(out_dir) / "manifest.json").read_text(encoding="utf-8"))


def probe_open(path, *flags):
    """HDF5Memory::open's outcome on path, from interop_open_probe (see open_probe.cpp)."""
    run = subprocess.run([program("EDGEHDF5_OPEN_PROBE"), *flags, str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def is_vlen_utf8(dtype):
    info = h5py.check_string_dtype(dtype)
    return info is not None and info.encoding == "utf-8" and info.length is None


def is_utf8_string(dtype):
    """A UTF-8 string dtype, fixed-length (null-padded) or variable-length: the library
    picks per column by cost (see write_dataset in src/h5/h5.cpp)."""
    info = h5py.check_string_dtype(dtype)
    return info is not None and info.encoding == "utf-8"


def read_strings(dataset):
    """A string dataset's values as Python str (fixed or variable length, UTF-8)."""
    return list(dataset.asstr()[()])

