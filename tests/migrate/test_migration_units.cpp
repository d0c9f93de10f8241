// Unit tests of edgehdf5-migrate's pieces: the position -> id mapping that keeps sessions and
// entities pointing at the same chunks, and the checks on single SQLite values.
// The tool as a whole is tested end to end by test_migrate.py.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cell_values.hpp"
#include "chunk_positions.hpp"
#include "sqlite_database.hpp"

namespace edgehdf5::migrate {
namespace {

// ---- ChunkPositions --------------------------------------------------------------------------

TEST(ChunkPositions, EveryRowWrittenMapsPositionsToEqualIds) {
  ChunkPositions positions;
  for (int i = 0; i < 5; ++i) positions.add_written();
  for (std::size_t p = 0; p < 5; ++p) {
    EXPECT_EQ(positions.memory_at(p), static_cast<MemoryId>(p));
    EXPECT_EQ(positions.first_id_from(p), static_cast<MemoryId>(p));
  }
  EXPECT_EQ(positions.first_id_from(5), 5);  // the end of a range past the last row
}

TEST(ChunkPositions, LeftOutRowsShiftLaterIdsAndEmptyTheirRanges) {
  // Positions 0..5, with 1, 2 and 5 left out: ids 0 (p0), 1 (p3), 2 (p4).
  ChunkPositions positions;
  for (const bool written : {true, false, false, true, true, false}) {
    written ? positions.add_written() : positions.add_left_out();
  }
  EXPECT_EQ(positions.memory_at(0), 0);
  EXPECT_EQ(positions.memory_at(1), std::nullopt);
  EXPECT_EQ(positions.memory_at(3), 1);
  EXPECT_EQ(positions.memory_at(4), 2);
  EXPECT_EQ(positions.memory_at(5), std::nullopt);
  // [1, 3) held only left-out rows: an empty range.
  EXPECT_EQ(positions.first_id_from(1), positions.first_id_from(3));
  // [0, 6) holds ids [0, 3); [2, 5) holds p3 and p4, ids [1, 3).
  EXPECT_EQ(positions.first_id_from(0), 0);
  EXPECT_EQ(positions.first_id_from(6), 3);
  EXPECT_EQ(positions.first_id_from(2), 1);
  EXPECT_EQ(positions.first_id_from(5), 3);
}

TEST(ChunkPositions, NoRows) {
  const ChunkPositions positions;
  EXPECT_EQ(positions.positions(), 0u);
  EXPECT_EQ(positions.first_id_from(0), 0);
}

// ---- embeddings ------------------------------------------------------------------------------

std::string little_endian_blob(const std::vector<float>& values) {
  std::string blob;
  for (const float value : values) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    for (int byte = 0; byte < 4; ++byte) blob += static_cast<char>((bits >> (8 * byte)) & 0xff);
  }
  return blob;
}

std::string refusal(const auto& call) {
  try {
    call();
  } catch (const RowError& error) {
    return error.what();
  }
  return "(accepted)";
}

TEST(DecodeEmbedding, ReadsLittleEndianFloat32BitForBit) {
  const std::vector<float> values = {1.0f, -0.0f, 1e-40f, 3.4e38f, -2.5f};
  std::vector<float> decoded;
  decode_embedding(little_endian_blob(values), values.size(), false, decoded);
  ASSERT_EQ(decoded.size(), values.size());
  EXPECT_EQ(std::memcmp(decoded.data(), values.data(), values.size() * sizeof(float)), 0);
}

TEST(DecodeEmbedding, RefusesWrongLengthsAndNonFiniteValues) {
  std::vector<float> out;
  const std::string three = little_endian_blob({1, 2, 3});
  EXPECT_EQ(refusal([&] { decode_embedding(three, 4, false, out); }),
            "embedding has 12 bytes, not 16 (4 float32 values)");
  EXPECT_EQ(refusal([&] { decode_embedding(three, 2, false, out); }),
            "embedding has 12 bytes, not 8 (2 float32 values)");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(refusal([&] {
              decode_embedding(little_endian_blob({0, nan}), 2, false, out);
            }),
            "embedding value 1 is NaN");
  EXPECT_EQ(refusal([&] {
              decode_embedding(little_endian_blob({-inf, 0}), 2, false, out);
            }),
            "embedding value 0 is infinite");
}

TEST(DecodeEmbedding, Float16RangeIsCheckedOnlyForFloat16) {
  std::vector<float> out;
  const std::string blob = little_endian_blob({65504.0f, -65520.0f});
  EXPECT_EQ(refusal([&] { decode_embedding(blob, 2, true, out); }),
            "embedding value 1 (-65520) is outside the float16 range");
  EXPECT_EQ(refusal([&] { decode_embedding(blob, 2, false, out); }), "(accepted)");
}

// ---- single values, as SQLite hands them over ------------------------------------------------

class CellValues : public ::testing::Test {
 protected:
  // One row of values: NULL, text, invalid UTF-8, a real, numeric text, an integer, a blob,
  // text with a NUL byte, an empty blob.
  void SetUp() override {
    row_.emplace(database_.prepare(
        "SELECT NULL, 'café', CAST(x'ff61' AS TEXT), 1.5, '1718000000.25', 42, x'0000803f', "
        "CAST(x'610062' AS TEXT), x''"));
    ASSERT_TRUE(row_->step());
  }
  SqliteDatabase database_ = SqliteDatabase::open_read_write(":memory:");
  std::optional<SqliteStatement> row_;
};

TEST_F(CellValues, Text) {
  EXPECT_EQ(text_value(*row_, 0, "tags"), "");
  EXPECT_EQ(text_value(*row_, 1, "tags"), "café");
  EXPECT_EQ(text_value(*row_, 5, "tags"), "42");
  EXPECT_EQ(refusal([&] { text_value(*row_, 2, "chunk"); }), "chunk is not valid UTF-8");
  EXPECT_EQ(refusal([&] { text_value(*row_, 7, "chunk"); }), "chunk contains a NUL byte");
  EXPECT_EQ(refusal([&] { nonempty_text_value(*row_, 0, "name"); }), "name is empty");
}

TEST_F(CellValues, Timestamps) {
  EXPECT_EQ(timestamp_value(*row_, 3, "timestamp"), 1.5);
  EXPECT_EQ(timestamp_value(*row_, 4, "timestamp"), 1718000000.25);
  EXPECT_EQ(timestamp_value(*row_, 5, "timestamp"), 42.0);
  EXPECT_EQ(refusal([&] { timestamp_value(*row_, 0, "timestamp"); }),
            "timestamp is NULL, not a number");
  EXPECT_EQ(refusal([&] { timestamp_value(*row_, 1, "timestamp"); }),
            "timestamp is text that is not a number ('café')");
  EXPECT_EQ(refusal([&] { timestamp_value(*row_, 6, "timestamp"); }),
            "timestamp is a BLOB, not a number");
}

TEST_F(CellValues, IntegersAndFlags) {
  EXPECT_EQ(integer_value(*row_, 5, "id"), 42);
  EXPECT_EQ(optional_integer_value(*row_, 0, "embedding_idx"), std::nullopt);
  EXPECT_EQ(refusal([&] { integer_value(*row_, 3, "id"); }), "id is a real, not an integer");
  EXPECT_FALSE(deleted_value(*row_, 0));
  EXPECT_TRUE(deleted_value(*row_, 5));
  EXPECT_EQ(refusal([&] { deleted_value(*row_, 1); }), "deleted is text, not an integer");
}

TEST_F(CellValues, EmbeddingBlobs) {
  EXPECT_EQ(embedding_blob(*row_, 6).size(), 4u);
  EXPECT_EQ(refusal([&] { embedding_blob(*row_, 0); }),
            "embedding is NULL, not a BLOB of float32 values");
  EXPECT_EQ(refusal([&] { embedding_blob(*row_, 1); }),
            "embedding is text, not a BLOB of float32 values");
  EXPECT_EQ(refusal([&] { embedding_blob(*row_, 8); }), "embedding is an empty BLOB");
}

}  // namespace
}  // namespace edgehdf5::migrate
