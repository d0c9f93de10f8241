"""Memory.replace_embeddings and Memory.reembed (a new embedding model) against independent
oracles: h5py's read of the file afterwards (the new matrix, the recorded embedder and dim,
everything else unchanged) and numpy brute force over the new vectors for search."""
import h5py
import numpy as np
import pytest

import edgehdf5

OLD_DIM, NEW_DIM = 16, 48


def new_model(texts):
    """A deterministic 'new model': the built-in embedder at another dimension, negated (so
    that no row can be the old one by accident)."""
    return -np.stack([edgehdf5.embed_text(t, NEW_DIM) for t in texts])


def make(tmp_path, float16=False):
    path = tmp_path / "agent.h5"
    m = edgehdf5.Memory.create(path, dim=OLD_DIM, float16=float16, compact_threshold=0)
    chunks = [f"note {i} about {'deploy keys' if i % 3 == 0 else 'lunch'}" for i in range(300)]
    m.add(chunks, session_id="s", source_channel="chat")
    m.remove([4, 9])
    m.add_session("s", 0, 100, "chat", "summary")
    m.add_entity("alice", "person", 7)
    return m, path, chunks


def file_columns(path):
    with h5py.File(path, "r") as f:
        return {name: f["memory/" + name][...] for name in
                ("ids", "chunks", "session_ids", "source_channel", "timestamps", "tombstones")}


def test_reembed_with_a_callable_changes_the_dimension_and_nothing_else(tmp_path):
    m, path, chunks = make(tmp_path)
    m.build_index(nlist=4, sub_quantizers=4, iterations=2)
    m.checkpoint()
    before = file_columns(path)
    seen = []

    def embed(texts):
        seen.append(len(texts))
        return new_model(texts)

    done = m.reembed(embed=embed, embedder="new-model", batch_size=100)
    assert done == {"memories": 298, "dim": NEW_DIM, "embedder": "new-model",
                    "index_dropped": True}
    assert seen == [100, 100, 98]
    assert m.dim == NEW_DIM and m.embedder == "new-model" and m.index_info is None
    active = [i for i in range(300) if i not in (4, 9)]
    want = new_model([chunks[i] for i in active])
    # numpy brute force over the new vectors is what search ranks
    query = new_model(["deploy keys"])[0]
    cosine = want @ query / (np.linalg.norm(want, axis=1) * np.linalg.norm(query))
    order = np.argsort(-cosine, kind="stable")[:10]
    assert [h.id for h in m.search(query, k=10).hits] == [active[i] for i in order]
    m.close()
    with h5py.File(path, "r") as f:
        assert f["meta"].attrs["embedder"] in ("new-model", b"new-model")
        assert int(f["meta"].attrs["embedding_dim"]) == NEW_DIM
        stored = f["memory/embeddings"][...]
        assert stored.shape == (300, NEW_DIM)
        np.testing.assert_array_equal(stored[active], want.astype(np.float32))
        assert not stored[[4, 9]].any()  # removed rows: zeros until compaction drops them
        assert "ivfpq" not in f
    after = file_columns(path)
    for name, values in before.items():
        np.testing.assert_array_equal(after[name], values, err_msg=name)
    with edgehdf5.Memory.open(path, read_only=True) as r:
        assert r.sessions[0].summary == "summary" and r.entities[0].embedding_id == 7
        assert r.get(7)["chunk"] == chunks[7]
    assert edgehdf5.verify(path) == []


def test_reembed_with_a_built_in_embedder_and_float16(tmp_path):
    m, path, chunks = make(tmp_path, float16=True)
    assert m.reembed(embedder="hash:24")["dim"] == 24
    got = m.get(10)["embedding"]
    np.testing.assert_array_equal(
        got, edgehdf5.embed_text(chunks[10], 24).astype(np.float16).astype(np.float32))
    assert m.recall(chunks[12], k=1).hits[0].id == 12  # recall now embeds with hash:24
    m.close()
    with h5py.File(path, "r") as f:
        assert f["memory/embeddings"].dtype == np.float16
        assert f["memory/embeddings"].shape == (300, 24)


def test_replace_embeddings_checks_its_arguments_and_changes_nothing_when_refused(tmp_path):
    m, path, chunks = make(tmp_path)
    ids = [int(i) for i, t in zip(np.array(m.ids), np.array(m.tombstones)) if t == 0]
    old = np.array(m.embeddings)
    good = new_model([chunks[i] for i in ids]).astype(np.float32)
    bad = good.copy()
    bad[5, 3] = np.nan
    with pytest.raises(edgehdf5.InvalidArgumentError, match="row 5 holds a NaN"):
        m.replace_embeddings(ids, bad)
    with pytest.raises(edgehdf5.InvalidArgumentError, match="active memories"):
        m.replace_embeddings(ids[:-1], good[:-1], embedder="new-model")
    with pytest.raises(edgehdf5.InvalidArgumentError, match="ids\\[0\\] is 4"):
        m.replace_embeddings([4] + ids[1:], good, embedder="new-model")
    with pytest.raises(edgehdf5.InvalidArgumentError, match="C-contiguous"):
        m.replace_embeddings(ids, np.asfortranarray(good), embedder="new-model")
    with pytest.raises(edgehdf5.InvalidArgumentError, match="dtype"):
        m.replace_embeddings(ids, good.astype(np.float64), embedder="new-model")
    with pytest.raises(edgehdf5.InvalidArgumentError, match="one row per text"):
        m.reembed(embed=lambda texts: new_model(texts)[:-1])
    with pytest.raises(edgehdf5.InvalidArgumentError, match="NaN"):
        m.reembed(embed=lambda texts: np.full((len(texts), 8), np.nan, np.float32))
    with pytest.raises(edgehdf5.UnsupportedError, match="not a built-in embedder"):
        m.reembed(embedder="some-model")  # no callable and not hash:D
    view = m.embeddings
    with pytest.raises(edgehdf5.ViewsAliveError):
        m.replace_embeddings(ids, good, embedder="new-model")
    del view
    assert m.dim == OLD_DIM
    np.testing.assert_array_equal(np.array(m.embeddings), old)
    with pytest.raises(edgehdf5.InvalidArgumentError, match="another dimension"):
        m.replace_embeddings(ids, good)  # the file's hash:16 cannot have made 48 values
    m.replace_embeddings(ids, good, embedder="new-model")
    assert m.embedder == "new-model" and m.dim == NEW_DIM
    m.replace_embeddings(ids, -good)  # embedder: unchanged
    assert m.embedder == "new-model"
    m.close()
    with edgehdf5.Memory.open(path, read_only=True) as r:
        with pytest.raises(edgehdf5.ReadOnlyError):
            r.replace_embeddings(ids, good)


def test_reembed_of_a_file_without_memories(tmp_path):
    with edgehdf5.Memory.create(tmp_path / "empty.h5", dim=OLD_DIM) as m:
        assert m.reembed(embed=new_model, embedder="new-model")["dim"] == OLD_DIM  # nothing to ask it
        assert m.reembed(embedder="hash:24")["dim"] == 24  # the built-in embedder's dimension
        assert m.dim == 24 and m.embedder == "hash:24"
