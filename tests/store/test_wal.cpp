// The write-ahead log on its own: records round-trip, a torn tail ends the log, damage
// inside is detected.

#include "store/wal.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <span>

#include "edgehdf5/error.hpp"
#include "store/changes.hpp"
#include "store/posix_file.hpp"
#include "store/schema.hpp"
#include "test_util.hpp"

namespace edgehdf5::store {
namespace {

using testing::TempDir;

TEST(Wal, RecordsRoundTripInOrder) {
  TempDir dir;
  const auto path = dir / "x.wal";
  LogWriter writer = LogWriter::create(posix_file_system(), path, 10);
  EXPECT_TRUE(writer.empty());
  EXPECT_EQ(writer.append(RecordType::remove, "first", false), 11u);
  EXPECT_EQ(writer.append(RecordType::add_entity, std::string(100000, 'x'), true), 12u);
  const LogContents contents = read_log(*posix_file_system(), path);
  EXPECT_EQ(contents.base_lsn, 10u);
  ASSERT_EQ(contents.records.size(), 2u);
  EXPECT_EQ(contents.records[0].payload, "first");
  EXPECT_EQ(contents.records[1].type, RecordType::add_entity);
  EXPECT_EQ(contents.valid_bytes, contents.file_bytes);
}

TEST(Wal, EveryTornTailIsDroppedAndCutOnResume) {
  TempDir dir;
  const auto path = dir / "x.wal";
  {
    LogWriter writer = LogWriter::create(posix_file_system(), path, 0);
    writer.append(RecordType::remove, "one", false);
    writer.append(RecordType::remove, "two", false);
  }
  const std::string whole = *read_file(*posix_file_system(), path, false);
  // Cut the file at every length inside the second record: always exactly one record left.
  ASSERT_EQ(read_log(*posix_file_system(), path).records.size(), 2u);
  const std::size_t second_start = whole.size() - (8 + 9 + 3);
  for (std::size_t length = second_start; length < whole.size(); ++length) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(whole.data(), static_cast<std::streamsize>(length));
    const LogContents contents = read_log(*posix_file_system(), path);
    ASSERT_EQ(contents.records.size(), 1u) << length;
    EXPECT_EQ(contents.valid_bytes, second_start);
  }
  // Resuming cuts the torn bytes, so the next record follows the intact ones.
  LogWriter writer = LogWriter::resume(posix_file_system(), path, read_log(*posix_file_system(), path));
  EXPECT_EQ(writer.append(RecordType::remove, "three", false), 2u);
  const LogContents after = read_log(*posix_file_system(), path);
  ASSERT_EQ(after.records.size(), 2u);
  EXPECT_EQ(after.records[1].payload, "three");
}

TEST(Wal, FlippedBitEndsTheLogAtThatRecord) {
  TempDir dir;
  const auto path = dir / "x.wal";
  {
    LogWriter writer = LogWriter::create(posix_file_system(), path, 0);
    for (int i = 0; i < 3; ++i) writer.append(RecordType::remove, "payload", false);
  }
  std::string bytes = *read_file(*posix_file_system(), path, false);
  bytes[bytes.size() - 2] ^= 0x10;  // inside the last record's payload
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_EQ(read_log(*posix_file_system(), path).records.size(), 2u);
}

TEST(Wal, DamagedHeaderOrForeignFileIsCorruption) {
  TempDir dir;
  const auto path = dir / "x.wal";
  std::ofstream(path) << "definitely not a log file";
  EXPECT_THROW(read_log(*posix_file_system(), path), Error);
  {
    LogWriter writer = LogWriter::create(posix_file_system(), path, 5);
  }
  std::string bytes = *read_file(*posix_file_system(), path, false);
  bytes[9] ^= 1;  // base lsn
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    read_log(*posix_file_system(), path);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::corruption);
    EXPECT_NE(std::string(error.what()).find("damaged header"), std::string::npos);
  }
  EXPECT_FALSE(read_log(*posix_file_system(), dir / "missing.wal").exists);
}

// A record that passed its checksum can still be foreign or forged (the log-replay fuzzer
// forged one): a save whose row count the payload cannot hold is refused as corruption
// before anything is sized by it, not answered with a 64 GiB allocation.
TEST(Wal, ASaveWhoseCountExceedsItsBytesIsCorruption) {
  TempDir dir;
  MemoryConfig config;
  config.path = dir / "x.h5";
  config.embedding_dim = 4;
  StoreState state = empty_state(config);
  const MemoryEntry entry{"text", {1, 0, 0, 0}, "chat", 1.0, "s", ""};
  const std::string payload = encode_save_batch(state, std::span(&entry, 1));
  for (const std::uint32_t count : {2u, 1000u, 0xFFFFFFFFu}) {
    std::string forged = payload;
    std::memcpy(forged.data() + sizeof(std::int64_t), &count, sizeof count);  // after first_id
    StoreState target = empty_state(config);
    try {
      apply_change(target, RecordType::save_batch, forged);
      FAIL() << count;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::corruption) << count;
    }
  }
  apply_change(state, RecordType::save_batch, payload);  // the record as written applies
  EXPECT_EQ(state.columns.rows(), 1u);
}

}  // namespace
}  // namespace edgehdf5::store
