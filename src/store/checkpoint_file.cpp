#include "store/checkpoint_file.hpp"

#include <unistd.h>

#include <string>

#include "edgehdf5/error.hpp"
#include "store/posix_file.hpp"
#include "store/sidecar_paths.hpp"

namespace edgehdf5::store {
namespace {

namespace fs = std::filesystem;

// Removes the temporary file unless dismissed: whatever stops the write, no half-written
// file is left behind.
class TemporaryFile {
 public:
  TemporaryFile(FileSystem& file_system, fs::path path)
      : file_system_(file_system), path_(std::move(path)) {}
  ~TemporaryFile() {
    if (!path_.empty()) remove_file(file_system_, path_);
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const fs::path& path() const noexcept { return path_; }
  void dismiss() noexcept { path_.clear(); }

 private:
  FileSystem& file_system_;
  fs::path path_;
};

// Holds `target`'s log under another name for the time of the rename of the new file over
// `target`, and puts it back unless drop() says the new file is in place.
class LogSetAside {
 public:
  LogSetAside(FileSystem& file_system, const fs::path& target)
      : file_system_(file_system),
        log_(log_path_for(target)),
        set_aside_(log_.string() + ".replaced-" + std::to_string(::getpid())) {
    if (!path_is_taken(file_system_, log_)) return;
    rename_file(file_system_, log_, set_aside_);
    held_ = true;
  }
  ~LogSetAside() {
    if (held_) file_system_.rename(set_aside_, log_);
  }
  LogSetAside(const LogSetAside&) = delete;
  LogSetAside& operator=(const LogSetAside&) = delete;
  void drop() noexcept {
    if (held_) remove_file(file_system_, set_aside_);
    held_ = false;
  }

 private:
  FileSystem& file_system_;
  fs::path log_;
  fs::path set_aside_;
  bool held_ = false;
};

// The new file, complete and on disk, at `temporary`. HDF5 writes it through the seam as it
// goes (h5/seam_driver.hpp): a failing write or fsync is our Error(io), and HDF5 never sees
// the failure, so it has no failed write of its own to clean up (the SIGSEGV in its close
// path that a failing pwrite used to cause).
void stage(FileSystem& file_system, const TemporaryFile& temporary, const StoreState& state,
           const DerivedData& derived) {
  write_state_file(file_system, temporary.path(), state, derived.ivfpq, derived.keywords);
}

}  // namespace

void write_file_atomically(FileSystem& file_system, const fs::path& target,
                           const fs::path& temporary, const StoreState& state,
                           const DerivedData& derived, bool* renamed) {
  if (renamed != nullptr) *renamed = false;
  TemporaryFile staged(file_system, temporary);
  stage(file_system, staged, state, derived);
  rename_file(file_system, staged.path(), target);
  staged.dismiss();
  if (renamed != nullptr) *renamed = true;
  sync_directory(file_system, target.parent_path());
}

void install_store_file(FileSystem& file_system, const fs::path& target,
                        const fs::path& temporary, const StoreState& state,
                        const DerivedData& derived) {
  TemporaryFile staged(file_system, temporary);
  stage(file_system, staged, state, derived);
  LogSetAside old_log(file_system, target);
  rename_file(file_system, staged.path(), target);
  staged.dismiss();
  // The new file is in place from here on: the old log must not come back, even if the
  // directory's fsync fails (which throws, after it is gone).
  old_log.drop();
  sync_directory(file_system, target.parent_path());
}

}  // namespace edgehdf5::store
