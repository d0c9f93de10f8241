#!/usr/bin/env python3
"""End-to-end tests of the text commands of `edgehdf5`: the built-in embedder (create
without --dim, add, import of chunks without embeddings, recall), --embed-cmd, sessions, kg,
stats, --json on every command, --help on every command, progress bars, and each error path.

Like test_cli.py (whose helpers it uses), it runs the binary as a user would and checks
stdout, stderr and the exit status. Standard library only.
"""

import json
import os
import pathlib
import pty
import select
import shlex
import subprocess
import sys
import time
import unittest

from test_cli import (BINARY, ERROR_PREFIX, EXIT_PROBLEMS_FOUND, EXIT_RUNTIME_ERROR,
                      EXIT_SUCCESS, EXIT_USAGE_ERROR, HIT_KEYS, CliTestCase, make_entries)
from hash_embedder_reference import embed as reference_embed

HERE = pathlib.Path(__file__).resolve().parent
REFERENCE_SCRIPT = HERE / "hash_embedder_reference.py"


def reference_command(dimension: int = 384) -> str:
    """An --embed-cmd that embeds exactly as hash:D does (via the Python reference)."""
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(REFERENCE_SCRIPT))} {dimension}"


MEMORIES = [
    # (chunk, session, channel, tags)
    ("I prefer dark mode in every editor and dashboard.", "s1", "chat", "preference,ui"),
    ("The Atlas project migrates the orders database from MySQL to Postgres.", "s2", "email",
     "atlas,postgres"),
    ("The Postgres cutover for Atlas is scheduled for May 14.", "s2", "email",
     "atlas,deadline"),
    ("My beagle Biscuit needs his rabies vaccination in September.", "s3", "chat", "pet"),
    ("I am allergic to cashews and pistachios.", "s3", "chat", "health,food"),
    ("Book a window seat on the flight to Tokyo.", "s4", "slack", "travel"),
]


class TextCliTestCase(CliTestCase):
    def create_text_file(self, *options, path=None):
        """A file for the built-in embedder holding MEMORIES (ids 0..5, timestamps 1000+i)."""
        path = path or self.file
        self.cli("create", path, *options)
        lines = [json.dumps({"chunk": chunk, "session_id": session, "source_channel": channel,
                             "tags": tags, "timestamp": 1000.0 + i})
                 for i, (chunk, session, channel, tags) in enumerate(MEMORIES)]
        self.cli("import", path, self.write_lines(lines, "memories.jsonl"))
        return path

    def json_of(self, *args, status=EXIT_SUCCESS):
        return json.loads(self.cli(*args, "--json", status=status).stdout)

    def recall(self, question, *options):
        return self.json_of("recall", self.file, question, *options)

    def assert_vector_close(self, got, expected, tolerance=1e-6):
        self.assertEqual(len(got), len(expected))
        self.assertLessEqual(max(abs(a - b) for a, b in zip(got, expected)), tolerance)


class CreateForTextTest(TextCliTestCase):
    def test_without_dim_the_file_is_for_the_built_in_embedder(self):
        result = self.cli("create", self.file)
        self.assertIn("embedder hash:384", result.stdout)
        info = self.info()
        self.assertEqual((info["embedder"], info["embedding_dim"]), ("hash:384", 384))

    def test_embedder_picks_the_dimension(self):
        created = self.json_of("create", self.file, "--embedder", "hash:64", "--float16")
        self.assertEqual(created, {"path": str(self.file), "embedding_dim": 64,
                                   "keyword_tokenizer": "porter",
                                   "dtype": "float16", "embedder": "hash:64",
                                   "compression": False})
        self.cli("create", self.dir / "same.h5", "--embedder", "hash:32", "--dim", 32)

    def test_dim_alone_keeps_vectors_from_elsewhere(self):
        self.cli("create", self.file, "--dim", 16)
        self.assertEqual(self.info()["embedder"], "unknown")

    def test_an_external_embedder_is_measured_or_given_a_dim(self):
        result = self.json_of("create", self.file, "--embed-cmd", reference_command(48))
        self.assertEqual((result["embedder"], result["embedding_dim"]), ("external", 48))
        named = self.json_of("create", self.dir / "named.h5", "--embedder", "my-model",
                             "--embed-cmd", reference_command(24))
        self.assertEqual((named["embedder"], named["embedding_dim"]), ("my-model", 24))
        given = self.json_of("create", self.dir / "given.h5", "--embedder", "e5", "--dim", 768)
        self.assertEqual((given["embedder"], given["embedding_dim"]), ("e5", 768))

    def test_usage_errors(self):
        for args, mention in [(["--embedder", "hash:64", "--dim", 32], "--dim"),
                              (["--embedder", "hash:0"], "hash:0"),
                              (["--embedder", "hash:x"], "hash:x"),
                              (["--embedder", "e5-small"], "--dim"),
                              (["--dim", "-3"], "--dim")]:
            with self.subTest(args=args):
                self.assert_fails("create", self.file, *args, status=EXIT_USAGE_ERROR,
                                  mentions=[mention])
        self.assertFalse(self.file.exists())

    def test_a_failing_probe_creates_nothing(self):
        self.assert_fails("create", self.file, "--embed-cmd", "exit 4",
                          mentions=["`exit 4`", "exited with status 4"])
        self.assertFalse(self.file.exists())


class AddTest(TextCliTestCase):
    def test_add_embeds_with_the_documented_algorithm_and_keeps_metadata(self):
        self.cli("create", self.file)
        text = "The user prefers dark mode; migrating Postgres next week."
        result = self.cli("add", self.file, "--text", text, "--session", "s9", "--channel",
                          "chat", "--tags", "ui,db", "--timestamp", "1700000000.5")
        self.assertEqual(result.stdout, "added memory 0\n")
        self.assertEqual(result.stderr, "")
        (row,) = self.export()
        self.assertEqual((row["chunk"], row["session_id"], row["source_channel"], row["tags"],
                          row["timestamp"]), (text, "s9", "chat", "ui,db", 1700000000.5))
        self.assert_vector_close(row["embedding"], reference_embed(text, 384))

    def test_several_texts_and_stdin(self):
        self.cli("create", self.file, "--embedder", "hash:32")
        result = self.json_of("add", self.file, "--text", "first note", "--text", "second note")
        self.assertEqual(result, {"ids": [0, 1], "embedder": "hash:32"})
        piped = subprocess.run([BINARY, "add", self.file, "--stdin"], input="third\n\n fourth \n",
                               capture_output=True, text=True, cwd=self.dir, timeout=60)
        self.assertEqual(piped.returncode, EXIT_SUCCESS, piped.stderr)
        self.assertEqual(piped.stdout, "added 2 memories (ids 2-3)\n")
        rows = self.export()
        self.assertEqual([row["chunk"] for row in rows], ["first note", "second note", "third",
                                                          " fourth "])
        before = time.time() - 60
        self.assertTrue(all(row["timestamp"] > before for row in rows))

    def test_errors(self):
        self.cli("create", self.file)
        self.assert_fails("add", self.file, status=EXIT_USAGE_ERROR, mentions=["--text"])
        self.assert_fails("add", self.file, "--text", "  ", status=EXIT_USAGE_ERROR,
                          mentions=["empty"])
        self.assert_fails("add", self.file, "--text", "x", "--stdin", status=EXIT_USAGE_ERROR)
        self.assert_fails("add", self.file, "--text", "x", "--timestamp", "soon",
                          status=EXIT_USAGE_ERROR)
        empty = subprocess.run([BINARY, "add", self.file, "--stdin"], input="\n \n",
                               capture_output=True, text=True, cwd=self.dir, timeout=60)
        self.assertEqual(empty.returncode, EXIT_RUNTIME_ERROR)
        self.assertIn("no text on standard input", empty.stderr)
        self.assert_fails("add", self.dir / "absent.h5", "--text", "x", mentions=["absent.h5"])
        self.assertEqual(self.info()["total"], 0)

    def test_a_file_with_a_foreign_embedder_needs_a_command(self):
        self.cli("create", self.file, "--dim", 8, "--embedder", "e5-small")
        self.assert_fails("add", self.file, "--text", "hello",
                          mentions=["e5-small", "not built in", "--embed-cmd"])
        self.assert_fails("add", self.file, "--text", "hello", "--embed-cmd",
                          reference_command(16),
                          mentions=["has 16 values, expected 8", "output line 1"])
        self.cli("add", self.file, "--text", "hello", "--embed-cmd", reference_command(8))
        (row,) = self.export()
        self.assert_vector_close(row["embedding"], reference_embed("hello", 8))

    def test_embed_command_from_the_environment(self):
        self.cli("create", self.file, "--dim", 12, "--embedder", "my-model")
        environment = dict(os.environ, EDGEHDF5_EMBED_CMD=reference_command(12))
        result = subprocess.run([BINARY, "add", self.file, "--text", "from env"],
                                capture_output=True, text=True, cwd=self.dir, env=environment,
                                timeout=60)
        self.assertEqual(result.returncode, EXIT_SUCCESS, result.stderr)
        self.assert_vector_close(self.export()[0]["embedding"], reference_embed("from env", 12))
        # The variable never replaces a built-in embedder: a hash:D file ignores it.
        built_in = self.dir / "built_in.h5"
        self.cli("create", built_in, "--embedder", "hash:12")
        environment["EDGEHDF5_EMBED_CMD"] = "exit 5"
        for args in (["add", built_in, "--text", "still hashed"], ["recall", built_in, "hashed"],
                     ["create", self.dir / "plain.h5"]):
            result = subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True,
                                    cwd=self.dir, env=environment, timeout=60)
            self.assertEqual(result.returncode, EXIT_SUCCESS, result.stderr)
        self.assert_vector_close(self.export(built_in)[0]["embedding"],
                                 reference_embed("still hashed", 12))
        self.assertEqual(self.info(self.dir / "plain.h5")["embedder"], "hash:384")

    def test_a_failing_command_saves_nothing(self):
        self.cli("create", self.file, "--dim", 3, "--embedder", "m")
        for command, mention in [("exit 2", "exited with status 2"),
                                 ("echo '[1, 2, 3]'", "printed 1 vector for 2 texts"),
                                 ("sed 's/.*/[1, 2, oops]/'", "value 2 is not a number"),
                                 ("no-such-model-binary", "command not found")]:
            with self.subTest(command=command):
                result = self.cli("add", self.file, "--text", "a", "--text", "b", "--embed-cmd",
                                  command, status=EXIT_RUNTIME_ERROR)
                # The command's own stderr (here the shell's "not found") comes first.
                error = result.stderr.splitlines()[-1]
                self.assertTrue(error.startswith(ERROR_PREFIX), result.stderr)
                self.assertIn(f"`{command}`", error)
                self.assertIn(mention, error)
        self.assertEqual(self.info()["total"], 0)


class ImportTextTest(TextCliTestCase):
    def test_chunks_without_embeddings_are_embedded(self):
        self.cli("create", self.file)
        given = make_entries(1)[0]["embedding"] + [0.0] * (384 - 8)
        lines = [json.dumps({"chunk": "needs a vector"}),
                 json.dumps({"chunk": "has one", "embedding": given})]
        result = self.cli("import", self.file, self.write_lines(lines))
        self.assertEqual(result.stdout, "imported 2 memories (1 embedded with hash:384)\n")
        first, second = self.export()
        self.assert_vector_close(first["embedding"], reference_embed("needs a vector"))
        self.assert_vector_close(second["embedding"], given)

    def test_embed_flag_ignores_given_embeddings(self):
        self.cli("create", self.file, "--embedder", "hash:16")
        lines = [json.dumps({"chunk": "re-embed me", "embedding": [1, 2, 3]}),
                 json.dumps({"chunk": "and me"})]
        result = self.json_of("import", self.file, self.write_lines(lines), "--embed")
        self.assertEqual(result, {"imported": 2, "embedded": 2, "embedder": "hash:16",
                                  "first_id": 0, "last_id": 1})
        self.assert_vector_close(self.export()[0]["embedding"], reference_embed("re-embed me", 16))

    def test_standard_input(self):
        self.cli("create", self.file)
        lines = "".join(json.dumps({"chunk": f"note {i}"}) + "\n" for i in range(3))
        result = subprocess.run([BINARY, "import", self.file, "-"], input=lines,
                                capture_output=True, text=True, cwd=self.dir, timeout=60)
        self.assertEqual(result.returncode, EXIT_SUCCESS, result.stderr)
        self.assertIn("imported 3 memories", result.stdout)
        bad = subprocess.run([BINARY, "import", self.file, "-"], input='{"chunk": 1}\n',
                             capture_output=True, text=True, cwd=self.dir, timeout=60)
        self.assertEqual(bad.returncode, EXIT_RUNTIME_ERROR)
        self.assertIn("<stdin>:1:", bad.stderr)

    def test_missing_embedding_on_a_foreign_file_names_the_line(self):
        self.cli("create", self.file, "--dim", 8, "--embedder", "e5")
        good = json.dumps(make_entries(1)[0])
        self.assert_fails("import", self.file,
                          self.write_lines([good, good, json.dumps({"chunk": "bare"})]),
                          mentions=["input.jsonl:3:", '"embedding"', "e5", "--embed-cmd"])
        self.assertEqual(self.info()["total"], 0)

    def test_export_then_import_into_a_file_with_another_embedder(self):
        self.create_text_file()
        other = self.dir / "other.h5"
        self.cli("create", other, "--embedder", "hash:64")
        exported = self.write_lines(self.cli("export", self.file).stdout.splitlines(), "all.jsonl")
        self.assert_fails("import", other, exported, mentions=["has 384 values", "expected 64"])
        self.cli("import", other, exported, "--embed")
        self.assertEqual(self.info(other)["active"], len(MEMORIES))


class RecallTest(TextCliTestCase):
    def test_hybrid_by_default_and_finds_the_memory(self):
        self.create_text_file()
        result = self.recall("When do we migrate to PostgreSQL?", "-k", 2)
        self.assertEqual(list(result), [*["hits", "strategy", "isa", "threads",
                                          "vectors_scanned", "search_time_us"],
                                        "question", "embedder"])
        self.assertEqual(result["strategy"], "hybrid_weighted")
        self.assertEqual(result["embedder"], "hash:384")
        self.assertEqual(sorted(hit["id"] for hit in result["hits"]), [1, 2])
        for hit in result["hits"]:
            self.assertEqual(list(hit), HIT_KEYS)

    def test_word_forms_meet_through_the_embedder(self):
        self.create_text_file()
        # "vaccinations"/"vaccination" and "allergies"/"allergic" differ as BM25 terms.
        self.assertEqual(self.recall("vaccinations", "-k", 1, "--vector-only")["hits"][0]["id"], 3)
        self.assertEqual(self.recall("allergies", "-k", 1)["hits"][0]["id"], 4)
        self.assertEqual(self.json_of("search", self.file, "--text", "allergies")["hits"], [])

    def test_modes(self):
        self.create_text_file()
        question = "dark mode editor"
        for options, strategy in [(["--fusion", "rrf"], "hybrid_rrf"),
                                  (["--keyword-only"], "bm25"),
                                  (["--vector-weight", "0.2"], "hybrid_weighted")]:
            with self.subTest(options=options):
                result = self.recall(question, *options)
                self.assertEqual(result["strategy"], strategy)
                self.assertEqual(result["hits"][0]["id"], 0)
        vector = self.recall(question, "--vector-only", "--strategy", "scalar")
        self.assertEqual(vector["strategy"], "scalar")
        self.assertEqual(vector["hits"][0]["id"], 0)
        self.assertIsNone(self.recall(question, "--keyword-only")["embedder"])

    def test_filters(self):
        self.create_text_file()
        question = "Postgres dark mode beagle cashews Tokyo"

        def ids(*options):
            return sorted(hit["id"] for hit in self.recall(question, "-k", 10, *options)["hits"])

        self.assertEqual(ids("--session", "s2"), [1, 2])
        self.assertEqual(ids("--channel", "chat"), [0, 3, 4])
        self.assertEqual(ids("--tags", "pet,travel"), [3, 5])
        self.assertEqual(ids("--tags", "atlas,deadline", "--all-tags"), [2])
        self.assertEqual(ids("--after", 1001, "--before", 1003), [1, 2, 3])
        self.assertEqual(ids("--session", "nobody"), [])
        # Recency weighting is search's (tested there); here: recall passes it on.
        weighted = self.recall("Postgres", "--half-life", 1e9, "-k", 2, "--vector-only")["hits"]
        plain = self.recall("Postgres", "-k", 2, "--vector-only")["hits"]
        self.assertEqual([hit["id"] for hit in weighted], [hit["id"] for hit in plain])
        self.assertLess(weighted[0]["score"], plain[0]["score"])

    def test_human_table(self):
        self.create_text_file()
        lines = self.cli("recall", self.file, "dark mode", "-k", 2).stdout.splitlines()
        self.assertIn("2 hits", lines[0])
        self.assertIn("hybrid_weighted", lines[0])
        self.assertEqual(lines[1].split(), ["rank", "id", "score", "date", "channel", "session",
                                            "chunk"])
        self.assertEqual(lines[2].split()[:5], ["1", "0", "1.000", "1970-01-01", "chat"])
        self.assertEqual(len(lines), 4)

    def test_works_on_a_foreign_file_with_a_command_or_keywords_only(self):
        self.cli("create", self.file, "--dim", 384, "--embedder", "their-model")
        lines = [json.dumps({"chunk": chunk, "embedding": reference_embed(chunk)})
                 for chunk, *_ in MEMORIES]
        self.cli("import", self.file, self.write_lines(lines))
        self.assert_fails("recall", self.file, "dark mode", mentions=["their-model",
                                                                      "--embed-cmd"])
        self.assertEqual(self.recall("dark mode", "--keyword-only")["hits"][0]["id"], 0)
        with_command = self.recall("dark mode", "--embed-cmd", reference_command())
        self.assertEqual(with_command["embedder"], "their-model")
        # The command reproduces hash:384, so it ranks as the built-in embedder would.
        built_in = self.dir / "built_in.h5"
        self.create_text_file(path=built_in)
        same = json.loads(self.cli("recall", built_in, "dark mode", "--json").stdout)
        self.assertEqual([hit["id"] for hit in with_command["hits"]],
                         [hit["id"] for hit in same["hits"]])

    def test_errors(self):
        self.create_text_file()
        self.assert_fails("recall", self.file, " ?! ", mentions=["no words"])
        self.assert_fails("recall", self.file, status=EXIT_USAGE_ERROR, mentions=["QUESTION"])
        for options in (["--vector-only", "--keyword-only"], ["-k", 0], ["--fusion", "max"],
                        ["--vector-weight", 2], ["--after", "yesterday"]):
            with self.subTest(options=options):
                self.assert_fails("recall", self.file, "x", *options, status=EXIT_USAGE_ERROR)
        self.assert_fails("recall", self.file, "x", "--strategy", "warp",
                          mentions=["unknown strategy 'warp'"])
        self.assert_fails("recall", self.dir / "absent.h5", "x", mentions=["absent.h5"])
        self.assert_fails("recall", self.file, "x", "--embed-cmd", "exit 9",
                          mentions=["exited with status 9"])


class SessionsTest(TextCliTestCase):
    def test_list_shows_session_ids_before_any_summary(self):
        self.create_text_file()
        sessions = self.json_of("sessions", self.file)["sessions"]
        self.assertEqual([s["id"] for s in sessions], ["s1", "s2", "s3", "s4"])
        self.assertEqual(sessions[1], {"id": "s2", "memories": 2, "start_id": 1, "end_id": 3,
                                       "channel": "email", "timestamp": 1001.0, "summary": None})
        table = self.cli("sessions", self.file, "list").stdout.splitlines()
        self.assertEqual(table[0].split(), ["session", "memories", "ids", "first", "channel",
                                            "summary"])
        self.assertEqual(len(table), 5)

    def test_add_and_show(self):
        self.create_text_file()
        result = self.cli("sessions", self.file, "add", "s2", "--summary", "Atlas planning")
        self.assertEqual(result.stdout, "recorded session s2 (memories 1-2, 2 memories)\n")
        explicit = self.json_of("sessions", self.file, "add", "late", "--summary", "by range",
                                "--start", 4, "--end", 6, "--channel", "voice")
        self.assertEqual(explicit, {"id": "late", "start_id": 4, "end_id": 6, "channel": "voice",
                                    "memories": 2})
        listed = {s["id"]: s for s in self.json_of("sessions", self.file, "list")["sessions"]}
        self.assertEqual(listed["s2"]["summary"], "Atlas planning")
        self.assertEqual(listed["late"]["summary"], "by range")
        shown = self.json_of("sessions", self.file, "show", "s2")
        self.assertEqual(shown["summary"], "Atlas planning")
        self.assertEqual([m["id"] for m in shown["memories"]], [1, 2])
        text = self.cli("sessions", self.file, "show", "s2").stdout
        self.assertIn("summary:  Atlas planning", text)
        self.assertIn("The Postgres cutover", text)
        unrecorded = self.json_of("sessions", self.file, "show", "s3")
        self.assertIsNone(unrecorded["summary"])
        self.assertEqual([m["id"] for m in unrecorded["memories"]], [3, 4])
        self.cli("verify", self.file)

    def test_errors(self):
        self.create_text_file()
        self.assert_fails("sessions", self.file, "add", "nobody", "--summary", "x",
                          mentions=["nobody", "--start"])
        self.assert_fails("sessions", self.file, "add", "s1", status=EXIT_USAGE_ERROR,
                          mentions=["--summary"])
        self.assert_fails("sessions", self.file, "add", "s1", "--summary", "x", "--start", 1,
                          status=EXIT_USAGE_ERROR)
        self.assert_fails("sessions", self.file, "add", "s1", "--summary", "x", "--start", 3,
                          "--end", 1, mentions=["not a range"])
        self.assert_fails("sessions", self.file, "show", "nobody", mentions=["nobody"])
        self.assert_fails("sessions", self.file, "frob", status=EXIT_USAGE_ERROR)
        self.assert_fails("sessions", self.dir / "absent.h5", mentions=["absent.h5"])
        self.assertEqual(self.info()["sessions"], 0)

    def test_empty_file(self):
        self.cli("create", self.file)
        self.assertIn("no sessions", self.cli("sessions", self.file).stdout)
        self.assertEqual(self.json_of("sessions", self.file), {"sessions": []})


class KnowledgeGraphTest(TextCliTestCase):
    def build_graph(self):
        self.create_text_file()
        for name, kind in [("Maya", "person"), ("Atlas", "project"), ("Omar", "person"),
                           ("Postgres", "technology"), ("Lisbon", "place")]:
            self.cli("kg", self.file, "add-entity", name, "--type", kind)
        self.cli("kg", self.file, "add-relation", "Maya", "Atlas", "--type", "works_on")
        self.cli("kg", self.file, "add-relation", "2", "Atlas", "--type", "owns", "--weight", 0.5)
        self.cli("kg", self.file, "add-relation", "Atlas", "Postgres", "--type", "migrates_to")

    def test_add_and_list(self):
        self.create_text_file()
        entity = self.json_of("kg", self.file, "add-entity", "Maya", "--type", "person",
                              "--memory", 0)
        self.assertEqual(entity, {"id": 0, "name": "Maya", "type": "person", "memory_id": 0})
        self.assertEqual(self.cli("kg", self.file, "add-entity", "Atlas").stdout,
                         "added entity 1 (Atlas)\n")
        relation = self.json_of("kg", self.file, "add-relation", "Maya", "1", "--type", "leads")
        self.assertEqual({k: relation[k] for k in ("source", "target", "type", "weight")},
                         {"source": 0, "target": 1, "type": "leads", "weight": 1.0})
        listed = self.json_of("kg", self.file)
        self.assertEqual([e["name"] for e in listed["entities"]], ["Maya", "Atlas"])
        self.assertEqual(len(listed["relations"]), 1)
        table = self.cli("kg", self.file, "list").stdout.splitlines()
        self.assertEqual(table[0], "2 entities, 1 relation")
        self.assertEqual(table[2].split(), ["0", "Maya", "person", "0", "1", "0"])
        self.cli("verify", self.file)

    def test_neighbors_and_path(self):
        self.build_graph()
        neighbors = self.json_of("kg", self.file, "neighbors", "Atlas")
        self.assertEqual(neighbors["entity"]["name"], "Atlas")
        self.assertEqual([(r["direction"], r["type"], r["entity"]["name"])
                          for r in neighbors["relations"]],
                         [("out", "migrates_to", "Postgres"), ("in", "works_on", "Maya"),
                          ("in", "owns", "Omar")])
        table = self.cli("kg", self.file, "neighbors", "1").stdout
        self.assertIn("Atlas (id 1, project): 3 relations", table)
        self.assertEqual(self.cli("kg", self.file, "path", "Maya", "Omar").stdout,
                         "Maya -[works_on]-> Atlas <-[owns]- Omar  (2 hops)\n")
        path = self.json_of("kg", self.file, "path", "Omar", "Postgres")
        self.assertEqual(path["hops"], 2)
        self.assertEqual([e["name"] for e in path["entities"]], ["Omar", "Atlas", "Postgres"])
        self.assertEqual([r["type"] for r in path["relations"]], ["owns", "migrates_to"])
        self.assertEqual(self.json_of("kg", self.file, "path", "Maya", "Maya")["hops"], 0)
        self.assert_fails("kg", self.file, "path", "Maya", "Postgres", "--max-hops", 1,
                          mentions=["no path", "within 1 hop"])
        self.assert_fails("kg", self.file, "path", "Maya", "Lisbon", mentions=["no path"])

    def test_errors(self):
        self.build_graph()
        self.assert_fails("kg", self.file, "add-entity", "Maya", mentions=["exists already"])
        self.cli("kg", self.file, "add-entity", "Maya", "--allow-duplicate")
        self.assert_fails("kg", self.file, "add-entity", "Ghost", "--memory", 99,
                          mentions=["99", "not an active memory"])
        self.assert_fails("kg", self.file, "add-entity", "", mentions=["empty"])
        self.assert_fails("kg", self.file, "add-relation", "Maya", "Nobody", "--type", "x",
                          mentions=["no entity named 'Nobody'"])
        self.assert_fails("kg", self.file, "add-relation", "Maya", "77", "--type", "x",
                          mentions=["or with id 77"])
        self.assert_fails("kg", self.file, "add-relation", "Maya", "Atlas",
                          status=EXIT_USAGE_ERROR, mentions=["--type"])
        self.assert_fails("kg", self.file, "neighbors", "Nobody", mentions=["Nobody"])
        self.assert_fails("kg", self.file, "path", "Maya", status=EXIT_USAGE_ERROR)
        self.assert_fails("kg", self.file, "path", "Maya", "Atlas", "--max-hops", 0,
                          status=EXIT_USAGE_ERROR)
        self.assert_fails("kg", self.file, "teleport", status=EXIT_USAGE_ERROR)
        self.assert_fails("kg", self.dir / "absent.h5", mentions=["absent.h5"])
        self.assertEqual(self.info()["relations"], 3)


class StatsTest(TextCliTestCase):
    def test_json_report(self):
        self.create_text_file()
        self.cli("delete", self.file, 1)
        stats = self.json_of("stats", self.file)
        self.assertEqual(list(stats), ["path", "file_bytes", "log_bytes", "data_bytes",
                                       "memories", "embeddings", "embedder", "compression",
                                       "groups", "index"])
        self.assertEqual(stats["memories"], {"total": 6, "active": 5, "deleted": 1,
                                             "tombstone_fraction": 1 / 6})
        self.assertEqual(stats["embeddings"], {"dim": 384, "dtype": "float32",
                                               "bytes": 6 * 384 * 4})
        self.assertEqual(stats["embedder"], {"name": "hash:384", "built_in": True})
        self.assertEqual(set(stats["groups"]), {"/memory", "/sessions", "/knowledge_graph"})
        memory_group = stats["groups"]["/memory"]
        self.assertEqual(memory_group["datasets"]["embeddings"], {"rows": 6, "bytes": 9216})
        self.assertEqual(memory_group["datasets"]["chunks"]["bytes"],
                         sum(len(chunk.encode()) for chunk, *_ in MEMORIES))
        self.assertEqual(stats["data_bytes"], sum(g["bytes"] for g in stats["groups"].values()))
        self.assertGreater(stats["file_bytes"], 0)
        self.assertAlmostEqual(stats["compression"]["ratio"],
                               stats["data_bytes"] / (stats["file_bytes"] + stats["log_bytes"]))
        keyword = stats["index"]["keyword"]
        self.assertEqual((keyword["kind"], keyword["documents"]), ("bm25", 5))
        # The file's /keyword_index answers for all six rows (the deleted one included).
        self.assertEqual((keyword["rows_from_file"], keyword["rows_added"], keyword["problem"]),
                         (6, 0, None))
        self.assertGreater(keyword["terms"], 10)
        self.assertEqual(stats["index"]["vector"]["kind"], "exact")

    def test_float16_compressed(self):
        self.create_text_file("--float16", "--compression", 9)
        plain = self.create_text_file(path=self.dir / "plain.h5")
        stats = self.json_of("stats", self.file)
        self.assertEqual(stats["embeddings"]["dtype"], "float16")
        self.assertEqual(stats["embeddings"]["bytes"], 6 * 384 * 2)
        self.assertEqual(stats["compression"]["level"], 9)
        plain_stats = self.json_of("stats", plain)
        self.assertEqual(plain_stats["compression"]["level"], 0)

    def test_human_report(self):
        self.create_text_file()
        self.cli("delete", self.file, 0)
        report = self.cli("stats", self.file).stdout
        for fragment in ("tombstones 16.7%", "384-d float32", "hash:384 (built in)",
                         "compression: off", "/memory", "  embeddings", "/knowledge_graph",
                         "keyword  BM25 from /keyword_index (6 rows in the file, 0 added since)",
                         "5 documents"):
            self.assertIn(fragment, report)

    def test_errors(self):
        self.assert_fails("stats", self.dir / "absent.h5", mentions=["absent.h5"])
        garbage = self.dir / "garbage.h5"
        garbage.write_bytes(b"not hdf5" * 100)
        self.assert_fails("stats", garbage, mentions=["garbage.h5"])


class EveryCommandTest(TextCliTestCase):
    # Every command, with --json, prints JSON (export: JSON lines) and exits 0.
    def test_json_everywhere(self):
        self.create_text_file()
        copy = self.dir / "copy.h5"
        commands = [
            ["create", self.dir / "new.h5"],
            ["add", self.file, "--text", "json please"],
            ["import", self.file, self.write_lines([json.dumps({"chunk": "x"})], "one.jsonl")],
            ["recall", self.file, "dark mode"],
            ["search", self.file, "--text", "dark"],
            ["info", self.file],
            ["stats", self.file],
            ["sessions", self.file],
            ["sessions", self.file, "add", "s1", "--summary", "x"],
            ["sessions", self.file, "show", "s1"],
            ["kg", self.file, "add-entity", "E"],
            ["kg", self.file, "add-relation", "E", "E", "--type", "self"],
            ["kg", self.file, "neighbors", "E"],
            ["kg", self.file, "path", "E", "E"],
            ["kg", self.file],
            ["delete", self.file, 0],
            ["compact", self.file],
            ["snapshot", self.file, copy],
            ["verify", self.file],
            ["export", self.file],
        ]
        for args in commands:
            with self.subTest(command=args[0]):
                result = self.cli(*args, "--json")
                lines = result.stdout.splitlines()
                self.assertTrue(lines)
                for line in lines:
                    json.loads(line)
                self.assertEqual(result.stderr, "", "no progress bars without a terminal")
        self.assertEqual(self.json_of("verify", self.file), {"ok": True, "problems": []})

    def test_help_for_every_command_and_subcommand(self):
        for command in (["create"], ["add"], ["recall"], ["import"], ["export"], ["info"],
                        ["stats"], ["search"], ["sessions"], ["sessions", "FILE", "list"],
                        ["sessions", "FILE", "add"], ["sessions", "FILE", "show"], ["kg"],
                        ["kg", "FILE", "list"], ["kg", "FILE", "add-entity"],
                        ["kg", "FILE", "add-relation"], ["kg", "FILE", "neighbors"],
                        ["kg", "FILE", "path"], ["delete"], ["compact"], ["snapshot"],
                        ["verify"]):
            with self.subTest(command=command):
                help_text = self.cli(*command, "--help").stdout
                self.assertIn("Exit status", help_text)
                self.assertIn("--json", help_text)
        top = self.cli("--help").stdout
        for command in ("add", "recall", "sessions", "kg", "stats"):
            self.assertIn(command, top)


class ProgressTest(TextCliTestCase):
    def run_with_terminal_stderr(self, *args):
        """Runs the binary with stderr on a pseudo-terminal; returns (status, stderr text)."""
        controller, terminal = pty.openpty()
        process = subprocess.Popen([BINARY, *map(str, args)], stdout=subprocess.PIPE,
                                   stderr=terminal, cwd=self.dir)
        os.close(terminal)
        output = b""
        while True:
            ready, _, _ = select.select([controller], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the child closed the terminal (EIO on Linux)
                break
            if not chunk:
                break
            output += chunk
        os.close(controller)
        process.stdout.read()
        process.stdout.close()
        return process.wait(timeout=60), output.decode("utf-8", "replace")

    def test_bars_only_on_a_terminal(self):
        self.cli("create", self.file, "--embedder", "hash:8")
        lines = [json.dumps({"chunk": f"memory number {i}"}) for i in range(3000)]
        source = self.write_lines(lines, "many.jsonl")
        status, stderr = self.run_with_terminal_stderr("import", self.file, source)
        self.assertEqual(status, EXIT_SUCCESS, stderr)
        self.assertIn("reading", stderr)
        self.assertIn("embedding", stderr)
        self.assertIn("3000/3000", stderr)
        self.assertIn("\r\x1b[K", stderr, "the bar is cleared at the end")
        quiet = self.cli("import", self.file, source)
        self.assertEqual(quiet.stderr, "")
        status, stderr = self.run_with_terminal_stderr("export", self.file)
        self.assertEqual(status, EXIT_SUCCESS)
        self.assertIn("exporting", stderr)


if __name__ == "__main__":
    if not os.access(BINARY, os.X_OK):
        raise SystemExit(f"edgehdf5 binary not found at {BINARY}: build it or set EDGEHDF5_BIN")
    unittest.main(verbosity=2)
