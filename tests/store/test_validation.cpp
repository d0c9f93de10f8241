// Bad input gets a precise error and changes nothing; damaged files are named precisely.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "edgehdf5/error.hpp"
#include "edgehdf5/memory.hpp"
#include "h5/h5.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::expect_error;
using testing::make_entries;
using testing::TempDir;

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    MemoryConfig config;
    config.path = dir_ / "m.h5";
    config.embedding_dim = 4;
    memory_.emplace(HDF5Memory::create(config));
    memory_->save_batch(make_entries(3, 4));
    memory_->flush();
    log_size_ = std::filesystem::file_size(dir_ / "m.h5.wal");
  }
  void expect_unchanged() {
    EXPECT_EQ(memory_->count(), 3u);
    EXPECT_EQ(std::filesystem::file_size(dir_ / "m.h5.wal"), log_size_);
  }
  TempDir dir_;
  std::optional<HDF5Memory> memory_;
  std::uintmax_t log_size_ = 0;
};

TEST_F(BadInput, EmbeddingsAreChecked) {
  MemoryEntry entry = make_entries(1, 4)[0];
  entry.embedding = {1, 2, 3};
  expect_error([&] { memory_->save(entry); }, ErrorCode::invalid_argument,
               "embedding has 3 values, the store's embedding_dim is 4");
  entry.embedding = {};
  expect_error([&] { memory_->save(entry); }, ErrorCode::invalid_argument, "embedding is empty");
  entry.embedding = {1, std::nanf(""), 0, 0};
  expect_error([&] { memory_->save(entry); }, ErrorCode::invalid_argument,
               "embedding value 1 is NaN");
  entry.embedding = {1, 0, 0, -std::numeric_limits<float>::infinity()};
  expect_error([&] { memory_->save(entry); }, ErrorCode::invalid_argument,
               "embedding value 3 is infinite");
  expect_unchanged();
}

TEST_F(BadInput, ABatchWithOneBadEntrySavesNothing) {
  auto entries = make_entries(5, 4, 9);
  entries[3].embedding[2] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { memory_->save_batch(entries); }, ErrorCode::invalid_argument,
               "entry 3: embedding value 2 is NaN");
  entries[3].embedding[2] = 0;
  entries[4].chunk = std::string("bad \xff utf-8");
  expect_error([&] { memory_->save_batch(entries); }, ErrorCode::invalid_argument,
               "entry 4: chunk is not valid UTF-8");
  entries[4].chunk = std::string("nul\0inside", 10);
  expect_error([&] { memory_->save_batch(entries); }, ErrorCode::invalid_argument,
               "entry 4: chunk contains a NUL byte");
  expect_unchanged();
}

TEST_F(BadInput, UnknownIdsAndBadQueries) {
  expect_error([&] { memory_->get(17); }, ErrorCode::not_found, "no active memory with id 17");
  expect_error([&] { memory_->remove(-1); }, ErrorCode::not_found, "id -1");
  const std::vector<float> query{1, 0, 0, 0};
  expect_error([&] { memory_->search(query, 0); }, ErrorCode::invalid_argument, "k must be");
  expect_error([&] { memory_->search(std::vector<float>{1, 0}, 3); },
               ErrorCode::invalid_argument, "query has 2 dimensions");
  expect_error([&] { memory_->add_session("s", 5, 2, "chat", ""); },
               ErrorCode::invalid_argument, "[5, 2)");
  expect_unchanged();
  EXPECT_EQ(memory_->search(query, 100).size(), 3u);  // k > N: all of them
}

TEST(BadConfig, IsRefusedBeforeAnyFileIsMade) {
  TempDir dir;
  MemoryConfig config;
  config.path = dir / "m.h5";
  config.embedding_dim = 0;
  expect_error([&] { HDF5Memory::create(config); }, ErrorCode::invalid_argument, "embedding_dim");
  config.embedding_dim = 8;
  config.compression = true;
  config.compression_level = 10;
  expect_error([&] { HDF5Memory::create(config); }, ErrorCode::invalid_argument,
               "compression_level must be 1..9");
  EXPECT_FALSE(std::filesystem::exists(config.path));
}

TEST(FloatSixteen, ValuesBeyondHalfRangeAreRefused) {
  TempDir dir;
  MemoryConfig config;
  config.path = dir / "m.h5";
  config.embedding_dim = 2;
  config.float16 = true;
  HDF5Memory memory = HDF5Memory::create(config);
  MemoryEntry entry;
  entry.embedding = {70000.0f, 1.0f};
  expect_error([&] { memory.save(entry); }, ErrorCode::invalid_argument,
               "outside the float16 range");
}

// ---- damaged files -----------------------------------------------------------------------------

class DamagedFile : public ::testing::Test {
 protected:
  void SetUp() override {
    MemoryConfig config;
    config.path = path_;
    config.embedding_dim = 4;
    HDF5Memory memory = HDF5Memory::create(config);
    memory.save_batch(make_entries(3, 4));
    memory.close();
    std::filesystem::remove(dir_ / "m.h5.wal");
  }
  // Edits the file with the raw C API, as a foreign tool would.
  template <typename Edit>
  void edit(Edit edit_file) {
    const hid_t file = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    edit_file(file);
    H5Fclose(file);
  }
  void expect_open_error(ErrorCode code, const std::string& fragment) {
    expect_error([&] { HDF5Memory::open(path_, OpenOptions{.read_only = true}); }, code, fragment);
    // verify reports the same problem.
    const auto problems = verify_file(path_);
    ASSERT_FALSE(problems.empty());
    EXPECT_NE(problems.front().find(fragment), std::string::npos) << problems.front();
  }
  TempDir dir_;
  std::filesystem::path path_ = dir_ / "m.h5";
};

TEST_F(DamagedFile, MissingDatasetIsNamed) {
  edit([](hid_t file) { H5Ldelete(file, "/memory/norms", H5P_DEFAULT); });
  expect_open_error(ErrorCode::schema, "missing dataset /memory/norms");
}

TEST_F(DamagedFile, MisSizedDatasetIsNamed) {
  edit([](hid_t file) {
    H5Ldelete(file, "/memory/timestamps", H5P_DEFAULT);
    const hsize_t two = 2;
    const hid_t space = H5Screate_simple(1, &two, nullptr);
    const hid_t dataset = H5Dcreate2(file, "/memory/timestamps", H5T_IEEE_F64LE, space,
                                     H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(dataset);
    H5Sclose(space);
  });
  expect_open_error(ErrorCode::schema, "/memory/timestamps has 2 rows, expected 3");
}

TEST_F(DamagedFile, WrongDtypeIsNamed) {
  edit([](hid_t file) {
    H5Ldelete(file, "/memory/tombstones", H5P_DEFAULT);
    const hsize_t three = 3;
    const hid_t space = H5Screate_simple(1, &three, nullptr);
    const hid_t dataset = H5Dcreate2(file, "/memory/tombstones", H5T_IEEE_F32LE, space,
                                     H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(dataset);
    H5Sclose(space);
  });
  expect_open_error(ErrorCode::schema, "/memory/tombstones must hold integers, found float32");
}

TEST_F(DamagedFile, WrongSchemaVersionIsNamed) {
  edit([](hid_t file) {
    const hid_t meta = H5Gopen2(file, "/meta", H5P_DEFAULT);
    H5Adelete(meta, "schema_version");
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 4);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(meta, "schema_version", type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attribute, type, "2.0");
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
    H5Gclose(meta);
  });
  expect_open_error(ErrorCode::schema, "unsupported schema_version '2.0'");
}

TEST_F(DamagedFile, EmbeddingWidthMustMatchTheDimension) {
  edit([](hid_t file) {
    const hid_t meta = H5Gopen2(file, "/meta", H5P_DEFAULT);
    const hid_t attribute = H5Aopen(meta, "embedding_dim", H5P_DEFAULT);
    const std::int64_t five = 5;
    H5Awrite(attribute, H5T_NATIVE_INT64, &five);
    H5Aclose(attribute);
    H5Gclose(meta);
  });
  expect_open_error(ErrorCode::schema,
                    "/memory/embeddings has 4 columns but /meta/embedding_dim is 5");
}

TEST_F(DamagedFile, TruncatedAndForeignFilesAreRefused) {
  std::filesystem::resize_file(path_, std::filesystem::file_size(path_) / 3);
  expect_error([&] { HDF5Memory::open(path_); }, ErrorCode::hdf5, path_.string());
  std::ofstream(path_, std::ios::trunc) << "PK\x03\x04 a zip file, say";
  expect_error([&] { HDF5Memory::open(path_); }, ErrorCode::hdf5, "is not an HDF5 file");
}

TEST_F(DamagedFile, VerifyFindsWrongNorms) {
  edit([](hid_t file) {
    const hid_t dataset = H5Dopen2(file, "/memory/norms", H5P_DEFAULT);
    const float norms[3] = {1, 2, 3};
    H5Dwrite(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, norms);
    H5Dclose(dataset);
  });
  const auto problems = verify_file(path_);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_NE(problems[0].find("/memory row 0 (id 0): stored norm"), std::string::npos);
  EXPECT_TRUE(verify_file(dir_ / "absent.h5").size() == 1);
}

}  // namespace
}  // namespace edgehdf5
