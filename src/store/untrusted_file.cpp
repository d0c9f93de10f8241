#include "store/untrusted_file.hpp"

#include <optional>
#include <string>
#include <string_view>

#include "edgehdf5/error.hpp"
#include "store/posix_file.hpp"

namespace edgehdf5::store {
namespace {

constexpr std::string_view kSignature("\x89HDF\r\n\x1a\n", 8);
constexpr std::size_t kVersionOffset = 8;  // the superblock version follows the signature
constexpr unsigned kFirstChecksummedVersion = 2;
constexpr unsigned kLastKnownVersion = 3;

[[noreturn]] void refuse(const std::filesystem::path& path, const std::string& why) {
  throw Error(ErrorCode::schema, path.string() + ": not opened as untrusted: " + why);
}

}  // namespace

void check_untrusted_file(FileSystem& file_system, const std::filesystem::path& path) {
  const std::optional<std::string> head =
      read_file_prefix(file_system, path, /*missing_ok=*/true, kVersionOffset + 1);
  if (!head) return;
  if (head->size() <= kVersionOffset || std::string_view(*head).substr(0, kSignature.size()) != kSignature) {
    refuse(path, "no HDF5 signature at byte 0");
  }
  const unsigned version = static_cast<unsigned char>((*head)[kVersionOffset]);
  if (version < kFirstChecksummedVersion) {
    refuse(path, "HDF5 superblock version " + std::to_string(version) +
                     ", a format without metadata checksums in which HDF5 cannot tell damage "
                     "(the original tool's files, h5py's default); copy it with edgehdf5 0.3 "
                     "or newer from a trusted source, or open it in a separate process");
  }
  if (version > kLastKnownVersion) refuse(path, "unknown HDF5 superblock version " + std::to_string(version));
}

}  // namespace edgehdf5::store
