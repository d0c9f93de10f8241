#include "store/recovery.hpp"

#include <string>
#include <utility>

#include "edgehdf5/error.hpp"
#include "store/changes.hpp"
#include "store/sidecar_paths.hpp"

namespace edgehdf5::store {

std::size_t replay_log(StoreState& state, const LogContents& log) {
  std::size_t replayed = 0;
  for (const LogRecord& record : log.records) {
    if (record.lsn <= state.checkpoint_lsn) continue;  // the file holds it already
    apply_change(state, record.type, record.payload);
    state.last_lsn = record.lsn;
    ++replayed;
  }
  return replayed;
}

RecoveredStore recover(FileSystem& file_system, const std::filesystem::path& path,
                       int attempts, const StateReading& reading) {
  const std::filesystem::path log_path = log_path_for(path);
  for (int attempt = 1;; ++attempt) {
    RecoveredStore recovered;
    const auto file_read = file_identity(file_system, path);
    recovered.state = read_state_file(file_system, path, &recovered.index, reading,
                                      &recovered.keywords);
    recovered.log = read_log(file_system, log_path);
    // A writer that closes renames its last checkpoint over the file, then removes the log:
    // a missing log read after the old file's turn means the file we read is not the latest.
    if (!recovered.log.exists && attempt < attempts &&
        file_identity(file_system, path) != file_read) {
      continue;
    }
    const std::uint64_t checkpoint = recovered.state.checkpoint_lsn;
    if (recovered.log.exists && recovered.log.base_lsn > checkpoint) {
      if (attempt < attempts) continue;
      throw Error(ErrorCode::corruption,
                  log_path.string() + " continues from change " +
                      std::to_string(recovered.log.base_lsn) + " but " + path.string() +
                      " holds changes up to " + std::to_string(checkpoint) +
                      " only: the two files do not belong together" +
                      (attempts > 1 ? " (read " + std::to_string(attempts) + " times)" : ""));
    }
    recovered.replayed = replay_log(recovered.state, recovered.log);
    return recovered;
  }
}

}  // namespace edgehdf5::store
