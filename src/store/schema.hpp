#pragma once
// The schema 1.0 file layout (SPEC section 1): writing a whole state into a new HDF5 file,
// and reading one back with validation that names exactly what is wrong.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "edgehdf5/bm25.hpp"
#include "edgehdf5/config.hpp"
#include "edgehdf5/entry.hpp"
#include "edgehdf5/file_system.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "edgehdf5/knowledge_graph.hpp"
#include "edgehdf5/memory_columns.hpp"
#include "h5/h5.hpp"

namespace edgehdf5::store {

// Everything a memory file holds, in memory. Sessions and entities refer to memories by id;
// the file refers to them by row (see schema.cpp).
struct StoreState {
  MemoryConfig config;
  std::string schema_version;
  std::string edgehdf5_version;  // of the program that wrote the file
  MemoryColumns columns;
  std::vector<Session> sessions;
  KnowledgeGraph graph;
  MemoryId next_id = 0;              // the id the next save gets
  std::uint64_t checkpoint_lsn = 0;  // the last log record the file on disk includes
  std::uint64_t last_lsn = 0;        // the last log record this state includes; written
                                     // as the new file's checkpoint_lsn
  std::size_t tombstoned = 0;        // rows with tombstone 1
};

// The state of a new, empty store with `config` (written by this build, schema 1.0).
StoreState empty_state(const MemoryConfig& config);

// The /ivfpq group as a file holds it (index/ivfpq/ivfpq_group.hpp). The index is derived
// data, rebuilt from the memories at will: a group this build cannot read is reported, and
// does not keep the memories from opening.
struct StoredIndex {
  std::optional<IVFPQData> data;  // the group's arrays, when present and readable
  std::string problem;            // why a group that is present cannot be read; else empty
};

// The /keyword_index group (store/keyword_group.hpp), also derived data: a group that cannot
// be read, or that does not cover the file's rows with its tokenizer, is set aside with the
// reason; the store then builds the index from the chunks and writes it at its checkpoint.
struct StoredKeywords {
  std::optional<KeywordIndexArrays> arrays;  // usable arrays (mapped where they could be)
  std::string problem;  // why a group that is present is not used; else empty
};

// The derived data a state file is written with, each when given: its /ivfpq and its
// /keyword_index group.
struct DerivedData {
  const IVFPQData* ivfpq = nullptr;
  const KeywordIndexArrays* keywords = nullptr;
};

// Writes the groups of `state` (and `index` as its /ivfpq group, `keywords` as its
// /keyword_index group, when given) into `file`, a new, empty HDF5 file: the content of a
// state file, whatever driver writes it.
void write_state_groups(h5::Object& file, const StoreState& state, const IVFPQData* index,
                        const KeywordIndexArrays* keywords = nullptr);

// The bytes of `state` as an HDF5 file, built in memory by HDF5's core driver. The store
// no longer writes files this way (write_state_file below); kept as the alternative that
// edgehdf5-bench checkpoint measures the seam's driver against. `name` labels it.
h5::FileImage state_file_image(const StoreState& state, const IVFPQData* index,
                               const std::string& name);

// Writes `state` as a new HDF5 file at `path` (truncating it; fsynced), through
// `file_system`: HDF5 writes it through the seam with the driver of h5/seam_driver.hpp.
// Error(io) naming `path` and the operation when a seam call fails (the file is then
// removed). Not atomic by itself: the store writes to a temporary and renames.
void write_state_file(FileSystem& file_system, const std::filesystem::path& path,
                      const StoreState& state, const IVFPQData* index = nullptr,
                      const KeywordIndexArrays* keywords = nullptr);
// The same on the operating system's files.
void write_state_file(const std::filesystem::path& path, const StoreState& state,
                      const IVFPQData* index = nullptr);

// Reads and validates a file through `file_system` (HDF5 reads it by path itself when the
// file system reads_natively(), else from its bytes read through the seam). Throws schema
// (with the dataset or attribute named), hdf5 or io errors. `path` is recorded into
// state.config.path. With `index`, the /ivfpq group is read into it too (its problems go to
// index->problem, never thrown); with `keywords`, the /keyword_index group likewise. `reading` may leave parts of the file where they are (for
// a store that never writes that file in place: HDF5Memory, not a tool that rewrites the
// file it read).
struct StateReading {
  // An embedding matrix stored as it would lie in memory is mapped from the file rather
  // than read (store/mapped_rows.hpp), and so are the keyword index's arrays
  // (OpenOptions::map_embeddings covers both).
  bool map_embeddings = false;
  // The text columns (chunks, source_channel, session_ids, tags) stay in the file, read
  // when asked (store/file_texts.hpp); only for a file system that reads_natively(), else
  // they are read.
  bool text_on_demand = false;
};
StoreState read_state_file(FileSystem& file_system, const std::filesystem::path& path,
                           StoredIndex* index = nullptr, const StateReading& reading = {},
                           StoredKeywords* keywords = nullptr);
StoreState read_state_file(const std::filesystem::path& path, StoredIndex* index = nullptr);

// Only the /ivfpq group of a file (for verify). Throws as read_state_file for the file itself.
StoredIndex read_stored_index(FileSystem& file_system, const std::filesystem::path& path);
StoredIndex read_stored_index(const std::filesystem::path& path);

}  // namespace edgehdf5::store
