#pragma once
// Putting the new memory file at the output path, atomically.
//
// The file is written to OUT.migrating-<pid> beside OUT (same directory, so same file
// system: the rename is atomic), fsynced, then renamed over OUT and the directory fsynced,
// all by MemoryFileBuilder::write, under the store's writer lock OUT.lock: a store another
// process has open for writing is never replaced under it. A failure or a crash at any
// point leaves OUT as it was: absent, or the file it held.

#include <filesystem>

#include "edgehdf5/memory_file_builder.hpp"

namespace edgehdf5::migrate {

// The checks worth making before reading anything: OUT is not the source database, its
// directory exists, and without `force` neither OUT nor its log OUT.wal exists.
// Throws Error(io) or Error(invalid_argument) saying which.
void check_output_path(const std::filesystem::path& output, const std::filesystem::path& source,
                       bool force);

// Writes `content` to `output` as described above. With `force`, an existing OUT is replaced
// and its log OUT.wal removed (replaying it onto the new file would corrupt it); without,
// an OUT or OUT.wal that appeared since check_output_path is refused as it refuses them.
void install_memory_file(const MemoryFileBuilder& content, const std::filesystem::path& output,
                         bool force);

}  // namespace edgehdf5::migrate
