#!/usr/bin/env python3
"""End-to-end tests of edgehdf5-migrate on SQLite databases made here.

Each test builds a source database with Python's sqlite3, runs the tool as a user would, and
reads what it wrote with h5py and with the edgehdf5 tool (which opens files through
HDF5Memory::open). Run with /usr/bin/python3 (h5py, numpy); see migrate_support.py.
"""

import fcntl
import json
import os
import pty
import subprocess
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from migrate_support import (EXIT_FAILURE, EXIT_USAGE_ERROR, MIGRATE, ORIGINAL_TOOL_SCHEMA,
                             MigrateTestCase, f32_blob, random_embeddings, read_memory_file)


def memory_texts(content, ids) -> list[str]:
    """The chunk texts of memories `ids` (rows are ids: a migrated file is never compacted)."""
    return [content["memory/chunks"][i] for i in ids]


class RoundTripTest(MigrateTestCase):
    def test_every_field_arrives_unchanged(self):
        embeddings = random_embeddings(4, 6)
        embeddings[1, 0] = -0.0
        embeddings[2, 1] = 1e-40  # a float32 subnormal
        chunks = [
            ("Grüße, café ☕ — 日本語のテキスト, emoji 🧠, combining e\u0301", "chat",
             -12.5, "séance-1", "préférence,ui"),
            ("", "", 0.0, "", ""),  # every text field empty
            ("line\nbreaks\tand \"quotes\" 'and' \\ backslashes", "email", 1_718_000_000.123456,
             "s2", "a,b,c"),
            ("x" * 100_000, "slack", 2.5e9, "s2", "long"),
        ]
        source = self.source()
        for i, (chunk, channel, timestamp, session, tags) in enumerate(chunks):
            source.add_chunk(10 + 3 * i, embeddings[i], chunk, channel, timestamp, session, tags)
        source.add_session("séance-1", 0, 1, "chat", 1_600_000_000.75, "Résumé ✓")
        source.add_session("s2", 2, 4, "email", 1_600_000_100.0, "")
        source.add_entity(5, "Zoë", "person", 0)
        source.add_entity(7, "東京", "place", None)
        source.add_entity(100, "Project X", "", 3)
        source.add_relation(5, 7, "lives_in", 0.75, 1_650_000_000.5)
        source.add_relation(100, 5, "owned_by", -2.0, 0.0)
        source.close()

        self.migrate("--agent-id", "agent-ü", "--embedder", "e5-small")
        content = read_memory_file(self.out)
        np.testing.assert_array_equal(content["memory/embeddings"], embeddings)
        self.assertEqual(content["embedding_dtype"], np.float32)
        self.assertEqual(content["memory/chunks"], [c[0] for c in chunks])
        self.assertEqual(content["memory/source_channel"], [c[1] for c in chunks])
        self.assertEqual(list(content["memory/timestamps"]), [c[2] for c in chunks])
        self.assertEqual(content["memory/session_ids"], [c[3] for c in chunks])
        self.assertEqual(content["memory/tags"], [c[4] for c in chunks])
        self.assertEqual(list(content["memory/tombstones"]), [0, 0, 0, 0])
        np.testing.assert_allclose(content["memory/norms"], np.linalg.norm(embeddings, axis=1),
                                   rtol=1e-6)

        self.assertEqual(content["sessions/ids"], ["séance-1", "s2"])
        self.assertEqual(list(content["sessions/start_idxs"]), [0, 2])
        self.assertEqual(list(content["sessions/end_idxs"]), [1, 4])
        self.assertEqual(content["sessions/channels"], ["chat", "email"])
        self.assertEqual(list(content["sessions/timestamps"]), [1_600_000_000.75, 1_600_000_100.0])
        self.assertEqual(content["sessions/summaries"], ["Résumé ✓", ""])

        self.assertEqual(list(content["knowledge_graph/entity_ids"]), [5, 7, 100])
        self.assertEqual(content["knowledge_graph/entity_names"], ["Zoë", "東京", "Project X"])
        self.assertEqual(content["knowledge_graph/entity_types"], ["person", "place", ""])
        self.assertEqual(list(content["knowledge_graph/entity_emb_idxs"]), [0, -1, 3])
        self.assertEqual(list(content["knowledge_graph/relation_srcs"]), [5, 100])
        self.assertEqual(list(content["knowledge_graph/relation_tgts"]), [7, 5])
        self.assertEqual(content["knowledge_graph/relation_types"], ["lives_in", "owned_by"])
        self.assertEqual(list(content["knowledge_graph/relation_weights"]), [0.75, -2.0])
        self.assertEqual(list(content["knowledge_graph/relation_ts"]), [1_650_000_000.5, 0.0])

        meta = content["meta"]
        self.assertEqual(meta["agent_id"], "agent-ü")
        self.assertEqual(meta["embedder"], "e5-small")
        self.assertEqual(meta["embedding_dim"], 6)
        self.assertEqual(meta["compact_threshold"], 0.3)
        self.assertEqual(meta["float16"], 0)
        self.assertEqual(meta["compression"], 0)

        # HDF5Memory::open reads the same, and the library's deep check passes.
        self.assert_sound()
        exported = [json.loads(line)
                    for line in self.edgehdf5("export", self.out).stdout.splitlines()]
        self.assertEqual([row["chunk"] for row in exported], [c[0] for c in chunks])
        self.assertEqual([row["timestamp"] for row in exported], [c[2] for c in chunks])

    def test_defaults_for_agent_and_embedder(self):
        source = self.source()
        source.add_chunks(random_embeddings(3, 4))
        source.close()
        self.migrate()
        meta = read_memory_file(self.out)["meta"]
        self.assertEqual((meta["agent_id"], meta["embedder"]), ("migrated", "unknown"))

    def test_null_text_reads_as_empty(self):
        source = self.source()
        source.db.execute(
            "INSERT INTO memory_chunks VALUES (1, NULL, ?, NULL, 5, NULL, NULL, NULL)",
            (f32_blob([1, 2]),))
        source.close()
        self.migrate()
        content = read_memory_file(self.out)
        for column in ("chunks", "source_channel", "session_ids", "tags"):
            self.assertEqual(content[f"memory/{column}"], [""])
        self.assertEqual(list(content["memory/tombstones"]), [0])  # NULL deleted: not deleted

    def test_numbers_stored_as_text_and_text_stored_as_numbers(self):
        # SQLite keeps what it cannot convert: a numeric timestamp as text, a number as chunk.
        source = self.source()
        source.db.execute(
            "INSERT INTO memory_chunks VALUES (1, 42, ?, 'c', '1718000000.5', 's', 't', 0)",
            (f32_blob([1, 2]),))
        source.db.execute("CREATE TABLE t (x)")  # no affinity: the text stays text
        source.close()
        self.migrate()
        content = read_memory_file(self.out)
        self.assertEqual(content["memory/chunks"], ["42"])
        self.assertEqual(list(content["memory/timestamps"]), [1_718_000_000.5])

    def test_zero_rows(self):
        self.source().close()
        self.migrate_fails(mentions=["memory_chunks is empty", "--embedding-dim"])
        self.assertFalse(self.out.exists())
        self.migrate("--embedding-dim", 8)
        info = json.loads(self.edgehdf5("info", self.out, "--json").stdout)
        self.assertEqual((info["total"], info["embedding_dim"]), (0, 8))
        self.assertEqual((info["sessions"], info["entities"], info["relations"]), (0, 0, 0))
        self.assert_sound()

    def test_optional_tables_may_be_absent(self):
        source = self.source(tables=("memory_chunks",))
        source.add_chunks(random_embeddings(5, 3))
        source.close()
        result = self.migrate("--verbose")
        for table in ("sessions", "entities", "relations"):
            self.assertRegex(result.stdout, rf"{table}\s+absent")
        self.assertIn("memory_chunks  5 read, 5 written", result.stdout)
        self.assert_sound()

    def test_missing_required_table_or_column_is_named(self):
        self.source(tables=("sessions",)).close()
        self.migrate_fails(mentions=["no table memory_chunks"])
        self.db_path.unlink()
        schema = {"memory_chunks": "id INTEGER PRIMARY KEY, chunk TEXT, vector BLOB, "
                                   "source_channel TEXT, timestamp REAL, session_id TEXT, "
                                   "tags TEXT, deleted INTEGER"}
        self.source(tables=("memory_chunks",), schema=schema).close()
        self.migrate_fails(mentions=["memory_chunks has no column embedding", "vector"])
        self.db_path.unlink()
        schema = dict(ORIGINAL_TOOL_SCHEMA,
                      relations="src INTEGER, tgt INTEGER, relation TEXT, weight REAL")
        self.source(schema=schema).close()
        self.migrate_fails("--embedding-dim", 4,
                           mentions=["relations has no column ts or timestamp"])
        self.assertFalse(self.out.exists())

    def test_original_tool_column_names(self):
        source = self.source(schema=ORIGINAL_TOOL_SCHEMA)
        source.add_chunks(random_embeddings(3, 4))
        source.add_entity(1, "Alice", "person", 2)
        source.add_entity(2, "Bob", "person", None)
        source.add_relation(1, 2, "knows", 0.5, 1_234.5)
        source.close()
        self.migrate()
        content = read_memory_file(self.out)
        self.assertEqual(content["knowledge_graph/entity_types"], ["person", "person"])
        self.assertEqual(list(content["knowledge_graph/entity_emb_idxs"]), [2, -1])
        self.assertEqual(list(content["knowledge_graph/relation_ts"]), [1_234.5])

    def test_reference_name_wins_when_both_names_are_present(self):
        schema = dict(ORIGINAL_TOOL_SCHEMA,
                      entities="id INTEGER, name TEXT, type TEXT, entity_type TEXT, "
                               "embedding_idx INTEGER")
        source = self.source(schema=schema)
        source.add_chunks(random_embeddings(1, 2))
        source.db.execute("INSERT INTO entities VALUES (1, 'A', 'old', 'reference', NULL)")
        source.close()
        self.migrate()
        self.assertEqual(read_memory_file(self.out)["knowledge_graph/entity_types"], ["reference"])


class DeletedRowsTest(MigrateTestCase):
    """Chunks 0..9 with 2, 3 and 7 deleted; references into and around the deleted ones."""

    DELETED = {2, 3, 7}
    SESSIONS = [("whole", 0, 10), ("head", 0, 4), ("deleted-only", 2, 4), ("middle", 3, 8),
                ("empty", 5, 5), ("tail", 8, 10)]
    ENTITY_POSITIONS = [1, 3, 7, 9, None]

    def setUp(self):
        super().setUp()
        self.embeddings = random_embeddings(10, 8, seed=3)
        source = self.source()
        source.add_chunks(self.embeddings, deleted=self.DELETED, first_id=100)
        for name, start, end in self.SESSIONS:
            source.add_session(name, start, end)
        for i, position in enumerate(self.ENTITY_POSITIONS):
            source.add_entity(i, f"entity {i}", "thing", position)
        source.close()

    def session_texts(self, content) -> dict[str, list[str]]:
        starts, ends = content["sessions/start_idxs"], content["sessions/end_idxs"]
        return {name: memory_texts(content, range(start, end))
                for name, start, end in zip(content["sessions/ids"], starts, ends)}

    def entity_texts(self, content) -> list:
        return [None if i < 0 else content["memory/chunks"][i]
                for i in content["knowledge_graph/entity_emb_idxs"]]

    def test_kept_as_tombstones_with_references_unchanged(self):
        self.migrate()
        content = read_memory_file(self.out)
        self.assertEqual(content["memory/chunks"], [f"chunk {i}" for i in range(10)])
        self.assertEqual([i for i, t in enumerate(content["memory/tombstones"]) if t],
                         sorted(self.DELETED))
        self.assertEqual(self.session_texts(content),
                         {name: [f"chunk {i}" for i in range(start, end)]
                          for name, start, end in self.SESSIONS})
        self.assertEqual(self.entity_texts(content),
                         [None if p is None else f"chunk {p}" for p in self.ENTITY_POSITIONS])
        # Deleted memories are not found, even by their own embedding.
        hits = json.loads(self.edgehdf5("search", self.out, "--json", "--k", 10, "--vector",
                                        json.dumps(self.embeddings[3].tolist())).stdout)["hits"]
        self.assertEqual(sorted(hit["id"] for hit in hits), sorted(set(range(10)) - self.DELETED))
        info = json.loads(self.edgehdf5("info", self.out, "--json").stdout)
        self.assertEqual((info["total"], info["active"], info["deleted"]), (10, 7, 3))
        self.assert_sound()

    def test_skip_deleted_remaps_references_to_the_same_chunks(self):
        result = self.migrate("--skip-deleted", "--verbose")
        self.assertIn("3 deleted left out", result.stdout)
        content = read_memory_file(self.out)
        kept = [i for i in range(10) if i not in self.DELETED]
        self.assertEqual(content["memory/chunks"], [f"chunk {i}" for i in kept])
        self.assertEqual(list(content["memory/tombstones"]), [0] * len(kept))
        np.testing.assert_array_equal(content["memory/embeddings"], self.embeddings[kept])
        self.assertEqual(self.session_texts(content),
                         {name: [f"chunk {i}" for i in range(start, end) if i not in self.DELETED]
                          for name, start, end in self.SESSIONS})
        self.assertEqual(self.entity_texts(content),
                         [None if p is None or p in self.DELETED else f"chunk {p}"
                          for p in self.ENTITY_POSITIONS])
        self.assertIn("2 without embedding", result.stdout)
        self.assert_sound()

    def test_compact_threshold_is_recorded_and_tombstones_survive_reopen(self):
        self.migrate("--compact-threshold", 0.1)
        self.assertEqual(read_memory_file(self.out)["meta"]["compact_threshold"], 0.1)
        # Opening does not compact: 30% tombstones stay until the next delete.
        info = json.loads(self.edgehdf5("info", self.out, "--json").stdout)
        self.assertEqual(info["deleted"], 3)

    def test_first_delete_past_the_threshold_compacts(self):
        self.migrate()  # 3 of 10 tombstoned: not past the default 0.3
        self.edgehdf5("delete", self.out, 0)  # 4 of 10 now: the store compacts
        info = json.loads(self.edgehdf5("info", self.out, "--json").stdout)
        self.assertEqual((info["total"], info["deleted"]), (6, 0))
        self.assert_sound()


class InvalidRowsTest(MigrateTestCase):
    """Every kind of bad row, each named by its id; the run fails or leaves them out."""

    BAD_CHUNKS = {  # id: (embedding blob, timestamp, chunk, what the message says)
        11: (f32_blob([1, 2, 3])[:-1], 1.0, "c", "embedding has 11 bytes"),
        12: (f32_blob([1, 2]), 1.0, "c", "embedding has 8 bytes, not 16 (4 float32 values)"),
        13: (f32_blob([1, float("nan"), 3, 4]), 1.0, "c", "embedding value 1 is NaN"),
        14: (f32_blob([1, 2, float("inf"), 4]), 1.0, "c", "embedding value 2 is infinite"),
        15: (None, 1.0, "c", "embedding is NULL"),
        16: ("not a blob", 1.0, "c", "embedding is text"),
        17: (f32_blob([1, 2, 3, 4]), None, "c", "timestamp is NULL"),
        18: (f32_blob([1, 2, 3, 4]), "yesterday", "c", "timestamp is text that is not a number"),
        19: (f32_blob([1, 2, 3, 4]), 1.0, b"\xff\xfe bad utf-8", "chunk is not valid UTF-8"),
        20: (b"", 1.0, "c", "embedding is an empty BLOB"),
    }

    def make_source(self):
        source = self.source()
        source.add_chunk(1, [1, 0, 0, 0], "good 0")
        for id, (blob, timestamp, chunk, _) in self.BAD_CHUNKS.items():
            source.add_chunk(id, blob, chunk, timestamp=timestamp)
        source.add_chunk(30, [0, 1, 0, 0], "good 1")
        n = 2 + len(self.BAD_CHUNKS)
        source.add_session("all", 0, n)
        source.add_session("bad-only", 1, 3)
        source.add_entity(1, "on good 1", "x", n - 1)
        source.add_entity(2, "on a bad row", "x", 3)
        source.add_relation(1, 2)
        source.close()

    def test_each_bad_row_is_reported_and_nothing_is_written(self):
        self.make_source()
        stderr = self.migrate_fails(mentions=["10 rows cannot be migrated", "nothing was written",
                                              "--skip-invalid"])
        for id, (*_, message) in self.BAD_CHUNKS.items():
            self.assertIn(f"memory_chunks id {id}: {message}", stderr)
        self.assertEqual(self.files_in_dir(), {"memory.db"})

    def test_skip_invalid_leaves_them_out_and_lists_them(self):
        self.make_source()
        result = self.migrate("--skip-invalid")
        for id, (*_, message) in self.BAD_CHUNKS.items():
            self.assertIn(f"memory_chunks id {id}: {message}", result.stderr)
        content = read_memory_file(self.out)
        self.assertEqual(content["memory/chunks"], ["good 0", "good 1"])
        self.assertEqual(content["sessions/ids"], ["all", "bad-only"])
        ranges = zip(content["sessions/start_idxs"], content["sessions/end_idxs"])
        self.assertEqual([(s, e) for s, e in ranges], [(0, 2), (1, 1)])
        self.assertEqual(list(content["knowledge_graph/entity_emb_idxs"]), [1, -1])
        self.assertEqual(len(content["knowledge_graph/relation_srcs"]), 1)
        self.assert_sound()

    def test_bad_references_are_reported(self):
        source = self.source()
        source.add_chunks(random_embeddings(4, 2))
        source.add_session("past-the-end", 0, 5)
        source.add_session("backwards", 3, 1)
        source.add_session("", 0, 1)
        source.add_session("null-end", 0, None)
        source.add_entity(1, "out of range", "x", 4)
        source.add_entity(2, "negative", "x", -3)
        source.add_entity(2, "duplicate id", "x", None)
        source.add_entity(3, "", "x", None)
        source.add_entity(4, "ok", "x", -1)
        source.add_relation(4, 99)
        source.add_relation(4, 4, "self", float("inf"))
        source.add_relation(1, 4)  # entity 1 was refused, so the relation is too
        source.add_relation(4, 4, "good", 1.0, "noon")
        source.close()
        stderr = self.migrate_fails()
        for expected in [
            "sessions rowid 1: end_idx 5 is not a position in memory_chunks "
            "(memory_chunks has 4 rows)",
            "sessions rowid 2: end_idx 1 is before start_idx 3",
            "sessions rowid 3: id is empty",
            "sessions rowid 4: end_idx is NULL, not an integer",
            "entities id 1: embedding_idx 4 is not a position in memory_chunks",
            "entities id 2: embedding_idx -3 is not a position",
            "entities id 2: id is used by an earlier row too",
            "entities id 3: name is empty",
            "relations rowid 1: tgt 99 is not the id of a migrated entity",
            "relations rowid 2: weight is not finite (inf)",
            "relations rowid 3: src 1 is not the id of a migrated entity",
            "relations rowid 4: ts is text that is not a number ('noon')",
        ]:
            self.assertIn(expected, stderr)
        self.assertFalse(self.out.exists())

    def test_float16_range_is_checked_per_row(self):
        source = self.source()
        source.add_chunk(1, [1.0, 65504.0])
        source.add_chunk(2, [1.0, 70000.0])
        source.close()
        self.migrate_fails("--float16", mentions=[
            "memory_chunks id 2: embedding value 1 (70000) is outside the float16 range"])
        self.migrate()  # float32 holds it

    def test_many_bad_rows_are_summarised_unless_verbose(self):
        source = self.source()
        source.add_chunk(1, [1, 2, 3])
        for id in range(2, 52):
            source.add_chunk(id, [1, 2])
        source.close()
        stderr = self.migrate_fails(mentions=["50 rows cannot be migrated", "... and 30 more"])
        self.assertEqual(stderr.count("memory_chunks id"), 20)
        self.assertEqual(self.migrate_fails("--verbose").count("memory_chunks id"), 50)


class DimensionTest(MigrateTestCase):
    def test_dimensions_from_1_to_1536_round_trip(self):
        for dim in (1, 2, 3, 7, 16, 31, 384, 1536):
            with self.subTest(dim=dim):
                embeddings = random_embeddings(20, dim, seed=dim)
                if self.db_path.exists():
                    self.db_path.unlink()
                source = self.source()
                source.add_chunks(embeddings)
                source.close()
                result = self.migrate("--force", "--verbose")
                self.assertIn(f"embedding_dim    {dim} (detected from memory_chunks id 1)",
                              result.stdout)
                content = read_memory_file(self.out)
                self.assertEqual(content["meta"]["embedding_dim"], dim)
                np.testing.assert_array_equal(content["memory/embeddings"], embeddings)
                self.assert_sound()

    def test_detection_skips_rows_without_a_usable_embedding(self):
        source = self.source()
        source.add_chunk(1, None)
        source.add_chunk(2, b"abc")
        source.add_chunk(3, [1, 2, 3, 4, 5])
        source.add_chunk(4, [5, 4, 3, 2, 1])
        source.close()
        result = self.migrate("--skip-invalid", "--verbose")
        self.assertIn("5 (detected from memory_chunks id 3)", result.stdout)
        self.assertEqual(len(read_memory_file(self.out)["memory/chunks"]), 2)

    def test_given_dimension_must_match_every_row(self):
        source = self.source()
        source.add_chunks(random_embeddings(3, 4))
        source.close()
        self.migrate_fails("--embedding-dim", 8,
                           mentions=["memory_chunks id 1: embedding has 16 bytes, not 32"])
        self.migrate("--embedding-dim", 4)

    def test_dimension_limits_are_usage_errors(self):
        self.source().close()
        self.migrate("--embedding-dim", 0, status=EXIT_USAGE_ERROR)
        self.migrate("--embedding-dim", 65537, status=EXIT_USAGE_ERROR)


class StorageOptionsTest(MigrateTestCase):
    def setUp(self):
        super().setUp()
        self.embeddings = random_embeddings(50, 24, seed=9)
        source = self.source()
        source.add_chunks(self.embeddings, deleted={4})
        source.close()

    def test_float16_stores_rounded_halves(self):
        self.migrate("--float16")
        content = read_memory_file(self.out)
        self.assertEqual(content["embedding_dtype"], np.float16)
        np.testing.assert_array_equal(content["memory/embeddings"],
                                      self.embeddings.astype(np.float16))
        self.assertEqual(content["meta"]["float16"], 1)
        self.assert_sound()

    def test_compression_with_level(self):
        self.migrate("--compression", "--compression-level", 6)
        content = read_memory_file(self.out)
        self.assertEqual(content["compression"], ("gzip", 6))
        meta = content["meta"]
        self.assertEqual((meta["compression"], meta["compression_level"]), (1, 6))
        np.testing.assert_array_equal(content["memory/embeddings"], self.embeddings)
        self.assert_sound()

    def test_compression_defaults_to_level_4(self):
        self.migrate("--compression", "--float16")
        content = read_memory_file(self.out)
        self.assertEqual(content["compression"], ("gzip", 4))
        self.assertEqual(content["embedding_dtype"], np.float16)
        self.assert_sound()

    def test_bad_compression_options_are_usage_errors(self):
        self.migrate("--compression", "--compression-level", 10, status=EXIT_USAGE_ERROR)
        self.migrate("--compression-level", 5, status=EXIT_USAGE_ERROR)  # needs --compression
        self.migrate("--compact-threshold", -1, status=EXIT_USAGE_ERROR)
        self.assertFalse(self.out.exists())


class OutputSafetyTest(MigrateTestCase):
    def setUp(self):
        super().setUp()
        source = self.source()
        source.add_chunks(random_embeddings(10, 4))
        source.close()

    def add_bad_row(self):
        source = self.source(tables=())
        source.add_chunk(1000, [1.0, float("nan"), 0.0, 0.0])
        source.close()

    def write_jsonl(self):
        path = self.dir / "in.jsonl"
        path.write_text(json.dumps({"chunk": "old", "embedding": [1, 2, 3, 4]}) + "\n")
        return path

    def test_dry_run_checks_everything_and_writes_nothing(self):
        result = self.migrate("--dry-run", "--verbose")
        self.assertIn("dry run: 10 memories", result.stdout)
        self.assertIn("nothing was written", result.stdout)
        self.assertEqual(self.files_in_dir(), {"memory.db"})
        self.add_bad_row()
        self.migrate_fails("--dry-run",
                           mentions=["memory_chunks id 1000: embedding value 1 is NaN"])
        self.assertEqual(self.files_in_dir(), {"memory.db"})

    def test_existing_output_needs_force(self):
        self.out.write_bytes(b"precious")
        self.migrate_fails(mentions=["already exists", "--force"])
        self.assertEqual(self.out.read_bytes(), b"precious")
        self.migrate("--force")
        self.assert_sound()

    def test_force_replaces_a_store_and_drops_its_log(self):
        self.edgehdf5("create", self.out, "--dim", 4)
        self.edgehdf5("import", self.out, self.write_jsonl())
        wal = self.dir / "memory.h5.wal"
        self.assertFalse(wal.exists())  # a cleanly closed store is its file alone...
        wal.write_bytes(b"the log a crash left behind")  # ...but a crashed one keeps its log
        self.migrate_fails(mentions=["already exists"])
        self.migrate("--force")
        self.assertFalse(wal.exists())
        info = json.loads(self.edgehdf5("info", self.out, "--json").stdout)
        self.assertEqual((info["total"], info["log_records_replayed"]), (10, 0))
        self.assert_sound()

    def test_a_store_open_for_writing_is_never_replaced(self):
        self.migrate()
        before = self.out.read_bytes()
        with open(self.dir / "memory.h5.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a writer holds it
            self.migrate_fails("--force", mentions=["already open for writing"])
        self.assertEqual(self.out.read_bytes(), before)
        self.assertFalse(any(".migrating-" in name for name in self.files_in_dir()))

    def test_a_lone_log_also_needs_force(self):
        (self.dir / "memory.h5.wal").write_bytes(b"stale")
        self.migrate_fails(mentions=["memory.h5.wal already exists"])

    def test_failed_migration_leaves_the_existing_output_untouched(self):
        self.migrate()
        before = self.out.read_bytes()
        self.add_bad_row()
        self.migrate_fails("--force", mentions=["memory_chunks id 1000"])
        self.assertEqual(self.out.read_bytes(), before)
        self.assertFalse(any(".migrating-" in name for name in self.files_in_dir()))

    def test_output_must_not_be_the_source(self):
        self.run_tool(MIGRATE, "--sqlite", self.db_path, "--hdf5", self.db_path, "--force",
                      status=EXIT_FAILURE)
        self.assertEqual(self.files_in_dir(), {"memory.db"})

    def test_unreadable_sources(self):
        self.run_tool(MIGRATE, "--sqlite", self.dir / "missing.db", "--hdf5", self.out,
                      status=EXIT_FAILURE)
        not_a_db = self.dir / "text.db"
        not_a_db.write_text("hello, I am not a database\n" * 100)
        result = self.run_tool(MIGRATE, "--sqlite", not_a_db, "--hdf5", self.out,
                               status=EXIT_FAILURE)
        self.assertIn("not a database", result.stderr)
        self.run_tool(MIGRATE, "--sqlite", self.db_path, "--hdf5",
                      self.dir / "no" / "such" / "dir.h5", status=EXIT_FAILURE)

    def test_usage_errors(self):
        self.run_tool(MIGRATE, "--sqlite", self.db_path, status=EXIT_USAGE_ERROR)
        self.run_tool(MIGRATE, "--hdf5", self.out, status=EXIT_USAGE_ERROR)
        self.migrate("--no-such-flag", status=EXIT_USAGE_ERROR)
        self.assertIn("--skip-deleted", self.run_tool(MIGRATE, "--help").stdout)


class OutputTest(MigrateTestCase):
    def setUp(self):
        super().setUp()
        source = self.source()
        source.add_chunks(random_embeddings(10, 4), deleted={1})
        source.close()

    def test_summary_and_statistics(self):
        self.assertEqual(self.migrate().stdout,
                         f"migrated 10 memories (1 as tombstones), 0 sessions, 0 entities, "
                         f"0 relations from {self.db_path} to {self.out}\n")
        stats = self.migrate("--verbose", "--force").stdout
        for fragment in ("memory_chunks  10 read, 10 written, 1 as tombstones", "output ", " MB",
                         "rows/s", "time "):
            self.assertIn(fragment, stats)

    def test_progress_bar_only_on_a_terminal(self):
        self.assertNotIn("\r", self.migrate("--verbose").stderr)
        primary, secondary = pty.openpty()
        process = subprocess.run([MIGRATE, "--sqlite", self.db_path, "--hdf5", self.out, "--force",
                                  "--verbose"], stdout=subprocess.PIPE, stderr=secondary,
                                 cwd=self.dir, timeout=60)
        os.close(secondary)
        terminal = os.read(primary, 65536).decode()
        os.close(primary)
        self.assertEqual(process.returncode, 0)
        self.assertIn("reading memory_chunks [", terminal)
        self.assertIn("100% 10/10", terminal)


if __name__ == "__main__":
    unittest.main()
