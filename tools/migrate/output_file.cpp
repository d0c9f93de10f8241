#include "output_file.hpp"

#include <unistd.h>

#include <string>
#include <system_error>

#include "edgehdf5/error.hpp"

namespace edgehdf5::migrate {
namespace {

namespace fs = std::filesystem;

// The name HDF5Memory gives a store's log beside its file.
fs::path log_path_for(const fs::path& output) { return output.string() + ".wal"; }

void refuse_existing_output(const fs::path& output) {
  for (const fs::path& path : {output, log_path_for(output)}) {
    std::error_code ignored;
    if (fs::exists(fs::symlink_status(path, ignored))) {
      throw Error(ErrorCode::io,
                  path.string() + " already exists; pass --force to replace it (and its log)");
    }
  }
}

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

void install_memory_file(const MemoryFileBuilder& content, const fs::path& output, bool force) {
  const MemoryFileWriteOptions options{
      .replace = force, .temporary_suffix = ".migrating-" + std::to_string(::getpid())};
  try {
    content.write(output, options);
  } catch (const Error& error) {
    // The builder refuses an OUT (or OUT.wal) created by another process since the start in
    // its own words; say it in the tool's, which name the flag.
    if (!force && error.code() == ErrorCode::io) refuse_existing_output(output);
    throw;
  }
}

}  // namespace edgehdf5::migrate
