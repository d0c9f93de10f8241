#pragma once
// `edgehdf5 kg FILE import-jsonl PATH`: loads a reference MCP memory server's JSONL store.

#include <memory>

#include <CLI/CLI.hpp>

#include "command_support.hpp"

namespace edgehdf5::cli {

Command add_import_jsonl_subcommand(CLI::App& kg, const std::shared_ptr<FileOptions>& shared);

}  // namespace edgehdf5::cli
