#!/usr/bin/env python3
"""h5py and h5dump read what edgehdf5 writes.

interop_write_fixture (write_fixture.cpp) writes one file per variant (float32, float16,
deflate level 6, compacted, empty) and a manifest of exactly what it stored; every group,
dataset and attribute of every file is checked against that manifest: names (nothing
missing, nothing extra), dtypes, shapes and values.

It also reads a file while an edgehdf5 writer holds it open (interop_open_probe --hold).

Run through CTest, or by hand:
    EDGEHDF5_WRITE_FIXTURE=build/bin/interop_write_fixture \
    EDGEHDF5_OPEN_PROBE=build/bin/interop_open_probe /usr/bin/python3 test_h5py_interop.py
"""

import json
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import h5py
import numpy as np

from interop_support import (is_utf8_string, is_vlen_utf8, probe_open, program, read_strings,
                             write_library_fixtures)

# Schema 1.0 as SPEC.md section 1 lays it out. A new group (an ANN index, say) is a schema
# change that this list, and the manifest, must learn about.
SCHEMA_GROUPS = {"meta", "memory", "sessions", "knowledge_graph", "keyword_index"}
# The keyword index (SPEC section 1, "/keyword_index"): derived data, flat arrays.
KEYWORD_ARRAYS = {"term_bytes": "u1", "term_offsets": "<u8", "posting_offsets": "<u8",
                  "posting_rows": "<u4", "posting_frequencies": "u1",
                  "large_frequency_postings": "<u8", "large_frequencies": "<u4",
                  "document_lengths": "<u4"}

STRING = "variable-length UTF-8 string"
INTEGER = "any integer type"  # /meta integers: int64 or uint64 both read back exactly
I64 = np.dtype("<i8")
F64 = np.dtype("<f8")
F32 = np.dtype("<f4")
U8 = np.dtype("u1")


def meta_attributes(entry):
    """Attribute name -> (type, expected value); None: present, value chosen by the library."""
    config = entry["config"]
    return {
        "schema_version": (STRING, entry["schema_version"]),
        "edgehdf5_version": (STRING, entry["edgehdf5_version"]),
        "agent_id": (STRING, config["agent_id"]),
        "embedder": (STRING, config["embedder"]),
        "created_at": (STRING, config["created_at"]),
        "embedding_dim": (INTEGER, config["embedding_dim"]),
        "chunk_size": (INTEGER, config["chunk_size"]),
        "overlap": (INTEGER, config["overlap"]),
        "float16": (INTEGER, int(config["float16"])),
        "compression": (INTEGER, int(config["compression"])),
        "compression_level": (INTEGER, config["compression_level"]),
        "compact_threshold": (F64, config["compact_threshold"]),
        "keyword_tokenizer": (STRING, config["keyword_tokenizer"]),
        "next_id": (INTEGER, entry["next_id"]),
        "checkpoint_lsn": (INTEGER, None),  # the log position the file includes
    }


def memory_columns(entry):
    """The one-dimensional /memory datasets: name -> (dtype, values)."""
    rows = entry["rows"]
    return {
        "chunks": (STRING, [row["chunk"] for row in rows]),
        "source_channel": (STRING, [row["source_channel"] for row in rows]),
        "timestamps": (F64, [row["timestamp"] for row in rows]),
        "session_ids": (STRING, [row["session_id"] for row in rows]),
        "tags": (STRING, [row["tags"] for row in rows]),
        "tombstones": (U8, [row["tombstone"] for row in rows]),
        "ids": (I64, [row["id"] for row in rows]),
    }


def session_columns(entry):
    sessions = entry["sessions"]
    return {
        "ids": (STRING, [session["id"] for session in sessions]),
        "start_idxs": (I64, [session["start_row"] for session in sessions]),
        "end_idxs": (I64, [session["end_row"] for session in sessions]),
        "channels": (STRING, [session["channel"] for session in sessions]),
        "summaries": (STRING, [session["summary"] for session in sessions]),
    }


def knowledge_graph_columns(entry):
    entities, relations = entry["entities"], entry["relations"]
    return {
        "entity_ids": (I64, [entity["id"] for entity in entities]),
        "entity_names": (STRING, [entity["name"] for entity in entities]),
        "entity_types": (STRING, [entity["type"] for entity in entities]),
        "entity_emb_idxs": (I64, [entity["embedding_row"] for entity in entities]),
        "relation_srcs": (I64, [relation["source"] for relation in relations]),
        "relation_tgts": (I64, [relation["target"] for relation in relations]),
        "relation_types": (STRING, [relation["type"] for relation in relations]),
        "relation_weights": (F32, [relation["weight"] for relation in relations]),
        "observation_entity_ids": (I64, [o["entity"] for o in entry.get("observations", [])]),
        "observation_texts": (STRING, [o["text"] for o in entry.get("observations", [])]),
        "observation_mem_idxs": (I64, [o["memory_row"] for o in entry.get("observations", [])]),
    }


# Timestamps the library stamps itself ("now"): dataset -> the manifest items with windows.
STAMPED = {"sessions/timestamps": "sessions", "knowledge_graph/relation_ts": "relations"}


class H5pyReadsLibraryFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.TemporaryDirectory(prefix="edgehdf5_interop_")
        cls.addClassCleanup(cls.scratch.cleanup)  # also when setUpClass fails
        cls.dir = Path(cls.scratch.name)
        cls.manifest = write_library_fixtures(cls.dir)

    def for_each_file(self, check):
        """Runs check(entry, h5file) on every fixture file, each as its own subtest."""
        for entry in self.manifest["files"]:
            with self.subTest(file=entry["file"]), h5py.File(self.dir / entry["file"], "r") as h5:
                check(entry, h5)

    # --- layout --------------------------------------------------------------------------------

    def test_groups_and_datasets_are_exactly_the_schema(self):
        def check(entry, h5):
            self.assertEqual(set(h5.keys()), SCHEMA_GROUPS)
            for name in SCHEMA_GROUPS:
                self.assertIsInstance(h5[name], h5py.Group, name)
            self.assertEqual(list(h5["meta"].keys()), [], "/meta holds attributes only")
            expected = {
                "memory": set(memory_columns(entry)) | {"embeddings", "norms"},
                "sessions": set(session_columns(entry)) | {"timestamps"},
                "knowledge_graph": set(knowledge_graph_columns(entry)) | {"relation_ts"},
                "keyword_index": set(KEYWORD_ARRAYS),
            }
            for group, names in expected.items():
                self.assertEqual(set(h5[group].keys()), names, f"datasets in /{group}")
                for name in names:
                    self.assertIsInstance(h5[group][name], h5py.Dataset, f"/{group}/{name}")

        self.for_each_file(check)

    def test_meta_attributes(self):
        def check(entry, h5):
            meta = h5["meta"]
            expected = meta_attributes(entry)
            self.assertEqual(set(meta.attrs.keys()), set(expected), "attributes of /meta")
            for name, (kind, want) in expected.items():
                stored = meta.attrs.get_id(name)
                self.assertEqual(stored.shape, (), f"{name} is a scalar")
                value = meta.attrs[name]
                if kind is STRING:
                    self.assertTrue(is_vlen_utf8(stored.dtype), f"{name}: {stored.dtype}")
                    self.assertEqual(value, want, name)
                elif kind is INTEGER:
                    self.assertIn(stored.dtype.kind, "iu", f"{name}: {stored.dtype}")
                    if want is None:
                        self.assertGreaterEqual(int(value), 0, name)
                    else:
                        self.assertEqual(int(value), want, name)
                else:
                    self.assertEqual(stored.dtype, kind, name)
                    self.assertEqual(float(value), want, name)

        self.for_each_file(check)

    def test_keyword_index_arrays(self):
        def check(entry, h5):
            group = h5["keyword_index"]
            self.assertEqual(group.attrs["format"], "bm25 1")
            self.assertEqual(group.attrs["tokenizer"], entry["config"]["keyword_tokenizer"])
            arrays = {name: group[name][()] for name in KEYWORD_ARRAYS}
            for name, dtype in KEYWORD_ARRAYS.items():
                self.assertEqual(arrays[name].dtype, np.dtype(dtype), name)
            tombstones = h5["memory/tombstones"][()]
            lengths = arrays["document_lengths"]
            self.assertEqual(len(lengths), len(tombstones))
            self.assertTrue(np.array_equal(lengths == 2**32 - 1, tombstones != 0))
            offsets, postings = arrays["term_offsets"], arrays["posting_offsets"]
            self.assertEqual(offsets[-1], len(arrays["term_bytes"]))
            self.assertEqual(postings[-1], len(arrays["posting_rows"]))
            terms = [arrays["term_bytes"][offsets[t]:offsets[t + 1]].tobytes()
                     for t in range(len(offsets) - 1)]
            self.assertEqual(terms, sorted(set(terms)), "distinct terms in bytewise order")
            rows = arrays["posting_rows"]
            for t in range(len(terms)):
                mine = rows[postings[t]:postings[t + 1]]
                self.assertGreater(len(mine), 0)
                self.assertTrue(np.all(np.diff(mine.astype(np.int64)) > 0), terms[t])
                self.assertFalse(np.any(tombstones[mine]), "no posting of a deleted row")
            # Every active row's length is its terms' frequencies summed.
            frequencies = arrays["posting_frequencies"].astype(np.int64)
            frequencies[arrays["large_frequency_postings"]] = arrays["large_frequencies"]
            self.assertTrue(np.all(frequencies > 0))
            summed = np.bincount(rows, weights=frequencies, minlength=len(lengths))
            active = tombstones == 0
            self.assertTrue(np.array_equal(summed[active], lengths[active].astype(np.float64)))

        self.for_each_file(check)

    # --- values --------------------------------------------------------------------------------

    def assert_columns(self, group, columns):
        for name, (dtype, want) in columns.items():
            dataset = group[name]
            self.assertEqual(dataset.shape, (len(want),), dataset.name)
            if dtype is STRING:
                self.assertTrue(is_utf8_string(dataset.dtype), f"{dataset.name}: {dataset.dtype}")
                self.assertEqual(read_strings(dataset), want, dataset.name)
            else:
                self.assertEqual(dataset.dtype, dtype, dataset.name)
                np.testing.assert_array_equal(dataset[()], np.asarray(want, dtype=dtype),
                                              err_msg=dataset.name)

    def test_memory_columns(self):
        self.for_each_file(
            lambda entry, h5: self.assert_columns(h5["memory"], memory_columns(entry)))

    def test_ids_strictly_increase(self):
        def check(entry, h5):
            ids = h5["memory/ids"][()]
            self.assertTrue(np.all(np.diff(ids) > 0), ids)
            if len(ids):
                self.assertLess(ids[-1], h5["meta"].attrs["next_id"])

        self.for_each_file(check)

    def test_embeddings_and_norms(self):
        def check(entry, h5):
            rows, dim = entry["rows"], entry["config"]["embedding_dim"]
            want = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
            want = want.reshape(len(rows), dim)
            if entry["config"]["float16"]:
                # numpy rounds to nearest, ties to even: the rounding the library promises.
                want = want.astype(np.float16)
            embeddings = h5["memory/embeddings"]
            self.assertEqual(embeddings.dtype, want.dtype)
            self.assertEqual(embeddings.shape, want.shape)
            stored = embeddings[()]
            np.testing.assert_array_equal(stored, want)

            norms = h5["memory/norms"]
            self.assertEqual(norms.dtype, F32)
            self.assertEqual(norms.shape, (len(rows),))
            # Norms of the stored (for float16: rounded) values, so scores match what is on disk.
            np.testing.assert_allclose(norms[()], np.linalg.norm(stored.astype(np.float64), axis=1),
                                       rtol=1e-6)

        self.for_each_file(check)

    def test_sessions(self):
        self.for_each_file(
            lambda entry, h5: self.assert_columns(h5["sessions"], session_columns(entry)))

    def test_knowledge_graph(self):
        self.for_each_file(lambda entry, h5: self.assert_columns(h5["knowledge_graph"],
                                                                 knowledge_graph_columns(entry)))

    def test_stamped_timestamps_fall_in_the_call_window(self):
        def check(entry, h5):
            for dataset_name, items_key in STAMPED.items():
                items = entry[items_key]
                dataset = h5[dataset_name]
                self.assertEqual(dataset.dtype, F64, dataset_name)
                self.assertEqual(dataset.shape, (len(items),), dataset_name)
                for stamp, item in zip(dataset[()], items):
                    self.assertGreaterEqual(stamp, item["timestamp_min"], dataset_name)
                    self.assertLessEqual(stamp, item["timestamp_max"], dataset_name)

        self.for_each_file(check)

    # --- storage -------------------------------------------------------------------------------

    def test_compression_filter_only_when_asked(self):
        def check(entry, h5):
            config = entry["config"]
            datasets = []
            h5.visititems(lambda name, item: datasets.append(item)
                          if isinstance(item, h5py.Dataset) else None)
            for dataset in datasets:
                if config["compression"] and dataset.name.startswith("/memory/"):
                    self.assertEqual(dataset.compression, "gzip", dataset.name)
                    self.assertEqual(dataset.compression_opts, config["compression_level"],
                                     dataset.name)
                elif not config["compression"]:
                    self.assertIsNone(dataset.compression, dataset.name)

        self.for_each_file(check)

    # --- while a writer works -----------------------------------------------------------------

    def test_h5py_reads_while_an_edgehdf5_writer_holds_the_file(self):
        """SPEC section 4: readers in other processes open the file while a writer holds it
        (HDF5 1.10 would refuse them if the writer kept it open through HDF5), and a second
        writer is refused with ErrorCode::locked."""
        entry = self.manifest["files"][0]
        held = self.dir / "held" / entry["file"]
        held.parent.mkdir()
        shutil.copyfile(self.dir / entry["file"], held)
        with subprocess.Popen([program("EDGEHDF5_OPEN_PROBE"), "--hold", str(held)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as writer:
            try:
                opened = json.loads(writer.stdout.readline())
                self.assertTrue(opened["opened"], opened)
                with h5py.File(held, "r") as h5:
                    self.assertEqual(read_strings(h5["memory/chunks"]),
                                     [row["chunk"] for row in entry["rows"]])
                self.assertTrue(probe_open(held)["opened"], "a read-only edgehdf5 open")
                second_writer = probe_open(held, "--read-write")
                self.assertFalse(second_writer["opened"], "a second writer")
                self.assertEqual(second_writer["code"], "locked", second_writer["message"])
            finally:
                writer.stdin.close()  # lets the holder close the file and exit
                self.assertEqual(writer.wait(timeout=60), 0)

    def test_h5dump_reads_every_file(self):
        for entry in self.manifest["files"]:
            path = str(self.dir / entry["file"])
            with self.subTest(file=entry["file"]):
                header = subprocess.run(["h5dump", "-H", path], capture_output=True, text=True)
                self.assertEqual(header.returncode, 0, header.stderr)
                # Also decode the data itself: the half type and the strings.
                full = subprocess.run(["h5dump", path], capture_output=True)
                self.assertEqual(full.returncode, 0, full.stderr)


if __name__ == "__main__":
    unittest.main()
