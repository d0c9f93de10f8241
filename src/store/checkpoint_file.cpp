#include "store/checkpoint_file.hpp"

#include <unistd.h>

#include <string>
#include <system_error>

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
  explicit TemporaryFile(fs::path path) : path_(std::move(path)) {}
  ~TemporaryFile() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove(path_, ignored);
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const fs::path& path() const noexcept { return path_; }
  void dismiss() noexcept { path_.clear(); }

 private:
  fs::path path_;
};

// Holds `target`'s log under another name for the time of the rename of the new file over
// `target`, and puts it back unless drop() says the new file is in place.
class LogSetAside {
 public:
  explicit LogSetAside(const fs::path& target)
      : log_(log_path_for(target)),
        set_aside_(log_.string() + ".replaced-" + std::to_string(::getpid())) {
    if (!path_is_taken(log_)) return;
    std::error_code error;
    fs::rename(log_, set_aside_, error);
    if (error) {
      throw Error(ErrorCode::io, "cannot rename " + log_.string() + " to " +
                                     set_aside_.string() + ": " + error.message());
    }
    held_ = true;
  }
  ~LogSetAside() {
    std::error_code ignored;
    if (held_) fs::rename(set_aside_, log_, ignored);
  }
  LogSetAside(const LogSetAside&) = delete;
  LogSetAside& operator=(const LogSetAside&) = delete;
  void drop() noexcept {
    std::error_code ignored;
    if (held_) fs::remove(set_aside_, ignored);
    held_ = false;
  }

 private:
  fs::path log_;
  fs::path set_aside_;
  bool held_ = false;
};

// The new file, complete and on disk, at `temporary`.
void stage(const TemporaryFile& temporary, const StoreState& state, const IVFPQData* index) {
  write_state_file(temporary.path(), state, index);
  sync_file(temporary.path());
}

}  // namespace

void write_file_atomically(const fs::path& target, const fs::path& temporary,
                           const StoreState& state, const IVFPQData* index) {
  TemporaryFile staged(temporary);
  stage(staged, state, index);
  rename_durably(staged.path(), target);
  staged.dismiss();
}

void install_store_file(const fs::path& target, const fs::path& temporary,
                        const StoreState& state, const IVFPQData* index) {
  TemporaryFile staged(temporary);
  stage(staged, state, index);
  LogSetAside old_log(target);
  rename_durably(staged.path(), target);
  staged.dismiss();
  old_log.drop();
}

}  // namespace edgehdf5::store
