#include "output_file.hpp"

#include <unistd.h>

#include <system_error>

#include "edgehdf5/error.hpp"
#include "store/posix_file.hpp"
#include "store_builder.hpp"

namespace edgehdf5::migrate {
namespace {

namespace fs = std::filesystem;

// The names HDF5Memory gives a store's log and lock beside its file.
fs::path log_path_for(const fs::path& output) { return output.string() + ".wal"; }
fs::path lock_path_for(const fs::path& output) { return output.string() + ".lock"; }

void refuse_existing_output(const fs::path& output) {
  for (const fs::path& path : {output, log_path_for(output)}) {
    std::error_code ignored;
    if (fs::exists(fs::symlink_status(path, ignored))) {
      throw Error(ErrorCode::io,
                  path.string() + " already exists; pass --force to replace it (and its log)");
    }
  }
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::rename(from, to, error);
  if (error) {
    throw Error(ErrorCode::io,
                "cannot rename " + from.string() + " to " + to.string() + ": " + error.message());
  }
}

// Removes the temporary file unless dismissed: whatever stops the install, no half-written
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

}  // namespace

void check_output_path(const fs::path& output, const fs::path& source, bool force) {
  std::error_code error;
  if (fs::equivalent(output, source, error)) {
    throw Error(ErrorCode::invalid_argument,
                "the output " + output.string() + " is the SQLite database itself");
  }
  const fs::path directory = output.parent_path().empty() ? fs::path(".") : output.parent_path();
  if (!fs::is_directory(directory, error)) {
    throw Error(ErrorCode::io, "cannot write " + output.string() + ": directory " +
                                   directory.string() + " does not exist");
  }
  if (fs::is_directory(output, error)) {
    throw Error(ErrorCode::io, "cannot write " + output.string() + ": it is a directory");
  }
  if (!force) refuse_existing_output(output);
}

void install_memory_file(const StoreBuilder& content, const fs::path& output, bool force) {
  TemporaryFile temporary(output.string() + ".migrating-" + std::to_string(::getpid()));
  content.write_file(temporary.path());
  store::sync_file(temporary.path());

  const store::FileLock lock = store::FileLock::acquire(lock_path_for(output), output);
  // Checked again under the lock: another process may have created OUT since the start.
  if (!force) refuse_existing_output(output);
  // The old store's log must not outlive it: replayed onto the new file it would corrupt it.
  // It is set aside before the rename and put back if the rename fails, so a failed install
  // leaves the old store whole; a crash in between leaves it beside OUT, named as below.
  const fs::path log = log_path_for(output);
  const fs::path set_aside = log.string() + ".replaced-" + std::to_string(::getpid());
  std::error_code missing;
  const bool had_log = fs::exists(fs::symlink_status(log, missing));
  if (had_log) rename_or_throw(log, set_aside);
  try {
    store::rename_durably(temporary.path(), output);
  } catch (...) {
    std::error_code ignored;
    if (had_log) fs::rename(set_aside, log, ignored);
    throw;
  }
  if (had_log) fs::remove(set_aside, missing);
  temporary.dismiss();
}

}  // namespace edgehdf5::migrate
