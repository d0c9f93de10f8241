"""Memory.open(untrusted=True): only HDF5's checksummed format reaches HDF5, and damage in
it is refused with an error (HDF5 verifies each metadata block's checksum)."""
import h5py
import numpy as np
import pytest

import edgehdf5


def make_memory(path):
    with edgehdf5.Memory.create(path, dim=8) as m:
        m.save_batch(["alpha", "beta"], np.eye(2, 8, dtype=np.float32))


def test_our_files_are_checksummed_and_open_as_untrusted(tmp_path):
    path = tmp_path / "m.h5"
    make_memory(path)
    with open(path, "rb") as f:
        head = f.read(9)
    assert head[:8] == b"\x89HDF\r\n\x1a\n" and head[8] == 3  # superblock v3: checksummed
    with edgehdf5.Memory.open(path, read_only=True, untrusted=True) as m:
        assert m.count == 2


def test_unchecksummed_and_foreign_files_are_refused_before_hdf5(tmp_path):
    ours = tmp_path / "m.h5"
    make_memory(ours)
    old = tmp_path / "old.h5"  # the same memory in h5py's default (1.0, unchecksummed) format
    with h5py.File(ours, "r") as a, h5py.File(old, "w", libver="earliest") as b:
        for key, value in a["/"].attrs.items():
            b.attrs[key] = value
        for key in a:
            a.copy(a[key], b, name=key)
    with edgehdf5.Memory.open(old, read_only=True) as m:  # trusted: opens as always
        assert m.count == 2
    with pytest.raises(edgehdf5.SchemaError, match="superblock version 0"):
        edgehdf5.Memory.open(old, read_only=True, untrusted=True)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all" * 10)
    with pytest.raises(edgehdf5.SchemaError, match="no HDF5 signature"):
        edgehdf5.Memory.open(junk, read_only=True, untrusted=True)
    with pytest.raises(edgehdf5.IoError, match="no such file"):
        edgehdf5.Memory.open(tmp_path / "missing.h5", read_only=True, untrusted=True)


def test_h5py_copies_every_group_out_of_our_files(tmp_path):
    # libhdf5 1.10.8 crashes copying a group whose variable-length string attributes are in
    # "dense" storage, where the 1.10 format puts a group's attributes past 8; our groups keep
    # theirs compact (src/h5/h5.cpp, create_group), so h5py's Group.copy works on /meta (16).
    path = tmp_path / "m.h5"
    make_memory(path)
    with h5py.File(path, "r") as a, h5py.File(tmp_path / "copy.h5", "w") as b:
        for key in a:
            a.copy(a[key], b, name=key)
        assert dict(b["meta"].attrs) == dict(a["meta"].attrs)
        assert len(a["meta"].attrs) > 8


def test_damaged_metadata_is_refused_with_an_error(tmp_path):
    # Flip bytes in the metadata (the first KiB: superblock and root object header) one at a
    # time; each damaged file must be refused with an edgehdf5 error, never opened wrongly.
    path = tmp_path / "m.h5"
    make_memory(path)
    original = path.read_bytes()
    refused = 0
    for offset in range(12, 1024, 7):
        damaged = bytearray(original)
        damaged[offset] ^= 0x5A
        target = tmp_path / f"d{offset}.h5"
        target.write_bytes(bytes(damaged))
        try:
            with edgehdf5.Memory.open(target, read_only=True, untrusted=True) as m:
                assert m.count == 2  # the byte was not used (free space, padding)
        except edgehdf5.Error:
            refused += 1
    assert refused > 50
