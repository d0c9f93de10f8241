#!/usr/bin/env python3
"""End-to-end tests of the `edgehdf5` command-line tool.

Drives the binary as a user would (subprocess, in a temporary directory) and checks its
stdout, stderr and exit status. The binary comes from $EDGEHDF5_BIN (CTest sets it), else
build/bin/edgehdf5 under the repository root. Standard library only: run it with
`/usr/bin/python3 tests/cli/test_cli.py`.
"""

import json
import os
import pathlib
import random
import struct
import subprocess
import tempfile
import time
import unittest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("EDGEHDF5_BIN", str(REPO_ROOT / "build" / "bin" / "edgehdf5"))

EMBEDDING_DIM = 8
EXIT_SUCCESS, EXIT_RUNTIME_ERROR, EXIT_USAGE_ERROR, EXIT_PROBLEMS_FOUND = 0, 1, 2, 3
ERROR_PREFIX = "edgehdf5: error: "

EXPORT_KEYS = ["id", "chunk", "embedding", "source_channel", "timestamp", "session_id", "tags"]
HIT_KEYS = ["id", "score", "chunk", "session_id", "source_channel", "timestamp", "tags"]
INFO_KEYS = {
    "path", "schema_version", "edgehdf5_version", "agent_id", "embedder", "created_at",
    "embedding_dim", "dtype", "keyword_tokenizer", "total", "active", "deleted", "sessions", "entities",
    "relations", "compression", "compression_level", "compact_threshold", "chunk_size",
    "overlap", "log_bytes", "log_records_replayed",
}


def to_float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def make_entries(count: int, seed: int = 7) -> list[dict]:
    """Entries with distinct float32-exact embeddings, so each is its own nearest hit."""
    rng = random.Random(seed)
    return [
        {
            "chunk": f"memory {i}: the user mentioned topic {i % 3} (café ☕ 日本語)",
            "embedding": [to_float32(rng.uniform(-1.0, 1.0)) for _ in range(EMBEDDING_DIM)],
            "source_channel": ["chat", "email", "slack"][i % 3],
            "timestamp": 1_700_000_000.25 + 60.0 * i,
            "session_id": f"session-{i // 4}",
            # Both accepted forms of tags; export always writes the comma-separated one.
            "tags": "alpha,beta" if i % 2 else ["gamma", "delta"],
        }
        for i in range(count)
    ]


def stored_tags(entry: dict) -> str:
    tags = entry["tags"]
    return tags if isinstance(tags, str) else ",".join(tags)


class CliTestCase(unittest.TestCase):
    """A fresh directory per test, and helpers that run the tool and check its status."""

    def setUp(self):
        directory = tempfile.TemporaryDirectory(prefix="edgehdf5-cli-")
        self.addCleanup(directory.cleanup)
        self.dir = pathlib.Path(directory.name)
        self.file = self.dir / "memory.h5"

    def run_cli(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True,
                              cwd=self.dir, timeout=120)

    def cli(self, *args, status: int = EXIT_SUCCESS) -> subprocess.CompletedProcess:
        result = self.run_cli(*args)
        self.assertEqual(result.returncode, status,
                         f"edgehdf5 {' '.join(map(str, args))}\n"
                         f"stdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def assert_fails(self, *args, status: int = EXIT_RUNTIME_ERROR, mentions=()):
        """Runs a command that must fail with `status` and a one-line error naming `mentions`."""
        result = self.cli(*args, status=status)
        self.assertTrue(result.stderr.startswith(ERROR_PREFIX), result.stderr)
        for fragment in mentions:
            self.assertIn(fragment, result.stderr)
        return result

    def create(self, *options, path=None):
        self.cli("create", path or self.file, "--dim", EMBEDDING_DIM, *options)

    def write_lines(self, lines: list[str], name: str = "input.jsonl") -> pathlib.Path:
        path = self.dir / name
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return path

    def import_entries(self, entries: list[dict], path=None) -> subprocess.CompletedProcess:
        source = self.write_lines([json.dumps(entry, ensure_ascii=False) for entry in entries])
        return self.cli("import", path or self.file, source)

    def export(self, path=None) -> list[dict]:
        output = self.cli("export", path or self.file).stdout
        return [json.loads(line) for line in output.splitlines()]

    def info(self, path=None) -> dict:
        return json.loads(self.cli("info", path or self.file, "--json").stdout)

    def search(self, vector, *options) -> dict:
        args = ["search", self.file, "--vector", json.dumps(vector), "--json", *options]
        return json.loads(self.cli(*args).stdout)

    def create_with(self, entries: list[dict], *options) -> list[int]:
        """Creates the test file holding `entries`; returns their ids in order."""
        self.create(*options)
        self.import_entries(entries)
        return [row["id"] for row in self.export()]


class CreateTest(CliTestCase):
    def test_float32_file_with_defaults(self):
        result = self.cli("create", self.file, "--dim", EMBEDDING_DIM)
        self.assertIn("created", result.stdout)
        info = self.info()
        self.assertEqual(info["embedding_dim"], EMBEDDING_DIM)
        self.assertEqual(info["dtype"], "float32")
        self.assertFalse(info["compression"])
        self.assertEqual((info["total"], info["active"], info["deleted"]), (0, 0, 0))

    def test_float16_compressed_file_keeps_its_settings(self):
        self.create("--float16", "--compression", 6, "--agent-id", "agent-7", "--embedder", "e5")
        info = self.info()
        self.assertEqual(info["dtype"], "float16")
        self.assertTrue(info["compression"])
        self.assertEqual(info["compression_level"], 6)
        self.assertEqual(info["agent_id"], "agent-7")
        self.assertEqual(info["embedder"], "e5")

    def test_refuses_to_overwrite_an_existing_file(self):
        self.create_with(make_entries(2))
        self.assert_fails("create", self.file, "--dim", EMBEDDING_DIM, mentions=[self.file.name])
        self.assertEqual(self.info()["total"], 2)

    def test_usage_errors(self):
        # Without --dim a file is made for the built-in embedder (test_text_cli.py); a model
        # the tool does not know needs its dimension.
        self.assert_fails("create", self.file, "--embedder", "e5", status=EXIT_USAGE_ERROR,
                          mentions=["--dim"])
        self.assert_fails("create", self.file, "--dim", 8, "--compression", 10,
                          status=EXIT_USAGE_ERROR)
        self.assert_fails("create", self.file, "--dim", 0, status=EXIT_USAGE_ERROR)
        self.assertFalse(self.file.exists())


class ImportExportTest(CliTestCase):
    STORAGE_OPTIONS = {
        "float32": [],
        "float16": ["--float16"],
        "compressed": ["--compression", "6"],
    }

    def test_round_trip(self):
        entries = make_entries(10)
        for name, options in self.STORAGE_OPTIONS.items():
            with self.subTest(storage=name):
                self.file = self.dir / f"{name}.h5"
                self.create(*options)
                self.assertIn("imported 10 memories", self.import_entries(entries).stdout)
                exported = self.export()
                self.assertEqual(len(exported), len(entries))
                ids = [row["id"] for row in exported]
                self.assertEqual(ids, sorted(set(ids)), "ids are unique and in increasing order")
                for original, row in zip(entries, exported):
                    self.assertEqual(list(row), EXPORT_KEYS)
                    for key in ("chunk", "source_channel", "timestamp", "session_id"):
                        self.assertEqual(row[key], original[key])
                    self.assertEqual(row["tags"], stored_tags(original))
                    self.assert_embedding_stored(row["embedding"], original["embedding"],
                                                 half=name == "float16")

    def assert_embedding_stored(self, stored, original, half):
        self.assertEqual(len(stored), len(original))
        for got, expected in zip(stored, original):
            if half:  # 11 significant bits; values here are far from the subnormal range
                self.assertLessEqual(abs(got - expected), abs(expected) * 2.0**-11 + 1e-7)
            else:
                self.assertEqual(to_float32(got), expected)

    def test_export_can_be_imported_again(self):
        self.create_with(make_entries(6))
        copy = self.dir / "copy.h5"
        self.create(path=copy)
        exported = self.cli("export", self.file).stdout
        self.cli("import", copy, self.write_lines(exported.splitlines(), "exported.jsonl"))
        without_ids = lambda rows: [{k: v for k, v in row.items() if k != "id"} for row in rows]
        self.assertEqual(without_ids(self.export(copy)), without_ids(self.export()))

    def test_blank_lines_are_skipped_and_imports_append(self):
        self.create()
        lines = [json.dumps(entry) for entry in make_entries(3)]
        result = self.cli("import", self.file, self.write_lines(["", lines[0], "  ", lines[1]]))
        self.assertIn("imported 2 memories", result.stdout)
        self.assertIn("imported 1 memory", self.cli("import", self.file,
                                                     self.write_lines([lines[2]])).stdout)
        self.assertEqual(len(self.export()), 3)

    def test_missing_timestamp_defaults_to_now_and_other_fields_to_empty(self):
        self.create()
        minimal = {"chunk": "just text", "embedding": make_entries(1)[0]["embedding"]}
        self.import_entries([minimal])
        (row,) = self.export()
        self.assertEqual((row["source_channel"], row["session_id"], row["tags"]), ("", "", ""))
        self.assertGreater(row["timestamp"], 1_600_000_000)

    # Each bad line sits at line 5 (after three good lines and a blank one): the error must
    # name that line and the problem, and nothing at all may be saved.
    BAD_LINES = {
        "wrong dimension": ('{"chunk": "x", "embedding": [1, 2, 3]}',
                            ["has 3 values", "expected 8"]),
        "overflowing number": ('{"chunk": "x", "embedding": [1e999, 0, 0, 0, 0, 0, 0, 0]}',
                               ["invalid JSON"]),
        "beyond float32": ('{"chunk": "x", "embedding": [1e300, 0, 0, 0, 0, 0, 0, 0]}',
                           ["[0]", "float32 range"]),
        "non-numeric value": ('{"chunk": "x", "embedding": [0, "one", 0, 0, 0, 0, 0, 0]}',
                              ["[1]", "not a number"]),
        "NaN token": ('{"chunk": "x", "embedding": [NaN, 0, 0, 0, 0, 0, 0, 0]}', ["invalid JSON"]),
        "missing chunk": ('{"embedding": [0, 0, 0, 0, 0, 0, 0, 1]}', ['"chunk"']),
        "missing embedding": ('{"chunk": "no vector"}', ['"embedding"']),
        "invalid JSON": ('{"chunk": "x", "embedding": [', ["invalid JSON"]),
        "not an object": ("[1, 2, 3]", ["JSON object"]),
        "chunk not a string": ('{"chunk": 5, "embedding": [0, 0, 0, 0, 0, 0, 0, 1]}', ['"chunk"']),
        "bad tag": ('{"chunk": "x", "embedding": [0, 0, 0, 0, 0, 0, 0, 1], "tags": ["a", 2]}',
                    ["tags[1]"]),
    }

    def test_a_bad_line_saves_nothing_and_is_named(self):
        self.create()
        good = [json.dumps(entry) for entry in make_entries(3)]
        for problem, (bad_line, mentions) in self.BAD_LINES.items():
            with self.subTest(problem=problem):
                source = self.write_lines([*good, "", bad_line, good[0]])
                self.assert_fails("import", self.file, source,
                                  mentions=[f"{source.name}:5:", *mentions])
                self.assertEqual(self.export(), [])
        self.assertEqual(self.info()["total"], 0)

    def test_float16_file_refuses_values_beyond_half_range(self):
        self.create("--float16")
        line = '{"chunk": "x", "embedding": [70000, 0, 0, 0, 0, 0, 0, 0]}'
        self.assert_fails("import", self.file, self.write_lines([line]),
                          mentions=[":1:", "float16 range"])

    def test_missing_input_file(self):
        self.create()
        self.assert_fails("import", self.file, self.dir / "absent.jsonl",
                          mentions=["absent.jsonl", "No such file"])


class InfoTest(CliTestCase):
    def test_json_counts_and_settings(self):
        ids = self.create_with(make_entries(10), "--agent-id", "demo", "--embedder", "hash64")
        self.cli("delete", self.file, ids[3])
        info = self.info()
        self.assertLessEqual(INFO_KEYS, set(info))
        self.assertEqual((info["total"], info["active"], info["deleted"]), (10, 9, 1))
        self.assertEqual((info["agent_id"], info["embedder"]), ("demo", "hash64"))
        self.assertEqual(info["keyword_tokenizer"], "porter")  # the default for new files
        self.assertEqual(info["schema_version"], "1.0")
        self.assertEqual((info["sessions"], info["entities"], info["relations"]), (0, 0, 0))
        self.assertIsInstance(info["log_bytes"], int)
        self.assertTrue(info["created_at"])

    def test_human_output_lists_the_same_fields(self):
        self.create_with(make_entries(2))
        lines = self.cli("info", self.file).stdout.splitlines()
        fields = dict(line.split(":", 1) for line in lines)
        self.assertEqual(set(fields), INFO_KEYS)
        self.assertEqual(fields["active"].strip(), "2")
        self.assertEqual(fields["dtype"].strip(), "float32")

    def test_read_only_commands_leave_the_file_unchanged(self):
        entries = make_entries(4)
        self.create_with(entries)
        before = self.file.read_bytes()
        self.info()
        self.export()
        self.search(entries[0]["embedding"])
        self.cli("snapshot", self.file, self.dir / "copy.h5")
        self.cli("verify", self.file)
        self.assertEqual(self.file.read_bytes(), before)


class SearchTest(CliTestCase):
    def test_json_shape_and_order(self):
        self.create_with(make_entries(12))
        result = self.search(make_entries(1, seed=99)[0]["embedding"], "--k", 5)
        self.assertEqual(list(result), ["hits", "strategy", "isa", "threads", "vectors_scanned",
                                        "search_time_us"])
        self.assertIn(result["strategy"], ["blas", "simd"])  # auto on 12 rows: blas when built in
        self.assertEqual(result["vectors_scanned"], 12)
        self.assertGreaterEqual(result["search_time_us"], 0)
        self.assertEqual(len(result["hits"]), 5)
        for hit in result["hits"]:
            self.assertEqual(list(hit), HIT_KEYS)
        scores = [hit["score"] for hit in result["hits"]]
        self.assertEqual(scores, sorted(scores, reverse=True))

    def test_each_entry_is_its_own_nearest_hit(self):
        entries = make_entries(12)
        for name, options, tolerance in [("float32", [], 1e-5), ("float16", ["--float16"], 1e-3)]:
            with self.subTest(storage=name):
                self.file = self.dir / f"{name}.h5"
                ids = self.create_with(entries, *options)
                for entry_id, entry in zip(ids, entries):
                    (hit,) = self.search(entry["embedding"], "--k", 1)["hits"]
                    self.assertEqual(hit["id"], entry_id)
                    self.assertAlmostEqual(hit["score"], 1.0, delta=tolerance)
                    self.assertEqual(hit["chunk"], entry["chunk"])
                    self.assertEqual(hit["tags"], stored_tags(entry))

    def test_every_strategy_gives_the_same_hits(self):
        self.create_with(make_entries(40))
        query = make_entries(1, seed=5)[0]["embedding"]
        expected = [hit["id"] for hit in self.search(query, "--strategy", "scalar")["hits"]]
        for strategy in ["simd", "parallel", "blas"]:
            with self.subTest(strategy=strategy):
                result = self.search(query, "--strategy", strategy)
                self.assertEqual(result["strategy"], strategy)
                self.assertEqual([hit["id"] for hit in result["hits"]], expected)

    def test_unavailable_or_unknown_strategy_is_a_clear_error(self):
        self.create_with(make_entries(3))
        result = self.cli("search", self.file, "--vector", json.dumps([1.0] * EMBEDDING_DIM),
                          "--strategy", "gpu", status=EXIT_RUNTIME_ERROR)
        self.assertIn("strategy 'gpu' is not available", result.stderr)
        result = self.cli("search", self.file, "--vector", json.dumps([1.0] * EMBEDDING_DIM),
                          "--strategy", "warp", status=EXIT_RUNTIME_ERROR)
        self.assertIn("unknown strategy 'warp'", result.stderr)

    def test_filters_are_applied_inside_the_scan(self):
        entries = make_entries(24)
        ids = self.create_with(entries)
        query = [1.0] * EMBEDDING_DIM

        def hit_ids(*options):
            result = self.search(query, "--k", 100, *options)
            return sorted(hit["id"] for hit in result["hits"]), result["vectors_scanned"]

        def expected(keep):
            chosen = sorted(i for i, entry in zip(ids, entries) if keep(entry))
            return chosen, len(chosen)

        self.assertEqual(hit_ids("--session", "session-2"),
                         expected(lambda e: e["session_id"] == "session-2"))
        self.assertEqual(hit_ids("--channel", "email"),
                         expected(lambda e: e["source_channel"] == "email"))
        self.assertEqual(hit_ids("--tags", "beta,delta"), expected(lambda e: True))
        self.assertEqual(hit_ids("--tags", "alpha,beta", "--all-tags"),
                         expected(lambda e: stored_tags(e) == "alpha,beta"))
        after, before = entries[5]["timestamp"], entries[9]["timestamp"]
        self.assertEqual(hit_ids("--after", repr(after), "--before", repr(before)),
                         expected(lambda e: after <= e["timestamp"] <= before))
        self.assertEqual(hit_ids("--session", "nobody"), ([], 0))

    def test_half_life_orders_equal_matches_by_recency(self):
        entry = make_entries(1)[0]
        now = time.time()
        self.create_with([dict(entry, timestamp=now - 500), dict(entry, timestamp=now - 50)])
        hits = self.search(entry["embedding"], "--half-life", "100")["hits"]
        self.assertEqual([hit["id"] for hit in hits], [1, 0])  # the newer one first
        self.assertAlmostEqual(hits[0]["score"] / hits[1]["score"], 2 ** 4.5, delta=0.1)

    def test_keyword_search(self):
        entries = make_entries(9)
        entries[4]["chunk"] = "Ticket ENG-4521: the login page times out"
        ids = self.create_with(entries)
        result = json.loads(self.cli("search", self.file, "--text", "eng-4521 LOGIN", "--json").stdout)
        self.assertEqual(result["strategy"], "bm25")
        self.assertEqual([hit["id"] for hit in result["hits"]], [ids[4]])
        self.assertGreater(result["hits"][0]["score"], 0)
        self.assertIn("1 hit", self.cli("search", self.file, "--text", "ticket").stdout)
        nothing = json.loads(self.cli("search", self.file, "--text", "absent", "--json").stdout)
        self.assertEqual(nothing["hits"], [])
        result = self.cli("search", self.file, "--text", " ?! ", status=EXIT_RUNTIME_ERROR)
        self.assertIn("no terms", result.stderr)

    def test_hybrid_search(self):
        entries = make_entries(9)
        entries[7]["chunk"] = "budget for the offsite is 40k"
        ids = self.create_with(entries)
        vector = json.dumps(entries[2]["embedding"])
        for fusion, strategy in [("weighted", "hybrid_weighted"), ("rrf", "hybrid_rrf")]:
            with self.subTest(fusion=fusion):
                result = json.loads(self.cli("search", self.file, "--hybrid", "--vector", vector,
                                             "--text", "budget", "--fusion", fusion, "--k", 2,
                                             "--json").stdout)
                self.assertEqual(result["strategy"], strategy)
                self.assertEqual(sorted(hit["id"] for hit in result["hits"]), sorted([ids[2], ids[7]]))
        only_vector = json.loads(self.cli("search", self.file, "--hybrid", "--vector", vector,
                                          "--text", "budget", "--vector-weight", "1", "--k", 1,
                                          "--json").stdout)
        self.assertEqual(only_vector["hits"][0]["id"], ids[2])

    def test_query_combinations_are_usage_errors(self):
        self.create_with(make_entries(2))
        vector = json.dumps([1.0] * EMBEDDING_DIM)
        for args in [[], ["--vector", vector, "--text", "x"], ["--hybrid", "--text", "x"],
                     ["--text", "x", "--fusion", "rrf"], ["--vector", vector, "--vector-file", "f"],
                     ["--hybrid", "--vector", vector, "--text", "x", "--vector-weight", "2"]]:
            with self.subTest(args=args):
                self.cli("search", self.file, *args, status=EXIT_USAGE_ERROR)

    def test_k_larger_than_the_collection(self):
        self.create_with(make_entries(3))
        self.assertEqual(len(self.search([1.0] * EMBEDDING_DIM, "--k", 50)["hits"]), 3)

    def test_vector_file(self):
        entries = make_entries(5)
        ids = self.create_with(entries)
        vector_file = self.dir / "query.json"
        vector_file.write_text(json.dumps(entries[2]["embedding"]))
        result = json.loads(self.cli("search", self.file, "--vector-file", vector_file, "--k", 1,
                                     "--json").stdout)
        self.assertEqual(result["hits"][0]["id"], ids[2])

    def test_human_table(self):
        entries = make_entries(5)
        ids = self.create_with(entries)
        lines = self.cli("search", self.file, "--vector", json.dumps(entries[1]["embedding"]),
                         "--k", 3).stdout.splitlines()
        self.assertIn("3 hits", lines[0])
        self.assertEqual(lines[1].split()[:3], ["rank", "id", "score"])
        self.assertEqual(lines[2].split()[:3], ["1", str(ids[1]), "1.000"])
        self.assertEqual(len(lines), 5)

    def test_long_chunks_are_shortened_in_the_table(self):
        self.create()
        entry = {"chunk": "ü" * 500, "embedding": [1.0] * EMBEDDING_DIM}
        self.import_entries([entry])
        table = self.cli("search", self.file, "--vector", json.dumps(entry["embedding"])).stdout
        self.assertIn("ü" * 57 + "...", table)
        self.assertNotIn("ü" * 58, table)

    def test_bad_queries(self):
        self.create_with(make_entries(3))
        self.assert_fails("search", self.file, "--vector", "[1, 2, 3]",
                          mentions=["has 3 values", "expected 8"])
        self.assert_fails("search", self.file, "--vector", "[1, 2", mentions=["not valid JSON"])
        self.assert_fails("search", self.file, "--vector-file", self.dir / "absent.json",
                          mentions=["absent.json"])
        vector = json.dumps([1.0] * EMBEDDING_DIM)
        self.assert_fails("search", self.file, "--vector", vector, "--k", 0,
                          status=EXIT_USAGE_ERROR, mentions=["--k"])
        self.assert_fails("search", self.file, status=EXIT_USAGE_ERROR)
        self.assert_fails("search", self.file, "--vector", vector, "--vector-file", "q.json",
                          status=EXIT_USAGE_ERROR)


class DeleteCompactTest(CliTestCase):
    def test_deleted_memories_leave_search_and_export(self):
        entries = make_entries(10)
        ids = self.create_with(entries)
        self.assertIn("deleted 1 memory", self.cli("delete", self.file, ids[4]).stdout)
        self.assertNotIn(ids[4], [row["id"] for row in self.export()])
        hits = self.search(entries[4]["embedding"], "--k", 10)["hits"]
        self.assertEqual(len(hits), 9)
        self.assertNotIn(ids[4], [hit["id"] for hit in hits])

    def test_unknown_or_already_deleted_ids_delete_nothing(self):
        ids = self.create_with(make_entries(10))
        self.assert_fails("delete", self.file, ids[0], 999_999, mentions=["999999"])
        self.assertEqual(self.info()["active"], 10)
        self.cli("delete", self.file, ids[0])
        self.assert_fails("delete", self.file, ids[0], mentions=[str(ids[0])])
        self.assert_fails("delete", self.file, status=EXIT_USAGE_ERROR)

    def test_compact_drops_deleted_rows_and_keeps_ids(self):
        entries = make_entries(10)
        ids = self.create_with(entries)
        # One row in ten stays under the automatic compaction threshold (0.3).
        self.cli("delete", self.file, ids[7])
        self.assertEqual(self.info()["total"], 10)
        self.assertIn("dropped 1 deleted row", self.cli("compact", self.file).stdout)
        info = self.info()
        self.assertEqual((info["total"], info["active"], info["deleted"]), (9, 9, 0))
        self.assertEqual([row["id"] for row in self.export()], ids[:7] + ids[8:])
        self.assertEqual(self.search(entries[8]["embedding"], "--k", 1)["hits"][0]["id"], ids[8])
        self.assertIn("dropped 0 deleted rows", self.cli("compact", self.file).stdout)
        self.cli("verify", self.file)


class SnapshotVerifyTest(CliTestCase):
    def test_snapshot_is_a_complete_copy(self):
        ids = self.create_with(make_entries(8))
        self.cli("delete", self.file, ids[2])
        copy = self.dir / "snapshot.h5"
        self.assertIn(copy.name, self.cli("snapshot", self.file, copy).stdout)
        original, snapshot = self.info(), self.info(copy)
        for key in ("total", "active", "deleted", "embedding_dim", "dtype", "agent_id"):
            self.assertEqual(snapshot[key], original[key], key)
        self.assertEqual(self.export(copy), self.export())
        self.assertEqual(self.cli("verify", copy).stdout, "ok\n")

    def test_verify_sound_file(self):
        ids = self.create_with(make_entries(5), "--float16")
        self.cli("delete", self.file, ids[1])
        self.assertEqual(self.cli("verify", self.file).stdout, "ok\n")

    def test_verify_rejects_a_file_that_is_not_hdf5(self):
        garbage = self.dir / "garbage.h5"
        garbage.write_bytes(random.Random(3).randbytes(4096))
        result = self.run_cli("verify", garbage)
        self.assertIn(result.returncode, (EXIT_RUNTIME_ERROR, EXIT_PROBLEMS_FOUND), result.stderr)
        self.assertNotEqual(result.stdout, "ok\n")


class FailureTest(CliTestCase):
    def test_missing_file(self):
        absent = self.dir / "absent.h5"
        vector = json.dumps([1.0] * EMBEDDING_DIM)
        for args in (["info"], ["export"], ["search", "--vector", vector], ["compact"],
                     ["delete", "1"], ["snapshot", self.dir / "copy.h5"]):
            with self.subTest(command=args[0]):
                self.assert_fails(args[0], absent, *args[1:], mentions=["absent.h5"])
        self.assertNotEqual(self.run_cli("verify", absent).returncode, EXIT_SUCCESS)
        self.assertFalse(absent.exists())

    def test_file_that_is_not_hdf5(self):
        garbage = self.dir / "garbage.h5"
        garbage.write_bytes(random.Random(5).randbytes(4096))
        entries = self.write_lines([json.dumps(make_entries(1)[0])])
        for args in (["info"], ["export"], ["import", entries]):
            with self.subTest(command=args[0]):
                self.assert_fails(args[0], garbage, *args[1:])

    def test_command_line_usage(self):
        self.assert_fails(status=EXIT_USAGE_ERROR)
        self.assert_fails("frobnicate", status=EXIT_USAGE_ERROR)
        self.assert_fails("info", self.file, "--no-such-option", status=EXIT_USAGE_ERROR)
        self.assertTrue(self.cli("--version").stdout.strip())

    def test_every_command_has_help_with_exit_statuses(self):
        for command in ("create", "add", "recall", "import", "export", "info", "stats",
                        "search", "sessions", "kg", "delete", "compact", "snapshot", "verify"):
            with self.subTest(command=command):
                help_text = self.cli(command, "--help").stdout
                self.assertIn("Exit status", help_text)
                self.assertIn("FILE", help_text)



class UnknownCommandTest(CliTestCase):
    """A mistyped command or subcommand is named, with the nearest one when it is close."""

    TOP_LEVEL = ("create, add, recall, import, export, info, stats, search, sessions, kg, "
                 "delete, compact, index, snapshot, verify, mcp")

    def assert_usage_error(self, *args, first_line: str, help_command: str = "edgehdf5"):
        result = self.cli(*args, status=EXIT_USAGE_ERROR)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr, f"{ERROR_PREFIX}{first_line}\n"
                                        f"Run '{help_command} --help' for usage.\n")

    def test_top_level_typo_names_the_nearest_command(self):
        self.assert_usage_error("serch", "x",
                                first_line="unknown command 'serch'; did you mean 'search'?")
        # Two letters swapped count as one mistake.
        self.assert_usage_error("seacrh", self.file, "--text", "x",
                                first_line="unknown command 'seacrh'; did you mean 'search'?")
        self.assert_usage_error("snapshto",
                                first_line="unknown command 'snapshto'; did you mean 'snapshot'?")

    def test_far_off_word_lists_the_commands(self):
        self.assert_usage_error("frobnicate",
                                first_line=f"unknown command 'frobnicate'; the commands are: "
                                           f"{self.TOP_LEVEL}")
        # One letter is not a typo of a two-letter command.
        self.assert_usage_error("x", first_line=f"unknown command 'x'; the commands are: "
                                                f"{self.TOP_LEVEL}")

    def test_typo_in_a_kg_subcommand(self):
        self.assert_usage_error(
            "kg", self.file, "add-entitty", "Maya",
            first_line="unknown kg command 'add-entitty'; did you mean 'add-entity'?",
            help_command="edgehdf5 kg")
        self.assert_usage_error(
            "kg", self.file, "--json", "nieghbors", "Maya",
            first_line="unknown kg command 'nieghbors'; did you mean 'neighbors'?",
            help_command="edgehdf5 kg")
        self.assert_usage_error(
            "kg", self.file, "teleport",
            first_line="unknown kg command 'teleport'; the kg commands are: list, add-entity, "
                       "add-relation, neighbors, path, import-jsonl",
            help_command="edgehdf5 kg")
        self.assertFalse(self.file.exists())

    def test_typo_in_a_sessions_subcommand(self):
        self.assert_usage_error(
            "sessions", self.file, "shwo", "s1",
            first_line="unknown sessions command 'shwo'; did you mean 'show'?",
            help_command="edgehdf5 sessions")
        self.assert_usage_error(
            "sessions", self.file, "frob",
            first_line="unknown sessions command 'frob'; the sessions commands are: list, add, "
                       "show",
            help_command="edgehdf5 sessions")

    def test_typo_in_an_index_subcommand(self):
        self.assert_usage_error(
            "index", "biuld", self.file,
            first_line="unknown index command 'biuld'; did you mean 'build'?",
            help_command="edgehdf5 index")
        self.assert_usage_error(
            "index", "rebuild-everything", self.file,
            first_line="unknown index command 'rebuild-everything'; the index commands are: "
                       "build, info, drop",
            help_command="edgehdf5 index")

    def test_other_usage_errors_keep_their_messages(self):
        self.assert_usage_error(first_line="A subcommand is required")
        self.assert_usage_error("kg", self.file, "--frob", "3",
                                first_line="The following arguments were not expected: 3 --frob",
                                help_command="edgehdf5 kg")
        # `list` has no subcommands: a word after it is an unexpected argument, not a typo.
        self.assert_usage_error("kg", self.file, "list", "extra",
                                first_line="The following argument was not expected: extra",
                                help_command="edgehdf5 kg")
        self.assert_usage_error("index",
                                first_line="A subcommand is required",
                                help_command="edgehdf5 index")

if __name__ == "__main__":
    if not os.access(BINARY, os.X_OK):
        raise SystemExit(f"edgehdf5 binary not found at {BINARY}: build it or set EDGEHDF5_BIN")
    unittest.main(verbosity=2)
