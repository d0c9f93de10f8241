#pragma once
// HDF5 writing a new file through the I/O seam (include/edgehdf5/file_system.hpp): an HDF5
// virtual file driver of ours ("edgehdf5_seam") whose every byte goes through a FileSystem.
//
// Why a driver. The store's files must be written through the seam, so that a test can fail
// any write and an embedder can count or throttle them. Built in memory by the core driver
// and then written out, a checkpoint wrote every byte twice and held a whole file image in
// memory (about 2.2x the time of a direct write at 100K x 384 f32). This driver writes
// through the seam as HDF5 goes, at the cost of a direct write (README, "Proven durability").
//
// How it writes. HDF5 makes many small writes (object headers, heaps, B-trees, the
// superblock at the end) and a few large ones (a dataset's raw data). Small writes are kept
// in a write-behind buffer of extents (a few MiB; adjacent and overlapping writes merge) and
// go out as a few large sequential pwrites; a large write goes straight through, joined into
// one pwritev with buffered extents it touches. Reads are served from the buffer where they
// overlap it, else by pread. So the number of seam calls stays small (tests/faults fails
// each in turn: the count drives the test's time), and a write costs what a write costs.
//
// Failures. HDF5 never sees one. A write, read or truncate that fails through the seam
// (after retrying EINTR and short writes) is remembered, the first one only; from then on
// the driver makes no more writes, keeps HDF5's later metadata writes in memory (so what
// HDF5 reads back stays consistent) and drops its raw data, and reports success to HDF5
// all the same. HDF5's error handling after a failed write is fragile: with the sec2
// driver a failing pwrite led to a SIGSEGV in HDF5's close path in 33 of 40 runs. After the
// file is closed, write_file_through_seam throws the remembered failure as Error(io) naming
// the file and the operation, and removes the file.
//
// Reads do not use this driver. On the operating system's files HDF5 reads a file by path
// with its own sec2 driver: it reads only what a query needs, as fast as it gets, and a
// failing read leaves HDF5 nothing written to clean up. On any other FileSystem the store
// reads the file whole through the seam (open, fstat, a pread per 64 KiB, close) and HDF5
// opens the bytes in memory: 5 seam calls for a test's file, where this driver would make
// one pread per HDF5 read (dozens per open, each failed in turn by tests/faults), and no
// faster on an in-memory disk.

#include <cstddef>
#include <filesystem>
#include <functional>

#include "edgehdf5/file_system.hpp"
#include "h5/h5.hpp"

namespace edgehdf5::h5 {

// How the driver buffers HDF5's writes. The defaults suit real files: buffered extents go
// out once they hold 4 MiB (HDF5's small writes of a whole checkpoint then make a handful
// of pwrites, a file under 4 MiB one), and a write of 1 MiB or more (a dataset's raw data)
// is not copied into the buffer. Tests pass small sizes so that HDF5's writes reach the
// seam one by one.
struct SeamBuffering {
  std::size_t buffer_bytes = std::size_t{4} << 20;
  std::size_t direct_bytes = std::size_t{1} << 20;
};

// Creates `path` through `file_system` (truncating it), runs `fill` on it as a new, empty
// HDF5 file, closes it (which writes what HDF5 still holds), fsyncs it and closes the handle.
// `fill` writes the content and must close every object it opens.
// Errors: Error(io) naming `path` and the operation ("cannot write /d/m.h5.tmp: No space
// left on device") when a seam call failed at any point, also one that made `fill` or HDF5
// fail afterwards; otherwise what `fill` or HDF5 threw. On any error `path` is removed
// (best effort). HDF5 itself opens nothing by `path`; only the FileSystem does.
// Thread safety: takes the LibraryLock for the whole write.
void write_file_through_seam(FileSystem& file_system, const std::filesystem::path& path,
                             const std::function<void(Object& file)>& fill,
                             const SeamBuffering& buffering = {});

}  // namespace edgehdf5::h5
