#!/usr/bin/env python3
"""`edgehdf5 index build|info|drop` and `search --strategy ivfpq --nprobe N --rerank R`,
driven as a user would: stdout, stderr, exit statuses, and what the file holds afterwards.

Standard library only (the h5py/numpy oracle of the index's contents is
tests/interop/test_ivfpq_h5py.py). Run through CTest, or `/usr/bin/python3 test_index_cli.py`.
"""

import json
import random
import unittest

from test_cli import ERROR_PREFIX, EXIT_SUCCESS, EXIT_USAGE_ERROR, CliTestCase, to_float32

DIM = 16


def clustered_entries(count: int, seed: int, first: int = 0) -> list[dict]:
    """Entries around 8 fixed centres (so an index has structure to find)."""
    centres_rng = random.Random(99)
    centres = [[centres_rng.gauss(0, 1) for _ in range(DIM)] for _ in range(8)]
    rng = random.Random(seed)
    entries = []
    for i in range(count):
        centre = centres[rng.randrange(len(centres))]
        entries.append({
            "chunk": f"memory {first + i}",
            "embedding": [to_float32(c + rng.gauss(0, 0.4)) for c in centre],
            "session_id": f"s{(first + i) % 10}",
            "timestamp": 1_700_000_000.0 + first + i,
        })
    return entries


class IndexCliTest(CliTestCase):
    def make_store(self, count: int = 1200):
        self.cli("create", self.file, "--dim", DIM)
        self.entries = clustered_entries(count, 1)
        self.import_entries(self.entries)

    def index_info(self) -> dict:
        return json.loads(self.cli("index", "info", self.file, "--json").stdout)

    def build(self, *options) -> dict:
        result = self.cli("index", "build", self.file, "--sub-quantizers", 4, *options, "--json")
        return json.loads(result.stdout)

    def ivfpq_search(self, vector, *options) -> dict:
        return self.search(vector, "--strategy", "ivfpq", *options)

    def test_build_info_search_drop(self):
        self.make_store()
        info = self.index_info()
        self.assertFalse(info["present"])
        self.assertIsNone(info["problem"])
        human = self.cli("index", "info", self.file).stdout
        self.assertIn("none", human)
        self.assertIn("edgehdf5 index build", human)

        built = self.build("--nlist", 20)
        self.assertTrue(built["built"])
        self.assertGreater(built["build_s"], 0)
        self.assertEqual((built["nlist"], built["sub_quantizers"], built["bits"]), (20, 4, 8))
        self.assertEqual(built["vectors"], 1200)
        self.assertFalse(built["needs_retrain"])
        human = self.cli("index", "build", self.file, "--sub-quantizers", 4, "--nlist", 20).stdout
        self.assertTrue(human.startswith("built IVF-PQ, 20 lists"), human)
        # In the file: a read-only open sees it (nothing was left in the log).
        info = self.index_info()
        self.assertTrue(info["present"])
        self.assertEqual(info["vectors"], 1200)
        self.assertEqual(self.info()["log_bytes"], 0)  # closed cleanly: no log at rest
        report = self.cli("index", "info", self.file).stdout
        self.assertIn("20 lists", report)
        self.assertIn("retrain:      not needed", report)

        query = self.entries[17]["embedding"]
        found = self.ivfpq_search(query, "--k", 5)
        self.assertEqual(found["strategy"], "ivfpq")
        self.assertEqual(found["hits"][0]["id"], 17)
        one_list = self.ivfpq_search(query, "--nprobe", 1, "--rerank", 0)
        all_lists = self.ivfpq_search(query, "--nprobe", 20, "--rerank", 0)
        self.assertLess(one_list["vectors_scanned"], all_lists["vectors_scanned"])
        self.assertEqual(all_lists["vectors_scanned"], 1200)
        # Re-ranking every code of every list is the exact answer (scores to float rounding:
        # the kernels add in another order).
        exact = self.search(query, "--strategy", "simd")["hits"]
        reranked = self.ivfpq_search(query, "--nprobe", 20, "--rerank", 1200)["hits"]
        self.assertEqual([hit["id"] for hit in reranked], [hit["id"] for hit in exact])
        for got, want in zip(reranked, exact):
            self.assertAlmostEqual(got["score"], want["score"], delta=1e-5)
        # Filters apply inside the index's scan too.
        for hit in self.ivfpq_search(query, "--session", "s3", "--nprobe", 20)["hits"]:
            self.assertEqual(hit["session_id"], "s3")

        stats = self.cli("stats", self.file).stdout
        self.assertIn("/ivfpq", stats)
        self.assertIn("ann      IVF-PQ, 20 lists", stats)
        stats_json = json.loads(self.cli("stats", self.file, "--json").stdout)
        self.assertTrue(stats_json["index"]["approximate"]["present"])
        self.assertIn("/ivfpq", stats_json["groups"])

        dropped = self.cli("index", "drop", self.file)
        self.assertIn("dropped", dropped.stdout)
        self.assertFalse(self.index_info()["present"])
        self.assert_fails("search", self.file, "--vector", json.dumps(query), "--strategy",
                          "ivfpq", mentions=["needs an IVF-PQ index", "index build"])
        self.assert_fails("index", "drop", self.file, mentions=["has no IVF-PQ index"])
        self.assertEqual(self.cli("verify", self.file).returncode, EXIT_SUCCESS)

    def test_saves_deletes_and_compaction_keep_the_index_current(self):
        self.make_store()
        self.build("--nlist", 16)
        more = clustered_entries(300, 2, first=1200)
        self.import_entries(more)
        info = self.index_info()
        self.assertEqual(info["vectors"], 1500)
        self.assertEqual(info["added_since_training"], 300)
        found = self.ivfpq_search(more[5]["embedding"], "--k", 1)
        self.assertEqual(found["hits"][0]["chunk"], "memory 1205")

        deleted = list(range(0, 1500, 5))
        self.cli("delete", self.file, *deleted)
        for i in (0, 5, 1205):
            vector = (self.entries + more)[i]["embedding"]
            hits = self.ivfpq_search(vector, "--k", 10)["hits"]
            self.assertFalse({hit["id"] for hit in hits} & set(deleted), i)
        self.cli("compact", self.file)
        self.assertEqual(self.index_info()["vectors"], 1500 - len(deleted))
        self.assertEqual(self.cli("verify", self.file).returncode, EXIT_SUCCESS)

    def test_build_if_needed(self):
        self.make_store()
        self.assertTrue(self.build("--nlist", 8, "--if-needed")["built"])
        again = self.build("--nlist", 8, "--if-needed")
        self.assertFalse(again["built"])
        self.assertIsNone(again["build_s"])
        human = self.cli("index", "build", self.file, "--if-needed").stdout
        self.assertIn("index is current", human)
        # Grown past 4x the trained rows: the retrain is advised, then done.
        self.import_entries(clustered_entries(3700, 3, first=1200))
        info = self.index_info()
        self.assertTrue(info["needs_retrain"])
        self.assertIn("retrain:      advised", self.cli("index", "info", self.file).stdout)
        note = self.cli("search", self.file, "--vector", json.dumps(self.entries[0]["embedding"]),
                        "--strategy", "ivfpq").stderr
        self.assertIn("index build", note)
        rebuilt = self.build("--nlist", 8, "--if-needed")
        self.assertTrue(rebuilt["built"])
        self.assertEqual(rebuilt["trained_vectors"], 4900)
        self.assertFalse(rebuilt["needs_retrain"])

    def test_errors(self):
        self.make_store(100)
        query = json.dumps(self.entries[0]["embedding"])
        self.assert_fails("index", "build", self.file, "--sub-quantizers", 4,
                          mentions=["at least max(nlist, 256) active rows"])
        self.assert_fails("index", "build", self.file, "--sub-quantizers", 5,
                          mentions=["must divide embedding_dim"])
        self.assert_fails("search", self.file, "--vector", query, "--strategy", "ivfpq",
                          mentions=["index build"])
        for args in (["index"], ["index", "build"], ["index", "rebuild", self.file],
                     ["search", self.file, "--vector", query, "--strategy", "simd", "--nprobe", 4],
                     ["search", self.file, "--text", "memory", "--rerank", 10],
                     ["search", self.file, "--vector", query, "--nprobe", 0]):
            result = self.cli(*args, status=EXIT_USAGE_ERROR)
            self.assertTrue(result.stderr.startswith(ERROR_PREFIX), result.stderr)
        self.assert_fails("index", "info", self.dir / "missing.h5")

    def test_help_lists_the_index_commands(self):
        help_text = self.cli("index", "--help").stdout
        for command in ("build", "info", "drop"):
            self.assertIn(command, help_text)
        search_help = self.cli("search", "--help").stdout
        self.assertIn("--nprobe", search_help)
        self.assertIn("--rerank", search_help)


if __name__ == "__main__":
    unittest.main()
