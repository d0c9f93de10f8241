"""AsyncMemory's reads (searches, sessions, the knowledge graph) against numpy brute force and
against edgehdf5.Memory reading the same file, and its save_batch's per-row metadata."""
import asyncio

import numpy as np
import pytest

import edgehdf5

DIM = 24
ROWS = 300


def unit(rng, rows):
    x = rng.standard_normal((rows, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def numpy_top_k(data, queries, k, allowed=None):
    """Cosine top-k by brute force in float64; ties to the lower id; `allowed` masks rows."""
    scores = queries.astype(np.float64) @ data.astype(np.float64).T
    scores /= np.linalg.norm(data.astype(np.float64), axis=1)
    if allowed is not None:
        scores[:, ~allowed] = -np.inf
    order = np.lexsort((np.broadcast_to(np.arange(len(data)), scores.shape), -scores), axis=1)
    return order[:, :k], np.take_along_axis(scores, order[:, :k], axis=1)


def chunk_text(i):
    return "the zebra crossed the river" if i == 42 else f"memory number {i} about cats"


def test_async_reads_match_numpy_and_the_sync_memory(tmp_path):
    rng = np.random.default_rng(3)
    data = unit(rng, ROWS)
    queries = unit(rng, 6)
    sessions = ["even" if i % 2 == 0 else "odd" for i in range(ROWS)]
    tags = [["t%d" % (i % 3)] for i in range(ROWS)]
    path = tmp_path / "async.h5"
    seen = {}

    async def main():
        async with await edgehdf5.AsyncMemory.create(path, dim=DIM) as m:
            ids = await m.save_batch([chunk_text(i) for i in range(ROWS)], data,
                                     session_id=sessions, source_channel="chat", tags=tags,
                                     timestamps=np.arange(ROWS, dtype=np.float64))
            assert list(ids) == list(range(ROWS))
            got = await m.get(7)
            assert (got["session_id"], got["tags"], got["timestamp"]) == ("odd", "t1", 7.0)

            # Vector search, alone, filtered and batched, while saves run beside it.
            want_ids, want_scores = numpy_top_k(data, queries, 10)
            results = await asyncio.gather(*(m.search(queries[q], k=10) for q in range(6)))
            for q, res in enumerate(results):
                assert [h.id for h in res.hits] == list(want_ids[q])
                np.testing.assert_allclose([h.score for h in res.hits], want_scores[q], atol=1e-5)
            even = np.array([s == "even" for s in sessions])
            want_even, _ = numpy_top_k(data, queries[:1], 5, allowed=even)
            res = await m.search(queries[0], k=5, session="even")
            assert [h.id for h in res.hits] == list(want_even[0])
            batch_ids, batch_scores = await m.search_batch(queries, k=10)
            np.testing.assert_array_equal(batch_ids, want_ids)
            np.testing.assert_allclose(batch_scores, want_scores, atol=1e-5)

            keyword = await m.keyword_search("zebra", k=3)
            assert [h.id for h in keyword.hits] == [42]
            seen["keyword"] = [(h.id, h.score) for h in (await m.keyword_search("cats", k=10)).hits]
            hybrid = await m.hybrid_search(data[42], "zebra", k=5, fusion="rrf")
            assert hybrid.hits[0].id == 42
            seen["hybrid"] = [(h.id, h.score) for h in hybrid.hits]
            with pytest.raises(edgehdf5.InvalidArgumentError, match="fusion"):
                await m.hybrid_search(data[0], "zebra", fusion="nope")
            with pytest.raises(edgehdf5.InvalidArgumentError, match="query"):
                await m.search(np.zeros(DIM + 1, dtype=np.float32))

            # Sessions and the knowledge graph.
            await m.add_session("even", 0, ROWS, "chat", "every even memory")
            assert await m.session_summary("even") == "every even memory"
            assert [s.id for s in await m.sessions()] == ["even"]
            with pytest.raises(edgehdf5.NotFoundError):
                await m.session_summary("nobody")
            ann = await m.add_entity("ann", "person")
            bob = await m.add_entity("bob", "person")
            cy = await m.add_entity("cy", "person")
            await m.add_relation(ann, bob, "knows")
            await m.add_relation(bob, cy, "knows", 0.5)
            assert await m.neighbors(bob) == [ann, cy]
            assert await m.k_hop(ann, 2) == [(ann, 0), (bob, 1), (cy, 2)]
            assert (await m.entity(cy)).name == "cy"
            assert (await m.find_entity("bob")).id == bob
            assert await m.entity_by_name("dan") is None
            assert [r.target for r in await m.relations_from(bob)] == [cy]
            assert [r.source for r in await m.relations_to(bob)] == [ann]
            assert len(await m.entities()) == 3 and len(await m.relations()) == 2
            assert await m.observations(ann) == []
            with pytest.raises(edgehdf5.NotFoundError):
                await m.entity(99)
        with pytest.raises(edgehdf5.InvalidArgumentError, match="closed"):
            await m.keyword_search("zebra")

    asyncio.run(main())

    # The same file read by the synchronous Memory gives the same answers.
    with edgehdf5.Memory.open(path, read_only=True) as m:
        assert [(h.id, h.score) for h in m.keyword_search("cats", k=10).hits] == seen["keyword"]
        assert [(h.id, h.score) for h in
                m.hybrid_search(data[42], "zebra", k=5, fusion="rrf").hits] == seen["hybrid"]
        assert m.neighbors(m.entity_by_name("bob")) == [m.entity_by_name("ann"),
                                                        m.entity_by_name("cy")]


def test_async_save_batch_checks_per_row_metadata_and_saves_nothing(tmp_path):
    rng = np.random.default_rng(5)
    data = unit(rng, 4)

    async def main():
        async with await edgehdf5.AsyncMemory.create(tmp_path / "m.h5", dim=DIM) as m:
            with pytest.raises(edgehdf5.InvalidArgumentError, match="session_id"):
                await m.save_batch(["a", "b", "c", "d"], data, session_id=["x", "y"])
            with pytest.raises(edgehdf5.InvalidArgumentError, match="chunks"):
                await m.save_batch("abcd", data)
            with pytest.raises(edgehdf5.InvalidArgumentError, match="embeddings"):
                await m.save_batch(["a", "b"], data)
            assert await m.count() == 0

    asyncio.run(main())
