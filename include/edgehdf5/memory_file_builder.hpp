#pragma once
// MemoryFileBuilder: a new memory file made from records that already have their ids and
// timestamps, such as an import from another agent memory (edgehdf5-migrate).
//
// HDF5Memory's calls cannot carry such records: they stamp sessions and relations with the
// current time, number entities 0, 1, 2... and compact once compact_threshold of the rows
// are tombstoned. The builder takes the records as they are, checks each one with the rules
// HDF5Memory applies to a live call (the same functions), applies it as the store applies a
// logged change, and write() puts the result at a path the way a checkpoint does. The file
// written is the one a store would hold had it been given the same changes in the same
// order, with the caller's ids and timestamps: HDF5Memory::open reads it like any other.
//
// Order matters as it does for a live store: an entity may refer only to a memory that is
// active when the entity is added, and a relation only to entities added before it. To keep
// an entity that refers to a deleted memory, add the entity first and tombstone the memory
// afterwards.
//
// Errors: every refusal throws edgehdf5::Error (error.hpp) and leaves the builder as it
// was, so a caller may report the record and go on with the next one.
//
// Thread safety: a builder is used by one thread at a time; several threads may call its
// const members at once. Distinct builders are independent. write() holds the destination's
// writer lock, so two writers of one path (threads or processes) exclude each other.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "edgehdf5/config.hpp"
#include "edgehdf5/entry.hpp"

namespace edgehdf5 {

// How MemoryFileBuilder::write() treats the destination.
struct MemoryFileWriteOptions {
  // false: refuse (Error(io) "PATH already exists") when PATH or its log PATH.wal exists.
  // true: replace PATH and remove PATH.wal, which replayed onto the new file would corrupt it.
  bool replace = false;
  // The file is written to PATH + temporary_suffix, in PATH's directory, then renamed over
  // PATH. The default is the name a checkpoint uses, which opening a store for writing
  // removes if a crash left it behind. REQUIRES: not empty, no '/'.
  std::string temporary_suffix = ".tmp";
};

class MemoryFileBuilder {
 public:
  // An empty memory file with `config`: no memories, sessions or entities; created_at is
  // set to the current time when empty.
  // REQUIRES: a config HDF5Memory::create accepts: a non-empty path (write() may put the
  // file elsewhere), 1 <= embedding_dim <= kMaxEmbeddingDim, compression_level 1..9 with
  // compression, a finite compact_threshold >= 0, text fields that are UTF-8 without NUL.
  // Throws Error(invalid_argument) naming the field otherwise.
  explicit MemoryFileBuilder(MemoryConfig config);
  // A moved-from builder may only be destroyed or assigned to.
  MemoryFileBuilder(MemoryFileBuilder&&) noexcept;
  MemoryFileBuilder& operator=(MemoryFileBuilder&&) noexcept;
  MemoryFileBuilder(const MemoryFileBuilder&) = delete;
  MemoryFileBuilder& operator=(const MemoryFileBuilder&) = delete;
  ~MemoryFileBuilder();

  // Adds memories with the ids next_id(), next_id() + 1, ... and returns the first.
  // REQUIRES: each entry as HDF5Memory::save_batch requires: embedding_dim finite values
  // (within the half range for a float16 file), a finite timestamp, text that is UTF-8
  // without NUL bytes. Throws Error(invalid_argument) naming the entry ("entry 3: ...") and
  // adds none of them otherwise. An empty span adds nothing and returns next_id().
  MemoryId add_memories(std::span<const MemoryEntry> entries);
  // As above, with the ids first_id, first_id + 1, ...: ids may skip values (as after a
  // compaction) but always increase. The file records a session's range as the rows it
  // covers, so a range end that falls in a gap reads back as the next id present. REQUIRES: first_id >= next_id(); else (or when the ids
  // would pass the largest MemoryId) Error(invalid_argument).
  MemoryId add_memories(MemoryId first_id, std::span<const MemoryEntry> entries);

  // Marks an added memory deleted: it stays in the file as a tombstoned row, as after
  // HDF5Memory::remove, and is never compacted by the builder.
  // REQUIRES: `id` is an active memory; Error(not_found) otherwise (unknown or already
  // tombstoned).
  void tombstone(MemoryId id);

  // Adds a session summary with its own timestamp. REQUIRES: a non-empty id, a range
  // 0 <= start_id <= end_id (the memories need not exist), a finite timestamp, text as
  // above; Error(invalid_argument) otherwise.
  void add_session(const Session& session);

  // Adds an entity with its own id. REQUIRES: an id no entity of this builder has
  // (Error(invalid_argument) otherwise), a non-empty name, text as above, and an
  // embedding_id that is -1 or an active memory (Error(not_found) otherwise).
  void add_entity(const Entity& entity);

  // Adds a relation with its own timestamp. REQUIRES: source and target are entities added
  // already (Error(not_found) otherwise), a finite weight and timestamp, a type that is
  // text as above (Error(invalid_argument) otherwise).
  void add_relation(const Relation& relation);

  // The config the file will be written with (created_at filled in).
  const MemoryConfig& config() const noexcept;
  // Memories added, tombstoned ones included.
  std::size_t memories() const noexcept;
  // The id the next add_memories(entries) gives its first entry.
  MemoryId next_id() const noexcept;

  // Writes everything added so far as a new memory file at `path`, atomically: the file is
  // written beside it (see MemoryFileWriteOptions), fsynced and renamed over `path`, and the
  // directory fsynced. `path` then holds the complete new file, or, after any failure or a
  // crash, what it held before (a stale log is put back too). The store's writer lock
  // PATH.lock is held throughout. The builder is unchanged and may write again.
  // Throws Error(locked) when another handle or process has PATH open for writing,
  // Error(io) when PATH exists without options.replace or a file operation fails,
  // Error(hdf5) when HDF5 fails, Error(invalid_argument) for a bad temporary_suffix.
  void write(const std::filesystem::path& path, const MemoryFileWriteOptions& options = {}) const;

  // The rule every text field of a memory file meets, for a caller that wants to refuse a
  // record of its own (naming it) before handing it over: throws Error(invalid_argument)
  // "<field> contains a NUL byte" or "<field> is not valid UTF-8". Thread-safe.
  static void check_text(std::string_view text, std::string_view field);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgehdf5
