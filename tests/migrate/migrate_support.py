"""Shared pieces of the edgehdf5-migrate tests: SQLite sources built row by row, running the
tools, and reading the memory file they write with h5py.

The binaries come from $EDGEHDF5_MIGRATE_BIN and $EDGEHDF5_BIN (CTest sets both), else
build/bin/ under the repository root.
"""

import os
import pathlib
import sqlite3
import struct
import subprocess
import tempfile
import unittest

import h5py
import numpy as np

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
MIGRATE = os.environ.get("EDGEHDF5_MIGRATE_BIN",
                         str(REPO_ROOT / "build" / "bin" / "edgehdf5-migrate"))
EDGEHDF5 = os.environ.get("EDGEHDF5_BIN", str(REPO_ROOT / "build" / "bin" / "edgehdf5"))

EXIT_SUCCESS, EXIT_FAILURE, EXIT_USAGE_ERROR = 0, 1, 2
ERROR_PREFIX = "edgehdf5-migrate: error: "

# The reference README's schema, and the two names databases of the original tool use instead.
REFERENCE_SCHEMA = {
    "memory_chunks": "id INTEGER PRIMARY KEY, chunk TEXT, embedding BLOB, source_channel TEXT, "
                     "timestamp REAL, session_id TEXT, tags TEXT, deleted INTEGER",
    "sessions": "id TEXT, start_idx INTEGER, end_idx INTEGER, channel TEXT, timestamp REAL, "
                "summary TEXT",
    "entities": "id INTEGER, name TEXT, entity_type TEXT, embedding_idx INTEGER",
    "relations": "src INTEGER, tgt INTEGER, relation TEXT, weight REAL, ts REAL",
}
ORIGINAL_TOOL_SCHEMA = dict(
    REFERENCE_SCHEMA,
    entities="id INTEGER, name TEXT, type TEXT, embedding_idx INTEGER",
    relations="src INTEGER, tgt INTEGER, relation TEXT, weight REAL, timestamp REAL",
)


def f32_blob(values) -> bytes:
    """An embedding as the source stores it: little-endian float32."""
    return np.asarray(values, dtype="<f4").tobytes()


def random_embeddings(count: int, dim: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)


class SourceDb:
    """An SQLite agent memory made for a test; rows are given in the order of their ids."""

    def __init__(self, path: pathlib.Path, tables=tuple(REFERENCE_SCHEMA), schema=REFERENCE_SCHEMA):
        self.path = path
        self.db = sqlite3.connect(path)
        for table in tables:
            self.db.execute(f"CREATE TABLE {table} ({schema[table]})")

    def add_chunk(self, id, embedding, chunk="text", source_channel="chat",
                  timestamp=1_700_000_000.0, session_id="s", tags="", deleted=0):
        blob = f32_blob(embedding) if isinstance(embedding, (list, np.ndarray)) else embedding
        self.db.execute("INSERT INTO memory_chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (id, chunk, blob, source_channel, timestamp, session_id, tags, deleted))

    def add_chunks(self, embeddings, deleted=(), first_id=1):
        """One chunk per embedding, "chunk <position>", ids from first_id; `deleted` positions."""
        rows = [(first_id + i, f"chunk {i}", f32_blob(e), "chat", 1_700_000_000.0 + i,
                 f"s{i // 10}", "t", 1 if i in deleted else 0) for i, e in enumerate(embeddings)]
        self.db.executemany("INSERT INTO memory_chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def add_session(self, id, start_idx, end_idx, channel="chat", timestamp=1_600_000_000.0,
                    summary="summary"):
        self.db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
                        (id, start_idx, end_idx, channel, timestamp, summary))

    def add_entity(self, id, name, entity_type="thing", embedding_idx=None):
        self.db.execute("INSERT INTO entities VALUES (?, ?, ?, ?)",
                        (id, name, entity_type, embedding_idx))

    def add_relation(self, src, tgt, relation="knows", weight=1.0, ts=1_500_000_000.0):
        self.db.execute("INSERT INTO relations VALUES (?, ?, ?, ?, ?)",
                        (src, tgt, relation, weight, ts))

    def close(self):
        self.db.commit()
        self.db.close()


def read_strings(dataset) -> list[str]:
    return [s for s in dataset.asstr()[()]] if len(dataset) else []


def read_memory_file(path) -> dict:
    """Every dataset and /meta attribute of a memory file, strings decoded."""
    with h5py.File(path, "r") as f:
        meta = f["meta"].attrs
        content = {"meta": {k: v.decode() if isinstance(v, bytes) else v for k, v in meta.items()}}
        for group in ("memory", "sessions", "knowledge_graph"):
            for name, dataset in f[group].items():
                key = f"{group}/{name}"
                content[key] = read_strings(dataset) if dataset.dtype.kind in "SOU" else dataset[()]
        content["embedding_dtype"] = f["memory/embeddings"].dtype
        content["compression"] = (f["memory/embeddings"].compression,
                                  f["memory/embeddings"].compression_opts)
    return content


class MigrateTestCase(unittest.TestCase):
    """A fresh directory per test, a source database in it, and helpers to run the tools."""

    def setUp(self):
        directory = tempfile.TemporaryDirectory(prefix="edgehdf5-migrate-")
        self.addCleanup(directory.cleanup)
        self.dir = pathlib.Path(directory.name)
        self.db_path = self.dir / "memory.db"
        self.out = self.dir / "memory.h5"

    def source(self, **kwargs) -> SourceDb:
        return SourceDb(self.db_path, **kwargs)

    def run_tool(self, binary, *args, status=EXIT_SUCCESS, **kwargs) -> subprocess.CompletedProcess:
        result = subprocess.run([binary, *map(str, args)], capture_output=True, text=True,
                                cwd=self.dir, timeout=300, **kwargs)
        self.assertEqual(result.returncode, status,
                         f"{pathlib.Path(binary).name} {' '.join(map(str, args))}\n"
                         f"stdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def migrate(self, *args, status=EXIT_SUCCESS) -> subprocess.CompletedProcess:
        return self.run_tool(MIGRATE, "--sqlite", self.db_path, "--hdf5", self.out, *args,
                             status=status)

    def migrate_fails(self, *args, status=EXIT_FAILURE, mentions=()) -> str:
        """Runs a migration that must fail; returns its stderr, checked for `mentions`."""
        stderr = self.migrate(*args, status=status).stderr
        self.assertIn(ERROR_PREFIX, stderr)
        for fragment in mentions:
            self.assertIn(fragment, stderr)
        return stderr

    def edgehdf5(self, *args, status=EXIT_SUCCESS) -> subprocess.CompletedProcess:
        return self.run_tool(EDGEHDF5, *args, status=status)

    def assert_sound(self, path=None):
        """The file opens with HDF5Memory::open and passes the library's deep check."""
        self.edgehdf5("verify", path or self.out)

    def files_in_dir(self) -> set[str]:
        return {p.name for p in self.dir.iterdir()}
