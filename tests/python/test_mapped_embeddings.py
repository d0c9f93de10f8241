"""Mapped embeddings: Memory.open maps a large contiguous embedding matrix from the file
(map_embeddings=True, the default). h5py's read of the same file is the oracle for what the
views hold, before and after saves, and numpy brute force for what search returns."""
import h5py
import numpy as np
import pytest

import edgehdf5

DIM = 96
ROWS = 2_000  # 768 KB of float32, 384 KB of float16: mapped


def backing_file(array):
    """The file /proc/self/maps names for the page of array's first byte ('' if none)."""
    address = array.__array_interface__["data"][0]
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if start <= address < end:
                    return fields[5].strip() if len(fields) == 6 else ""
    except FileNotFoundError:
        pytest.skip("no /proc/self/maps here")
    return ""


def make(path, float16, rows=ROWS, seed=0):
    vectors = np.random.default_rng(seed).standard_normal((rows, DIM)).astype(np.float32)
    with edgehdf5.Memory.create(path, dim=DIM, float16=float16, compact_threshold=0) as m:
        m.save_batch([f"memory {i}" for i in range(rows)], vectors)


def top_ids(matrix, query, k):
    matrix = matrix.astype(np.float64)
    scores = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query))
    return list(np.argsort(-scores, kind="stable")[:k])


@pytest.mark.parametrize("float16", [False, True])
def test_views_of_a_mapped_matrix_hold_what_h5py_reads(tmp_path, float16):
    path = tmp_path / "m.h5"
    make(path, float16)
    with h5py.File(path, "r") as f:
        truth = f["memory/embeddings"][...]
    with edgehdf5.Memory.open(path, read_only=True) as mapped, \
            edgehdf5.Memory.open(path, read_only=True, map_embeddings=False) as read:
        assert backing_file(mapped.embeddings).endswith("m.h5")
        assert not backing_file(read.embeddings).endswith("m.h5")
        assert mapped.embeddings.dtype == truth.dtype
        np.testing.assert_array_equal(mapped.embeddings, truth)
        np.testing.assert_array_equal(read.embeddings, truth)
        query = np.random.default_rng(5).standard_normal(DIM).astype(np.float32)
        hits = mapped.search(query, k=10)
        assert [h.id for h in hits] == top_ids(truth, query, 10)


@pytest.mark.parametrize("float16", [False, True])
def test_saves_after_open_extend_the_mapped_matrix(tmp_path, float16):
    path = tmp_path / "m.h5"
    make(path, float16)
    more = np.random.default_rng(9).standard_normal((3_000, DIM)).astype(np.float32)
    with edgehdf5.Memory.open(path) as m:
        m.save_batch([f"later {i}" for i in range(len(more))], more)
        current = np.array(m.embeddings)
    with h5py.File(path, "r") as f:  # after the close's checkpoint
        np.testing.assert_array_equal(f["memory/embeddings"][...], current)
        np.testing.assert_array_equal(
            f["memory/embeddings"][ROWS:], more.astype(np.float16 if float16 else np.float32))


def test_texts_read_on_demand_are_what_h5py_reads(tmp_path):
    """text_on_demand (the default) leaves the text columns in the file: a hit's chunk and
    metadata, keyword search and a session filter answer as h5py's read of the file says
    and as a store that read every text at open answers."""
    path = tmp_path / "texts.h5"
    rng = np.random.default_rng(4)
    vectors = rng.standard_normal((ROWS, DIM)).astype(np.float32)
    with edgehdf5.Memory.create(path, dim=DIM, compact_threshold=0) as m:
        m.save_batch([f"note {i} about {'ducks' if i % 7 == 0 else 'geese'}" for i in range(ROWS)],
                     vectors, session_id=[f"s{i // 50}" for i in range(ROWS)],
                     source_channel=["chat" if i % 2 else "mail" for i in range(ROWS)])
    with h5py.File(path, "r") as f:
        chunks = [c.decode() for c in f["memory/chunks"][...]]
        sessions = [s.decode() for s in f["memory/session_ids"][...]]
    with edgehdf5.Memory.open(path, read_only=True) as lazy, \
            edgehdf5.Memory.open(path, read_only=True, text_on_demand=False) as eager:
        for hit in lazy.search(vectors[123], k=5).hits:
            assert hit.chunk == chunks[hit.id] and hit.session_id == sessions[hit.id]
        assert lazy.get(77)["chunk"] == chunks[77]
        for run in (lambda m: m.search(vectors[9], k=8, session="s3", channel="chat"),
                    lambda m: m.keyword_search("ducks", k=10),
                    lambda m: m.hybrid_search(vectors[14], "ducks", k=10)):
            got, want = run(lazy), run(eager)
            assert [(h.id, h.chunk) for h in got.hits] == [(h.id, h.chunk) for h in want.hits]
            assert [h.score for h in got.hits] == pytest.approx([h.score for h in want.hits])
