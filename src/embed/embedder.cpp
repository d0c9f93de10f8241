// TextEmbedder's default batch, and the built-in embedders by name.

#include <charconv>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "edgehdf5/embedder.hpp"
#include "edgehdf5/error.hpp"

namespace edgehdf5 {
namespace {

constexpr std::string_view kHashPrefix = "hash:";

// The D of "hash:D" when it is a plain decimal number (no sign, no spaces), else nothing.
std::optional<std::size_t> hash_dimension(std::string_view name) {
  if (!name.starts_with(kHashPrefix)) return std::nullopt;
  const std::string_view digits = name.substr(kHashPrefix.size());
  std::size_t dimension = 0;
  const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), dimension);
  if (digits.empty() || parsed.ec != std::errc{} || parsed.ptr != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return dimension;
}

}  // namespace

std::vector<std::vector<float>> TextEmbedder::embed_batch(
    std::span<const std::string> texts) const {
  std::vector<std::vector<float>> vectors;
  vectors.reserve(texts.size());
  for (const std::string& text : texts) vectors.push_back(embed(text));
  return vectors;
}

bool is_builtin_embedder(std::string_view name) noexcept {
  const auto dimension = hash_dimension(name);
  return dimension && *dimension >= 1 && *dimension <= HashEmbedder::kMaxDimension;
}

std::unique_ptr<TextEmbedder> make_embedder(std::string_view name) {
  if (name.starts_with(kHashPrefix)) {
    const auto dimension = hash_dimension(name);
    if (!dimension) {
      throw Error(ErrorCode::invalid_argument,
                  "malformed embedder name '" + std::string(name) +
                      "': expected hash:D with D a whole number, e.g. hash:384");
    }
    return std::make_unique<HashEmbedder>(*dimension);
  }
  throw Error(ErrorCode::unsupported,
              "embedder '" + std::string(name) +
                  "' is not built in (the built-in one is hash:D, e.g. hash:384); embed with "
                  "an external command (CommandEmbedder, `--embed-cmd`) instead");
}

}  // namespace edgehdf5
