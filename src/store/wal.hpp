#pragma once
// The write-ahead log (FILE.wal): every change since the last checkpoint, in order.
//
// Layout: a 20-byte header (magic "EH5WAL01", u64 base_lsn, u32 crc32 of both), then
// records: u32 body_size, u32 crc32(body), body = u64 lsn, u8 type, payload. Record lsns
// are base_lsn+1, base_lsn+2, ... A record is applied only if its checksum holds, so a
// record torn by a crash is recognised and dropped, never half-applied; a batch is one
// record, so it is all or nothing.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/posix_file.hpp"

namespace edgehdf5::store {

enum class RecordType : std::uint8_t {
  save_batch = 1,
  remove = 2,
  add_session = 3,
  add_entity = 4,
  add_relation = 5,
  add_observation = 6,
  remove_entity = 7,     // with its relations and observations
  remove_relations = 8,  // every relation source -[type]-> target
  remove_observation = 9,
};

struct LogRecord {
  std::uint64_t lsn = 0;
  RecordType type = RecordType::save_batch;
  std::string payload;
};

struct LogContents {
  bool exists = false;
  std::uint64_t base_lsn = 0;
  std::vector<LogRecord> records;
  std::uint64_t valid_bytes = 0;  // header plus every intact record
  std::uint64_t file_bytes = 0;   // more than valid_bytes when the tail is torn
};

// Reads FILE.wal. A missing log reads as empty. Throws corruption for a damaged header or
// records out of sequence (a torn or damaged tail is not an error: it ends the log).
LogContents read_log(FileSystem& file_system, const std::filesystem::path& log_path);

class LogWriter {
 public:
  // Replaces the log with an empty one starting after `base_lsn` (atomically).
  static LogWriter create(std::shared_ptr<FileSystem> file_system,
                          const std::filesystem::path& log_path, std::uint64_t base_lsn);
  // Continues an existing log whose intact part is `contents`, cutting off a torn tail.
  static LogWriter resume(std::shared_ptr<FileSystem> file_system,
                          const std::filesystem::path& log_path, const LogContents& contents);

  // Appends one record with the next lsn and returns that lsn. Nothing is appended if it
  // throws. `sync` fsyncs before returning.
  std::uint64_t append(RecordType type, std::string_view payload, bool sync);
  void sync();
  std::uint64_t last_lsn() const noexcept { return last_lsn_; }
  std::uint64_t size_bytes() const noexcept { return file_.size(); }
  bool empty() const noexcept;

 private:
  LogWriter(AppendFile file, std::uint64_t base_lsn, std::uint64_t last_lsn)
      : file_(std::move(file)), base_lsn_(base_lsn), last_lsn_(last_lsn) {}
  AppendFile file_;
  std::uint64_t base_lsn_;
  std::uint64_t last_lsn_;
  bool unsynced_ = false;
};

}  // namespace edgehdf5::store
