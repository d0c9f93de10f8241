"""The Python package against independent oracles: numpy brute force, h5py."""
import subprocess
import sys
import threading

import h5py
import numpy as np
import pytest

import edgehdf5

DIM = 32


def unit_rows(rng, rows, dim=DIM):
    x = rng.standard_normal((rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(data, queries, k):
    """numpy oracle: cosine scores, top-k ids best first (ties to the lower id)."""
    norms = np.linalg.norm(data.astype(np.float64), axis=1)
    scores = (queries.astype(np.float64) @ data.astype(np.float64).T) / norms
    scores /= np.linalg.norm(queries.astype(np.float64), axis=1, keepdims=True)
    order = np.lexsort((np.broadcast_to(np.arange(len(data)), scores.shape), -scores), axis=1)
    return order[:, :k], np.take_along_axis(scores, order[:, :k], axis=1)


@pytest.fixture
def store(tmp_path):
    rng = np.random.default_rng(7)
    data = unit_rows(rng, 500)
    m = edgehdf5.Memory.create(tmp_path / "m.h5", dim=DIM)
    ids = m.save_batch([f"chunk {i}" for i in range(500)], data, session_id="s1",
                       source_channel="chat", tags="a,b", timestamp=100.0)
    yield m, data, ids, tmp_path / "m.h5"
    if not m.closed:
        m.close()


def test_save_batch_and_search_match_numpy(store):
    m, data, ids, _ = store
    assert ids == list(range(500)) and len(m) == 500 and m.count == 500
    queries = unit_rows(np.random.default_rng(1), 8)
    want_ids, want_scores = brute_force(data, queries, 10)
    for q in range(8):
        res = m.search(queries[q], k=10)
        assert [h.id for h in res.hits] == list(want_ids[q])
        np.testing.assert_allclose([h.score for h in res.hits], want_scores[q], atol=1e-5)
        assert res.hits[0].chunk == f"chunk {want_ids[q][0]}"
        assert res.metrics.strategy and res.metrics.time_us >= 0
    got_ids, got_scores = m.search_batch(queries, k=10)
    assert got_ids.shape == (8, 10) and got_scores.shape == (8, 10)
    np.testing.assert_array_equal(got_ids, want_ids)
    np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)


def test_h5py_reads_what_python_wrote_and_back(store):
    m, data, _, path = store
    m.close()
    with h5py.File(path, "r") as f:
        np.testing.assert_allclose(f["memory/embeddings"][:], data, atol=1e-7)
        assert f["memory/chunks"][3].decode() == "chunk 3"
    with edgehdf5.Memory.open(path, read_only=True) as r:
        assert r.get(3)["chunk"] == "chunk 3"
        np.testing.assert_allclose(r.get(3)["embedding"], data[3], atol=1e-7)


def test_float16_input_and_filters(tmp_path):
    rng = np.random.default_rng(3)
    data = unit_rows(rng, 50)
    with edgehdf5.Memory.create(tmp_path / "f.h5", dim=DIM) as m:
        m.save_batch(["x"] * 25, data[:25].astype(np.float16), session_id="a", timestamp=1.0)
        m.save_batch(["y"] * 25, data[25:], session_id="b", tags=["t"], timestamp=2.0)
        res = m.search(data[30], k=5, session="b")
        assert all(25 <= h.id for h in res.hits) and res.hits[0].id == 25 + 5
        assert all(h.session_id == "b" for h in m.search(data[0], k=50, after=1.5).hits)
        assert m.search(data[3], k=1).hits[0].id == 3


def test_bad_input_names_the_argument_and_saves_nothing(store):
    m, data, _, _ = store
    with pytest.raises(edgehdf5.InvalidArgumentError, match="embeddings.*float32"):
        m.save_batch(["a"], data[:1].astype(np.float64))
    with pytest.raises(ValueError, match="embeddings.*C-contiguous"):
        m.save_batch(["a", "b"], np.asfortranarray(np.ones((2, DIM), np.float32)))
    with pytest.raises(edgehdf5.InvalidArgumentError, match="embeddings.*expected 32"):
        m.save_batch(["a"], np.ones((1, 7), np.float32))
    bad = data[:2].copy()
    bad[1, 3] = np.nan
    with pytest.raises(edgehdf5.InvalidArgumentError, match="embeddings: row 1.*NaN"):
        m.save_batch(["a", "b"], bad)
    with pytest.raises(edgehdf5.InvalidArgumentError, match="chunks"):
        m.save_batch(["a"], data[:2])
    with pytest.raises(edgehdf5.InvalidArgumentError, match="query"):
        m.search(np.ones(5, np.float32))
    assert m.count == 500


def test_errors_map_to_classes(store):
    m, _, _, path = store
    with pytest.raises(edgehdf5.NotFoundError) as caught:
        m.get(10_000)
    assert isinstance(caught.value, KeyError) and "10000" in str(caught.value)
    m.remove(4)
    with pytest.raises(KeyError):
        m.remove(4)
    # A second writer, in another process, gets LockedError.
    code = ("import edgehdf5,sys\ntry:\n edgehdf5.Memory.open(sys.argv[1])\n"
            "except edgehdf5.LockedError as e:\n print('locked', e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("locked")
    m.close()
    with pytest.raises(edgehdf5.InvalidArgumentError, match="closed"):
        m.search(np.ones(DIM, np.float32))


def test_four_threads_search_while_one_saves(store):
    m, data, _, _ = store
    want_ids, _ = brute_force(data, data[:20], 1)
    failures = []
    stop = threading.Event()

    def searcher():
        while not stop.is_set():
            for q in range(20):
                if m.search(data[q], k=1).hits[0].id != want_ids[q][0]:
                    failures.append(q)

    def saver():
        rng = np.random.default_rng(11)
        for _ in range(50):
            m.save_batch(["new"] * 4, -unit_rows(rng, 4))  # far from every query
        stop.set()

    threads = [threading.Thread(target=searcher) for _ in range(4)] + [threading.Thread(target=saver)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and m.count == 700


def test_sessions_graph_keyword_hybrid_compact(store, tmp_path):
    m, data, _, _ = store
    m.add_session("s1", 0, 10, "chat", "talked about things")
    assert m.session_summary("s1") == "talked about things"
    a, b, c = (m.add_entity(n, "person") for n in ("ann", "bob", "cy"))
    m.add_relation(a, b, "knows")
    m.add_relation(b, c, "knows")
    assert m.neighbors(b) == [a, c] and m.entity_by_name("cy") == c
    assert m.k_hop(a, 2) == [(a, 0), (b, 1), (c, 2)]
    m.save_batch(["the zebra migrated north"], data[:1])
    assert m.keyword_search("zebra", k=3).hits[0].chunk == "the zebra migrated north"
    assert m.hybrid_search(data[0], "zebra", k=3, fusion="rrf").hits[0].id in (0, 500)
    m.remove([1, 2])
    assert m.compact() >= 0 and len(m) == 499
    m.flush()
    m.snapshot(tmp_path / "snap.h5")
    with h5py.File(tmp_path / "snap.h5", "r") as f:
        assert len(f["memory/chunks"]) == m.count


def test_agent_loop_example_runs(tmp_path):
    import os
    import pathlib
    example = pathlib.Path(__file__).resolve().parents[2] / "examples/python/agent_loop.py"
    out = subprocess.run([sys.executable, str(example), str(tmp_path / "a.h5")],
                         capture_output=True, text=True, check=True, env=dict(os.environ))
    assert "My cat is called Miso" in out.stdout.splitlines()[0]
    assert out.stdout.strip().endswith("memories: 5")
