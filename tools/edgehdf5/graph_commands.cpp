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

}  // namespace

Command add_kg_command(CLI::App& app) {
  struct Options {
    std::filesystem::path file;
    bool json = false;
    std::string name;
    std::string type;
    MemoryId memory_id = -1;
    bool allow_duplicate = false;
    std::string source;
    std::string target;
    std::string relation_type;
    float weight = 1.0f;
    std::string entity;
    std::optional<std::size_t> max_hops;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "kg",
      "The knowledge graph: list entities and relations (the default), add-entity,\n"
      "add-relation, neighbors of an entity, or the shortest path between two entities.\n"
      "ENTITY arguments are names, or ids when no entity has that name");
  add_memory_file_argument(*command, options->file);
  command->add_flag("--json", options->json, "Print JSON instead of tables");
  command->require_subcommand(0, 1);

  auto* list = command->add_subcommand("list", "Every entity, with its relation counts");
  list->add_flag("--json", options->json, "Print one JSON object instead of a table");

  auto* add_entity = command->add_subcommand("add-entity", "Add an entity; prints its id");
  add_entity->add_option("NAME", options->name, "Entity name (unique)")->required();
  add_entity->add_option("--type", options->type, "Entity type (person, project, ...)");
  add_entity->add_option("--memory", options->memory_id,
                         "Id of the memory that describes the entity")
      ->option_text("ID");
  add_entity->add_flag("--allow-duplicate", options->allow_duplicate,
                       "Add it even if an entity with this name exists");
  add_entity->add_flag("--json", options->json, "Print one JSON object instead of a sentence");

  auto* add_relation = command->add_subcommand(
      "add-relation", "Add a directed relation SOURCE -[TYPE]-> TARGET between two entities");
  add_relation->add_option("SOURCE", options->source, "Source entity (name or id)")->required();
  add_relation->add_option("TARGET", options->target, "Target entity (name or id)")->required();
  add_relation->add_option("--type", options->relation_type, "Relation type (works_on, ...)")
      ->required();
  add_relation->add_option("--weight", options->weight, "Relation weight")
      ->capture_default_str();
  add_relation->add_flag("--json", options->json, "Print one JSON object instead of a sentence");

  auto* neighbors = command->add_subcommand(
      "neighbors", "The relations of an entity, both directions, and the entities they join");
  neighbors->add_option("ENTITY", options->entity, "Entity (name or id)")->required();
  neighbors->add_flag("--json", options->json, "Print one JSON object instead of a table");

  auto* path = command->add_subcommand(
      "path", "The shortest path between two entities, over relations in either direction");
  path->add_option("FROM", options->source, "Start entity (name or id)")->required();
  path->add_option("TO", options->target, "End entity (name or id)")->required();
  path->add_option("--max-hops", options->max_hops, "Give up beyond this many relations")
      ->check(positive_count())
      ->option_text("N");
  path->add_flag("--json", options->json, "Print one JSON object instead of a line");

  return {command, [=] {
            if (add_entity->parsed() || add_relation->parsed()) {
              auto memory = HDF5Memory::open(options->file);
              const KnowledgeGraph& graph = memory.knowledge();
              nlohmann::ordered_json result;
              std::string message;
              if (add_entity->parsed()) {
                if (const Entity* existing = graph.find_entity_by_name(options->name);
                    existing && !options->allow_duplicate) {
                  throw Error(ErrorCode::invalid_argument,
                              "an entity named '" + options->name + "' exists already (id " +
                                  std::to_string(existing->id) +
                                  "); --allow-duplicate adds another");
                }
                const EntityId id =
                    memory.add_entity(options->name, options->type, options->memory_id);
                result = entity_json(*graph.find_entity(id));
                message = "added entity " + std::to_string(id) + " (" + options->name + ")";
              } else {
                const EntityId source = find_entity(graph, options->source).id;
                const EntityId target = find_entity(graph, options->target).id;
                memory.add_relation(source, target, options->relation_type, options->weight);
                result = relation_json(graph.relations_from(source).back());
                message = "added relation " + entity_label(graph, source) + " -[" +
                          options->relation_type + "]-> " + entity_label(graph, target);
              }
              memory.close();
              std::cout << (options->json ? json_line(result) : message) << '\n';
              return kExitSuccess;
            }

            const auto memory = open_read_only(options->file);
            const KnowledgeGraph& graph = memory.knowledge();
            if (neighbors->parsed()) {
              const Entity& entity = find_entity(graph, options->entity);
              struct Link {
                const char* direction;
                Relation relation;
                EntityId other;
              };
              std::vector<Link> links;
              for (const auto& relation : graph.relations_from(entity.id)) {
                links.push_back({"out", relation, relation.target});
              }
              for (const auto& relation : graph.relations_to(entity.id)) {
                links.push_back({"in", relation, relation.source});
              }
              if (options->json) {
                auto array = nlohmann::ordered_json::array();
                for (const auto& link : links) {
                  const Entity* other = graph.find_entity(link.other);
                  array.push_back({{"direction", link.direction},
                                   {"type", link.relation.type},
                                   {"weight", shortest_json_number(link.relation.weight)},
                                   {"entity", other ? entity_json(*other) : nullptr}});
                }
                std::cout << json_line({{"entity", entity_json(entity)},
                                        {"relations", std::move(array)}})
                          << '\n';
                return kExitSuccess;
              }
              std::cout << entity.name << " (id " << entity.id
                        << (entity.type.empty() ? "" : ", " + entity.type) << "): "
                        << counted(links.size(), "relation", "relations") << '\n';
              if (links.empty()) return kExitSuccess;
              TextTable table({{"direction"},
                               {"relation"},
                               {"weight", Align::right},
                               {"id", Align::right},
                               {"entity"},
                               {"type"}});
              for (const auto& link : links) {
                const Entity* other = graph.find_entity(link.other);
                table.add_row({std::string(link.direction[0] == 'o' ? "->" : "<-"),
                               link.relation.type, fixed_decimals(link.relation.weight, 2),
                               std::to_string(link.other), entity_label(graph, link.other),
                               other ? other->type : ""});
              }
              table.print(std::cout);
              return kExitSuccess;
            }

            if (path->parsed()) {
              const Entity& from = find_entity(graph, options->source);
              const Entity& to = find_entity(graph, options->target);
              const std::size_t max_hops = options->max_hops.value_or(graph.entities().size());
              const auto steps = shortest_path(graph, from.id, to.id, max_hops);
              if (!steps) {
                throw Error(ErrorCode::not_found,
                            "no path from " + from.name + " to " + to.name +
                                (options->max_hops
                                     ? " within " + counted(max_hops, "hop", "hops")
                                     : std::string{}));
              }
              const std::size_t hops = steps->size() - 1;
              if (options->json) {
                auto entities = nlohmann::ordered_json::array();
                auto relations = nlohmann::ordered_json::array();
                for (const Step& step : *steps) {
                  entities.push_back(entity_json(*graph.find_entity(step.entity)));
                  if (step.via) relations.push_back(relation_json(*step.via));
                }
                std::cout << json_line({{"hops", hops},
                                        {"entities", std::move(entities)},
                                        {"relations", std::move(relations)}})
                          << '\n';
              } else {
                std::cout << describe_path(graph, *steps) << "  ("
                          << counted(hops, "hop", "hops") << ")\n";
              }
              return kExitSuccess;
            }

            // list (the default)
            std::map<EntityId, std::pair<std::size_t, std::size_t>> degree;  // out, in
            for (const Relation& relation : graph.relations()) {
              ++degree[relation.source].first;
              ++degree[relation.target].second;
            }
            if (options->json) {
              auto entities = nlohmann::ordered_json::array();
              for (const Entity& entity : graph.entities()) entities.push_back(entity_json(entity));
              auto relations = nlohmann::ordered_json::array();
              for (const Relation& relation : graph.relations()) {
                relations.push_back(relation_json(relation));
              }
              std::cout << json_line({{"entities", std::move(entities)},
                                      {"relations", std::move(relations)}})
                        << '\n';
              return kExitSuccess;
            }
            std::cout << counted(graph.entities().size(), "entity", "entities") << ", "
                      << counted(graph.relations().size(), "relation", "relations") << '\n';
            if (graph.entities().empty()) return kExitSuccess;
            TextTable table({{"id", Align::right},
                             {"name"},
                             {"type"},
                             {"memory", Align::right},
                             {"out", Align::right},
                             {"in", Align::right}});
            for (const Entity& entity : graph.entities()) {
              const auto [out, in] = degree[entity.id];
              table.add_row({std::to_string(entity.id), entity.name, entity.type,
                             entity.embedding_id < 0 ? "-" : std::to_string(entity.embedding_id),
                             std::to_string(out), std::to_string(in)});
            }
            table.print(std::cout);
            return kExitSuccess;
          }};
}

}  // namespace edgehdf5::cli
