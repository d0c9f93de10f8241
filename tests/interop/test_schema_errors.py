#!/usr/bin/env python3
"""A broken file is reported precisely.

Each case copies a valid file the library wrote (interop_write_fixture's f32.h5), breaks it
in exactly one way with h5py, and opens it with HDF5Memory::open through interop_open_probe,
read-only and read-write. The open must fail with an edgehdf5::Error whose code is the right
kind (schema for a layout problem; hdf5 or io for a file that is not readable HDF5) and whose
message names what is wrong: the dataset or attribute, or the path of an unreadable file.

Run through CTest, or by hand:
    EDGEHDF5_WRITE_FIXTURE=build/bin/interop_write_fixture \
    EDGEHDF5_OPEN_PROBE=build/bin/interop_open_probe /usr/bin/python3 test_schema_errors.py
"""

import shutil
import tempfile
import unittest
from pathlib import Path

import h5py
import numpy as np

from interop_support import probe_open, write_library_fixtures

BASE_FILE = "f32.h5"
UNREADABLE = {"hdf5", "io"}  # the HDF5 library or the OS may be the first to refuse


def replace_dataset(h5, name, data):
    del h5[name]
    h5.create_dataset(name, data=data)


# --- the ways to break a file: each takes the path of a fresh copy -------------------------------

def schema_version_2(path):
    with h5py.File(path, "r+") as h5:
        h5["meta"].attrs["schema_version"] = "2.0"


def embedding_dim_missing(path):
    with h5py.File(path, "r+") as h5:
        del h5["meta"].attrs["embedding_dim"]


def norms_missing(path):
    with h5py.File(path, "r+") as h5:
        del h5["memory/norms"]


def sessions_group_missing(path):
    with h5py.File(path, "r+") as h5:
        del h5["sessions"]


def tombstones_one_short(path):
    with h5py.File(path, "r+") as h5:
        replace_dataset(h5, "memory/tombstones", h5["memory/tombstones"][:-1])


def relation_targets_one_short(path):
    with h5py.File(path, "r+") as h5:
        targets = h5["knowledge_graph/relation_tgts"][()]
        replace_dataset(h5, "knowledge_graph/relation_tgts", targets[:-1])


def embeddings_one_column_too_many(path):
    with h5py.File(path, "r+") as h5:
        embeddings = h5["memory/embeddings"][()]
        extra_column = np.zeros((len(embeddings), 1), np.float32)
        replace_dataset(h5, "memory/embeddings", np.hstack([embeddings, extra_column]))


def timestamps_as_strings(path):
    with h5py.File(path, "r+") as h5:
        count = len(h5["memory/timestamps"])
        replace_dataset(h5, "memory/timestamps",
                        np.array(["yesterday"] * count, dtype=h5py.string_dtype("utf-8")))


def truncated_to_half(path):
    with open(path, "r+b") as file:
        file.truncate(path.stat().st_size // 2)


def text_file(path):
    path.write_text("this is a text file, not an HDF5 file\n", encoding="utf-8")


def nonexistent(path):
    path.unlink()


# (case, codes accepted, strings the message must contain; "{path}": the broken file's path)
CASES = [
    (schema_version_2, {"schema"}, ["schema_version", "2.0"]),
    (embedding_dim_missing, {"schema"}, ["embedding_dim"]),
    (norms_missing, {"schema"}, ["/memory/norms"]),
    (sessions_group_missing, {"schema"}, ["/sessions"]),
    (tombstones_one_short, {"schema"}, ["/memory/tombstones"]),
    (relation_targets_one_short, {"schema"}, ["/knowledge_graph/relation_tgts"]),
    (embeddings_one_column_too_many, {"schema"}, ["/memory/embeddings"]),
    (timestamps_as_strings, {"schema"}, ["/memory/timestamps"]),
    (truncated_to_half, UNREADABLE, ["{path}"]),
    (text_file, UNREADABLE, ["{path}"]),
    (nonexistent, {"io"}, ["{path}"]),
]
OPEN_MODES = {"read-only": [], "read-write": ["--read-write"]}


class BrokenFilesAreReportedPrecisely(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.TemporaryDirectory(prefix="edgehdf5_schema_")
        cls.addClassCleanup(cls.scratch.cleanup)  # also when setUpClass fails
        cls.dir = Path(cls.scratch.name)
        write_library_fixtures(cls.dir / "fixtures")
        cls.base = cls.dir / "fixtures" / BASE_FILE

    def fresh_copy(self, case_name, mode):
        # One folder per case and mode: a read-write open leaves a log and a lock beside it.
        folder = self.dir / f"{case_name}-{mode}"
        folder.mkdir()
        copy = folder / BASE_FILE
        shutil.copyfile(self.base, copy)
        return copy

    def test_the_unbroken_copy_opens(self):
        for mode in OPEN_MODES:
            with self.subTest(mode=mode):
                outcome = probe_open(self.fresh_copy("unbroken", mode), *OPEN_MODES[mode])
                self.assertTrue(outcome["opened"], outcome)

    def test_each_broken_file_names_its_problem(self):
        for break_file, codes, mentions in CASES:
            for mode in OPEN_MODES:
                with self.subTest(case=break_file.__name__, mode=mode):
                    path = self.fresh_copy(break_file.__name__, mode)
                    break_file(path)
                    outcome = probe_open(path, *OPEN_MODES[mode])
                    self.assertFalse(outcome["opened"], "opened a broken file")
                    self.assertIn(outcome["code"], codes, outcome["message"])
                    for mention in mentions:
                        self.assertIn(mention.format(path=path), outcome["message"])


if __name__ == "__main__":
    unittest.main()
