#!/usr/bin/env python3
"""Writes memory files the way the original Rust tool did, for test_rust_format.cpp.

What sets these files apart from the ones edgehdf5 writes:
  * every string, in datasets and in /meta attributes, is fixed-length, null-padded UTF-8;
    each dataset's length is its longest value (so that value fills it exactly, multi-byte
    last character included), tags get a few bytes of slack;
  * no /memory/ids (a memory's id is its row), no next_id or checkpoint_lsn, and none of
    the float16/compression/compact_threshold attributes;
  * integer attributes as int64 in one file and uint64 in the other.
Next to each FILE.h5 goes FILE.json: what was written, and search queries with the nearest
active row as numpy computes it.

Usage: make_rust_fixture.py OUT_DIR     (test_rust_format.cpp names the variants it reads)
"""

import json
import sys
from pathlib import Path

import h5py
import numpy as np

PHRASES = [
    "User prefers dark mode",
    "Grüße aus Zürich — naïve café",
    "日本語のメモ",
    "",  # an empty chunk (no row-number prefix either): nothing but padding
    "Ελληνικά и русский",
    "emoji 🚀 in the middle ✨ and end 🎉",
]
# The longest chunk of each file, ending in a four-byte character that fills the fixed length.
LONGEST_CHUNK = "The longest memory of this file, it ends exactly at its fixed length: 東京🚀"
CHANNELS = ["chat", "email", "voix 📞"]
TAGS = ["preference,ui", "", "travel,日本"]


VARIANTS = [
    dict(name="rust_i64", integer_type=np.int64, dim=8, rows=12, tombstoned_rows=[4],
         with_sessions_and_graph=True, seed=7),
    # Zero sessions, entities and relations: empty fixed-length string datasets.
    dict(name="rust_u64", integer_type=np.uint64, dim=12, rows=9, tombstoned_rows=[],
         with_sessions_and_graph=False, seed=11),
]


def fixed_utf8(values, slack=0):
    """values as a fixed-length, null-padded UTF-8 array (h5py takes the encoding from the
    dtype's metadata: a plain 'S<n>' array would be ASCII, which HDF5 will not convert)."""
    encoded = [value.encode("utf-8") for value in values]
    # HDF5 string types hold at least one byte, also for an empty dataset.
    length = max([len(value) for value in encoded] + [1]) + slack
    return np.array(encoded, dtype=h5py.string_dtype("utf-8", length))


def write_strings(group, name, values, slack=0):
    dataset = group.create_dataset(name, data=fixed_utf8(values, slack))
    # The property these files exist to test, so make sure h5py wrote it.
    assert dataset.id.get_type().get_strpad() == h5py.h5t.STR_NULLPAD, name


def write_string_attribute(group, name, value):
    value = fixed_utf8([value])
    group.attrs.create(name, value[0], dtype=value.dtype)


def make_content(spec):
    rng = np.random.default_rng(spec["seed"])
    count, dim = spec["rows"], spec["dim"]
    embeddings = rng.standard_normal((count, dim)).astype(np.float32)
    phrases = [PHRASES[i % len(PHRASES)] for i in range(count)]
    chunks = [f"{i}: {phrase}" if phrase else "" for i, phrase in enumerate(phrases)]
    chunks[count // 2] = LONGEST_CHUNK
    rows = [dict(id=i, chunk=chunks[i], embedding=embeddings[i].tolist(),
                 source_channel=CHANNELS[i % len(CHANNELS)],
                 timestamp=1700000000.0 + 3600.5 * i,
                 session_id="sess-ü" if i < count // 2 else "sess-2",
                 tags=TAGS[i % len(TAGS)],
                 tombstone=int(i in spec["tombstoned_rows"]))
            for i in range(count)]
    sessions, entities, relations = [], [], []
    if spec["with_sessions_and_graph"]:
        sessions = [
            dict(id="sess-ü", start=0, end=count // 2, channel="chat",
                 timestamp=1700000100.25, summary="Résumé of the 日本 talk"),
            dict(id="sess-2", start=count // 2, end=count, channel="email",
                 timestamp=1700009999.5, summary=""),
        ]
        entities = [
            dict(id=0, name="Ada Lovelace", type="person", embedding_idx=2),
            dict(id=1, name="Zürich", type="place", embedding_idx=-1),
            dict(id=2, name="分析機関", type="project", embedding_idx=count - 1),
        ]
        relations = [
            dict(source=0, target=2, type="works_on", weight=0.75, timestamp=1700000200.0),
            dict(source=2, target=1, type="located_in", weight=1.0, timestamp=1700000300.5),
        ]
    return embeddings, rows, sessions, entities, relations


def nearest_active_queries(embeddings, rows, rng):
    """Queries near chosen rows, and at each tombstoned row, with numpy's nearest active row."""
    active = np.array([row["tombstone"] == 0 for row in rows])
    targets = [0, len(rows) - 1, len(rows) // 2] + [row["id"] for row in rows if row["tombstone"]]
    queries = []
    for target in targets:
        query = embeddings[target] + 0.05 * rng.standard_normal(embeddings.shape[1])
        query = query.astype(np.float32)
        scores = embeddings.astype(np.float64) @ query / (
            np.linalg.norm(embeddings.astype(np.float64), axis=1) * np.linalg.norm(query))
        scores[~active] = -np.inf
        order = np.argsort(-scores)
        # A near tie would make the expected answer depend on rounding, not on correctness.
        assert scores[order[0]] - scores[order[1]] > 1e-3, "near tie: pick another seed"
        queries.append(dict(vector=query.tolist(), nearest_id=int(order[0]),
                            score=float(scores[order[0]])))
    return queries


def write_variant(out_dir, spec):
    embeddings, rows, sessions, entities, relations = make_content(spec)
    integer = spec["integer_type"]
    config = dict(agent_id="rust-agent-ß", embedder="all-MiniLM-L6-v2", embedding_dim=spec["dim"],
                  chunk_size=512, overlap=50, created_at="2025-01-31T23:59:59Z")
    with h5py.File(out_dir / f"{spec['name']}.h5", "w") as h5:
        meta = h5.create_group("meta")
        write_string_attribute(meta, "schema_version", "1.0")
        write_string_attribute(meta, "edgehdf5_version", "1.93.0")
        for name in ("agent_id", "embedder", "created_at"):
            write_string_attribute(meta, name, config[name])
        for name in ("embedding_dim", "chunk_size", "overlap"):
            meta.attrs.create(name, config[name], dtype=integer)

        memory = h5.create_group("memory")
        write_strings(memory, "chunks", [row["chunk"] for row in rows])
        memory.create_dataset("embeddings", data=embeddings)
        write_strings(memory, "source_channel", [row["source_channel"] for row in rows])
        memory.create_dataset("timestamps", data=np.array([row["timestamp"] for row in rows]))
        write_strings(memory, "session_ids", [row["session_id"] for row in rows])
        write_strings(memory, "tags", [row["tags"] for row in rows], slack=5)
        memory.create_dataset("tombstones",
                              data=np.array([row["tombstone"] for row in rows], dtype=np.uint8))
        norms = np.linalg.norm(embeddings.astype(np.float64), axis=1).astype(np.float32)
        memory.create_dataset("norms", data=norms)

        group = h5.create_group("sessions")
        write_strings(group, "ids", [session["id"] for session in sessions])
        group.create_dataset("start_idxs", data=np.array([s["start"] for s in sessions], np.int64))
        group.create_dataset("end_idxs", data=np.array([s["end"] for s in sessions], np.int64))
        write_strings(group, "channels", [session["channel"] for session in sessions])
        group.create_dataset("timestamps",
                             data=np.array([s["timestamp"] for s in sessions], np.float64))
        write_strings(group, "summaries", [session["summary"] for session in sessions])

        graph = h5.create_group("knowledge_graph")
        graph.create_dataset("entity_ids", data=np.array([e["id"] for e in entities], np.int64))
        write_strings(graph, "entity_names", [entity["name"] for entity in entities])
        write_strings(graph, "entity_types", [entity["type"] for entity in entities])
        graph.create_dataset("entity_emb_idxs",
                             data=np.array([e["embedding_idx"] for e in entities], np.int64))
        graph.create_dataset("relation_srcs",
                             data=np.array([r["source"] for r in relations], np.int64))
        graph.create_dataset("relation_tgts",
                             data=np.array([r["target"] for r in relations], np.int64))
        write_strings(graph, "relation_types", [relation["type"] for relation in relations])
        graph.create_dataset("relation_weights",
                             data=np.array([r["weight"] for r in relations], np.float32))
        graph.create_dataset("relation_ts",
                             data=np.array([r["timestamp"] for r in relations], np.float64))

    manifest = dict(config=config, schema_version="1.0", edgehdf5_version="1.93.0", rows=rows,
                    sessions=sessions, entities=entities, relations=relations,
                    queries=nearest_active_queries(embeddings, rows,
                                                   np.random.default_rng(spec["seed"] + 1)))
    manifest_text = json.dumps(manifest, ensure_ascii=False, indent=1)
    (out_dir / f"{spec['name']}.json").write_text(manifest_text, encoding="utf-8")


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    for spec in VARIANTS:
        write_variant(out_dir, spec)


if __name__ == "__main__":
    main()
