#pragma once
// Text embedders: turn text into the vectors a memory file stores.
//
// edgehdf5 stores pre-computed embeddings and calls no embedding service. So that the
// `edgehdf5` command works out of the box, the library ships one small built-in embedder,
// HashEmbedder ("hash:D"), and a way to plug in any local model, CommandEmbedder (a command
// that reads text lines and writes JSON vectors). A file records the name of its embedder in
// /meta/embedder; make_embedder(name) gives the built-in one back for later queries.
//
// Errors: every fallible call throws edgehdf5::Error.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edgehdf5 {

class TextEmbedder {
 public:
  virtual ~TextEmbedder() = default;

  // The name a memory file records in /meta/embedder ("hash:384").
  virtual std::string name() const = 0;
  // Length of every vector this embedder returns.
  virtual std::size_t dimension() const = 0;
  // The embedding of one text: dimension() finite values.
  virtual std::vector<float> embed(std::string_view text) const = 0;
  // The embeddings of many texts, in order. The default calls embed() for each; embedders
  // with a fixed cost per call (CommandEmbedder starts a process) do the batch at once.
  virtual std::vector<std::vector<float>> embed_batch(std::span<const std::string> texts) const;
};

// The built-in embedder: signed feature hashing ("the hashing trick") of words, word pairs
// and character n-grams, L2-normalised. Deterministic, no model, no download, about a
// microsecond per short text. It knows which words and spellings texts share, not what they
// mean: "car" and "automobile" are unrelated to it, while "migrate" and "migration" are close
// (they share character n-grams). Use a real model through CommandEmbedder for meaning.
//
// The algorithm, exactly (vectors are identical on every machine and in every version; a
// change to any step would get a new name, and tests/embed pins golden vectors):
//   1. words = tokenize(text) (bm25.hpp: lower-cased runs of letters and digits, the same
//      terms keyword search uses), minus the stop words listed in src/embed/hash_embedder.cpp
//      (English function words, plus "user" and "assistant", which agent memories are full of);
//   2. features, each with a weight:
//        "w:" + word                          weight 1.0   for each kept word
//        "b:" + word + " " + next kept word   weight 0.5   for each adjacent pair
//        "c:" + n code points of "<" + word + ">", n = 3 and 4, weight 1 / sqrt(g), where g
//        is the number of such n-grams of that word (so a word's n-grams together weigh
//        about as much as the word itself);
//   3. h = FNV-1a 64 (offset 0xcbf29ce484222325, prime 0x100000001b3) of the feature's UTF-8
//      bytes; slot = h mod D; sign = +1 if bit 63 of h is 0, else -1;
//      vector[slot] += sign * weight (accumulated in double);
//   4. the vector is divided by its L2 norm (a text without kept words gives the zero
//      vector) and rounded to float.
// Thread safety: const and stateless; share one freely.
class HashEmbedder final : public TextEmbedder {
 public:
  static constexpr std::size_t kDefaultDimension = 384;
  static constexpr std::size_t kMaxDimension = 65536;

  // Throws invalid_argument unless 1 <= dimension <= kMaxDimension.
  explicit HashEmbedder(std::size_t dimension = kDefaultDimension);

  std::string name() const override;  // "hash:<dimension>"
  std::size_t dimension() const override { return dimension_; }
  std::vector<float> embed(std::string_view text) const override;

 private:
  std::size_t dimension_;
};

// An external embedder: a shell command (run with /bin/sh -c) that reads texts on stdin, one
// per line, and writes one JSON array of numbers per line on stdout, in the same order, then
// exits with status 0. Newlines and carriage returns inside a text are sent as spaces, so
// every text is exactly one line. The command runs once per embed_batch() call (and once per
// embed()); its stderr goes to ours, so a model's own messages stay visible.
//
// Each batch is checked: the command must exit 0 and print exactly one vector per text, each
// a JSON array of `dimension` finite numbers (`dimension` 0: whatever length the first vector
// has, the same for all). Any failure throws Error(invalid_argument) naming the command and
// what was wrong (exit status, line number, expected and actual lengths); io when the
// command cannot be started at all.
// Thread safety: const; concurrent calls run separate processes.
class CommandEmbedder final : public TextEmbedder {
 public:
  // `name` is what name() reports (the model the command runs, e.g. the file's embedder).
  // Throws invalid_argument for an empty command.
  CommandEmbedder(std::string command, std::string name, std::size_t dimension);

  std::string name() const override { return name_; }
  std::size_t dimension() const override { return dimension_; }
  const std::string& command() const noexcept { return command_; }
  std::vector<float> embed(std::string_view text) const override;
  std::vector<std::vector<float>> embed_batch(std::span<const std::string> texts) const override;

 private:
  std::string command_;
  std::string name_;
  std::size_t dimension_;
};

// True for the names make_embedder() builds: "hash:D" with 1 <= D <= 65536.
bool is_builtin_embedder(std::string_view name) noexcept;

// The built-in embedder with this name ("hash:384"). Throws invalid_argument for a malformed
// built-in name ("hash:0", "hash:x") and unsupported for any other name (a model this library
// does not contain: embed with CommandEmbedder instead).
std::unique_ptr<TextEmbedder> make_embedder(std::string_view name);

}  // namespace edgehdf5
