#pragma once
// The one error type edgehdf5 throws to its users.
//
// Every fallible public call throws edgehdf5::Error (never a bare std::exception from
// HDF5, the OS or the standard library): a code a program can branch on, and a message
// a person can act on, naming the file, dataset, row or argument at fault.
// Our own broken invariants are asserts, not Errors.

#include <stdexcept>
#include <string>
#include <string_view>

namespace edgehdf5 {

enum class ErrorCode {
  invalid_argument,  // the caller passed something we refuse (wrong dim, NaN, k = 0, ...)
  not_found,         // an id, session or entity that does not exist
  io,                // the operating system refused a file operation (open, write, fsync, rename)
  hdf5,              // the HDF5 library reported an error (its own message is included)
  schema,            // the file is HDF5 but not a valid edgehdf5 memory file
  corruption,        // a checksum or structural check failed on data we wrote
  locked,            // another process holds the file for writing
  read_only,         // a write was attempted on a handle opened read-only
  unsupported,       // a feature that is not compiled in or not supported by this file
};

// The name of a code, for messages and --json output ("invalid_argument", ...).
std::string_view error_code_name(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace edgehdf5
