// HashEmbedder: the built-in, model-free embedder (see embedder.hpp for the algorithm).
//
// Why these features: word unigrams carry the topic, adjacent word pairs a little order
// ("dark mode" vs "mode dark"), and character 3- and 4-grams of each word let inflections and
// compounds meet ("migrate"/"migration", "postgres"/"postgresql") without a stemmer for
// every language. Stop words are dropped because, hashed into a few hundred slots, they
// would make every pair of sentences look alike (there is no idf to discount them).

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "edgehdf5/bm25.hpp"
#include "edgehdf5/embedder.hpp"
#include "edgehdf5/error.hpp"

namespace edgehdf5 {
namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

constexpr double kWordWeight = 1.0;
constexpr double kPairWeight = 0.5;

// Part of the algorithm: changing this list changes every vector (and needs a new name).
const std::unordered_set<std::string_view>& stop_words() {
  static const std::unordered_set<std::string_view> words = {
      "a",     "an",    "the",   "and",   "or",    "but",   "if",    "of",    "to",    "in",
      "on",    "at",    "for",   "from",  "by",    "with",  "about", "as",    "into",  "over",
      "after", "before", "is",   "are",   "was",   "were",  "be",    "been",  "being", "am",
      "do",    "does",  "did",   "has",   "have",  "had",   "i",     "me",    "my",    "we",
      "our",   "you",   "your",  "he",    "she",   "it",    "its",   "they",  "them",  "their",
      "this",  "that",  "these", "those", "there", "here",  "so",    "than",  "then",  "too",
      "very",  "can",   "will",  "would", "should", "could", "just", "not",   "no",    "also",
      "up",    "out",   "what",  "when",  "which", "who",   "how",   "all",   "any",   "some",
      "let",   "s",     "t",     "ll",    "ve",    "re",    "d",     "m",
      // Agent memories are nearly all about "the user" and written as "User: ..." or
      // "Assistant: ..." turns: in this domain these words say nothing about the topic.
      "user",  "assistant",
  };
  return words;
}

std::uint64_t fnv1a(std::uint64_t state, std::string_view bytes) noexcept {
  for (const char byte : bytes) {
    state ^= static_cast<unsigned char>(byte);
    state *= kFnvPrime;
  }
  return state;
}

// Byte offsets where the code points of valid UTF-8 `text` start, plus text.size().
std::vector<std::size_t> code_point_starts(std::string_view text) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) starts.push_back(i);
  }
  starts.push_back(text.size());
  return starts;
}

class Accumulator {
 public:
  explicit Accumulator(std::size_t dimension) : sums_(dimension, 0.0) {}

  // Adds a feature named prefix + part1 + part2 (hashed without building the string).
  void add(std::string_view prefix, std::string_view part1, std::string_view part2,
           double weight) {
    const std::uint64_t hash = fnv1a(fnv1a(fnv1a(kFnvOffset, prefix), part1), part2);
    const double sign = (hash >> 63) == 0 ? 1.0 : -1.0;
    sums_[hash % sums_.size()] += sign * weight;
  }

  std::vector<float> normalised() const {
    double squares = 0.0;
    for (const double value : sums_) squares += value * value;
    std::vector<float> vector(sums_.size(), 0.0f);
    if (squares == 0.0) return vector;
    const double norm = std::sqrt(squares);
    for (std::size_t i = 0; i < sums_.size(); ++i) vector[i] = static_cast<float>(sums_[i] / norm);
    return vector;
  }

 private:
  std::vector<double> sums_;
};

void add_character_ngrams(const std::string& word, Accumulator& features) {
  const std::string padded = "<" + word + ">";
  const auto starts = code_point_starts(padded);
  const std::size_t length = starts.size() - 1;  // in code points
  std::size_t count = 0;
  for (const std::size_t n : {3, 4}) {
    if (length >= n) count += length - n + 1;
  }
  if (count == 0) return;
  const double weight = 1.0 / std::sqrt(static_cast<double>(count));
  const std::string_view text(padded);
  for (const std::size_t n : {3, 4}) {
    for (std::size_t first = 0; first + n <= length; ++first) {
      const std::size_t begin = starts[first];
      features.add("c:", text.substr(begin, starts[first + n] - begin), {}, weight);
    }
  }
}

}  // namespace

HashEmbedder::HashEmbedder(std::size_t dimension) : dimension_(dimension) {
  if (dimension == 0 || dimension > kMaxDimension) {
    throw Error(ErrorCode::invalid_argument,
                "hash embedder dimension must be between 1 and " + std::to_string(kMaxDimension) +
                    ", got " + std::to_string(dimension));
  }
}

std::string HashEmbedder::name() const { return "hash:" + std::to_string(dimension_); }

std::vector<float> HashEmbedder::embed(std::string_view text) const {
  std::vector<std::string> words = tokenize(text);
  std::erase_if(words, [](const std::string& word) { return stop_words().contains(word); });

  Accumulator features(dimension_);
  for (std::size_t i = 0; i < words.size(); ++i) {
    features.add("w:", words[i], {}, kWordWeight);
    if (i + 1 < words.size()) {
      features.add("b:", words[i], " " + words[i + 1], kPairWeight);
    }
    add_character_ngrams(words[i], features);
  }
  return features.normalised();
}

}  // namespace edgehdf5
