#pragma once
// Recovery: a store's state is its last checkpoint (FILE) plus the log records (FILE.wal)
// the checkpoint does not hold. Both ways of opening a store (a writer, holding the lock,
// and a reader, holding none) read them through recover(), so they replay the same way.

#include <cstddef>
#include <filesystem>

#include "store/schema.hpp"
#include "store/wal.hpp"

namespace edgehdf5::store {

struct RecoveredStore {
  StoreState state;          // the file with the log's later records applied
  StoredIndex index;         // the file's /ivfpq group, as read
  StoredKeywords keywords;   // the file's /keyword_index group, as read
  LogContents log;           // FILE.wal as read (a writer resumes appending to it)
  std::size_t replayed = 0;  // records applied on top of the file
};

// Applies the records of `log` that come after state.checkpoint_lsn, in order; returns how
// many. Throws corruption for a record that does not fit the state.
std::size_t replay_log(StoreState& state, const LogContents& log);

// Reads `path` and its log and replays the log. A log that starts after the file's last
// change means the pair was read while a writer checkpointed (it renames the new file, then
// replaces the log): it is read again, up to `attempts` times in all, then reported as
// corruption. Likewise a missing log with a file replaced while it was read (a writer
// closed: its last checkpoint was renamed in, then the log removed). A writer holding the
// lock passes 1 (nothing can race it); a reader more.
// Every read goes through `file_system`; `reading` as for read_state_file. Throws as
// read_state_file and read_log do.
RecoveredStore recover(FileSystem& file_system, const std::filesystem::path& path, int attempts,
                       const StateReading& reading = {});

}  // namespace edgehdf5::store
