// The "edgehdf5_seam" HDF5 virtual file driver: see seam_driver.hpp for what it promises.
//
// Layout of this file: SeamFile (the write-behind buffer over one FileSystem handle, and
// the first failure), then the driver's callbacks (HDF5's H5FD_class_t, which only forward
// to SeamFile), then write_file_through_seam.

#include "h5/seam_driver.hpp"

#include <H5FDpublic.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "edgehdf5/error.hpp"
#include "h5/h5_internal.hpp"

namespace edgehdf5::h5 {
namespace {

// HDF5 leaves small holes between the blocks it writes (alignment, the unused ends of its
// metadata and small-data blocks). Holes up to this size in the part of the file never
// written yet are written as the zeros they would read as, so that neighbouring extents go
// out as one pwrite: a small file is then one pwrite in all.
constexpr std::size_t kMaxFilledHole = std::size_t{64} << 10;
constexpr char kZeros[kMaxFilledHole] = {};

// One file HDF5 writes, and what happened to it. All of HDF5's I/O on the file arrives
// here; it never fails towards HDF5 (see seam_driver.hpp).
class SeamFile {
 public:
  SeamFile(FileSystem& file_system, int handle, std::filesystem::path path,
           const SeamBuffering& buffering)
      : file_system_(file_system),
        handle_(handle),
        path_(std::move(path)),
        buffering_(buffering) {}

  void write(H5FD_mem_t type, std::uint64_t address, const char* bytes,
             std::size_t size) noexcept;
  void read(std::uint64_t address, char* out, std::size_t size) noexcept;
  // Makes the file `size` bytes long (HDF5's end of allocation): at once where that cuts
  // bytes on the disk, else when the file closes.
  void truncate(std::uint64_t size) noexcept;
  std::uint64_t end_of_file() const noexcept { return end_of_file_; }

  // HDF5 opens the file more than once in one create (a tentative open first); the file is
  // closed when every open was. The last close writes out what is buffered and sets the
  // file's size.
  void opened() noexcept { ++open_count_; }
  void closed() noexcept;
  bool closed_by_hdf5() const noexcept { return open_count_ == 0; }

  bool failed() const noexcept { return failed_operation_ != nullptr; }
  // "cannot write /d/m.h5.tmp: Input/output error". REQUIRES: failed().
  std::string failure_message() const {
    return std::string("cannot ") + failed_operation_ + " " + path_.string() + ": " +
           std::strerror(failed_errno_);
  }
  // After HDF5 failed to close the file (which cannot happen with H5F_CLOSE_STRONG, but if
  // it did, HDF5 would call in later): no more I/O through a handle that is closed by then.
  void abandon() noexcept { fail("write", EBADF); }

 private:
  // A piece of a pwritev: buffered bytes, the caller's for a direct write, or zeros.
  struct Piece {
    std::uint64_t address;
    std::string_view bytes;
    bool buffered;  // an extent of buffered_, removed from it once written
  };
  using Extents = std::map<std::uint64_t, std::string>;  // address -> bytes; disjoint

  void fail(const char* operation, int error_number) noexcept {
    if (failed()) return;
    failed_operation_ = operation;
    failed_errno_ = error_number;
  }
  void keep(std::uint64_t address, const char* bytes, std::size_t size);
  void forget(std::uint64_t begin, std::uint64_t end);
  bool write_out(const Piece* direct, std::uint64_t final_size);
  bool write_run(std::uint64_t address, std::vector<std::string_view> parts);
  bool resize_on_disk(std::uint64_t size) noexcept;
  void read_from_disk(std::uint64_t address, char* out, std::size_t size) noexcept;

  FileSystem& file_system_;
  int handle_;
  std::filesystem::path path_;
  SeamBuffering buffering_;
  Extents buffered_;
  std::size_t buffered_bytes_ = 0;
  std::uint64_t disk_size_ = 0;    // the handle's file size, as our calls made it
  std::uint64_t final_size_ = 0;   // the size HDF5 last asked for (truncate), set at close
  std::uint64_t end_of_file_ = 0;  // what HDF5 sees: disk and buffer, including dropped writes
  int open_count_ = 0;
  const char* failed_operation_ = nullptr;  // "write", "read", "truncate"; null: no failure
  int failed_errno_ = 0;
};

// Buffers [address, address + size), merging it with the extents it overlaps or touches
// (the newest bytes win). Appending to the end of an extent, HDF5's usual order, grows that
// extent's string in place, so a run of small writes costs their bytes once.
void SeamFile::keep(std::uint64_t address, const char* bytes, std::size_t size) {
  if (size == 0) return;
  auto next = buffered_.upper_bound(address);
  if (next != buffered_.begin()) {
    auto previous = std::prev(next);
    if (previous->first + previous->second.size() >= address) next = previous;
  }
  std::uint64_t start = address;
  std::string merged;
  if (next != buffered_.end() && next->first <= address) {
    start = next->first;
    merged = std::move(next->second);
    buffered_bytes_ -= merged.size();
    next = buffered_.erase(next);
  }
  const std::size_t offset = static_cast<std::size_t>(address - start);
  if (merged.size() < offset + size) merged.resize(offset + size);
  std::memcpy(merged.data() + offset, bytes, size);
  // Later extents reached by the merged one: their bytes past it are kept, the rest is
  // older than what was just written.
  while (next != buffered_.end() && next->first <= start + merged.size()) {
    const std::uint64_t merged_end = start + merged.size();
    const std::uint64_t extent_end = next->first + next->second.size();
    if (extent_end > merged_end) {
      merged.append(next->second, static_cast<std::size_t>(merged_end - next->first),
                    std::string::npos);
    }
    buffered_bytes_ -= next->second.size();
    next = buffered_.erase(next);
  }
  buffered_bytes_ += merged.size();
  buffered_.emplace_hint(next, start, std::move(merged));
}

// Drops buffered bytes in [begin, end), keeping the parts of extents outside it.
void SeamFile::forget(std::uint64_t begin, std::uint64_t end) {
  if (begin >= end) return;
  auto at = buffered_.upper_bound(begin);
  if (at != buffered_.begin()) --at;
  while (at != buffered_.end() && at->first < end) {
    const std::uint64_t extent_begin = at->first;
    const std::uint64_t extent_end = extent_begin + at->second.size();
    if (extent_end <= begin) {
      ++at;
      continue;
    }
    std::string bytes = std::move(at->second);
    buffered_bytes_ -= bytes.size();
    at = buffered_.erase(at);
    if (extent_begin < begin) {
      std::string head = bytes.substr(0, static_cast<std::size_t>(begin - extent_begin));
      buffered_bytes_ += head.size();
      buffered_.emplace(extent_begin, std::move(head));
    }
    if (extent_end > end) {
      std::string tail = bytes.substr(static_cast<std::size_t>(end - extent_begin));
      buffered_bytes_ += tail.size();
      at = std::next(buffered_.emplace(end, std::move(tail)).first);
    }
  }
}

// Writes every buffered extent, and `direct` (bytes not buffered, disjoint from the
// extents) when given, in address order. Pieces that follow each other on the file, or
// with a small hole between them where nothing was written yet, go out as one pwritev;
// with `final_size` (at close) the file's tail up to it too. An extent stays buffered until
// its write succeeded, so after a failure reads still see it. Returns whether everything
// was written.
bool SeamFile::write_out(const Piece* direct, std::uint64_t final_size) {
  std::vector<Piece> pieces;
  pieces.reserve(buffered_.size() * 2 + 2);
  for (const auto& [address, bytes] : buffered_) pieces.push_back({address, bytes, true});
  if (direct != nullptr) {
    const auto at = std::lower_bound(
        pieces.begin(), pieces.end(), direct->address,
        [](const Piece& piece, std::uint64_t address) { return piece.address < address; });
    pieces.insert(at, *direct);
  }
  if (pieces.empty()) return true;
  // Bytes at or past the disk's size were never written: a hole there reads as zeros.
  const std::uint64_t unwritten_from = disk_size_;
  auto fillable = [&](std::uint64_t from, std::uint64_t to) {
    return from >= unwritten_from && to > from && to - from <= kMaxFilledHole;
  };
  std::size_t first = 0;
  while (first < pieces.size()) {
    std::size_t last = first + 1;
    std::vector<std::string_view> parts{pieces[first].bytes};
    std::uint64_t run_end = pieces[first].address + pieces[first].bytes.size();
    while (last < pieces.size() &&
           (run_end == pieces[last].address || fillable(run_end, pieces[last].address))) {
      if (run_end < pieces[last].address) {
        parts.emplace_back(kZeros, static_cast<std::size_t>(pieces[last].address - run_end));
      }
      parts.push_back(pieces[last].bytes);
      run_end = pieces[last].address + pieces[last].bytes.size();
      ++last;
    }
    if (last == pieces.size() && fillable(run_end, final_size)) {
      parts.emplace_back(kZeros, static_cast<std::size_t>(final_size - run_end));
    }
    if (!write_run(pieces[first].address, std::move(parts))) return false;
    for (std::size_t i = first; i < last; ++i) {
      if (!pieces[i].buffered) continue;
      const auto written = buffered_.find(pieces[i].address);
      buffered_bytes_ -= written->second.size();
      buffered_.erase(written);
    }
    first = last;
  }
  return true;
}

// One contiguous run at `address`, going on after short writes and EINTR (as the store's
// own writes do); any other failure is remembered.
bool SeamFile::write_run(std::uint64_t address, std::vector<std::string_view> parts) {
  std::size_t first = 0;
  while (first < parts.size()) {
    std::int64_t written;
    do {
      written = file_system_.pwrite(handle_, std::span(parts).subspan(first), address);
    } while (written == -EINTR);
    if (written <= 0) {
      fail("write", written < 0 ? static_cast<int>(-written) : EIO);  // 0: no progress
      return false;
    }
    address += static_cast<std::uint64_t>(written);
    auto left = static_cast<std::uint64_t>(written);
    while (left > 0 && first < parts.size()) {
      const auto taken =
          static_cast<std::size_t>(std::min<std::uint64_t>(left, parts[first].size()));
      parts[first].remove_prefix(taken);
      left -= taken;
      if (parts[first].empty()) ++first;
    }
    disk_size_ = std::max(disk_size_, address);
  }
  return true;
}

bool SeamFile::resize_on_disk(std::uint64_t size) noexcept {
  int status;
  do {
    status = file_system_.ftruncate(handle_, size);
  } while (status == -EINTR);
  if (status != 0) {
    fail("truncate", -status);
    return false;
  }
  disk_size_ = size;
  return true;
}

void SeamFile::write(H5FD_mem_t type, std::uint64_t address, const char* bytes,
                     std::size_t size) noexcept {
  end_of_file_ = std::max(end_of_file_, address + size);
  try {
    if (!failed()) {
      if (size < buffering_.direct_bytes) {
        keep(address, bytes, size);
        if (buffered_bytes_ >= buffering_.buffer_bytes) write_out(nullptr, 0);
        return;
      }
      forget(address, address + size);  // older than these bytes
      const Piece direct{address, std::string_view(bytes, size), false};
      if (write_out(&direct, 0)) return;
    }
    // Failed: no more writes. Metadata stays readable from memory; raw data is dropped,
    // since HDF5 does not read back the data it wrote into a file it is only writing.
    if (type == H5FD_MEM_DRAW) {
      forget(address, address + size);
    } else {
      keep(address, bytes, size);
    }
  } catch (const std::bad_alloc&) {
    fail("write", ENOMEM);
    forget(address, address + size);
  }
}

void SeamFile::read_from_disk(std::uint64_t address, char* out, std::size_t size) noexcept {
  // Past the end of what was written the file reads as zeros (a hole, as on a disk).
  while (size > 0 && address < disk_size_) {
    const auto wanted =
        static_cast<std::size_t>(std::min<std::uint64_t>(size, disk_size_ - address));
    std::int64_t got;
    do {
      got = file_system_.pread(handle_, out, wanted, address);
    } while (got == -EINTR);
    if (got < 0) fail("read", static_cast<int>(-got));
    if (got <= 0) break;
    address += static_cast<std::uint64_t>(got);
    out += got;
    size -= static_cast<std::size_t>(got);
  }
  std::memset(out, 0, size);
}

void SeamFile::read(std::uint64_t address, char* out, std::size_t size) noexcept {
  const std::uint64_t end = address + size;
  auto extent = buffered_.upper_bound(address);
  if (extent != buffered_.begin() &&
      std::prev(extent)->first + std::prev(extent)->second.size() > address) {
    --extent;
  }
  std::uint64_t at = address;
  while (at < end) {
    if (extent != buffered_.end() && extent->first <= at) {
      const std::uint64_t upto =
          std::min<std::uint64_t>(end, extent->first + extent->second.size());
      std::memcpy(out + (at - address), extent->second.data() + (at - extent->first),
                  static_cast<std::size_t>(upto - at));
      at = upto;
      ++extent;
      continue;
    }
    const std::uint64_t gap_end =
        extent != buffered_.end() ? std::min<std::uint64_t>(end, extent->first) : end;
    read_from_disk(at, out + (at - address), static_cast<std::size_t>(gap_end - at));
    at = gap_end;
  }
}

void SeamFile::truncate(std::uint64_t size) noexcept {
  try {
    forget(size, UINT64_MAX);
  } catch (const std::bad_alloc&) {
    fail("write", ENOMEM);
  }
  end_of_file_ = size;
  final_size_ = size;
  // Growing the file, or cutting buffered bytes only, waits for the close (one call fewer,
  // and none at all when the last pwrite reaches the size). Bytes on the disk past `size`
  // are cut now, so that reads never see them again.
  if (!failed() && size < disk_size_) resize_on_disk(size);
}

void SeamFile::closed() noexcept {
  if (--open_count_ > 0 || failed()) return;
  try {
    if (!write_out(nullptr, final_size_)) return;
  } catch (const std::bad_alloc&) {
    fail("write", ENOMEM);
    return;
  }
  if (disk_size_ < final_size_) resize_on_disk(final_size_);
}

// ---- the driver ------------------------------------------------------------------------------

// The driver's file access property: which SeamFile a file created with it is. HDF5 copies
// it with the property list; the SeamFile outlives every copy (write_file_through_seam).
struct DriverInfo {
  SeamFile* file = nullptr;
};

// What HDF5 holds for an open file: its own part first (HDF5 casts between the two).
struct DriverFile {
  H5FD_t public_part{};
  SeamFile* file = nullptr;
  haddr_t end_of_allocation = 0;
};

DriverFile* driver_file(H5FD_t* file) { return reinterpret_cast<DriverFile*>(file); }
const DriverFile* driver_file(const H5FD_t* file) {
  return reinterpret_cast<const DriverFile*>(file);
}

// As the sec2 driver's: the largest offset an off_t holds.
constexpr haddr_t kMaxAddress = (haddr_t{1} << (8 * sizeof(off_t) - 1)) - 1;

void* copy_info(const void* info) {
  void* copy = std::malloc(sizeof(DriverInfo));
  if (copy != nullptr) std::memcpy(copy, info, sizeof(DriverInfo));
  return copy;
}
void* info_of_file(H5FD_t* file) {
  const DriverInfo info{driver_file(file)->file};
  return copy_info(&info);
}
herr_t free_info(void* info) {
  std::free(info);
  return 0;
}

H5FD_t* open_file(const char*, unsigned, hid_t fapl, haddr_t) {
  const auto* info = static_cast<const DriverInfo*>(H5Pget_driver_info(fapl));
  if (info == nullptr || info->file == nullptr) return nullptr;
  auto* file = new (std::nothrow) DriverFile;
  if (file == nullptr) return nullptr;
  file->file = info->file;
  file->file->opened();
  return &file->public_part;
}

herr_t close_file(H5FD_t* public_part) {
  DriverFile* file = driver_file(public_part);
  file->file->closed();
  delete file;
  return 0;
}

int compare_files(const H5FD_t* a, const H5FD_t* b) {
  const SeamFile* left = driver_file(a)->file;
  const SeamFile* right = driver_file(b)->file;
  if (left == right) return 0;
  return std::less<const SeamFile*>{}(left, right) ? -1 : 1;
}

herr_t query_features(const H5FD_t*, unsigned long* flags) {
  if (flags == nullptr) return -1;
  // What sec2 allows, less what needs a POSIX descriptor or SWMR: HDF5 gathers metadata
  // and small raw data into blocks and accumulates metadata writes, which makes its writes
  // fewer and larger before they even reach our buffer.
  *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
           H5FD_FEAT_AGGREGATE_SMALLDATA | H5FD_FEAT_DEFAULT_VFD_COMPATIBLE;
  return 0;
}

haddr_t get_end_of_allocation(const H5FD_t* file, H5FD_mem_t) {
  return driver_file(file)->end_of_allocation;
}
herr_t set_end_of_allocation(H5FD_t* file, H5FD_mem_t, haddr_t address) {
  driver_file(file)->end_of_allocation = address;
  return 0;
}
haddr_t get_end_of_file(const H5FD_t* file, H5FD_mem_t) {
  return driver_file(file)->file->end_of_file();
}

bool in_range(haddr_t address, std::size_t size) {
  return address != HADDR_UNDEF && address <= kMaxAddress && size <= kMaxAddress - address;
}

herr_t read_bytes(H5FD_t* file, H5FD_mem_t, hid_t, haddr_t address, size_t size, void* out) {
  if (!in_range(address, size)) return -1;
  driver_file(file)->file->read(address, static_cast<char*>(out), size);
  return 0;
}
herr_t write_bytes(H5FD_t* file, H5FD_mem_t type, hid_t, haddr_t address, size_t size,
                   const void* bytes) {
  if (!in_range(address, size)) return -1;
  driver_file(file)->file->write(type, address, static_cast<const char*>(bytes), size);
  return 0;
}
// HDF5's flush asks for its bytes to be in the file; ours get there when the buffer fills
// or the file closes, and only the fsync after the close makes them count (the store does
// not rename a file before that), so writing out early would only add calls.
herr_t flush_file(H5FD_t*, hid_t, hbool_t) { return 0; }
herr_t truncate_file(H5FD_t* public_part, hid_t, hbool_t) {
  DriverFile* file = driver_file(public_part);
  file->file->truncate(file->end_of_allocation);
  return 0;
}

const H5FD_class_t kDriverClass = {
    "edgehdf5_seam",
    kMaxAddress,
    // Closing the file closes whatever is still open in it, so HDF5 is done with the
    // SeamFile when H5Fclose returns.
    H5F_CLOSE_STRONG,
    nullptr,  // terminate
    nullptr,  // sb_size: no driver information in the superblock
    nullptr,  // sb_encode
    nullptr,  // sb_decode
    sizeof(DriverInfo),
    info_of_file,
    copy_info,
    free_info,
    0,        // dxpl_size
    nullptr,  // dxpl_copy
    nullptr,  // dxpl_free
    open_file,
    close_file,
    compare_files,
    query_features,
    nullptr,  // get_type_map
    nullptr,  // alloc: HDF5's own allocation at the end of the address space
    nullptr,  // free
    get_end_of_allocation,
    set_end_of_allocation,
    get_end_of_file,
    nullptr,  // get_handle: there is no descriptor to hand out
    read_bytes,
    write_bytes,
    flush_file,
    truncate_file,
    nullptr,  // lock: file locking is off for our files (h5.hpp)
    nullptr,  // unlock
    H5FD_FLMAP_DICHOTOMY,
};

// The driver's id, registered on first use (and again if HDF5 was closed and reopened).
hid_t driver_id() {
  static hid_t id = H5I_INVALID_HID;
  if (id < 0 || H5Iis_valid(id) <= 0) {
    id = check(H5FDregister(&kDriverClass), "H5FDregister(edgehdf5_seam)");
  }
  return id;
}

// ---- the seam calls around HDF5 --------------------------------------------------------------

[[noreturn]] void fail_io(const std::string& what, const std::filesystem::path& path,
                          int error_number) {
  throw Error(ErrorCode::io, what + " " + path.string() + ": " + std::strerror(error_number));
}

template <typename Call>
auto retry_interrupted(Call call) {
  auto result = call();
  while (result == -EINTR) result = call();
  return result;
}

// Closes and removes a file that will not be finished; what is left is harmless.
void discard(FileSystem& file_system, int handle, const std::filesystem::path& path) noexcept {
  file_system.close(handle);
  file_system.unlink(path);
}

}  // namespace

void write_file_through_seam(FileSystem& file_system, const std::filesystem::path& path,
                             const std::function<void(Object& file)>& fill,
                             const SeamBuffering& buffering) {
  LibraryLock lock;
  const int handle =
      retry_interrupted([&] { return file_system.open(path, FileOpenMode::create); });
  if (handle < 0) fail_io("cannot create", path, -handle);
  // On the heap: if HDF5 ever kept the file open past H5Fclose, it must not call into a
  // SeamFile that is gone (abandon() below).
  auto seam = std::make_unique<SeamFile>(file_system, handle, path, buffering);
  std::exception_ptr hdf5_error;
  try {
    Object fapl = new_file_access_list();
    const DriverInfo info{seam.get()};
    check(H5Pset_driver(fapl.id(), driver_id(), &info), "H5Pset_driver(edgehdf5_seam)");
    // The name only labels the file in HDF5's messages: the driver opens nothing by name.
    Object file(check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()),
                      "cannot create HDF5 file " + path.string()));
    fill(file);
    file.close();
  } catch (...) {
    hdf5_error = std::current_exception();
  }
  if (!seam->closed_by_hdf5()) {
    seam->abandon();
    seam.release();  // deliberately leaked: HDF5 may still call it (a few bytes, never here)
    discard(file_system, handle, path);
    if (hdf5_error) std::rethrow_exception(hdf5_error);
    throw Error(ErrorCode::hdf5, "HDF5 did not close " + path.string());
  }
  // A failed seam call comes first: whatever HDF5 or `fill` reported after it followed from
  // it (data that never reached the disk).
  if (seam->failed()) {
    discard(file_system, handle, path);
    throw Error(ErrorCode::io, seam->failure_message());
  }
  if (hdf5_error) {
    discard(file_system, handle, path);
    std::rethrow_exception(hdf5_error);
  }
  const int synced = retry_interrupted([&] { return file_system.fsync(handle); });
  if (synced != 0) {
    discard(file_system, handle, path);
    fail_io("cannot fsync", path, -synced);
  }
  // After a good fsync the data is on disk: a failing close cannot take it back, but report
  // it all the same, as the store's write_new_file does.
  const int closed = file_system.close(handle);
  if (closed != 0 && closed != -EINTR) {
    file_system.unlink(path);
    fail_io("cannot close", path, -closed);
  }
}

}  // namespace edgehdf5::h5
