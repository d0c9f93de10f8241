#pragma once
// Putting the new memory file at the output path, atomically.
//
// The file is written to OUT.migrating-<pid> beside OUT (same directory, so same file
// system: the rename is atomic), fsynced, then renamed over OUT and the directory fsynced.
// A failure or a crash at any point leaves OUT as it was: absent, or the file it held.
// The store's writer lock (OUT.lock) is held around the rename, so a store another process
// has open for writing is never replaced under it.

#include <filesystem>

namespace edgehdf5::migrate {

class StoreBuilder;

// The checks worth making before reading anything: OUT is not the source database, its
// directory exists, and without `force` neither OUT nor its log OUT.wal exists.
// Throws Error(io) or Error(invalid_argument) saying which.
void check_output_path(const std::filesystem::path& output, const std::filesystem::path& source,
                       bool force);

// Writes `content` to `output` as described above. With `force`, an existing OUT is replaced
// and its log OUT.wal removed (replaying it onto the new file would corrupt it).
void install_memory_file(const StoreBuilder& content, const std::filesystem::path& output,
                         bool force);

}  // namespace edgehdf5::migrate
