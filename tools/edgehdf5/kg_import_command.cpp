// kg FILE import-jsonl PATH: a reference memory server's store (npm
// @modelcontextprotocol/server-memory: one JSON object per line, {"type":"entity", "name",
// "entityType", "observations"} or {"type":"relation", "from", "to", "relationType"}) into a
// memory file, with the same operations the MCP tools use (mcp_graph_operations.hpp): new
// entities are created, observations of entities the file has already are added to them,
// duplicates are skipped.
//
// The whole input is read and checked first: a bad line (not JSON, a missing field, a
// relation to an entity neither file holds) is reported with its line number and nothing is
// imported.

#include <iostream>
#include <set>
#include <string>

#include "edgehdf5/edgehdf5.hpp"
#include "embedding_support.hpp"
#include "mcp_graph_operations.hpp"
#include "kg_import_command.hpp"
#include "mcp_tools.hpp"

namespace edgehdf5::cli {
namespace {

using nlohmann::json;

struct ImportJsonlOptions {
  std::filesystem::path input;
  std::optional<std::string> embed_command;
};

struct ParsedStore {
  json entities = json::array();
  json relations = json::array();
};

[[noreturn]] void bad_line(const std::filesystem::path& path, std::size_t number,
                           const std::string& why) {
  throw Error(ErrorCode::invalid_argument,
              path.string() + ":" + std::to_string(number) + ": " + why + "; nothing was imported");
}

std::string string_field(const json& item, const char* name, const std::filesystem::path& path,
                         std::size_t number) {
  const auto field = item.find(name);
  if (field == item.end() || !field->is_string()) {
    bad_line(path, number, std::string("\"") + name + "\" must be a string");
  }
  if (field->get<std::string>().find('\0') != std::string::npos) {
    bad_line(path, number, std::string("\"") + name + "\" contains a NUL byte");
  }
  return *field;
}

ParsedStore parse_store(const std::filesystem::path& path) {
  std::ifstream input = open_input_file(path);
  ParsedStore store;
  std::string line;
  std::size_t number = 0;
  while (std::getline(input, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // as the reference
    json item;
    try {
      item = json::parse(line);
    } catch (const json::parse_error& error) {
      bad_line(path, number, std::string("not JSON (") + error.what() + ")");
    }
    if (!item.is_object()) bad_line(path, number, "not a JSON object");
    const std::string type = string_field(item, "type", path, number);
    if (type == "entity") {
      const std::string name = string_field(item, "name", path, number);
      if (name.empty()) bad_line(path, number, "\"name\" is empty");
      json observations = json::array();
      if (const auto field = item.find("observations"); field != item.end()) {
        if (!field->is_array()) bad_line(path, number, "\"observations\" must be an array");
        for (const json& observation : *field) {
          if (!observation.is_string() || observation.get<std::string>().empty() ||
              observation.get<std::string>().find('\0') != std::string::npos) {
            bad_line(path, number, "every observation must be a non-empty string");
          }
          observations.push_back(observation);
        }
      }
      store.entities.push_back({{"name", name},
                                {"entityType", string_field(item, "entityType", path, number)},
                                {"observations", observations},
                                {"line", number}});
    } else if (type == "relation") {
      store.relations.push_back({{"from", string_field(item, "from", path, number)},
                                 {"to", string_field(item, "to", path, number)},
                                 {"relationType", string_field(item, "relationType", path, number)},
                                 {"line", number}});
    } else {
      bad_line(path, number, "\"type\" must be \"entity\" or \"relation\", not \"" + type + "\"");
    }
  }
  if (input.bad()) throw Error(ErrorCode::io, "cannot read " + path.string());
  return store;
}

ExitStatus run_import_jsonl(const FileOptions& kg, const ImportJsonlOptions& options) {
  const ParsedStore parsed = parse_store(options.input);
  auto memory = open_for_writing(kg.file);
  std::unique_ptr<TextEmbedder> embedder;
  try {
    embedder = file_embedder(memory.config(), kg.file, options.embed_command);
  } catch (const Error& error) {
    std::cerr << "edgehdf5: note: " << error.what() << "; observations are stored without memories\n";
  }
  // Relations may only join entities that will exist: the file's and the imported ones.
  std::set<std::string> names;
  for (const Entity& entity : memory.knowledge().entities()) names.insert(entity.name);
  for (const json& entity : parsed.entities) names.insert(entity.at("name").get<std::string>());
  for (const json& relation : parsed.relations) {
    for (const char* end : {"from", "to"}) {
      if (!names.contains(relation.at(end).get<std::string>())) {
        bad_line(options.input, relation.at("line"),
                 std::string("relation ") + end + " '" + relation.at(end).get<std::string>() +
                     "', an entity neither " + options.input.string() + " nor " +
                     kg.file.string() + " holds");
      }
    }
  }
  json observations_of_existing = json::array();
  for (const json& entity : parsed.entities) {
    observations_of_existing.push_back(
        {{"entityName", entity.at("name")}, {"contents", entity.at("observations")}});
  }
  try {
    const json created = mcp::create_entities(memory, embedder.get(), parsed.entities);
    // Entities that existed (or came twice) get their observations merged in.
    const json added = mcp::add_observations(memory, embedder.get(), observations_of_existing);
    const json relations = mcp::create_relations(memory, parsed.relations);
    std::size_t observation_count = 0;
    for (const json& entity : created) observation_count += entity.at("observations").size();
    for (const json& result : added) observation_count += result.at("addedObservations").size();
    memory.close();
    print_outcome(kg.json,
                  {{"entities", created.size()},
                   {"relations", relations.size()},
                   {"observations", observation_count},
                   {"skipped_entities", parsed.entities.size() - created.size()},
                   {"skipped_relations", parsed.relations.size() - relations.size()}},
                  "imported " + std::to_string(created.size()) + " entities, " +
                      std::to_string(relations.size()) + " relations and " +
                      std::to_string(observation_count) + " observations from " +
                      options.input.string());
  } catch (const mcp::ToolRefusal& refusal) {
    throw Error(ErrorCode::invalid_argument, refusal.what());
  }
  return kExitSuccess;
}

}  // namespace

Command add_import_jsonl_subcommand(CLI::App& kg, const std::shared_ptr<FileOptions>& shared) {
  auto options = std::make_shared<ImportJsonlOptions>();
  auto* command = kg.add_subcommand(
      "import-jsonl",
      "Load a reference MCP memory server's JSONL store (entities, observations, relations)");
  command->add_option("PATH", options->input, "The memory.jsonl file")->required();
  add_embed_command_option(*command, options->embed_command);
  add_lock_timeout_option(*command);
  add_json_flag(*command, shared->json, "a sentence");
  return make_command(command, shared, options, &run_import_jsonl);
}

}  // namespace edgehdf5::cli
