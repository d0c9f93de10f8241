#pragma once
// The files that live beside a memory file FILE (README, "Durability"): FILE.wal, the log
// of changes since the last checkpoint; FILE.lock, the inter-process writer lock; FILE.tmp,
// a checkpoint being written (renamed over FILE when complete).

#include <filesystem>

namespace edgehdf5::store {

inline std::filesystem::path log_path_for(const std::filesystem::path& path) {
  return path.string() + ".wal";
}
inline std::filesystem::path lock_path_for(const std::filesystem::path& path) {
  return path.string() + ".lock";
}
inline std::filesystem::path checkpoint_temporary_for(const std::filesystem::path& path) {
  return path.string() + ".tmp";
}

}  // namespace edgehdf5::store
