#pragma once
namespace edgehdf5 {
inline constexpr const char* kVersion = "0.3.0";
inline constexpr const char* kSchemaVersion = "1.0";
}  // namespace edgehdf5
