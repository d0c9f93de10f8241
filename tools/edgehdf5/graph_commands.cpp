// kg: the knowledge graph of a memory file: list entities, add entities and relations, show
// an entity's neighbours, find the shortest path between two entities.
//
// Entities are named on the command line by name or by id: a name is looked up first, so an
// entity called "42" is found by that name; an id is used when no entity has that name.

#include <charconv>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "command_support.hpp"
#include "commands.hpp"
#include "edgehdf5/edgehdf5.hpp"
#include "json_io.hpp"
#include "kg_import_command.hpp"
#include "query_support.hpp"
#include "text_table.hpp"

namespace edgehdf5::cli {
namespace {

const Entity& find_entity(const KnowledgeGraph& graph, const std::string& reference) {
  if (const Entity* entity = graph.find_entity_by_name(reference)) return *entity;
  EntityId id = 0;
  const char* end = reference.data() + reference.size();
  const auto parsed = std::from_chars(reference.data(), end, id);
  if (parsed.ec == std::errc{} && parsed.ptr == end) {
    if (const Entity* entity = graph.find_entity(id)) return *entity;
  }
  throw Error(ErrorCode::not_found, "no entity named '" + reference + "'" +
                                        (parsed.ec == std::errc{} && parsed.ptr == end
                                             ? " or with id " + reference
                                             : std::string{}));
}

nlohmann::ordered_json entity_json(const Entity& entity) {
  return {{"id", entity.id},
          {"name", entity.name},
          {"type", entity.type},
          {"memory_id", entity.embedding_id}};
}

nlohmann::ordered_json relation_json(const Relation& relation) {
  return {{"source", relation.source},
          {"target", relation.target},
          {"type", relation.type},
          {"weight", shortest_json_number(relation.weight)},
          {"timestamp", relation.timestamp}};
}

std::string entity_label(const KnowledgeGraph& graph, EntityId id) {
  const Entity* entity = graph.find_entity(id);
  return entity ? entity->name : "#" + std::to_string(id);
}

struct Step {
  EntityId entity;
  std::optional<Relation> via;  // the relation walked to reach `entity` (none for the start)
};

// Shortest path over relations in either direction (as KnowledgeGraph::traverse walks), by
// breadth-first search; among equally short paths, the one found first in insertion order.
std::optional<std::vector<Step>> shortest_path(const KnowledgeGraph& graph, EntityId from,
                                               EntityId to, std::size_t max_hops) {
  std::unordered_map<EntityId, Step> reached_by;  // entity -> the step that reached it
  std::unordered_map<EntityId, std::size_t> distance;
  std::deque<EntityId> queue{from};
  reached_by.emplace(from, Step{from, std::nullopt});
  distance[from] = 0;
  while (!queue.empty() && !reached_by.contains(to)) {
    const EntityId current = queue.front();
    queue.pop_front();
    if (distance[current] >= max_hops) continue;
    auto visit = [&](const Relation& relation, EntityId next) {
      if (reached_by.contains(next)) return;
      reached_by.emplace(next, Step{next, relation});
      distance[next] = distance[current] + 1;
      queue.push_back(next);
    };
    for (const Relation& relation : graph.relations_from(current)) visit(relation, relation.target);
    for (const Relation& relation : graph.relations_to(current)) visit(relation, relation.source);
  }
  if (!reached_by.contains(to)) return std::nullopt;
  std::vector<Step> path;
  for (EntityId at = to;;) {
    const Step& step = reached_by.at(at);
    path.insert(path.begin(), step);
    if (!step.via) break;
    at = step.via->source == at ? step.via->target : step.via->source;
  }
  return path;
}

// "Maya -[works_on]-> Atlas <-[owns]- Omar"
std::string describe_path(const KnowledgeGraph& graph, const std::vector<Step>& path) {
  std::string text = entity_label(graph, path.front().entity);
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Relation& relation = *path[i].via;
    if (relation.target == path[i].entity) {
      text += " -[" + relation.type + "]-> ";
    } else {
      text += " <-[" + relation.type + "]- ";
    }
    text += entity_label(graph, path[i].entity);
  }
  return text;
}


// A path as JSON: its length, the entities on it and the relations walked.
nlohmann::ordered_json path_json(const KnowledgeGraph& graph, const std::vector<Step>& path) {
  auto entities = nlohmann::ordered_json::array();
  auto relations = nlohmann::ordered_json::array();
  for (const Step& step : path) {
    entities.push_back(entity_json(*graph.find_entity(step.entity)));
    if (step.via) relations.push_back(relation_json(*step.via));
  }
  return {{"hops", path.size() - 1},
          {"entities", std::move(entities)},
          {"relations", std::move(relations)}};
}

// One relation of an entity, seen from that entity.
struct Link {
  const char* direction;  // "out" or "in"
  Relation relation;
  EntityId other;
};

std::vector<Link> links_of(const KnowledgeGraph& graph, EntityId entity) {
  std::vector<Link> links;
  for (const auto& relation : graph.relations_from(entity)) {
    links.push_back({"out", relation, relation.target});
  }
  for (const auto& relation : graph.relations_to(entity)) {
    links.push_back({"in", relation, relation.source});
  }
  return links;
}

nlohmann::ordered_json neighbors_json(const KnowledgeGraph& graph, const Entity& entity,
                                      const std::vector<Link>& links) {
  auto array = nlohmann::ordered_json::array();
  for (const auto& link : links) {
    const Entity* other = graph.find_entity(link.other);
    array.push_back({{"direction", link.direction},
                     {"type", link.relation.type},
                     {"weight", shortest_json_number(link.relation.weight)},
                     {"entity", other ? entity_json(*other) : nullptr}});
  }
  return {{"entity", entity_json(entity)}, {"relations", std::move(array)}};
}

void print_link_table(const KnowledgeGraph& graph, const std::vector<Link>& links,
                      std::ostream& out) {
  TextTable table({{"direction"},
                   {"relation"},
                   {"weight", Align::right},
                   {"id", Align::right},
                   {"entity"},
                   {"type"}});
  for (const auto& link : links) {
    const Entity* other = graph.find_entity(link.other);
    table.add_row({std::string(link.direction[0] == 'o' ? "->" : "<-"), link.relation.type,
                   fixed_decimals(link.relation.weight, 2), std::to_string(link.other),
                   entity_label(graph, link.other), other ? other->type : ""});
  }
  table.print(out);
}

// id, name, type, memory and the counts of relations out of and into each entity.
void print_entity_table(const KnowledgeGraph& graph, std::ostream& out) {
  std::map<EntityId, std::pair<std::size_t, std::size_t>> degree;  // out, in
  for (const Relation& relation : graph.relations()) {
    ++degree[relation.source].first;
    ++degree[relation.target].second;
  }
  TextTable table({{"id", Align::right},
                   {"name"},
                   {"type"},
                   {"memory", Align::right},
                   {"out", Align::right},
                   {"in", Align::right}});
  for (const Entity& entity : graph.entities()) {
    const auto [out_degree, in_degree] = degree[entity.id];
    table.add_row({std::to_string(entity.id), entity.name, entity.type,
                   entity.embedding_id < 0 ? "-" : std::to_string(entity.embedding_id),
                   std::to_string(out_degree), std::to_string(in_degree)});
  }
  table.print(out);
}

// kg list (the default): every entity with its relation counts, and every relation.
ExitStatus run_list(const FileOptions& kg) {
  const auto memory = open_read_only(kg.file);
  const KnowledgeGraph& graph = memory.knowledge();
  if (kg.json) {
    auto entities = nlohmann::ordered_json::array();
    for (const Entity& entity : graph.entities()) entities.push_back(entity_json(entity));
    auto relations = nlohmann::ordered_json::array();
    for (const Relation& relation : graph.relations()) relations.push_back(relation_json(relation));
    std::cout << json_line({{"entities", std::move(entities)}, {"relations", std::move(relations)}})
              << '\n';
    return kExitSuccess;
  }
  std::cout << counted(graph.entities().size(), "entity", "entities") << ", "
            << counted(graph.relations().size(), "relation", "relations") << '\n';
  if (!graph.entities().empty()) print_entity_table(graph, std::cout);
  return kExitSuccess;
}

Command add_list_subcommand(CLI::App& kg, const std::shared_ptr<FileOptions>& shared) {
  auto* command = kg.add_subcommand("list", "Every entity, with its relation counts");
  add_json_flag(*command, shared->json, "a table");
  return make_command(command, shared, &run_list);
}

struct AddEntityOptions {
  std::string name;
  std::string type;
  MemoryId memory_id = -1;
  bool allow_duplicate = false;
};

ExitStatus run_add_entity(const FileOptions& kg, const AddEntityOptions& options) {
  auto memory = open_for_writing(kg.file);
  const KnowledgeGraph& graph = memory.knowledge();
  if (const Entity* existing = graph.find_entity_by_name(options.name);
      existing && !options.allow_duplicate) {
    throw Error(ErrorCode::invalid_argument,
                "an entity named '" + options.name + "' exists already (id " +
                    std::to_string(existing->id) + "); --allow-duplicate adds another");
  }
  const EntityId id = memory.add_entity(options.name, options.type, options.memory_id);
  const auto result = entity_json(*graph.find_entity(id));
  memory.close();
  print_outcome(kg.json, result, "added entity " + std::to_string(id) + " (" + options.name + ")");
  return kExitSuccess;
}

Command add_add_entity_subcommand(CLI::App& kg, const std::shared_ptr<FileOptions>& shared) {
  auto options = std::make_shared<AddEntityOptions>();
  auto* command = kg.add_subcommand("add-entity", "Add an entity; prints its id");
  command->add_option("NAME", options->name, "Entity name (unique)")->required();
  command->add_option("--type", options->type, "Entity type (person, project, ...)");
  command->add_option("--memory", options->memory_id, "Id of the memory that describes the entity")
      ->option_text("ID");
  command->add_flag("--allow-duplicate", options->allow_duplicate,
                    "Add it even if an entity with this name exists");
  add_json_flag(*command, shared->json, "a sentence");
  add_lock_timeout_option(*command);
  return make_command(command, shared, options, &run_add_entity);
}

struct AddRelationOptions {
  std::string source;
  std::string target;
  std::string type;
  float weight = 1.0f;
};

ExitStatus run_add_relation(const FileOptions& kg, const AddRelationOptions& options) {
  auto memory = open_for_writing(kg.file);
  const KnowledgeGraph& graph = memory.knowledge();
  const EntityId source = find_entity(graph, options.source).id;
  const EntityId target = find_entity(graph, options.target).id;
  memory.add_relation(source, target, options.type, options.weight);
  const auto result = relation_json(graph.relations_from(source).back());
  const std::string message = "added relation " + entity_label(graph, source) + " -[" +
                              options.type + "]-> " + entity_label(graph, target);
  memory.close();
  print_outcome(kg.json, result, message);
  return kExitSuccess;
}

Command add_add_relation_subcommand(CLI::App& kg, const std::shared_ptr<FileOptions>& shared) {
  auto options = std::make_shared<AddRelationOptions>();
  auto* command = kg.add_subcommand(
      "add-relation", "Add a directed relation SOURCE -[TYPE]-> TARGET between two entities");
  command->add_option("SOURCE", options->source, "Source entity (name or id)")->required();
  command->add_option("TARGET", options->target, "Target entity (name or id)")->required();
  command->add_option("--type", options->type, "Relation type (works_on, ...)")->required();
  command->add_option("--weight", options->weight, "Relation weight")->capture_default_str();
  add_json_flag(*command, shared->json, "a sentence");
  add_lock_timeout_option(*command);
  return make_command(command, shared, options, &run_add_relation);
}

struct NeighborsOptions {
  std::string entity;
};

ExitStatus run_neighbors(const FileOptions& kg, const NeighborsOptions& options) {
  const auto memory = open_read_only(kg.file);
  const KnowledgeGraph& graph = memory.knowledge();
  const Entity& entity = find_entity(graph, options.entity);
  const std::vector<Link> links = links_of(graph, entity.id);
  if (kg.json) {
    std::cout << json_line(neighbors_json(graph, entity, links)) << '\n';
    return kExitSuccess;
  }
  std::cout << entity.name << " (id " << entity.id
            << (entity.type.empty() ? "" : ", " + entity.type)
            << "): " << counted(links.size(), "relation", "relations") << '\n';
  if (!links.empty()) print_link_table(graph, links, std::cout);
  return kExitSuccess;
}

Command add_neighbors_subcommand(CLI::App& kg, const std::shared_ptr<FileOptions>& shared) {
  auto options = std::make_shared<NeighborsOptions>();
  auto* command = kg.add_subcommand(
      "neighbors", "The relations of an entity, both directions, and the entities they join");
  command->add_option("ENTITY", options->entity, "Entity (name or id)")->required();
  add_json_flag(*command, shared->json, "a table");
  return make_command(command, shared, options, &run_neighbors);
}

struct PathOptions {
  std::string from;
  std::string to;
  std::optional<std::size_t> max_hops;
};

ExitStatus run_path(const FileOptions& kg, const PathOptions& options) {
  const auto memory = open_read_only(kg.file);
  const KnowledgeGraph& graph = memory.knowledge();
  const Entity& from = find_entity(graph, options.from);
  const Entity& to = find_entity(graph, options.to);
  const std::size_t max_hops = options.max_hops.value_or(graph.entities().size());
  const auto steps = shortest_path(graph, from.id, to.id, max_hops);
  if (!steps) {
    throw Error(ErrorCode::not_found,
                "no path from " + from.name + " to " + to.name +
                    (options.max_hops ? " within " + counted(max_hops, "hop", "hops")
                                      : std::string{}));
  }
  if (kg.json) {
    std::cout << json_line(path_json(graph, *steps)) << '\n';
  } else {
    std::cout << describe_path(graph, *steps) << "  ("
              << counted(steps->size() - 1, "hop", "hops") << ")\n";
  }
  return kExitSuccess;
}

Command add_path_subcommand(CLI::App& kg, const std::shared_ptr<FileOptions>& shared) {
  auto options = std::make_shared<PathOptions>();
  auto* command = kg.add_subcommand(
      "path", "The shortest path between two entities, over relations in either direction");
  command->add_option("FROM", options->from, "Start entity (name or id)")->required();
  command->add_option("TO", options->to, "End entity (name or id)")->required();
  command->add_option("--max-hops", options->max_hops, "Give up beyond this many relations")
      ->check(positive_count())
      ->option_text("N");
  add_json_flag(*command, shared->json, "a line");
  return make_command(command, shared, options, &run_path);
}

}  // namespace

Command add_kg_command(CLI::App& app) {
  const auto [command, shared] = add_file_command_group(
      app, "kg",
      "The knowledge graph: list entities and relations (the default), add-entity,\n"
      "add-relation, neighbors of an entity, the shortest path between two entities, or\n"
      "import-jsonl (a reference MCP memory server's store).\n"
      "ENTITY arguments are names, or ids when no entity has that name",
      "Print JSON instead of tables");
  return with_default_subcommand(command, {add_list_subcommand(*command, shared),
                                           add_add_entity_subcommand(*command, shared),
                                           add_add_relation_subcommand(*command, shared),
                                           add_neighbors_subcommand(*command, shared),
                                           add_path_subcommand(*command, shared),
                                           add_import_jsonl_subcommand(*command, shared)});
}

}  // namespace edgehdf5::cli
