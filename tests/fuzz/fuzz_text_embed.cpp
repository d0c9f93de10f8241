// Fuzz target: the BM25 tokenizer and the built-in embedder (hash:D) on arbitrary bytes.
//
// The first two bytes pick the dimension D (1..4096), the rest is the text, which may be
// invalid UTF-8. tokenize() must return non-empty terms, and embed() D finite values whose
// norm is 1 (a text with terms) or 0 (none), whatever the bytes.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "edgehdf5/bm25.hpp"
#include "edgehdf5/embedder.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgehdf5;
  if (size < 2) return 0;
  const std::size_t dimension = 1 + ((std::size_t{data[0]} << 8 | data[1]) % 4096);
  const std::string_view text = fuzz::as_text(data + 2, size - 2);

  for (const auto& term : tokenize(text)) {
    if (term.empty()) fuzz::violated("empty term");
  }

  const HashEmbedder embedder(dimension);
  const auto vector = embedder.embed(text);
  if (vector.size() != dimension) fuzz::violated("embedding of the wrong dimension");
  double norm = 0.0;
  for (const float value : vector) {
    if (!std::isfinite(value)) fuzz::violated("non-finite embedding value");
    norm += double{value} * value;
  }
  norm = std::sqrt(norm);
  if (norm != 0.0 && std::fabs(norm - 1.0) > 1e-3) fuzz::violated("embedding not unit length");
  return 0;
}
