#pragma once
// Helpers the files of src/h5/ share (h5.cpp, seam_driver.cpp); not for the rest of the tree,
// which sees HDF5 only through h5.hpp. REQUIRES for all: the caller holds a LibraryLock.

#include <hdf5.h>

#include <string>

#include "h5/h5.hpp"

namespace edgehdf5::h5 {

// Throws Error(hdf5): `what`, then HDF5's error stack (which it clears).
[[noreturn]] void fail(const std::string& what);
// `id`, or fail(what) when it is negative (HDF5's failure).
hid_t check(hid_t id, const std::string& what);
void check(herr_t status, const std::string& what);

// A new file access property list with what every file of ours gets: HDF5's own file
// locking off (see h5.hpp).
Object file_access_list();
// The same, for a file HDF5 creates: the checksummed 1.10 format (see h5.cpp).
Object new_file_access_list();

}  // namespace edgehdf5::h5
