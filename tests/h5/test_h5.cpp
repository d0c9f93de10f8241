// The checked HDF5 wrapper: values round-trip, errors carry HDF5's message, no handle leaks.

#include "h5/h5.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "edgehdf5/error.hpp"
#include "test_util.hpp"

namespace edgehdf5::h5 {
namespace {

using edgehdf5::testing::TempDir;

// Every object HDF5 still has open, in every file: must be 0 between operations.
ssize_t open_objects() { return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL); }

TEST(H5, AttributesAndDatasetsRoundTrip) {
  TempDir dir;
  const auto path = dir / "a.h5";
  {
    Object file = create_file(path);
    Object group = create_group(file, "g");
    write_attribute(group, "text", std::string_view("héllo"));
    write_attribute(group, "number", std::int64_t{-42});
    write_attribute(group, "real", 2.5);
    write_dataset(group, "doubles", std::vector<double>{1.5, -2.0}, {});
    write_dataset(group, "bytes", std::vector<std::uint8_t>{0, 1, 255}, {6});
    write_dataset(group, "strings", std::vector<std::string>{"", "a", "ünïcode ✓"}, {});
    // One long string among short ones: padding would cost more than the heap.
    write_dataset(group, "ragged", std::vector<std::string>{"x", "y", std::string(500, 'z')}, {});
    const std::vector<float> matrix{1, 2, 3, 4, 5, 6};
    write_matrix(group, "matrix", matrix.data(), 2, 3, {9});
    const std::vector<std::uint16_t> half{0x3c00, 0xc000};
    write_half_matrix(group, "half", half.data(), 1, 2, {});
    write_dataset(group, "empty", std::vector<std::int64_t>{}, {4});
    file.close();
  }
  EXPECT_EQ(open_objects(), 0);
  {
    Object file = open_file_read_only(path);
    Object group = open_group(file, "g");
    EXPECT_EQ(read_string_attribute(group, "text"), "héllo");
    EXPECT_EQ(read_int_attribute(group, "number"), -42);
    EXPECT_EQ(read_double_attribute(group, "real"), 2.5);
    EXPECT_EQ(read_double_attribute(group, "number"), -42.0);  // integers widen to double

    Object strings = open_dataset(group, "strings");
    EXPECT_EQ(read_strings(strings), (std::vector<std::string>{"", "a", "ünïcode ✓"}));
    EXPECT_EQ(describe(strings).describe_type(), "fixed-length string[13]");  // "ünïcode ✓" in UTF-8
    Object ragged = open_dataset(group, "ragged");
    EXPECT_TRUE(describe(ragged).variable_string);
    EXPECT_EQ(read_strings(ragged), (std::vector<std::string>{"x", "y", std::string(500, 'z')}));

    Object bytes = open_dataset(group, "bytes");
    std::vector<std::uint8_t> read_bytes(3);
    read_into(bytes, read_bytes.data());
    EXPECT_EQ(read_bytes, (std::vector<std::uint8_t>{0, 1, 255}));

    Object matrix = open_dataset(group, "matrix");
    const DatasetInfo info = describe(matrix);
    EXPECT_EQ(info.dims, (std::vector<hsize_t>{2, 3}));
    EXPECT_EQ(info.describe_type(), "float32");
    std::vector<float> values(6);
    read_into(matrix, values.data());
    EXPECT_EQ(values, (std::vector<float>{1, 2, 3, 4, 5, 6}));

    Object half = open_dataset(group, "half");
    EXPECT_EQ(describe(half).describe_type(), "float16");
    std::vector<std::uint16_t> bits(2);
    read_half_into(half, bits.data());
    EXPECT_EQ(bits, (std::vector<std::uint16_t>{0x3c00, 0xc000}));
    std::vector<float> widened(2);
    read_into(half, widened.data());  // HDF5 converts half to float itself
    EXPECT_EQ(widened, (std::vector<float>{1.0f, -2.0f}));

    EXPECT_EQ(describe(open_dataset(group, "empty")).dims, (std::vector<hsize_t>{0}));
  }
  EXPECT_EQ(open_objects(), 0);
}

TEST(H5, FixedLengthStringsArePaddingStripped) {
  TempDir dir;
  const auto path = dir / "fixed.h5";
  {
    // Built with the raw C API, as the original tool's files were: null-padded, width 6.
    Object file = create_file(path);
    Object type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type.id(), 6);
    H5Tset_strpad(type.id(), H5T_STR_NULLPAD);
    H5Tset_cset(type.id(), H5T_CSET_UTF8);
    const hsize_t dims[1] = {3};
    Object space(H5Screate_simple(1, dims, nullptr));
    Object dataset(H5Dcreate2(file.id(), "s", type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT,
                              H5P_DEFAULT));
    const char data[] = "abc\0\0\0sixsix\0\0\0\0\0\0";  // "abc", "sixsix" (full width), ""
    ASSERT_GE(H5Dwrite(dataset.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
  }
  Object file = open_file_read_only(path);
  Object dataset = open_dataset(file, "s");
  EXPECT_EQ(read_strings(dataset), (std::vector<std::string>{"abc", "sixsix", ""}));
  EXPECT_EQ(describe(dataset).describe_type(), "fixed-length string[6]");
}

TEST(H5, ErrorsNameTheObjectAndCarryHdf5sMessage) {
  TempDir dir;
  const auto path = dir / "e.h5";
  {
    Object file = create_file(path);
    create_group(file, "g");
  }
  Object file = open_file_read_only(path);
  try {
    open_dataset(file, "missing");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::schema);
    EXPECT_STREQ(error.what(), "missing dataset /missing");
  }
  try {
    read_int_attribute(file, "nope");
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("missing attribute 'nope'"), std::string::npos);
  }
  try {  // read-only file: HDF5 itself refuses, and its reason reaches the message
    create_group(file, "new");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::hdf5);
    EXPECT_NE(std::string(error.what()).find("cannot create group /new"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("HDF5: "), std::string::npos);
  }
}

TEST(H5, ForeignAndTruncatedFilesAreRefusedClearly) {
  TempDir dir;
  const auto text = dir / "notes.txt";
  std::ofstream(text) << "just some text, not HDF5\n";
  try {
    open_file_read_only(text);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::hdf5);
    EXPECT_NE(std::string(error.what()).find("is not an HDF5 file"), std::string::npos);
  }
  try {
    open_file_read_only(dir / "absent.h5");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::io);
    EXPECT_NE(std::string(error.what()).find("no such file"), std::string::npos);
  }
  const auto whole = dir / "whole.h5";
  {
    Object file = create_file(whole);
    write_dataset(file, "d", std::vector<double>(10000, 1.0), {});
  }
  const auto truncated = dir / "truncated.h5";
  std::filesystem::copy_file(whole, truncated);
  std::filesystem::resize_file(truncated, std::filesystem::file_size(whole) / 2);
  EXPECT_THROW(
      {
        Object file = open_file_read_only(truncated);
        std::vector<double> values(10000);
        read_into(open_dataset(file, "d"), values.data());
      },
      Error);
  EXPECT_EQ(open_objects(), 0);
}

// A host program's own HDF5 error handler: counts the failures HDF5 reports to it.
int host_handler_calls = 0;
herr_t count_host_errors(hid_t, void*) {
  ++host_handler_calls;
  return 0;
}

TEST(H5, HostErrorHandlerIsSilencedOnlyWhileWeCallHdf5) {
  H5E_auto2_t before_handler = nullptr;
  void* before_data = nullptr;
  ASSERT_GE(H5Eget_auto2(H5E_DEFAULT, &before_handler, &before_data), 0);
  ASSERT_GE(H5Eset_auto2(H5E_DEFAULT, count_host_errors, nullptr), 0);
  host_handler_calls = 0;

  TempDir dir;
  // Our failing call reports through Error, never through the host's handler...
  EXPECT_THROW(open_file_read_only(dir / "absent.h5"), Error);
  EXPECT_EQ(host_handler_calls, 0);
  // ...which is in place again afterwards, exactly as the host set it.
  H5E_auto2_t handler = nullptr;
  void* data = nullptr;
  ASSERT_GE(H5Eget_auto2(H5E_DEFAULT, &handler, &data), 0);
  EXPECT_EQ(handler, &count_host_errors);
  // The host's own failing call still reaches it.
  const hid_t file = H5Fopen((dir / "absent.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_LT(file, 0);
  EXPECT_EQ(host_handler_calls, 1);
  {
    const LibraryLock outer;
    const LibraryLock inner;  // nested: the outer one restores
  }
  ASSERT_GE(H5Eget_auto2(H5E_DEFAULT, &handler, &data), 0);
  EXPECT_EQ(handler, &count_host_errors);

  H5Eset_auto2(H5E_DEFAULT, before_handler, before_data);
}

}  // namespace
}  // namespace edgehdf5::h5
