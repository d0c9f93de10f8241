#include "store/wal.hpp"

#include <zlib.h>

#include <cstring>

#include "edgehdf5/error.hpp"
#include "store/byte_codec.hpp"

namespace edgehdf5::store {
namespace {

constexpr char kMagic[8] = {'E', 'H', '5', 'W', 'A', 'L', '0', '1'};
constexpr std::size_t kHeaderSize = 8 + 8 + 4;
constexpr std::size_t kRecordPrefix = 4 + 4;           // body size, checksum
constexpr std::size_t kBodyMinimum = 8 + 1;            // lsn, type

// CRC-32 of `bytes`, continuing from `crc` (the CRC of what came before them).
std::uint32_t checksum(std::string_view bytes, std::uint32_t previous = 0) {
  // zlib's crc32 (already linked by HDF5) over chunks, since uInt may be narrower than size_t.
  uLong crc = previous;
  while (!bytes.empty()) {
    const auto piece = static_cast<uInt>(std::min<std::size_t>(bytes.size(), 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), piece);
    bytes.remove_prefix(piece);
  }
  return static_cast<std::uint32_t>(crc);
}

std::string encode_header(std::uint64_t base_lsn) {
  std::string header(kMagic, sizeof kMagic);
  ByteWriter writer(header);
  writer.put(base_lsn);
  writer.put(checksum(header));
  return header;
}

}  // namespace

LogContents read_log(FileSystem& file_system, const std::filesystem::path& log_path) {
  LogContents contents;
  const std::optional<std::string> read = read_file(file_system, log_path, /*missing_ok=*/true);
  contents.exists = read.has_value();
  if (!contents.exists) return contents;
  const std::string& bytes = *read;
  contents.file_bytes = bytes.size();
  if (bytes.size() < kHeaderSize) {
    // A crash while the header of a fresh log was being written; create() writes it through
    // a temporary and rename, so this only comes from outside damage.
    throw Error(ErrorCode::corruption, "log " + log_path.string() + " has a truncated header");
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    throw Error(ErrorCode::corruption, log_path.string() + " is not an edgehdf5 log");
  }
  ByteReader header(std::string_view(bytes).substr(8, 12));
  contents.base_lsn = header.get<std::uint64_t>();
  if (header.get<std::uint32_t>() != checksum(std::string_view(bytes).substr(0, 16))) {
    throw Error(ErrorCode::corruption, "log " + log_path.string() + " has a damaged header");
  }

  std::size_t offset = kHeaderSize;
  std::uint64_t expected_lsn = contents.base_lsn + 1;
  while (bytes.size() - offset >= kRecordPrefix) {
    ByteReader prefix(std::string_view(bytes).substr(offset, kRecordPrefix));
    const auto body_size = prefix.get<std::uint32_t>();
    const auto body_checksum = prefix.get<std::uint32_t>();
    if (body_size < kBodyMinimum || body_size > bytes.size() - offset - kRecordPrefix) break;
    const std::string_view body = std::string_view(bytes).substr(offset + kRecordPrefix, body_size);
    if (checksum(body) != body_checksum) break;  // torn by a crash: the log ends here
    ByteReader reader(body);
    LogRecord record;
    record.lsn = reader.get<std::uint64_t>();
    record.type = static_cast<RecordType>(reader.get<std::uint8_t>());
    if (record.lsn != expected_lsn) {
      throw Error(ErrorCode::corruption, "log " + log_path.string() + " skips from lsn " +
                                             std::to_string(expected_lsn - 1) + " to " +
                                             std::to_string(record.lsn));
    }
    record.payload.assign(body.substr(kBodyMinimum));
    contents.records.push_back(std::move(record));
    ++expected_lsn;
    offset += kRecordPrefix + body_size;
  }
  contents.valid_bytes = offset;
  return contents;
}

LogWriter LogWriter::create(std::shared_ptr<FileSystem> file_system,
                            const std::filesystem::path& log_path, std::uint64_t base_lsn) {
  write_file_atomically(*file_system, log_path, encode_header(base_lsn));
  AppendFile file = AppendFile::open(std::move(file_system), log_path);
  return LogWriter(std::move(file), base_lsn, base_lsn);
}

LogWriter LogWriter::resume(std::shared_ptr<FileSystem> file_system,
                            const std::filesystem::path& log_path, const LogContents& contents) {
  AppendFile file = AppendFile::open(std::move(file_system), log_path);
  if (file.size() != contents.valid_bytes) {
    file.truncate(contents.valid_bytes);
    file.sync();
  }
  const std::uint64_t last = contents.base_lsn + contents.records.size();
  return LogWriter(std::move(file), contents.base_lsn, last);
}

std::uint64_t LogWriter::append(RecordType type, std::string_view payload, bool sync_now) {
  const std::uint64_t lsn = last_lsn_ + 1;
  const std::size_t body_size = kBodyMinimum + payload.size();
  if (body_size > UINT32_MAX) {
    throw Error(ErrorCode::invalid_argument,
                "a single change of " + std::to_string(body_size) +
                    " bytes is too large for the log (4 GiB at most); split the batch");
  }
  // The record's head (size, checksum, lsn, type) is built here; the payload is written
  // from where it is, so a large batch is not copied once more.
  std::string head;
  head.reserve(kRecordPrefix + kBodyMinimum);
  ByteWriter writer(head);
  writer.put(static_cast<std::uint32_t>(body_size));
  writer.put<std::uint32_t>(0);  // the checksum, filled below
  writer.put(lsn);
  writer.put(static_cast<std::uint8_t>(type));
  const std::uint32_t body_checksum =
      checksum(payload, checksum(std::string_view(head).substr(kRecordPrefix)));
  std::memcpy(head.data() + 4, &body_checksum, 4);
  file_.append({head, payload});
  last_lsn_ = lsn;
  unsynced_ = true;
  if (sync_now) sync();
  return lsn;
}

void LogWriter::sync() {
  if (!unsynced_) return;
  file_.sync();
  unsynced_ = false;
}

bool LogWriter::empty() const noexcept { return last_lsn_ == base_lsn_; }

}  // namespace edgehdf5::store
