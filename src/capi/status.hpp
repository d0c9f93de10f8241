#pragma once
// The C ABI's mapping from edgehdf5::ErrorCode to eh5_status (one status per code), kept
// apart so that tests/capi can check it covers every code.

#include "edgehdf5/edgehdf5.h"
#include "edgehdf5/error.hpp"

namespace edgehdf5::capi {

constexpr eh5_status to_status(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument: return EH5_ERR_INVALID_ARGUMENT;
    case ErrorCode::not_found: return EH5_ERR_NOT_FOUND;
    case ErrorCode::io: return EH5_ERR_IO;
    case ErrorCode::hdf5: return EH5_ERR_HDF5;
    case ErrorCode::schema: return EH5_ERR_SCHEMA;
    case ErrorCode::corruption: return EH5_ERR_CORRUPTION;
    case ErrorCode::locked: return EH5_ERR_LOCKED;
    case ErrorCode::read_only: return EH5_ERR_READ_ONLY;
    case ErrorCode::unsupported: return EH5_ERR_UNSUPPORTED;
  }
  return EH5_ERR_INTERNAL;
}

}  // namespace edgehdf5::capi
