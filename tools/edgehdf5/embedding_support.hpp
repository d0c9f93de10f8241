#pragma once
// Text to vectors for the commands that take text (add, import, recall, create): which
// embedder a file uses, and embedding many texts with a progress bar.
//
// A file names its embedder in /meta/embedder. A built-in name ("hash:384") is rebuilt with
// make_embedder(). Any other name is a model only the user has: the text commands then need
// --embed-cmd CMD (or, in its absence, $EDGEHDF5_EMBED_CMD), a command that embeds as
// CommandEmbedder says. An explicit --embed-cmd also overrides a built-in embedder (the user
// vouches that CMD makes vectors of the same kind as the file holds); the variable never
// does, so setting it for one's own model leaves hash:D files as they are.

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "edgehdf5/config.hpp"
#include "edgehdf5/embedder.hpp"

namespace edgehdf5::cli {

inline constexpr const char* kEmbedCommandVariable = "EDGEHDF5_EMBED_CMD";

// Adds --embed-cmd CMD.
void add_embed_command_option(CLI::App& command, std::optional<std::string>& embed_command);

// The embedder for the texts of `file`: --embed-cmd, else the built-in one the file names,
// else $EDGEHDF5_EMBED_CMD. Throws unsupported (naming the file and its embedder) when the
// file's embedder is not built in and no command was given either way.
std::unique_ptr<TextEmbedder> file_embedder(const MemoryConfig& config,
                                            const std::filesystem::path& file,
                                            const std::optional<std::string>& embed_command);

// Embeds `texts` in batches (one command run per batch for CommandEmbedder), showing a
// progress bar labelled `label` when there are many.
std::vector<std::vector<float>> embed_texts(const TextEmbedder& embedder,
                                            std::span<const std::string> texts,
                                            std::string_view label);

}  // namespace edgehdf5::cli
