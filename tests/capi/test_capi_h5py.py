"""A file written through the C ABI (capi_write_fixture, tests/capi/write_fixture.c) read by
h5py: the same meta, memory columns, embeddings (float32 and float16), sessions and knowledge
graph that the C program saved, rebuilt here in numpy."""

import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from interop_support import is_utf8_string, read_strings  # noqa: E402

DIM, ROWS = 8, 6
CHUNKS = ["alpha the user prefers dark mode", "bravo meeting on tuesday", "café ☕ tea",
          "delta project deadline friday", "echo dark chocolate", "foxtrot printer broken"]


def embeddings():
    """The C program's float32 arithmetic, step by step in float32."""
    out = np.zeros((ROWS, DIM), dtype=np.float32)
    for row in range(ROWS):
        for j in range(DIM):
            value = np.float32((row * 31 + j * 17) % 23) / np.float32(23.0) - np.float32(0.5)
            out[row, j] = value + np.float32(2.0 if j == row % DIM else 0.0)
    return out


class H5pyReadsCapiFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.TemporaryDirectory(prefix="edgehdf5_capi_")
        cls.addClassCleanup(cls.scratch.cleanup)
        cls.dir = Path(cls.scratch.name)
        writer = os.environ.get("EDGEHDF5_CAPI_WRITE_FIXTURE")
        if not writer:
            raise RuntimeError("EDGEHDF5_CAPI_WRITE_FIXTURE is not set: run through CTest")
        subprocess.run([writer, str(cls.dir)], check=True)

    def check_file(self, name, float16):
        with h5py.File(self.dir / name, "r") as h5:
            meta = h5["meta"].attrs
            self.assertEqual(meta["agent_id"], "c-agent")
            self.assertEqual(meta["embedder"], "test:8")
            self.assertEqual(meta["created_at"], "2026-12-02T00:00:00Z")
            self.assertEqual(int(meta["embedding_dim"]), DIM)
            self.assertEqual(int(meta["float16"]), int(float16))

            memory = h5["memory"]
            for column, want in [("chunks", CHUNKS),
                                 ("source_channel", ["email" if r % 2 else "chat" for r in range(ROWS)]),
                                 ("session_ids", ["s1" if r < 3 else "s2" for r in range(ROWS)]),
                                 ("tags", ["work" if r % 2 else "pref,ui" for r in range(ROWS)])]:
                self.assertTrue(is_utf8_string(memory[column].dtype), column)
                self.assertEqual(read_strings(memory[column]), want, column)
            np.testing.assert_array_equal(memory["ids"][()], np.arange(ROWS, dtype=np.int64))
            np.testing.assert_array_equal(memory["timestamps"][()],
                                          1700000000.0 + np.arange(ROWS, dtype=np.float64))
            np.testing.assert_array_equal(memory["tombstones"][()],
                                          np.array([0, 0, 0, 0, 0, 1], dtype=np.uint8))
            want = embeddings()
            if float16:
                want = want.astype(np.float16)  # round to nearest even, as the library does
            self.assertEqual(memory["embeddings"].dtype, want.dtype)
            np.testing.assert_array_equal(memory["embeddings"][()], want)
            norms = np.linalg.norm(want.astype(np.float64), axis=1).astype(np.float32)
            np.testing.assert_allclose(memory["norms"][()], norms, rtol=1e-6)

            sessions = h5["sessions"]
            self.assertEqual(read_strings(sessions["ids"]), ["s1"])
            self.assertEqual(read_strings(sessions["summaries"]), ["first é"])
            self.assertEqual(read_strings(sessions["channels"]), ["chat"])
            self.assertEqual(list(sessions["start_idxs"][()]), [0])
            self.assertEqual(list(sessions["end_idxs"][()]), [3])

            graph = h5["knowledge_graph"]
            self.assertEqual(read_strings(graph["entity_names"]), ["Alice", "ProjectX"])
            self.assertEqual(read_strings(graph["entity_types"]), ["person", "project"])
            self.assertEqual(list(graph["entity_ids"][()]), [0, 1])
            self.assertEqual(list(graph["entity_emb_idxs"][()]), [2, -1])
            self.assertEqual(list(graph["relation_srcs"][()]), [0])
            self.assertEqual(list(graph["relation_tgts"][()]), [1])
            self.assertEqual(read_strings(graph["relation_types"]), ["works_on"])
            np.testing.assert_array_equal(graph["relation_weights"][()],
                                          np.array([0.75], dtype=np.float32))

    def test_float32_file(self):
        self.check_file("capi_f32.h5", float16=False)

    def test_float16_file(self):
        self.check_file("capi_f16.h5", float16=True)

    def test_closed_file_is_alone(self):
        # A clean eh5_memory_close leaves FILE only: no log, no lock.
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["capi_f16.h5", "capi_f32.h5"])


if __name__ == "__main__":
    unittest.main()
