#pragma once
// What our code checks before HDF5 parses a file opened with OpenOptions::untrusted.
//
// libhdf5 is not hardened against crafted files: fuzzing reaches crashes inside it within a
// thousand mutated files of the 1.0 format (tests/fuzz/regressions/open_file). In the format
// edgehdf5 writes since 0.3 (HDF5's 1.10 format: superblock version 3), every metadata block
// but the global heaps carries a checksum HDF5 verifies when it reads the block, so most
// damage is refused with an error instead of being parsed. The check here keeps the
// unchecksummed formats away from HDF5 when the caller says the file may be hostile; what it
// cannot stop (a damaged global heap hangs libhdf5: tests/fuzz/findings/open_file) is why
// hostile files still belong in a separate process.

#include <filesystem>

#include "edgehdf5/file_system.hpp"

namespace edgehdf5::store {

// Throws Error(schema) naming `path` unless the file begins with the HDF5 signature at byte 0
// (edgehdf5 writes no user block) followed by a superblock of version 2 or 3 (checksummed).
// A missing file passes (open reports it as not_found); Error(io) if it cannot be read.
void check_untrusted_file(FileSystem& file_system, const std::filesystem::path& path);

}  // namespace edgehdf5::store
