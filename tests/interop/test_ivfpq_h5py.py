#!/usr/bin/env python3
"""The IVF-PQ index in the file, read by h5py and checked with numpy as an independent oracle.

`edgehdf5 index build` writes the /ivfpq group. Here h5py reads it back and numpy decodes it
with nothing but the layout documented in src/index/ivfpq/ivfpq_group.hpp:
  * every active memory has exactly one code, and its list is its nearest centroid;
  * a code decodes (centroid + the chosen codeword of each slice) closer to its vector than
    the centroid alone;
  * `search --strategy ivfpq --rerank 0` over every list returns the top-10 of the decoded
    vectors' inner products with the unit query, with those scores (the ADC tables and scan);
  * re-ranking every candidate returns numpy's exact cosine top-10.
Then a group this build cannot use (a foreign format, a truncated dataset) leaves the file
readable: exact search works, `--strategy ivfpq` and `verify` say what is wrong, and `index
build` repairs it. h5dump reads the file throughout.

The binary comes from $EDGEHDF5_BIN (CTest sets it), else build/bin/edgehdf5.
"""

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import unittest

import h5py
import numpy as np

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("EDGEHDF5_BIN", str(REPO_ROOT / "build" / "bin" / "edgehdf5"))

DIM = 32
SUB_QUANTIZERS = 8
NLIST = 16
ROWS = 3000


def clustered(count, seed):
    """A seeded mixture of 12 Gaussians around unit centres (the same centres every call)."""
    centres = np.random.default_rng(99).normal(size=(12, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    points = centres[rng.integers(0, len(centres), count)]
    points = points + 0.9 / np.sqrt(DIM) * rng.normal(size=(count, DIM))
    return points.astype(np.float32)


class IvfpqFileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = pathlib.Path(tempfile.mkdtemp(prefix="edgehdf5-ivfpq-"))
        cls.file = cls.dir / "memory.h5"
        cls.vectors = clustered(ROWS, 1)
        cls.queries = clustered(20, 2)
        lines = [json.dumps({"chunk": f"memory {i}", "embedding": [float(v) for v in row],
                             "timestamp": 1.7e9 + i})
                 for i, row in enumerate(cls.vectors)]
        source = cls.dir / "memories.jsonl"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        cls.run_ok("create", cls.file, "--dim", DIM, "--embedder", "test")
        cls.run_ok("import", cls.file, source)
        # Deleted memories keep a code until compaction but are never returned.
        cls.deleted = list(range(0, ROWS, 7))
        cls.run_ok("delete", cls.file, *cls.deleted)
        cls.run_ok("index", "build", cls.file, "--nlist", NLIST, "--sub-quantizers",
                   SUB_QUANTIZERS, "--seed", 5)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @staticmethod
    def run_cli(*args):
        return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True,
                              timeout=300)

    @classmethod
    def run_ok(cls, *args):
        result = cls.run_cli(*args)
        if result.returncode != 0:
            raise AssertionError(f"edgehdf5 {' '.join(map(str, args))}: {result.returncode}\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def search(self, path, query, *options):
        result = self.run_ok("search", path, "--vector", json.dumps([float(v) for v in query]),
                             "--k", 10, "--json", *options)
        return json.loads(result.stdout)

    def read_index(self, path=None):
        with h5py.File(path or self.file, "r") as h5:
            group = h5["ivfpq"]
            index = {name: group[name][()] for name in group}
            index["attrs"] = dict(group.attrs)
            index["memory_ids"] = h5["memory/ids"][()]
            index["tombstones"] = h5["memory/tombstones"][()]
        return index

    def decode(self, index):
        """(ids, list of each code, decoded vectors) from the raw arrays."""
        offsets = index["list_offsets"]
        codes = index["codes"].reshape(-1, SUB_QUANTIZERS)
        sub_dim = DIM // SUB_QUANTIZERS
        codebooks = index["codebooks"].reshape(SUB_QUANTIZERS, 256, sub_dim)
        lists = np.repeat(np.arange(NLIST), np.diff(offsets))
        decoded = index["centroids"][lists].copy()
        for s in range(SUB_QUANTIZERS):
            decoded[:, s * sub_dim:(s + 1) * sub_dim] += codebooks[s][codes[:, s]]
        return index["ids"], lists, decoded

    def unit_rows(self, ids):
        rows = self.vectors[ids]
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def test_layout_as_documented(self):
        index = self.read_index()
        attrs = index["attrs"]
        self.assertEqual(attrs["format"], "ivfpq 1")
        for name, value in [("embedding_dim", DIM), ("nlist", NLIST),
                            ("sub_quantizers", SUB_QUANTIZERS), ("bits", 8)]:
            self.assertEqual(int(attrs[name]), value, name)
        self.assertEqual(index["centroids"].shape, (NLIST, DIM))
        self.assertEqual(index["centroids"].dtype, np.float32)
        self.assertEqual(index["codebooks"].shape, (SUB_QUANTIZERS * 256, DIM // SUB_QUANTIZERS))
        self.assertEqual(index["list_offsets"].dtype, np.int64)
        self.assertEqual(index["codes"].dtype, np.uint8)
        self.assertEqual(index["ids"].dtype, np.int64)
        offsets = index["list_offsets"]
        self.assertEqual(offsets[0], 0)
        self.assertTrue(np.all(np.diff(offsets) >= 0))
        self.assertEqual(offsets[-1], len(index["ids"]))
        self.assertEqual(len(index["codes"]), len(index["ids"]) * SUB_QUANTIZERS)
        # Trained after the deletes: one code per active memory, none for deleted ones.
        active = index["memory_ids"][index["tombstones"] == 0]
        self.assertEqual(sorted(index["ids"].tolist()), sorted(active.tolist()))
        self.assertEqual(int(attrs["trained_vectors"]), len(active))

    def test_codes_decode_near_their_vectors_in_their_nearest_list(self):
        index = self.read_index()
        ids, lists, decoded = self.decode(index)
        unit = self.unit_rows(ids)
        centroids = index["centroids"]
        distances = ((unit[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        nearest = distances.argmin(axis=1)
        # float32 rounding may flip a near tie; anything more is a wrong assignment.
        self.assertGreaterEqual(np.mean(nearest == lists), 0.995)
        coarse_error = ((unit - centroids[lists]) ** 2).sum(axis=1).mean()
        pq_error = ((unit - decoded) ** 2).sum(axis=1).mean()
        self.assertLess(pq_error, 0.5 * coarse_error)

    def test_adc_scores_are_inner_products_with_the_decoded_vectors(self):
        index = self.read_index()
        ids, _, decoded = self.decode(index)
        for query in self.queries[:10]:
            found = self.search(self.file, query, "--strategy", "ivfpq", "--nprobe", NLIST,
                                "--rerank", 0)
            self.assertEqual(found["strategy"], "ivfpq")
            unit = query / np.linalg.norm(query)
            scores = decoded @ unit
            order = np.lexsort((ids, -scores))[:10]
            expected = scores[order]
            got = np.array([hit["score"] for hit in found["hits"]])
            np.testing.assert_allclose(got, expected, atol=2e-5)
            # Ids agree except where scores tie within float32 rounding.
            for hit, want_id, want in zip(found["hits"], ids[order], expected):
                if hit["id"] != want_id:
                    self.assertAlmostEqual(hit["score"], want, delta=2e-5)

    def test_reranking_every_candidate_is_exact_search(self):
        active = np.setdiff1d(np.arange(ROWS), self.deleted)
        unit = self.unit_rows(active)
        for query in self.queries:
            found = self.search(self.file, query, "--strategy", "ivfpq", "--nprobe", NLIST,
                                "--rerank", ROWS)
            cosines = unit @ (query / np.linalg.norm(query))
            order = np.argsort(-cosines, kind="stable")[:10]
            self.assertEqual([hit["id"] for hit in found["hits"]], active[order].tolist())
            np.testing.assert_allclose([hit["score"] for hit in found["hits"]], cosines[order],
                                       atol=1e-5)
            self.assertFalse(set(hit["id"] for hit in found["hits"]) & set(self.deleted))

    def test_h5dump_reads_the_index(self):
        h5dump = shutil.which("h5dump")
        self.assertIsNotNone(h5dump, "h5dump (hdf5-tools) is installed by scripts/setup.sh")
        result = subprocess.run([h5dump, "-g", "/ivfpq", "-H", str(self.file)],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("codebooks", result.stdout)

    def damaged_copy(self, name, damage):
        path = self.dir / name
        shutil.copy(self.file, path)
        with h5py.File(path, "r+") as h5:
            damage(h5["ivfpq"])
        return path

    def assert_same_hits(self, got, want):
        """Same ids in the same order, scores equal to float rounding (backends add in
        different orders)."""
        self.assertEqual([hit["id"] for hit in got], [hit["id"] for hit in want])
        np.testing.assert_allclose([hit["score"] for hit in got],
                                   [hit["score"] for hit in want], atol=1e-5)

    def assert_unusable_but_readable(self, path, mentions):
        query = self.queries[0]
        exact = self.search(self.file, query, "--strategy", "simd")
        # The memories open and search exactly; auto falls back to the exact scan.
        auto = self.search(path, query)
        self.assertNotEqual(auto["strategy"], "ivfpq")
        self.assert_same_hits(auto["hits"], exact["hits"])
        self.assertEqual(self.search(path, query, "--strategy", "simd")["hits"], exact["hits"])
        result = self.run_cli("search", path, "--vector", json.dumps([float(v) for v in query]),
                              "--strategy", "ivfpq")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(mentions, result.stderr)
        self.assertIn("index build", result.stderr)
        result = self.run_cli("verify", path)
        self.assertEqual(result.returncode, 3, result.stdout + result.stderr)
        self.assertIn("/ivfpq", result.stdout + result.stderr)
        info = json.loads(self.run_ok("index", "info", path, "--json").stdout)
        self.assertFalse(info["present"])
        self.assertIn(mentions, info["problem"])
        # A rebuild replaces it.
        self.run_ok("index", "build", path, "--nlist", NLIST, "--sub-quantizers", SUB_QUANTIZERS)
        self.assertEqual(self.run_cli("verify", path).returncode, 0)
        self.assertEqual(self.search(path, query, "--strategy", "ivfpq")["strategy"], "ivfpq")

    def test_a_foreign_format_leaves_the_file_readable(self):
        path = self.damaged_copy("foreign.h5", lambda g: g.attrs.modify("format", "ivfpq 9"))
        self.assert_unusable_but_readable(path, "ivfpq 9")

    def test_a_truncated_dataset_leaves_the_file_readable(self):
        def truncate(group):
            codes = group["codes"][()]
            del group["codes"]
            group.create_dataset("codes", data=codes[:-SUB_QUANTIZERS])
        path = self.damaged_copy("truncated.h5", truncate)
        self.assert_unusable_but_readable(path, "codes")

    def test_a_file_without_the_group_is_a_plain_store(self):
        path = self.damaged_copy("plain.h5", lambda g: g.file.__delitem__("ivfpq"))
        self.assertEqual(self.run_cli("verify", path).returncode, 0)
        info = json.loads(self.run_ok("index", "info", path, "--json").stdout)
        self.assertEqual((info["present"], info["problem"]), (False, None))


if __name__ == "__main__":
    unittest.main()
