#!/usr/bin/env python3
"""edgehdf5-migrate at scale, and searches on its output against numpy.

A 100K-row, 384-d source is migrated and checked row for row; then queries are scored
directly on the SQLite rows with numpy (cosine similarity, deleted rows excluded) and the
top-10 ids compared with `edgehdf5 search --json` on the migrated file.
"""

import json
import os
import sqlite3
import sys
import time
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from migrate_support import MigrateTestCase, read_memory_file

TOP_K = 10


def sqlite_rows(path):
    """(ids, embeddings, deleted) of memory_chunks in id order, read straight from SQLite."""
    db = sqlite3.connect(path)
    rows = db.execute("SELECT id, embedding, deleted FROM memory_chunks ORDER BY id").fetchall()
    db.close()
    ids = [row[0] for row in rows]
    embeddings = np.frombuffer(b"".join(row[1] for row in rows), dtype="<f4").reshape(len(rows), -1)
    return ids, embeddings, np.array([row[2] != 0 for row in rows])


def numpy_top_k(query, embeddings, excluded, k=TOP_K):
    """Positions of the k best cosine scores (excluded rows never), with the scores."""
    scores = embeddings.astype(np.float64) @ query / (
        np.linalg.norm(embeddings.astype(np.float64), axis=1) * np.linalg.norm(query))
    scores[excluded] = -np.inf
    best = np.argsort(-scores, kind="stable")[:k]
    return best, scores


class SearchEquivalenceMixin:
    def assert_same_top_k(self, query, positions_to_ids, embeddings, excluded, stored=None):
        """edgehdf5's top-k ids are those numpy finds on the SQLite rows.

        `stored` (float16 runs) is what the file holds; numpy scores it to tell a genuine
        difference from a tie broken the other way by rounding.
        """
        best, scores = numpy_top_k(query, embeddings if stored is None else stored, excluded)
        result = json.loads(self.edgehdf5("search", self.out, "--json", "--k", TOP_K,
                                          "--vector", json.dumps(query.tolist())).stdout)
        got = [hit["id"] for hit in result["hits"]]
        expected = [positions_to_ids[p] for p in best]
        ids_to_positions = {i: p for p, i in positions_to_ids.items()}
        if got != expected:
            # Scores equal within float32 rounding are ties, and either order is right.
            self.assertEqual(len(got), len(expected))
            for g, e in zip(got, expected):
                self.assertAlmostEqual(scores[ids_to_positions[g]], scores[ids_to_positions[e]],
                                       delta=1e-5, msg=(got, expected))
        for hit in result["hits"]:
            self.assertAlmostEqual(hit["score"], scores[ids_to_positions[hit["id"]]], delta=1e-4)


class SearchEquivalenceTest(SearchEquivalenceMixin, MigrateTestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(5)
        self.embeddings = rng.standard_normal((3000, 48)).astype(np.float32)
        self.deleted = set(rng.choice(3000, 300, replace=False).tolist())
        source = self.source()
        source.add_chunks(self.embeddings, deleted=self.deleted, first_id=7)
        source.close()
        self.queries = rng.standard_normal((8, 48)).astype(np.float32)
        # Queries equal to a deleted and to a kept row: the deleted one must not be found.
        self.queries[0] = self.embeddings[sorted(self.deleted)[0]]
        self.queries[1] = self.embeddings[next(i for i in range(3000) if i not in self.deleted)]

    def check(self, *options, float16=False):
        self.migrate("--force", *options)
        _, embeddings, deleted = sqlite_rows(self.db_path)
        skip = "--skip-deleted" in options
        kept = [p for p in range(len(embeddings)) if not (skip and deleted[p])]
        positions_to_ids = {p: i for i, p in enumerate(kept)}
        stored = embeddings.astype(np.float16).astype(np.float32) if float16 else None
        for query in self.queries:
            self.assert_same_top_k(query, positions_to_ids, embeddings, deleted, stored)

    def test_tombstones_kept(self):
        self.check()

    def test_deleted_left_out(self):
        self.check("--skip-deleted")

    def test_float16_compressed(self):
        self.check("--float16", "--compression", float16=True)


class HundredThousandRowsTest(SearchEquivalenceMixin, MigrateTestCase):
    ROWS, DIM = 100_000, 384

    def test_100k_rows_migrate_whole_and_search_the_same(self):
        rng = np.random.default_rng(11)
        embeddings = rng.standard_normal((self.ROWS, self.DIM)).astype(np.float32)
        deleted = rng.random(self.ROWS) < 0.05
        source = self.source()
        source.db.executemany(
            "INSERT INTO memory_chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ((i + 1, f"chunk {i} — ü", embeddings[i].tobytes(), ["chat", "email"][i % 2],
              1_700_000_000.0 + i * 0.5, f"session-{i // 100}", "a,b" if i % 3 else "",
              int(deleted[i])) for i in range(self.ROWS)))
        source.db.executemany("INSERT INTO sessions VALUES (?, ?, ?, 'chat', ?, ?)",
                              ((f"session-{s}", s * 100, s * 100 + 100, 1_600_000_000.0 + s,
                                f"summary {s}") for s in range(self.ROWS // 100)))
        source.db.executemany("INSERT INTO entities VALUES (?, ?, 'thing', ?)",
                              ((e, f"entity {e}", e * 97) for e in range(1000)))
        source.db.executemany("INSERT INTO relations VALUES (?, ?, 'near', 0.5, 1.0)",
                              ((e, (e + 1) % 1000) for e in range(1000)))
        source.close()

        start = time.monotonic()
        result = self.migrate("--verbose", "--skip-deleted")
        elapsed = time.monotonic() - start
        kept = np.flatnonzero(~deleted)
        self.assertIn(f"memory_chunks  {self.ROWS} read, {len(kept)} written", result.stdout)
        self.assertLess(elapsed, 30, result.stdout)

        content = read_memory_file(self.out)
        np.testing.assert_array_equal(content["memory/embeddings"], embeddings[kept])
        self.assertEqual(content["memory/chunks"][:3], [f"chunk {p} — ü" for p in kept[:3]])
        self.assertEqual(content["memory/session_ids"][-1], f"session-{kept[-1] // 100}")
        np.testing.assert_array_equal(content["memory/timestamps"], 1_700_000_000.0 + kept * 0.5)
        # Sessions cover the same chunks as before; entities point at the same chunk.
        starts, ends = content["sessions/start_idxs"], content["sessions/end_idxs"]
        for s in (0, 1, 500, 999):
            expected = [f"chunk {p} — ü" for p in kept if s * 100 <= p < s * 100 + 100]
            self.assertEqual(content["memory/chunks"][starts[s]:ends[s]], expected)
        for e, row in enumerate(content["knowledge_graph/entity_emb_idxs"]):
            if deleted[e * 97]:
                self.assertEqual(row, -1)
            else:
                self.assertEqual(content["memory/chunks"][row], f"chunk {e * 97} — ü")
        self.assert_sound()

        positions_to_ids = {p: i for i, p in enumerate(kept)}
        for query in rng.standard_normal((5, self.DIM)).astype(np.float32):
            self.assert_same_top_k(query, positions_to_ids, embeddings, deleted)


if __name__ == "__main__":
    unittest.main()
