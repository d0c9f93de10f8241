#include "embedding_support.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "edgehdf5/error.hpp"
#include "progress.hpp"

namespace edgehdf5::cli {
namespace {

// Texts per embed_batch() call: a command (often a model that takes a second to load) runs
// once per batch, and the progress bar moves once per batch.
constexpr std::size_t kBatchSize = 1024;

}  // namespace

void add_embed_command_option(CLI::App& command, std::optional<std::string>& embed_command) {
  command
      .add_option("--embed-cmd", embed_command,
                  "Embed text with this shell command instead of the file's built-in embedder:\n"
                  "it reads texts on stdin, one per line, and prints one JSON array of numbers\n"
                  "per line (default, for files whose embedder is not built in:\n"
                  "$EDGEHDF5_EMBED_CMD)")
      ->option_text("CMD");
}

std::unique_ptr<TextEmbedder> file_embedder(const MemoryConfig& config,
                                            const std::filesystem::path& file,
                                            const std::optional<std::string>& embed_command) {
  if (embed_command && !embed_command->empty()) {
    return std::make_unique<CommandEmbedder>(*embed_command, config.embedder,
                                             config.embedding_dim);
  }
  if (!is_builtin_embedder(config.embedder)) {
    // The variable stands in for --embed-cmd only where the built-in embedder cannot serve,
    // so setting it for one's own model never changes what a hash:D file's queries mean.
    if (const char* from_environment = std::getenv(kEmbedCommandVariable);
        from_environment != nullptr && *from_environment != '\0') {
      return std::make_unique<CommandEmbedder>(from_environment, config.embedder,
                                               config.embedding_dim);
    }
    throw Error(ErrorCode::unsupported,
                file.string() + ": its embedder '" + config.embedder +
                    "' is not built in, so text cannot be embedded for it; pass --embed-cmd CMD "
                    "(or set " + kEmbedCommandVariable +
                    ") to run that model, or use a file created with the built-in embedder "
                    "(`edgehdf5 create FILE`, embedder hash:384)");
  }
  auto embedder = make_embedder(config.embedder);
  if (embedder->dimension() != config.embedding_dim) {
    throw Error(ErrorCode::schema, file.string() + ": its embedder '" + config.embedder +
                                       "' makes " + std::to_string(embedder->dimension()) +
                                       "-d vectors but its embedding_dim is " +
                                       std::to_string(config.embedding_dim));
  }
  return embedder;
}

std::vector<std::vector<float>> embed_texts(const TextEmbedder& embedder,
                                            std::span<const std::string> texts,
                                            std::string_view label) {
  std::vector<std::vector<float>> vectors;
  vectors.reserve(texts.size());
  std::optional<Progress> progress;
  if (texts.size() > kBatchSize) progress.emplace(std::string(label), texts.size());
  for (std::size_t first = 0; first < texts.size(); first += kBatchSize) {
    const auto batch = texts.subspan(first, std::min(kBatchSize, texts.size() - first));
    for (auto& vector : embedder.embed_batch(batch)) vectors.push_back(std::move(vector));
    if (progress) progress->update(vectors.size());
  }
  return vectors;
}

}  // namespace edgehdf5::cli
