"""The keyword index kept in the file (/keyword_index, SPEC section 1) against SQLite FTS5.

* h5py reads the arrays, and they hold what FTS5's fts5vocab table says of the same active
  rows: the same terms, each in as many rows (n_t) with as many occurrences; every row's
  length is the number of its terms that FTS5 counts.
* Keyword search ranks as FTS5's bm25() does (the same top-10, the same scores) right after
  a reopen, with saves and deletes since the checkpoint (in the log only: a writer's and a
  reader's view), after the checkpoint that merges them, and after a compaction.
"""
import random
import sqlite3

import h5py
import numpy as np
import pytest

import edgehdf5

WORDS = ("deploy release migration postgres kafka ticket review sprint incident rollback "
         "budget invoice salary savings mortgage taxes refund receipt café naïve "
         "the a to and of in for on with is it that this").split()
QUERIES = [["deploy"], ["kafka", "ticket"], ["café", "naïve", "refund"], ["the", "ref0007"],
           ["rollback", "sprint", "taxes"], ["ref0100"], ["mortgage"], ["it", "budget"]]
DIM = 4


def make_texts(rng, count):
    texts = []
    for _ in range(count):
        words = [rng.choice(WORDS) if rng.random() < 0.9 else f"ref{rng.randrange(300):04d}"
                 for _ in range(rng.randint(3, 40))]
        texts.append(" ".join(w.capitalize() if rng.random() < 0.05 else w for w in words))
    return texts


class Oracle:
    """FTS5 over the rows a store holds, by id."""

    def __init__(self):
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE docs USING fts5(chunk, "
                        "tokenize='unicode61 remove_diacritics 0')")

    def add(self, ids, texts):
        self.db.executemany("INSERT INTO docs(rowid, chunk) VALUES (?, ?)", zip(ids, texts))

    def remove(self, ids):
        self.db.executemany("DELETE FROM docs WHERE rowid = ?", [(i,) for i in ids])

    def top10(self, terms):
        match = " OR ".join(f'"{t}"' for t in terms)
        return self.db.execute("SELECT rowid, -bm25(docs) FROM docs WHERE docs MATCH ? "
                               "ORDER BY bm25(docs), rowid LIMIT 10", (match,)).fetchall()

    def vocabulary(self):
        self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(docs, 'row')")
        return {term.encode(): (documents, count)
                for term, documents, count in self.db.execute("SELECT term, doc, cnt FROM vocab")}


def assert_ranks_as_fts5(memory, oracle):
    for terms in QUERIES:
        want = oracle.top10(terms)
        got = [(hit.id, hit.score) for hit in memory.keyword_search(" ".join(terms), k=10)]
        assert len(got) == len(want), terms
        for (want_id, want_score), (got_id, got_score) in zip(want, got):
            assert got_score == pytest.approx(want_score, rel=1e-5), terms
            if got_id != want_id:  # only ties (within float32 rounding) may swap places
                assert any(i == got_id and s == pytest.approx(got_score, rel=1e-5)
                           for i, s in want), terms


@pytest.fixture()
def store(tmp_path):
    rng = random.Random(7)
    path = tmp_path / "memory.h5"
    oracle = Oracle()
    texts = make_texts(rng, 3000)
    with edgehdf5.Memory.create(path, dim=DIM, tokenizer="unicode61", compact_threshold=0) as m:
        ids = m.save_batch(texts, np.random.default_rng(1).standard_normal((3000, DIM), dtype=np.float32))
        oracle.add(ids, texts)
        deleted = rng.sample(list(ids), 150)
        m.remove(deleted)
        oracle.remove(deleted)
    return path, oracle, rng


def test_h5py_reads_what_fts5vocab_counts(store):
    path, oracle, _ = store
    with h5py.File(path, "r") as h5:
        group = h5["keyword_index"]
        assert group.attrs["format"] == "bm25 1"
        assert group.attrs["tokenizer"] == "unicode61"
        term_bytes = group["term_bytes"][()]
        term_offsets = group["term_offsets"][()]
        posting_offsets = group["posting_offsets"][()]
        rows = group["posting_rows"][()]
        frequencies = group["posting_frequencies"][()].astype(np.int64)
        frequencies[group["large_frequency_postings"][()]] = group["large_frequencies"][()]
        lengths = group["document_lengths"][()]
        tombstones = h5["memory/tombstones"][()]
        ids = h5["memory/ids"][()]
    ours = {}
    for t in range(len(term_offsets) - 1):
        term = term_bytes[term_offsets[t]:term_offsets[t + 1]].tobytes()
        postings = slice(posting_offsets[t], posting_offsets[t + 1])
        ours[term] = (len(rows[postings]), int(frequencies[postings].sum()))
    assert ours == oracle.vocabulary()
    # A row's length is the number of terms FTS5 finds in it; a deleted row has none.
    held = {rowid for (rowid,) in oracle.db.execute("SELECT rowid FROM docs")}
    oracle.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5vocab(docs, 'instance')")
    counted = dict(oracle.db.execute("SELECT doc, count(*) FROM terms GROUP BY doc"))
    for row, memory_id in enumerate(ids):
        if tombstones[row]:
            assert lengths[row] == 2**32 - 1
            assert memory_id not in held
        else:
            assert lengths[row] == counted.get(memory_id, 0)


def test_ranks_as_fts5_after_reopen_and_with_changes_since_the_checkpoint(store):
    path, oracle, rng = store
    with edgehdf5.Memory.open(path, read_only=True) as reader:
        assert_ranks_as_fts5(reader, oracle)

    deleted_before = set(oracle_ids_deleted(path))
    writer = edgehdf5.Memory.open(path)
    texts = make_texts(rng, 400)
    ids = writer.save_batch(texts, np.random.default_rng(2).standard_normal((400, DIM), dtype=np.float32))
    oracle.add(ids, texts)
    gone = rng.sample(range(3000), 60) + rng.sample(list(ids), 40)  # stored rows and new ones
    active = [i for i in gone if i not in deleted_before]
    writer.remove(active)
    oracle.remove(active)
    writer.flush()  # the changes are in the log; the file's arrays are the checkpoint's
    assert_ranks_as_fts5(writer, oracle)
    with edgehdf5.Memory.open(path, read_only=True) as reader:
        assert_ranks_as_fts5(reader, oracle)
    writer.close()  # the checkpoint merges them into the arrays
    with edgehdf5.Memory.open(path, read_only=True) as reader:
        assert_ranks_as_fts5(reader, oracle)
    with edgehdf5.Memory.open(path) as writer:
        assert writer.compact() > 0
        assert_ranks_as_fts5(writer, oracle)
    with edgehdf5.Memory.open(path, read_only=True) as reader:
        assert_ranks_as_fts5(reader, oracle)


def oracle_ids_deleted(path):
    with h5py.File(path, "r") as h5:
        return h5["memory/ids"][()][h5["memory/tombstones"][()] != 0].tolist()
