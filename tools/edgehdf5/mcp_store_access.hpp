#pragma once
// How `edgehdf5 mcp` shares one memory file with other processes (another `edgehdf5 mcp`,
// the CLI, a program using the library), all of which may write.
//
// Writes: the writer lock is taken when a write call comes (waiting up to lock_timeout for
// another holder, OpenOptions::lock_timeout), and every write call ends with flush(), an
// fsync of the log, before its answer is written. The lock is then kept while calls keep
// coming and handed back once the server has been idle for hold_idle, or after hold_max of
// continuous use (then the next write waits handover_pause first, so that a process polling
// for the lock gets its turn). Handing back is a close(): a checkpoint into FILE.
//
// Reads: from the writer while this process holds it (it is current); otherwise from a
// read-only handle, reopened whenever FILE or FILE.wal changed since it was opened (checked
// with stat() at every read call). So a write another process acknowledged is seen by this
// process's next read call: the bound is one call, no polling delay.
//
// Not thread-safe: the server runs one call at a time.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "edgehdf5/memory.hpp"

namespace edgehdf5::cli::mcp {

struct AccessSettings {
  bool read_only = false;
  std::chrono::milliseconds lock_timeout{10000};
  std::chrono::milliseconds hold_idle{200};
  std::chrono::milliseconds hold_max{2000};
  std::chrono::milliseconds handover_pause{100};
};

class StoreAccess {
 public:
  // REQUIRES: `file` exists.
  StoreAccess(std::filesystem::path file, AccessSettings settings);

  const std::filesystem::path& file() const noexcept { return file_; }
  bool read_only() const noexcept { return settings_.read_only; }

  // The store as of now, for a read call. Throws as HDF5Memory::open does.
  const HDF5Memory& for_reading();
  // The writer, for a write call: opens it (waiting for the lock) when not held. Throws
  // Error(read_only) with --read-only, Error(locked) when the lock stays held elsewhere.
  HDF5Memory& for_writing();
  // Ends a write call: makes everything durable (flush: fsync of the log). Throws on failure;
  // the call must then answer with an error.
  void write_done();
  // Called after a call's answer is written: hands the lock back once held for hold_max (so
  // the handover's checkpoint delays the next call, not the answer of this one).
  void call_answered();
  // Called when the server has nothing to do: hands the lock back per the settings.
  void idle();
  // Closes everything (a checkpoint if this process wrote). Throws what close() throws.
  void close();

 private:
  struct FileStamp {
    ino_t file_inode = 0;
    off_t file_size = -1;
    std::int64_t file_mtime_ns = 0;
    ino_t log_inode = 0;
    off_t log_size = -1;
    std::int64_t log_mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  FileStamp stamp() const;
  void release_writer();

  std::filesystem::path file_;
  AccessSettings settings_;
  std::optional<HDF5Memory> writer_;
  std::optional<HDF5Memory> reader_;
  FileStamp reader_stamp_;
  std::chrono::steady_clock::time_point writer_opened_;
  std::chrono::steady_clock::time_point last_write_;
  std::optional<std::chrono::steady_clock::time_point> forced_release_;
};

}  // namespace edgehdf5::cli::mcp
