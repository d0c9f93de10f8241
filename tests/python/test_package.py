"""edgehdf5's Python package against independent oracles (numpy brute force, h5py): views,
search_batch, text in / memories out, the IVF-PQ index, AsyncMemory, closed handles."""
import asyncio
import gc
import threading

import h5py
import numpy as np
import pytest

import edgehdf5

DIM = 16


def unit(rng, rows):
    x = rng.standard_normal((rows, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def numpy_top_k(data, queries, k):
    scores = queries @ data.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


@pytest.fixture
def memory(tmp_path):
    m = edgehdf5.Memory.create(tmp_path / "m.h5", dim=DIM)
    yield m
    gc.collect()
    m.close()


def test_search_batch_matches_numpy_ids_and_scores(memory):
    data = unit(np.random.default_rng(3), 300)
    memory.save_batch([f"c{i}" for i in range(300)], data)
    queries = unit(np.random.default_rng(4), 7)
    ids, scores = memory.search_batch(queries, k=5)
    want_ids, want_scores = numpy_top_k(data, queries, 5)
    assert ids.shape == (7, 5) and ids.dtype == np.int64 and scores.dtype == np.float32
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(scores, want_scores, atol=1e-5)
    # fewer memories than k: padded with -1 / NaN
    ids, scores = memory.search_batch(queries[:1], k=400)
    assert (ids[0, 300:] == -1).all() and np.isnan(scores[0, 300:]).all()


def test_views_are_zero_copy_read_only_and_block_moves(memory):
    data = unit(np.random.default_rng(5), 50)
    memory.save_batch([f"c{i}" for i in range(50)], data)
    view = memory.embeddings
    np.testing.assert_array_equal(view, data)
    assert not view.flags.writeable and not view.flags.owndata
    with pytest.raises(ValueError):
        view[0, 0] = 1.0
    np.testing.assert_allclose(memory.norms, np.linalg.norm(data, axis=1), rtol=1e-6)
    assert memory.tombstones.tolist() == [0] * 50 and memory.ids.tolist() == list(range(50))
    # a save that could grow (move) the arrays, and a close, are refused while a view lives
    with pytest.raises(edgehdf5.ViewsAliveError):
        memory.save_batch(["x"] * 1000, unit(np.random.default_rng(6), 1000))
    with pytest.raises(edgehdf5.ViewsAliveError):
        memory.close()
    assert len(memory) == 50 and view[49, 0] == data[49, 0]  # nothing saved, view still valid
    row = view[3]  # a slice keeps the view's base (and so the store) alive too
    del view
    with pytest.raises(edgehdf5.ViewsAliveError):
        memory.remove(0)
    del row
    memory.save_batch(["x"] * 1000, unit(np.random.default_rng(6), 1000))
    assert memory.embeddings.shape == (1050, DIM)


def test_bad_arrays_name_the_argument_and_save_nothing(memory):
    good = unit(np.random.default_rng(7), 4)
    with pytest.raises(edgehdf5.InvalidArgumentError, match="embeddings: dtype must be float32"):
        memory.save_batch(["a"] * 4, good.astype(np.float64))
    with pytest.raises(edgehdf5.InvalidArgumentError, match="embeddings: array must be C-contiguous"):
        memory.save_batch(["a"] * 4, np.asfortranarray(good))
    with pytest.raises(edgehdf5.InvalidArgumentError, match="embeddings: expected 16 values"):
        memory.save_batch(["a"] * 4, good[:, :8].copy())
    bad = good.copy()
    bad[2, 5] = np.nan
    with pytest.raises(edgehdf5.InvalidArgumentError, match="embeddings: row 2 holds a NaN"):
        memory.save_batch(["a"] * 4, bad)
    with pytest.raises(ValueError, match="query: expected a 1-D array"):
        memory.search(good, k=1)
    with pytest.raises(edgehdf5.InvalidArgumentError, match="queries: dtype"):
        memory.search_batch(good.astype(np.int32))
    assert len(memory) == 0
    half = good.astype(np.float16)
    memory.save_batch(["h"] * 4, half)  # float16 input is widened, not refused
    np.testing.assert_allclose(memory.get(0)["embedding"], half[0].astype(np.float32))


def test_closed_handle_raises(tmp_path):
    m = edgehdf5.Memory.create(tmp_path / "c.h5", dim=DIM)
    m.close()
    m.close()  # idempotent
    assert m.closed
    for call in (lambda: m.search(np.ones(DIM, np.float32)), lambda: len(m), lambda: m.embeddings,
                 lambda: m.save("x", np.ones(DIM, np.float32))):
        with pytest.raises(edgehdf5.InvalidArgumentError, match="closed"):
            call()


def test_h5py_reads_what_python_wrote_and_python_reads_h5py_edits(tmp_path):
    path = tmp_path / "h.h5"
    data = unit(np.random.default_rng(8), 20)
    with edgehdf5.Memory.create(path, dim=DIM) as m:
        m.save_batch([f"t{i}" for i in range(20)], data, session_id="s", tags=[["a", "b"]] * 20,
                     timestamps=np.arange(20.0))
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["memory/embeddings"][...], data)
        assert f["memory/chunks"][5].decode() == "t5"
        assert f["memory/tags"][0].decode() == "a,b"
        np.testing.assert_array_equal(f["memory/timestamps"][...], np.arange(20.0))
    with edgehdf5.Memory.open(path, read_only=True) as r:
        assert r.read_only and len(r) == 20
        hits = r.search(data[7], k=1, after=5.0, tags=["b"])
        assert hits[0].id == 7 and hits[0].tags == ["a", "b"] and hits[0].session_id == "s"
        assert r.search(data[7], k=1, before=5.0)[0].id != 7


def test_add_and_recall_with_builtin_and_callable_embedders(memory, tmp_path):
    first = memory.add("the user prefers dark mode in every editor")
    memory.add(["lunch is at noon", "the cat sleeps on the sofa"])
    hit = memory.recall("which mode does the user prefer in the editor", k=1)[0]
    assert hit.id == first
    np.testing.assert_allclose(memory.get(first)["embedding"],
                               edgehdf5.embed_text("the user prefers dark mode in every editor", DIM))

    def embed(texts):
        return np.stack([np.full(DIM, len(t), np.float32) / (len(t) * 4.0) for t in texts])

    memory.add("x", embed=embed)
    with pytest.raises(edgehdf5.InvalidArgumentError, match="embed.*one row per text"):
        memory.add("y", embed=lambda texts: np.ones((2, DIM), np.float32))
    with pytest.raises(edgehdf5.InvalidArgumentError, match="NaN"):
        memory.add("y", embed=lambda texts: np.full((1, DIM), np.nan, np.float32))
    assert len(memory) == 4


def test_ivfpq_index_build_search_drop(memory):
    data = unit(np.random.default_rng(9), 600)
    memory.save_batch([f"c{i}" for i in range(600)], data)
    info = memory.build_index(nlist=8, sub_quantizers=4)
    assert info["nlist"] == 8 and info["vectors"] == 600 and memory.index_info["nlist"] == 8
    memory.nprobe, memory.rerank = 8, 600  # every list, every candidate re-scored: exact
    res = memory.search(data[11], k=5, strategy="ivfpq")
    want, _ = numpy_top_k(data, data[11:12], 5)
    assert res.metrics.strategy == "ivfpq" and res.ids == list(want[0])
    assert memory.drop_index() and memory.index_info is None


def test_threads_search_while_one_saves(memory):
    data = unit(np.random.default_rng(10), 200)
    memory.save_batch([f"c{i}" for i in range(200)], data)
    errors, stop = [], threading.Event()

    def searcher():
        try:
            while not stop.is_set():
                ids, _ = memory.search_batch(data[:4], k=1)
                assert ids[:, 0].tolist() == [0, 1, 2, 3]
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(4)]
    for t in threads:
        t.start()
    rng = np.random.default_rng(11)
    for _ in range(20):
        memory.save_batch(["w"] * 10, unit(rng, 10) * 0.5 + 0.0)
    stop.set()
    for t in threads:
        t.join()
    assert not errors and len(memory) == 400


def test_async_save_recall_flush(tmp_path):
    async def main():
        async with await edgehdf5.AsyncMemory.create(tmp_path / "a.h5", dim=DIM) as m:
            rng = np.random.default_rng(12)
            rows = unit(rng, 30)
            ids = await asyncio.gather(*(m.save(f"c{i}", rows[i]) for i in range(30)))
            assert sorted(ids) == list(range(30))
            await m.flush()
            hits = await m.search(rows[4], k=1)
            assert hits[0].chunk == "c4"
            first = await m.add("asyncio agents remember things")
            assert (await m.recall("agents remember", k=1))[0].id == first
            assert await m.count() == 31
            with pytest.raises(edgehdf5.InvalidArgumentError, match="embedding"):
                await m.save("bad", rows[0].astype(np.float64))
        with h5py.File(tmp_path / "a.h5", "r") as f:
            assert len(f["memory/chunks"]) == 31

    asyncio.run(main())
