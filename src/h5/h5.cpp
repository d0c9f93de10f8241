#include "h5/h5.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <memory>

#include "edgehdf5/error.hpp"
#include "h5/h5_internal.hpp"

namespace edgehdf5::h5 {
namespace {

using Lock = LibraryLock;

std::recursive_mutex& library_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

// The host's error handler while a LibraryLock silences HDF5. Guarded by library_mutex().
struct SavedErrorHandler {
  int depth = 0;  // LibraryLocks held by the thread that owns the mutex
  H5E_auto2_t handler = nullptr;
  void* data = nullptr;
};

SavedErrorHandler& saved_error_handler() {
  static SavedErrorHandler saved;
  return saved;
}

herr_t collect_error(unsigned depth, const H5E_error2_t* error, void* client) {
  auto* text = static_cast<std::string*>(client);
  if (depth > 0) text->append("; ");
  text->append(error->func_name ? error->func_name : "?");
  text->append(": ");
  text->append(error->desc ? error->desc : "unknown error");
  return 0;
}

// The current HDF5 error stack as one line, innermost cause last; clears the stack.
std::string take_error_stack() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &text);
  H5Eclear2(H5E_DEFAULT);
  return text.empty() ? std::string("no detail from HDF5") : text;
}

}  // namespace

[[noreturn]] void fail(const std::string& what) {
  throw Error(ErrorCode::hdf5, what + " (HDF5: " + take_error_stack() + ")");
}

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}

void check(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

namespace {

std::string child_path(const Object& parent, const char* name) {
  std::string path = path_of(parent);
  if (path.empty() || path.back() != '/') path.push_back('/');
  return path + name;
}

}  // namespace

Object file_access_list() {
  Object fapl(check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate(file access)"));
  // See h5.hpp: our files are immutable once renamed into place, so HDF5's lock (which in
  // 1.10 keeps every other process out, readers too) is not needed and would get in the way.
  check(H5Pset_file_locking(fapl.id(), false, true), "H5Pset_file_locking");
  return fapl;
}

Object new_file_access_list() {
  Object fapl = file_access_list();
  // The 1.10 file format: the metadata blocks HDF5 writes (superblock v3, object headers
  // v2, link and attribute heaps, B-trees v2, the chunk indexes) carry a checksum that HDF5
  // verifies when it reads the block; only the global heaps holding variable-length strings
  // have none. With the default (1.0) format a damaged object header is parsed as it is,
  // which is where libhdf5 crashes on hostile files (tests/fuzz/regressions/open_file); with
  // checksums, such damage is refused with an error. HDF5 1.10 or newer reads these files:
  // h5py, h5dump and HDFView of the last years.
  check(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_V110, H5F_LIBVER_V110), "H5Pset_libver_bounds");
  // Large datasets (the ones a reader maps: embeddings, the keyword index) start on a page
  // boundary, so their values are aligned for any type and a mapping wastes no page.
  check(H5Pset_alignment(fapl.id(), hsize_t{64} << 10, 4096), "H5Pset_alignment");
  return fapl;
}

namespace {

Object utf8_variable_string_type() {
  Object type(check(H5Tcopy(H5T_C_S1), "H5Tcopy(string)"));
  check(H5Tset_size(type.id(), H5T_VARIABLE), "H5Tset_size(variable)");
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "H5Tset_cset(utf8)");
  return type;
}

// IEEE 754 binary16, built as HighFive does: a float32 copy narrowed to 1+5+10 bits.
Object half_type() {
  Object type(check(H5Tcopy(H5T_IEEE_F32LE), "H5Tcopy(float)"));
  check(H5Tset_fields(type.id(), 15, 10, 5, 0, 10), "H5Tset_fields(half)");
  check(H5Tset_precision(type.id(), 16), "H5Tset_precision(half)");
  check(H5Tset_size(type.id(), 2), "H5Tset_size(half)");
  check(H5Tset_ebias(type.id(), 15), "H5Tset_ebias(half)");
  return type;
}

// Dataset creation properties: contiguous, or chunked (about 1 MiB a chunk) with deflate.
// An empty dataset stays contiguous: HDF5 cannot chunk a fixed zero-length extent.
Object creation_list(const std::vector<hsize_t>& dims, std::size_t element_size,
                     const WriteOptions& options) {
  Object dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate(dataset create)"));
  const bool empty = std::any_of(dims.begin(), dims.end(), [](hsize_t d) { return d == 0; });
  if (options.deflate_level > 0 && !empty) {
    std::vector<hsize_t> chunk = dims;
    std::size_t row_bytes = element_size;
    for (std::size_t i = 1; i < dims.size(); ++i) row_bytes *= dims[i];
    const hsize_t target_rows = std::max<hsize_t>(1, (hsize_t{1} << 20) / row_bytes);
    chunk[0] = std::min(dims[0], target_rows);
    check(H5Pset_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data()), "H5Pset_chunk");
    check(H5Pset_shuffle(dcpl.id()), "H5Pset_shuffle");
    check(H5Pset_deflate(dcpl.id(), static_cast<unsigned>(options.deflate_level)),
          "H5Pset_deflate");
  }
  return dcpl;
}

void write_raw(const Object& parent, const char* name, const Object& file_type, hid_t memory_type,
               const void* data, const std::vector<hsize_t>& dims, const WriteOptions& options) {
  Lock lock;
  const std::string where = child_path(parent, name);
  Object space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                     "H5Screate_simple for " + where));
  Object dcpl = creation_list(dims, H5Tget_size(file_type.id()), options);
  Object dataset(check(H5Dcreate2(parent.id(), name, file_type.id(), space.id(), H5P_DEFAULT,
                                  dcpl.id(), H5P_DEFAULT),
                       "cannot create dataset " + where));
  bool empty = std::any_of(dims.begin(), dims.end(), [](hsize_t d) { return d == 0; });
  if (!empty) {
    check(H5Dwrite(dataset.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
          "cannot write dataset " + where);
  }
  dataset.close();
}

template <typename T>
void write_vector(const Object& parent, const char* name, std::span<const T> values,
                  hid_t file_type, hid_t memory_type, const WriteOptions& options) {
  Lock lock;
  Object type(check(H5Tcopy(file_type), "H5Tcopy"));
  write_raw(parent, name, type, memory_type, values.data(), {values.size()}, options);
}

void read_raw(const Object& dataset, hid_t memory_type, void* out) {
  Lock lock;
  Object space(check(H5Dget_space(dataset.id()), "H5Dget_space"));
  if (H5Sget_simple_extent_npoints(space.id()) == 0) return;
  check(H5Dread(dataset.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out),
        "cannot read dataset " + path_of(dataset));
}

Object open_attribute(const Object& object, const char* name) {
  if (!has_attribute(object, name)) {
    throw Error(ErrorCode::schema,
                "missing attribute '" + std::string(name) + "' on " + path_of(object));
  }
  return Object(
      check(H5Aopen(object.id(), name, H5P_DEFAULT), "cannot open attribute " + std::string(name)));
}

void write_attribute_raw(const Object& object, const char* name, const Object& type,
                         const void* value) {
  Lock lock;
  Object space(check(H5Screate(H5S_SCALAR), "H5Screate(scalar)"));
  if (H5Aexists(object.id(), name) > 0) check(H5Adelete(object.id(), name), "H5Adelete");
  Object attribute(
      check(H5Acreate2(object.id(), name, type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
            "cannot create attribute " + std::string(name)));
  check(H5Awrite(attribute.id(), type.id(), value), "cannot write attribute " + std::string(name));
  attribute.close();
}

template <typename T>
T read_numeric_attribute(const Object& object, const char* name, hid_t memory_type,
                         H5T_class_t wanted_a, H5T_class_t wanted_b) {
  Lock lock;
  Object attribute = open_attribute(object, name);
  Object type(check(H5Aget_type(attribute.id()), "H5Aget_type"));
  const H5T_class_t type_class = H5Tget_class(type.id());
  if (type_class != wanted_a && type_class != wanted_b) {
    throw Error(ErrorCode::schema, "attribute '" + std::string(name) + "' on " + path_of(object) +
                                       " has the wrong type");
  }
  T value{};
  check(H5Aread(attribute.id(), memory_type, &value), "cannot read attribute " + std::string(name));
  return value;
}

}  // namespace

LibraryLock::LibraryLock() : lock_(library_mutex()) {
  SavedErrorHandler& saved = saved_error_handler();
  if (saved.depth++ == 0) {
    if (H5Eget_auto2(H5E_DEFAULT, &saved.handler, &saved.data) < 0) {
      saved.handler = nullptr;  // nothing readable to restore: leave printing off after us
      saved.data = nullptr;
    }
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
}

LibraryLock::~LibraryLock() {
  SavedErrorHandler& saved = saved_error_handler();
  if (--saved.depth == 0) H5Eset_auto2(H5E_DEFAULT, saved.handler, saved.data);
}

Object& Object::operator=(Object&& other) noexcept {
  if (this != &other) {
    try {
      close();
    } catch (...) {  // a destructor-like path: the error has nowhere to go
    }
    id_ = other.id_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

Object::~Object() {
  try {
    close();
  } catch (...) {  // never throw from a destructor; call close() to see errors
  }
}

void Object::close() {
  if (id_ < 0) return;
  Lock lock;
  const hid_t id = id_;
  id_ = H5I_INVALID_HID;
  herr_t status = 0;
  switch (H5Iget_type(id)) {
    case H5I_FILE:
      status = H5Fclose(id);
      break;
    case H5I_GROUP:
      status = H5Gclose(id);
      break;
    case H5I_DATASET:
      status = H5Dclose(id);
      break;
    case H5I_DATASPACE:
      status = H5Sclose(id);
      break;
    case H5I_DATATYPE:
      status = H5Tclose(id);
      break;
    case H5I_ATTR:
      status = H5Aclose(id);
      break;
    case H5I_GENPROP_LST:
      status = H5Pclose(id);
      break;
    default:
      status = H5Idec_ref(id);
      break;
  }
  check(status, "cannot close HDF5 object");
}

// ---- files and groups ------------------------------------------------------------------------

Object create_file(const std::filesystem::path& path) {
  Lock lock;
  Object fapl = new_file_access_list();
  return Object(check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()),
                      "cannot create HDF5 file " + path.string()));
}

Object open_file_read_only(const std::filesystem::path& path) {
  Lock lock;
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
      throw Error(ErrorCode::io,
                  "cannot open " + path.string() + ": " +
                      (std::filesystem::exists(path) ? "permission denied" : "no such file"));
    }
  }
  Object fapl = file_access_list();
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) {
    H5Eclear2(H5E_DEFAULT);
    throw Error(ErrorCode::hdf5, path.string() + " is not an HDF5 file (no HDF5 signature)");
  }
  return Object(check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.id()),
                      "cannot open HDF5 file " + path.string() + " (truncated or damaged?)"));
}

namespace {

// File access for a file held in memory by the core driver, never written to disk by HDF5.
Object memory_file_access_list(std::size_t increment) {
  Object fapl = file_access_list();
  check(H5Pset_fapl_core(fapl.id(), increment, /*backing_store=*/false), "H5Pset_fapl_core");
  return fapl;
}

}  // namespace

namespace {

// The core driver's buffer, taken over when the file closes instead of being freed.
struct HandedOver {
  void* bytes = nullptr;
};

void* image_malloc(size_t size, H5FD_file_image_op_t, void*) { return std::malloc(size); }
void* image_memcpy(void* destination, const void* source, size_t size, H5FD_file_image_op_t,
                   void*) {
  return std::memcpy(destination, source, size);
}
void* image_realloc(void* bytes, size_t size, H5FD_file_image_op_t, void*) {
  return std::realloc(bytes, size);
}
herr_t image_free(void* bytes, H5FD_file_image_op_t operation, void* udata) {
  auto* handed_over = static_cast<HandedOver*>(udata);
  if (operation == H5FD_FILE_IMAGE_OP_FILE_CLOSE && handed_over->bytes == nullptr) {
    handed_over->bytes = bytes;
  } else {
    std::free(bytes);
  }
  return 0;
}
// The udata is ours and outlives every list that copies it: shared, never freed by HDF5.
void* udata_copy(void* udata) { return udata; }
herr_t udata_free(void*) { return 0; }

}  // namespace

FileImage build_memory_file(const std::string& name, std::size_t size_hint,
                            const std::function<void(Object& file)>& fill) {
  Lock lock;
  // The core driver grows its buffer by `increment`; one about the expected size (at least
  // 1 MiB) keeps the number of reallocations small.
  const std::size_t increment = std::max<std::size_t>(size_hint + (size_hint >> 3), 1u << 20);
  HandedOver handed_over;
  ssize_t size = -1;
  try {
    Object fapl = memory_file_access_list(increment);
    H5FD_file_image_callbacks_t callbacks{image_malloc, image_memcpy, image_realloc, image_free,
                                          udata_copy,   udata_free,   &handed_over};
    check(H5Pset_file_image_callbacks(fapl.id(), &callbacks), "H5Pset_file_image_callbacks");
    Object file(check(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()),
                      "cannot create in-memory HDF5 file for " + name));
    fill(file);
    check(H5Fflush(file.id(), H5F_SCOPE_LOCAL), "H5Fflush");
    size = H5Fget_file_image(file.id(), nullptr, 0);  // the bytes in use, without a copy
    if (size < 0) fail("H5Fget_file_image for " + name);
    file.close();
  } catch (...) {
    std::free(handed_over.bytes);  // handed over by the unwinding close, if it came that far
    throw;
  }
  if (handed_over.bytes == nullptr) {
    throw Error(ErrorCode::hdf5, "the in-memory HDF5 file for " + name +
                                     " was not handed over at close (is an object still open?)");
  }
  return FileImage(handed_over.bytes, static_cast<std::size_t>(size));
}

Object open_file_image(std::string_view image, const std::string& name) {
  Lock lock;
  if (image.size() < 8 || image.substr(0, 8) != std::string_view("\x89HDF\r\n\x1a\n", 8)) {
    // The superblock may also sit at 512, 1024, ... (a user block); HDF5 finds it there.
    bool found = false;
    for (std::size_t at = 512; at + 8 <= image.size() && !found; at *= 2) {
      found = image.substr(at, 8) == std::string_view("\x89HDF\r\n\x1a\n", 8);
    }
    if (!found) {
      throw Error(ErrorCode::hdf5, name + " is not an HDF5 file (no HDF5 signature)");
    }
  }
  Object fapl = memory_file_access_list(1u << 20);
  check(H5Pset_file_image(fapl.id(), const_cast<char*>(image.data()), image.size()),
        "H5Pset_file_image for " + name);
  return Object(check(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl.id()),
                      "cannot open HDF5 file " + name + " (truncated or damaged?)"));
}

Object create_group(const Object& parent, const char* name) {
  Lock lock;
  // Attributes stay in the object header ("compact") up to 64 of them. In the 1.10 format
  // HDF5 moves a group's attributes past 8 into "dense" storage (a fractal heap), and
  // libhdf5 1.10.8 crashes copying dense variable-length string attributes (H5Ocopy: h5py's
  // Group.copy, h5copy) out of such a group: /meta has 16.
  Object gcpl(check(H5Pcreate(H5P_GROUP_CREATE), "H5Pcreate(group create)"));
  check(H5Pset_attr_phase_change(gcpl.id(), 64, 48), "H5Pset_attr_phase_change");
  return Object(check(H5Gcreate2(parent.id(), name, H5P_DEFAULT, gcpl.id(), H5P_DEFAULT),
                      "cannot create group " + child_path(parent, name)));
}

Object open_group(const Object& parent, const char* name) {
  Lock lock;
  if (!has_link(parent, name)) {
    throw Error(ErrorCode::schema, "missing group " + child_path(parent, name));
  }
  return Object(check(H5Gopen2(parent.id(), name, H5P_DEFAULT),
                      "cannot open group " + child_path(parent, name)));
}

bool has_link(const Object& parent, const char* name) {
  Lock lock;
  const htri_t exists = H5Lexists(parent.id(), name, H5P_DEFAULT);
  if (exists < 0) fail("H5Lexists(" + child_path(parent, name) + ")");
  return exists > 0;
}

std::string path_of(const Object& object) {
  Lock lock;
  const ssize_t length = H5Iget_name(object.id(), nullptr, 0);
  if (length <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return "/";
  }
  std::string name(static_cast<std::size_t>(length), '\0');
  H5Iget_name(object.id(), name.data(), name.size() + 1);
  return name;
}

// ---- attributes ------------------------------------------------------------------------------

bool has_attribute(const Object& object, const char* name) {
  Lock lock;
  const htri_t exists = H5Aexists(object.id(), name);
  if (exists < 0) fail("H5Aexists(" + std::string(name) + ")");
  return exists > 0;
}

void write_attribute(const Object& object, const char* name, std::string_view value) {
  Lock lock;
  Object type = utf8_variable_string_type();
  const std::string copy(value);
  const char* pointer = copy.c_str();
  write_attribute_raw(object, name, type, &pointer);
}

void write_attribute(const Object& object, const char* name, std::int64_t value) {
  Lock lock;
  Object type(check(H5Tcopy(H5T_STD_I64LE), "H5Tcopy(int64)"));
  write_attribute_raw(object, name, type, &value);
}

void write_attribute(const Object& object, const char* name, double value) {
  Lock lock;
  Object type(check(H5Tcopy(H5T_IEEE_F64LE), "H5Tcopy(float64)"));
  write_attribute_raw(object, name, type, &value);
}

std::string read_string_attribute(const Object& object, const char* name) {
  Lock lock;
  Object attribute = open_attribute(object, name);
  Object type(check(H5Aget_type(attribute.id()), "H5Aget_type"));
  if (H5Tget_class(type.id()) != H5T_STRING) {
    throw Error(ErrorCode::schema,
                "attribute '" + std::string(name) + "' on " + path_of(object) + " is not a string");
  }
  if (H5Tis_variable_str(type.id()) > 0) {
    Object memory_type = utf8_variable_string_type();
    char* value = nullptr;
    check(H5Aread(attribute.id(), memory_type.id(), &value),
          "cannot read attribute " + std::string(name));
    std::string result = value ? value : "";
    H5free_memory(value);
    return result;
  }
  const std::size_t size = H5Tget_size(type.id());
  std::string buffer(size, '\0');
  check(H5Aread(attribute.id(), type.id(), buffer.data()),
        "cannot read attribute " + std::string(name));
  buffer.resize(std::strlen(buffer.c_str()));
  while (!buffer.empty() && buffer.back() == ' ' && H5Tget_strpad(type.id()) == H5T_STR_SPACEPAD)
    buffer.pop_back();
  return buffer;
}

std::int64_t read_int_attribute(const Object& object, const char* name) {
  return read_numeric_attribute<std::int64_t>(object, name, H5T_NATIVE_INT64, H5T_INTEGER,
                                              H5T_INTEGER);
}

double read_double_attribute(const Object& object, const char* name) {
  return read_numeric_attribute<double>(object, name, H5T_NATIVE_DOUBLE, H5T_FLOAT, H5T_INTEGER);
}

// ---- datasets --------------------------------------------------------------------------------

Object open_dataset(const Object& parent, const char* name) {
  Lock lock;
  if (!has_link(parent, name)) {
    throw Error(ErrorCode::schema, "missing dataset " + child_path(parent, name));
  }
  return Object(check(H5Dopen2(parent.id(), name, H5P_DEFAULT),
                      "cannot open dataset " + child_path(parent, name)));
}

DatasetInfo describe(const Object& dataset) {
  Lock lock;
  DatasetInfo info;
  info.path = path_of(dataset);
  Object space(check(H5Dget_space(dataset.id()), "H5Dget_space " + info.path));
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) fail("H5Sget_simple_extent_ndims " + info.path);
  info.dims.resize(static_cast<std::size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.id(), info.dims.data(), nullptr);
  Object type(check(H5Dget_type(dataset.id()), "H5Dget_type " + info.path));
  info.type_size = H5Tget_size(type.id());
  switch (H5Tget_class(type.id())) {
    case H5T_INTEGER:
      info.type_class = TypeClass::integer;
      info.is_signed = H5Tget_sign(type.id()) == H5T_SGN_2;
      break;
    case H5T_FLOAT:
      info.type_class = TypeClass::floating;
      break;
    case H5T_STRING:
      info.type_class = TypeClass::string;
      info.variable_string = H5Tis_variable_str(type.id()) > 0;
      break;
    default:
      info.type_class = TypeClass::other;
      break;
  }
  return info;
}

std::string DatasetInfo::describe_type() const {
  switch (type_class) {
    case TypeClass::integer:
      return (is_signed ? "int" : "uint") + std::to_string(type_size * 8);
    case TypeClass::floating:
      return "float" + std::to_string(type_size * 8);
    case TypeClass::string:
      return variable_string ? "variable-length string"
                             : "fixed-length string[" + std::to_string(type_size) + "]";
    case TypeClass::other:
      break;
  }
  return "an unsupported type";
}

void write_dataset(const Object& parent, const char* name, const std::vector<double>& values,
                   const WriteOptions& options) {
  write_vector<double>(parent, name, values, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, options);
}

void write_dataset(const Object& parent, const char* name, const std::vector<float>& values,
                   const WriteOptions& options) {
  write_vector<float>(parent, name, values, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, options);
}

void write_dataset(const Object& parent, const char* name, const std::vector<std::int64_t>& values,
                   const WriteOptions& options) {
  write_vector<std::int64_t>(parent, name, values, H5T_STD_I64LE, H5T_NATIVE_INT64, options);
}

void write_dataset(const Object& parent, const char* name, const std::vector<std::uint8_t>& values,
                   const WriteOptions& options) {
  write_vector<std::uint8_t>(parent, name, values, H5T_STD_U8LE, H5T_NATIVE_UINT8, options);
}

void write_array(const Object& parent, const char* name, std::span<const std::uint8_t> values,
                 const WriteOptions& options) {
  write_vector(parent, name, values, H5T_STD_U8LE, H5T_NATIVE_UINT8, options);
}

void write_array(const Object& parent, const char* name, std::span<const std::uint32_t> values,
                 const WriteOptions& options) {
  write_vector(parent, name, values, H5T_STD_U32LE, H5T_NATIVE_UINT32, options);
}

void write_array(const Object& parent, const char* name, std::span<const std::uint64_t> values,
                 const WriteOptions& options) {
  write_vector(parent, name, values, H5T_STD_U64LE, H5T_NATIVE_UINT64, options);
}

void write_array(const Object& parent, const char* name, std::span<const std::int64_t> values,
                 const WriteOptions& options) {
  write_vector(parent, name, values, H5T_STD_I64LE, H5T_NATIVE_INT64, options);
}

// Strings: fixed-length (null-padded UTF-8, as the original tool wrote them) or
// variable-length UTF-8, chosen per column by what it costs. A variable-length string costs
// its bytes plus about 32 bytes of heap bookkeeping on disk, and reading one back goes
// through HDF5's global heap: measured here, 100K rows of four string columns took 170M
// instructions (1.7K a string) and dominated open(), where a fixed-length column is one
// contiguous read. A fixed-length column costs its longest string on every row. So a column
// whose strings are of similar length (channels, session ids, tags, often chunks) is
// written fixed-length, and one whose padding would cost more than the heap is written
// variable-length. Readers accept both.
void write_dataset(const Object& parent, const char* name, const std::vector<std::string>& values,
                   const WriteOptions& options) {
  Lock lock;
  constexpr std::size_t kVariableOverhead = 32;
  std::size_t longest = 0, total = 0;
  for (const std::string& value : values) {
    longest = std::max(longest, value.size());
    total += value.size();
  }
  const std::size_t width = std::max<std::size_t>(1, longest);  // HDF5 has no 0-byte strings
  if (width * values.size() <= total + kVariableOverhead * values.size()) {
    Object type(check(H5Tcopy(H5T_C_S1), "H5Tcopy(string)"));
    check(H5Tset_size(type.id(), width), "H5Tset_size(fixed)");
    check(H5Tset_strpad(type.id(), H5T_STR_NULLPAD), "H5Tset_strpad");
    check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "H5Tset_cset(utf8)");
    std::vector<char> packed(width * values.size(), '\0');
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::copy(values[i].begin(), values[i].end(),
                packed.begin() + static_cast<std::ptrdiff_t>(i * width));
    }
    write_raw(parent, name, type, type.id(), packed.data(), {values.size()}, options);
    return;
  }
  std::vector<const char*> pointers(values.size());
  std::transform(values.begin(), values.end(), pointers.begin(),
                 [](const std::string& s) { return s.c_str(); });
  Object type = utf8_variable_string_type();
  write_raw(parent, name, type, type.id(), pointers.data(), {values.size()}, options);
}

void write_matrix(const Object& parent, const char* name, const float* values, std::size_t rows,
                  std::size_t cols, const WriteOptions& options) {
  Lock lock;
  Object type(check(H5Tcopy(H5T_IEEE_F32LE), "H5Tcopy(float32)"));
  write_raw(parent, name, type, H5T_NATIVE_FLOAT, values, {rows, cols}, options);
}

void write_half_matrix(const Object& parent, const char* name, const std::uint16_t* bits,
                       std::size_t rows, std::size_t cols, const WriteOptions& options) {
  Lock lock;
  Object type = half_type();
  write_raw(parent, name, type, type.id(), bits, {rows, cols}, options);
}

void read_into(const Object& dataset, double* out) { read_raw(dataset, H5T_NATIVE_DOUBLE, out); }
void read_into(const Object& dataset, float* out) { read_raw(dataset, H5T_NATIVE_FLOAT, out); }
void read_into(const Object& dataset, std::int64_t* out) {
  read_raw(dataset, H5T_NATIVE_INT64, out);
}
void read_into(const Object& dataset, std::uint8_t* out) {
  read_raw(dataset, H5T_NATIVE_UINT8, out);
}
void read_into(const Object& dataset, std::uint32_t* out) {
  read_raw(dataset, H5T_NATIVE_UINT32, out);
}
void read_into(const Object& dataset, std::uint64_t* out) {
  read_raw(dataset, H5T_NATIVE_UINT64, out);
}

void read_half_into(const Object& dataset, std::uint16_t* out) {
  Lock lock;
  Object type = half_type();
  read_raw(dataset, type.id(), out);
}

std::optional<RawExtent> raw_extent(const Object& dataset, hid_t memory_type) {
  Lock lock;
  Object type(check(H5Dget_type(dataset.id()), "H5Dget_type"));
  if (H5Tequal(type.id(), memory_type) <= 0) return std::nullopt;
  Object dcpl(check(H5Dget_create_plist(dataset.id()), "H5Dget_create_plist"));
  if (H5Pget_layout(dcpl.id()) != H5D_CONTIGUOUS || H5Pget_nfilters(dcpl.id()) != 0) {
    return std::nullopt;
  }
  const haddr_t offset = H5Dget_offset(dataset.id());  // HADDR_UNDEF until written
  if (offset == HADDR_UNDEF) return std::nullopt;
  Object file(check(H5Iget_file_id(dataset.id()), "H5Iget_file_id"));
  Object fapl(check(H5Fget_access_plist(file.id()), "H5Fget_access_plist"));
  if (H5Pget_driver(fapl.id()) != H5FD_SEC2) return std::nullopt;
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file.id(), fapl.id(), &handle) < 0 || handle == nullptr) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  // H5Dget_offset counts from the start of the file, a user block included.
  return RawExtent{*static_cast<int*>(handle), std::uint64_t{offset},
                   std::uint64_t{H5Dget_storage_size(dataset.id())}};
}

std::optional<RawExtent> raw_half_extent(const Object& dataset) {
  Lock lock;
  Object type = half_type();
  return raw_extent(dataset, type.id());
}

std::vector<std::string> read_strings(const Object& dataset) {
  Lock lock;
  const DatasetInfo info = describe(dataset);
  if (info.type_class != TypeClass::string || info.dims.size() != 1) {
    throw Error(ErrorCode::schema,
                info.path + " must be a 1-D string dataset, found " + info.describe_type());
  }
  return read_string_rows(dataset, 0, static_cast<std::size_t>(info.dims[0]));
}

std::vector<std::string> read_string_rows(const Object& dataset, std::size_t first,
                                          std::size_t count) {
  Lock lock;
  const DatasetInfo info = describe(dataset);
  if (info.type_class != TypeClass::string || info.dims.size() != 1) {
    throw Error(ErrorCode::schema,
                info.path + " must be a 1-D string dataset, found " + info.describe_type());
  }
  if (first + count > info.dims[0]) {
    throw Error(ErrorCode::invalid_argument,
                info.path + ": rows " + std::to_string(first) + ".." +
                    std::to_string(first + count) + " are past its " +
                    std::to_string(info.dims[0]) + " rows");
  }
  std::vector<std::string> result(count);
  if (count == 0) return result;
  // The rows asked for: the whole dataset, or a hyperslab of it and a memory space to match.
  const bool whole = first == 0 && count == info.dims[0];
  Object file_space(check(H5Dget_space(dataset.id()), "H5Dget_space"));
  Object memory_space;
  if (!whole) {
    const hsize_t start[1] = {first};
    const hsize_t rows[1] = {count};
    check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, rows, nullptr),
          "H5Sselect_hyperslab");
    memory_space = Object(check(H5Screate_simple(1, rows, nullptr), "H5Screate_simple"));
  }
  const hid_t memory_selection = whole ? H5S_ALL : memory_space.id();
  const hid_t file_selection = whole ? H5S_ALL : file_space.id();
  Object file_type(check(H5Dget_type(dataset.id()), "H5Dget_type"));
  if (info.variable_string) {
    Object memory_type = utf8_variable_string_type();
    std::vector<char*> pointers(count, nullptr);
    check(H5Dread(dataset.id(), memory_type.id(), memory_selection, file_selection, H5P_DEFAULT,
                  pointers.data()),
          "cannot read dataset " + info.path);
    for (std::size_t i = 0; i < count; ++i) {
      if (pointers[i]) result[i] = pointers[i];
    }
    Object reclaim_space(check(H5Screate_simple(1, std::array<hsize_t, 1>{count}.data(), nullptr),
                               "H5Screate_simple"));
    H5Dvlen_reclaim(memory_type.id(), reclaim_space.id(), H5P_DEFAULT, pointers.data());
    return result;
  }
  // Fixed-length: one contiguous read, then strip the padding (the original Rust tool
  // wrote null-padded strings; space padding is Fortran's convention).
  const std::size_t width = info.type_size;
  std::vector<char> buffer(count * width);
  check(H5Dread(dataset.id(), file_type.id(), memory_selection, file_selection, H5P_DEFAULT,
                buffer.data()),
        "cannot read dataset " + info.path);
  const bool space_padded = H5Tget_strpad(file_type.id()) == H5T_STR_SPACEPAD;
  for (std::size_t i = 0; i < count; ++i) {
    const char* begin = buffer.data() + i * width;
    std::size_t length = strnlen(begin, width);
    if (space_padded) {
      while (length > 0 && begin[length - 1] == ' ') --length;
    }
    result[i].assign(begin, length);
  }
  return result;
}

}  // namespace edgehdf5::h5
