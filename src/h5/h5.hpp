#pragma once
// The checked wrapper over the HDF5 C API. Nothing outside src/h5/ calls HDF5 directly.
//
// - Object is a move-only RAII handle; its destructor never throws (close() reports).
// - Every failing call throws edgehdf5::Error(hdf5) with HDF5's own error stack as text
//   and the object path involved; HDF5's automatic stderr printing is off while we call it
//   (LibraryLock), and only then.
// - Debian's libhdf5 is built without thread safety, so every function here holds a
//   LibraryLock while it calls into HDF5.
// - Files are opened with HDF5's own file locking off: edgehdf5 never modifies a file that
//   another handle may have open (checkpoints write a new file and rename it), and its
//   writer lock is its own (see store/posix_file.hpp).

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edgehdf5::h5 {

// Held around every call into HDF5. It serialises them (the library is not thread-safe)
// and, while held, keeps HDF5 from printing its error stack to stderr, since we read the
// stack into Error ourselves. The error handler the host program had is saved when a
// thread's outermost LibraryLock takes the mutex and restored when it lets go, so a host
// that uses HDF5 itself keeps its diagnostics (HighFive silences HDF5 per scope the same
// way). Recursive: a function holding one may call others that take one.
class LibraryLock {
 public:
  LibraryLock();
  ~LibraryLock();
  LibraryLock(const LibraryLock&) = delete;
  LibraryLock& operator=(const LibraryLock&) = delete;

 private:
  std::unique_lock<std::recursive_mutex> lock_;
};

class Object {
 public:
  Object() noexcept = default;
  explicit Object(hid_t id) noexcept : id_(id) {}
  Object(Object&& other) noexcept : id_(other.id_) { other.id_ = H5I_INVALID_HID; }
  Object& operator=(Object&& other) noexcept;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  ~Object();

  hid_t id() const noexcept { return id_; }
  bool valid() const noexcept { return id_ >= 0; }
  // Closes the handle, throwing if HDF5 reports an error (for files: a failed flush).
  void close();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// ---- files and groups ------------------------------------------------------------------------
Object create_file(const std::filesystem::path& path);  // truncates an existing file
Object open_file_read_only(const std::filesystem::path& path);
// The bytes of a file HDF5 built in memory, owned (released with std::free).
class FileImage {
 public:
  FileImage() noexcept = default;
  FileImage(void* bytes, std::size_t size) noexcept : buffer_(bytes), size_(size) {}
  std::string_view bytes() const noexcept {
    return {static_cast<const char*>(buffer_.get()), size_};
  }

 private:
  struct Release {
    void operator()(void* bytes) const noexcept { std::free(bytes); }
  };
  std::unique_ptr<void, Release> buffer_;
  std::size_t size_ = 0;
};

// Builds a file in memory only (the core driver without a backing store) and returns its
// bytes: HDF5 does no file I/O for it; the caller writes the bytes where it wants. The store
// writes its files with write_file_through_seam (seam_driver.hpp) instead, which costs no
// file image and no second write; this stays as what edgehdf5-bench checkpoint compares
// that with. `fill` writes the content into the open file and must close every object it
// opens. The driver's own buffer is handed over at close (file image callbacks), so the
// bytes are never copied. `name` labels the file in messages; `size_hint` is about how large
// it will be (it grows as needed).
FileImage build_memory_file(const std::string& name, std::size_t size_hint,
                            const std::function<void(Object& file)>& fill);
// Opens `image` (a whole file's bytes, copied) read-only in memory; `name` labels it in
// messages. Throws hdf5 if the bytes are not an HDF5 file HDF5 can open.
Object open_file_image(std::string_view image, const std::string& name);
Object create_group(const Object& parent, const char* name);
// Throws schema "missing group <path>" when absent.
Object open_group(const Object& parent, const char* name);
bool has_link(const Object& parent, const char* name);
// The object's path in its file ("/memory/embeddings"), for messages.
std::string path_of(const Object& object);

// ---- attributes (scalars) --------------------------------------------------------------------
bool has_attribute(const Object& object, const char* name);
void write_attribute(const Object& object, const char* name, std::string_view value);
void write_attribute(const Object& object, const char* name, std::int64_t value);
void write_attribute(const Object& object, const char* name, double value);
// Readers accept any stored width/kind HDF5 can convert (fixed or variable strings, any
// integer type); a missing or non-convertible attribute throws schema naming it.
std::string read_string_attribute(const Object& object, const char* name);
std::int64_t read_int_attribute(const Object& object, const char* name);
double read_double_attribute(const Object& object, const char* name);

// ---- datasets --------------------------------------------------------------------------------
enum class TypeClass { integer, floating, string, other };

struct DatasetInfo {
  std::string path;
  std::vector<hsize_t> dims;
  TypeClass type_class = TypeClass::other;
  std::size_t type_size = 0;      // bytes per element (for variable strings: the pointer)
  bool variable_string = false;
  bool is_signed = false;         // integers only
  std::string describe_type() const;  // "float16", "int64", "vlen string", ...
};

struct WriteOptions {
  int deflate_level = 0;  // 0 = contiguous, uncompressed; 1..9 = chunked + deflate
};

Object open_dataset(const Object& parent, const char* name);  // schema error when missing
DatasetInfo describe(const Object& dataset);

void write_dataset(const Object& parent, const char* name, const std::vector<double>& values,
                   const WriteOptions& options);
void write_dataset(const Object& parent, const char* name, const std::vector<float>& values,
                   const WriteOptions& options);
void write_dataset(const Object& parent, const char* name,
                   const std::vector<std::int64_t>& values, const WriteOptions& options);
void write_dataset(const Object& parent, const char* name,
                   const std::vector<std::uint8_t>& values, const WriteOptions& options);
void write_dataset(const Object& parent, const char* name,
                   const std::vector<std::string>& values, const WriteOptions& options);
// 1-D arrays of integers (the keyword and IVF-PQ indexes'), from any contiguous storage.
void write_array(const Object& parent, const char* name, std::span<const std::uint8_t> values,
                 const WriteOptions& options);
void write_array(const Object& parent, const char* name, std::span<const std::uint32_t> values,
                 const WriteOptions& options);
void write_array(const Object& parent, const char* name, std::span<const std::uint64_t> values,
                 const WriteOptions& options);
void write_array(const Object& parent, const char* name, std::span<const std::int64_t> values,
                 const WriteOptions& options);
// A rows x cols matrix of float32, or of IEEE half given as raw bits.
void write_matrix(const Object& parent, const char* name, const float* values,
                  std::size_t rows, std::size_t cols, const WriteOptions& options);
void write_half_matrix(const Object& parent, const char* name, const std::uint16_t* bits,
                       std::size_t rows, std::size_t cols, const WriteOptions& options);

// Reads a whole dataset converted to the native type (HDF5 converts widths and byte order).
void read_into(const Object& dataset, double* out);
void read_into(const Object& dataset, float* out);
void read_into(const Object& dataset, std::int64_t* out);
void read_into(const Object& dataset, std::uint8_t* out);
void read_into(const Object& dataset, std::uint32_t* out);
void read_into(const Object& dataset, std::uint64_t* out);
// Reads IEEE half elements as raw bits (no conversion).
void read_half_into(const Object& dataset, std::uint16_t* out);
// Fixed-length (null-padded, null-terminated or space-padded) or variable-length strings.
std::vector<std::string> read_strings(const Object& dataset);
// Rows [first, first + count) of a 1-D string dataset (a hyperslab: HDF5 reads only them).
// Throws Error(invalid_argument) for rows past its end.
std::vector<std::string> read_string_rows(const Object& dataset, std::size_t first,
                                          std::size_t count);

// Where a dataset's values lie in its file byte for byte as they would in memory: a
// contiguous, unfiltered, allocated dataset whose element type is exactly `memory_type`
// (H5Tequal: width, byte order and bit layout), in a file HDF5 opened with its POSIX (sec2)
// driver, whose descriptor is given. Anything else (chunked, compressed, converted, a file
// image, another driver) has no such extent: nullopt. Used to map the embeddings
// (store/mapped_rows.hpp) instead of reading them.
struct RawExtent {
  int descriptor = -1;      // owned by the open file: valid while it is open
  std::uint64_t offset = 0; // of the first value, in bytes from the start of the file
  std::uint64_t bytes = 0;
};
std::optional<RawExtent> raw_extent(const Object& dataset, hid_t memory_type);
// raw_extent for IEEE half elements as read_half_into gives them.
std::optional<RawExtent> raw_half_extent(const Object& dataset);

}  // namespace edgehdf5::h5
