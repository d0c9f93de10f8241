#include "edgehdf5/error.hpp"

namespace edgehdf5 {

std::string_view error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::io: return "io";
    case ErrorCode::hdf5: return "hdf5";
    case ErrorCode::schema: return "schema";
    case ErrorCode::corruption: return "corruption";
    case ErrorCode::locked: return "locked";
    case ErrorCode::read_only: return "read_only";
    case ErrorCode::unsupported: return "unsupported";
  }
  return "unknown";
}

}  // namespace edgehdf5
