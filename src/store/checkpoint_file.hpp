#pragma once
// Putting a whole state at a path so that a crash at any moment leaves the old file or the
// new one, never a torn one: what a checkpoint, a snapshot and MemoryFileBuilder write.

#include <filesystem>

#include "edgehdf5/file_system.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "store/schema.hpp"

namespace edgehdf5::store {

// Writes `state` (with the groups of `derived`) to `temporary`, fsyncs it,
// renames it over `target` and fsyncs the directory. On failure the temporary is removed
// and `target` is as it was. REQUIRES: both paths in one directory (the rename is atomic).
// Every file operation goes through `file_system`; HDF5 writes through it too.
// `renamed`, when given, tells a caller that catches an error whether the new file had
// replaced `target` already (only the directory's fsync failed) or not (target unchanged).
void write_file_atomically(FileSystem& file_system, const std::filesystem::path& target,
                           const std::filesystem::path& temporary, const StoreState& state,
                           const DerivedData& derived, bool* renamed = nullptr);

// As write_file_atomically, for a file that becomes a store of its own without a log (a
// snapshot, a built file): a log an earlier store left beside `target` is renamed aside
// before the rename and removed after it, or put back if the rename fails, so it can never
// be replayed onto the new file (a crash in between leaves it under the set-aside name).
// REQUIRES: the caller holds target's writer lock, so no store is writing it meanwhile.
void install_store_file(FileSystem& file_system, const std::filesystem::path& target,
                        const std::filesystem::path& temporary, const StoreState& state,
                        const DerivedData& derived);

}  // namespace edgehdf5::store
