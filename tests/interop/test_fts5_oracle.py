#!/usr/bin/env python3
"""BM25 against an independent oracle: SQLite FTS5's bm25() on the same corpus.

Builds 10,000 real-looking paragraphs (seeded), imports them with `edgehdf5 import`, deletes
some with `edgehdf5 delete`, loads the same active rows into an FTS5 table (tokenizer
unicode61 with remove_diacritics 0, which splits and folds case as our tokenizer does), runs
many OR-queries through `edgehdf5 search --text` and FTS5's `ORDER BY bm25()`, and requires
the same top-10 with the same scores (-bm25). Twice: for files made with `--tokenizer
unicode61` against FTS5's 'unicode61 remove_diacritics 0', and with `--tokenizer porter`
against 'porter unicode61 remove_diacritics 0' (Porter stems on both sides).

Why the two should agree exactly: edgehdf5 uses FTS5's idf, ln((N - n + 0.5) / (n + 0.5))
floored at 1e-6, with k1 = 1.2 and b = 0.75, and counts N, n and the average length over
active rows, as FTS5 does over the rows it holds. Two residual differences are allowed and
explained where they are handled: scores are compared with a relative tolerance (FTS5 sums
in double, we report float32), and rows whose scores tie within that tolerance may come in
either order (FTS5 orders ties by its b-tree; we order them by id, and we ask FTS5 for the
same with "rowid" as the second sort key, so ties only differ when float rounding splits
them).
"""

import json
import os
import pathlib
import random
import sqlite3
import subprocess
import tempfile
import unittest

BINARY = os.environ.get("EDGEHDF5_BIN", str(pathlib.Path(__file__).resolve().parents[2] /
                                            "build" / "bin" / "edgehdf5"))
DOCUMENTS = 10_000
QUERIES = 120

TOPICS = {
    "travel": "flight hotel lisbon airport booking passport train luggage itinerary visa",
    "work": "deploy release migration postgres kafka ticket review sprint incident rollback",
    "health": "marathon training knee physio sleep meditation protein stretching run",
    "money": "budget invoice salary savings mortgage taxes refund receipt expense quarter",
    "family": "birthday dinner parents anniversary school daughter gift holiday cousin",
    "food": "café crème brûlée naïve recipe sourdough ramen 日本語 espresso pâtisserie",
}
COMMON = ("the a to and of in for on with is it that this we was at be have from "
          "user assistant said asked about next week today").split()
PUNCTUATION = [", ", ". ", " — ", "; ", " “", "” ", "! ", "? ", " ☕ ", " "]


def make_corpus(rng):
    topic_words = {topic: words.split() for topic, words in TOPICS.items()}
    rare = [f"ref{n:05d}" for n in range(4000)]  # ticket-like identifiers, mostly rare
    documents = []
    for _ in range(DOCUMENTS):
        topic = rng.choice(list(topic_words))
        words = []
        for _ in range(rng.randint(8, 60)):
            roll = rng.random()
            if roll < 0.45:
                word = rng.choice(COMMON)
            elif roll < 0.9:
                word = rng.choice(topic_words[topic])
            else:
                word = rng.choice(rare)
            if rng.random() < 0.05:
                word = word.capitalize()  # case folding: "Café" is "café"
            words.append(word + rng.choice(PUNCTUATION))
        documents.append("".join(words).strip())
    return documents, topic_words, rare


def make_queries(rng, topic_words, rare):
    vocabulary = [word for words in topic_words.values() for word in words]
    queries = []
    for _ in range(QUERIES):
        size = rng.randint(1, 3)
        pool = vocabulary + rare[:200] + COMMON[:5]  # some very common terms too
        queries.append(rng.sample(pool, size))
    return queries


class Fts5Oracle(unittest.TestCase):
    TOKENIZER = "unicode61"                          # edgehdf5 create --tokenizer
    FTS5_TOKENIZER = "unicode61 remove_diacritics 0"  # the same rules in FTS5

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="edgehdf5-fts5-")
        directory = pathlib.Path(cls.tmp.name)
        rng = random.Random(20261125)
        documents, topic_words, rare = make_corpus(rng)
        cls.queries = make_queries(rng, topic_words, rare)

        cls.file = directory / "memory.h5"
        subprocess.run([BINARY, "create", cls.file, "--dim", "4", "--tokenizer", cls.TOKENIZER],
                       check=True, capture_output=True)
        jsonl = directory / "corpus.jsonl"
        with jsonl.open("w", encoding="utf-8") as out:
            for text in documents:
                embedding = [rng.uniform(-1, 1) for _ in range(4)]
                out.write(json.dumps({"chunk": text, "embedding": embedding}) + "\n")
        subprocess.run([BINARY, "import", cls.file, jsonl], check=True, capture_output=True)
        deleted = sorted(rng.sample(range(DOCUMENTS), 500))  # N and avgdl must follow deletes
        subprocess.run([BINARY, "delete", cls.file, *map(str, deleted)], check=True,
                       capture_output=True)

        cls.db = sqlite3.connect(":memory:")
        cls.db.execute("CREATE VIRTUAL TABLE docs USING fts5(chunk, "
                       f"tokenize = '{cls.FTS5_TOKENIZER}')")
        deleted_set = set(deleted)
        cls.db.executemany("INSERT INTO docs(rowid, chunk) VALUES (?, ?)",
                           [(i, text) for i, text in enumerate(documents) if i not in deleted_set])

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        cls.tmp.cleanup()

    def fts5_top10(self, terms):
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        rows = self.db.execute("SELECT rowid, -bm25(docs) FROM docs WHERE docs MATCH ? "
                               "ORDER BY bm25(docs), rowid LIMIT 10", (match,)).fetchall()
        return [(rowid, score) for rowid, score in rows]

    def ours_top10(self, terms):
        run = subprocess.run([BINARY, "search", self.file, "--text", " ".join(terms), "--k", "10",
                              "--json"], check=True, capture_output=True, text=True)
        return [(hit["id"], hit["score"]) for hit in json.loads(run.stdout)["hits"]]

    def test_same_top10_as_fts5(self):
        compared = 0
        for terms in self.queries:
            with self.subTest(query=terms):
                want, got = self.fts5_top10(terms), self.ours_top10(terms)
                self.assertEqual(len(got), len(want))
                for (want_id, want_score), (got_id, got_score) in zip(want, got):
                    self.assertAlmostEqual(got_score, want_score,
                                           delta=1e-5 * max(1.0, abs(want_score)))
                    if got_id != want_id:
                        # Only a tie (within float32 rounding) may order rows differently.
                        self.assertAlmostEqual(got_score, want_score, delta=1e-6 * max(1.0, abs(want_score)))
                        self.assertIn(got_id, [rowid for rowid, score in want
                                               if abs(score - got_score) <= 1e-5 * max(1.0, abs(score))])
                compared += len(want)
        self.assertGreater(compared, QUERIES * 5)  # the queries do match things

    def test_no_match_and_bad_queries(self):
        self.assertEqual(self.ours_top10(["zzzunknownword"]), [])
        self.assertEqual(self.fts5_top10(["zzzunknownword"]), [])
        run = subprocess.run([BINARY, "search", self.file, "--text", " ;-) ", "--json"],
                             capture_output=True, text=True)
        self.assertEqual(run.returncode, 1)
        self.assertIn("no terms", run.stderr)


class Fts5OraclePorter(Fts5Oracle):
    TOKENIZER = "porter"
    FTS5_TOKENIZER = "porter unicode61 remove_diacritics 0"

    def test_stemming_merges_forms(self):
        # "bookings" and "booking" are one term once stemmed, in both engines.
        self.assertEqual([i for i, _ in self.ours_top10(["bookings"])],
                         [i for i, _ in self.ours_top10(["booking"])])
        self.assertEqual(self.fts5_top10(["bookings"]), self.fts5_top10(["booking"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
