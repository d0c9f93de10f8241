// Fuzz target: the JSON-lines parser `edgehdf5 import` reads (tools/edgehdf5/json_io.cpp).
//
// The first byte picks the rules (embedding required, optional or ignored; float16; the
// dimension), the rest is the input. Bad input must be refused with Error(invalid_argument)
// naming the line; what is accepted must follow the rules: one line number per entry, every
// embedding of the file's dimension (or empty where the rules allow), finite.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "edgehdf5/error.hpp"
#include "fuzz/fuzz_support.hpp"
#include "json_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgehdf5;
  if (size == 0) return 0;
  cli::EmbeddingRules rules;
  const std::uint8_t choice = data[0];
  rules.field = static_cast<cli::EmbeddingField>(choice % 3);
  rules.float16 = (choice & 0x4) != 0;
  rules.embedding_dim = 1 + ((choice >> 3) & 0x3);  // 1..4, so seeds can match it
  std::istringstream input(std::string(fuzz::as_text(data + 1, size - 1)));

  cli::JsonLines lines;
  try {
    lines = cli::entries_from_jsonl(input, "fuzz.jsonl", rules, 1.7e9);
  } catch (const Error& error) {
    if (error.code() != ErrorCode::invalid_argument) fuzz::violated("not invalid_argument");
    return 0;
  }
  if (lines.entries.size() != lines.line_numbers.size()) fuzz::violated("line numbers");
  for (const auto& entry : lines.entries) {
    if (rules.field == cli::EmbeddingField::ignored && !entry.embedding.empty()) {
      fuzz::violated("an ignored embedding was read");
    }
    if (!entry.embedding.empty() && entry.embedding.size() != rules.embedding_dim) {
      fuzz::violated("embedding of the wrong dimension accepted");
    }
    if (rules.field == cli::EmbeddingField::required && entry.embedding.empty()) {
      fuzz::violated("a required embedding is missing");
    }
    for (const float value : entry.embedding) {
      if (!std::isfinite(value)) fuzz::violated("non-finite embedding value accepted");
    }
  }
  return 0;
}
