// The reference knowledge-graph memory server's nine tools: the same names, titles,
// descriptions, input and output schemas (as its zod schemas render to JSON Schema), and
// result shapes, so an agent configured for it works unchanged. The work is in
// mcp_graph_operations.cpp.

#include <utility>

#include "mcp_graph_operations.hpp"
#include "mcp_tools.hpp"

namespace edgehdf5::cli::mcp {
namespace {

using nlohmann::json;

constexpr const char* kDraft07 = "http://json-schema.org/draft-07/schema#";

json string_field(const char* description) {
  return {{"type", "string"}, {"description", description}};
}

json string_array(const char* description) {
  return {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", description}};
}

// An object schema; output schemas are closed (additionalProperties false), as zod renders.
json object_schema(json properties, json required, bool closed) {
  json schema = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) schema["required"] = std::move(required);
  if (closed) schema["additionalProperties"] = false;
  return schema;
}

json top_schema(json schema, bool closed) {
  schema["$schema"] = kDraft07;
  if (closed) schema["additionalProperties"] = false;
  return schema;
}

json entity_schema(bool closed) {
  return object_schema(
      {{"name", string_field("The name of the entity")},
       {"entityType", string_field("The type of the entity")},
       {"observations",
        string_array("An array of observation contents associated with the entity")}},
      {"name", "entityType", "observations"}, closed);
}

json relation_schema(bool closed) {
  return object_schema({{"from", string_field("The name of the entity where the relation starts")},
                        {"to", string_field("The name of the entity where the relation ends")},
                        {"relationType", string_field("The type of the relation")}},
                       {"from", "to", "relationType"}, closed);
}

json array_of(json items) { return {{"type", "array"}, {"items", std::move(items)}}; }

json graph_output_schema() {
  return top_schema(object_schema({{"entities", array_of(entity_schema(true))},
                                   {"relations", array_of(relation_schema(true))}},
                                  {"entities", "relations"}, false),
                    true);
}

json success_output_schema() {
  return top_schema(object_schema({{"success", {{"type", "boolean"}}},
                                   {"message", {{"type", "string"}}}},
                                  {"success", "message"}, false),
                    true);
}

ToolOutput success(const char* message) {
  return {{{"success", true}, {"message", message}}, message};
}

}  // namespace

ToolOutput json_output(json structured) {
  std::string text = structured.dump(2);
  return {std::move(structured), std::move(text)};
}

std::vector<Tool> graph_tools() {
  std::vector<Tool> tools;
  tools.push_back(
      {"create_entities", "Create Entities", "Create multiple new entities in the knowledge graph",
       top_schema(object_schema({{"entities", array_of(entity_schema(false))}}, {"entities"}, false),
                  false),
       top_schema(object_schema({{"entities", array_of(entity_schema(true))}}, {"entities"}, false),
                  true),
       true, [](ToolContext& context, const json& arguments) {
         json created = create_entities(context.store.for_writing(), context.embedder,
                                        arguments.at("entities"));
         ToolOutput output = json_output({{"entities", created}});
         output.text = created.dump(2);  // the reference prints the array alone
         return output;
       }});
  tools.push_back(
      {"create_relations", "Create Relations",
       "Create multiple new relations between entities in the knowledge graph. Relations should "
       "be in active voice",
       top_schema(object_schema({{"relations", array_of(relation_schema(false))}}, {"relations"},
                                false),
                  false),
       top_schema(object_schema({{"relations", array_of(relation_schema(true))}}, {"relations"},
                                false),
                  true),
       true, [](ToolContext& context, const json& arguments) {
         json created = create_relations(context.store.for_writing(), arguments.at("relations"));
         ToolOutput output = json_output({{"relations", created}});
         output.text = created.dump(2);
         return output;
       }});
  const json observation_input = object_schema(
      {{"entityName", string_field("The name of the entity to add the observations to")},
       {"contents", string_array("An array of observation contents to add")}},
      {"entityName", "contents"}, false);
  const json observation_result = object_schema(
      {{"entityName", {{"type", "string"}}},
       {"addedObservations", array_of({{"type", "string"}})}},
      {"entityName", "addedObservations"}, true);
  tools.push_back(
      {"add_observations", "Add Observations",
       "Add new observations to existing entities in the knowledge graph",
       top_schema(object_schema({{"observations", array_of(observation_input)}}, {"observations"},
                                false),
                  false),
       top_schema(object_schema({{"results", array_of(observation_result)}}, {"results"}, false),
                  true),
       true, [](ToolContext& context, const json& arguments) {
         json results = add_observations(context.store.for_writing(), context.embedder,
                                         arguments.at("observations"));
         ToolOutput output = json_output({{"results", results}});
         output.text = results.dump(2);
         return output;
       }});
  tools.push_back(
      {"delete_entities", "Delete Entities",
       "Delete multiple entities and their associated relations from the knowledge graph",
       top_schema(object_schema({{"entityNames", string_array("An array of entity names to delete")}},
                                {"entityNames"}, false),
                  false),
       success_output_schema(), true, [](ToolContext& context, const json& arguments) {
         delete_entities(context.store.for_writing(), arguments.at("entityNames"));
         return success("Entities deleted successfully");
       }});
  const json deletion_input = object_schema(
      {{"entityName", string_field("The name of the entity containing the observations")},
       {"observations", string_array("An array of observations to delete")}},
      {"entityName", "observations"}, false);
  tools.push_back(
      {"delete_observations", "Delete Observations",
       "Delete specific observations from entities in the knowledge graph",
       top_schema(object_schema({{"deletions", array_of(deletion_input)}}, {"deletions"}, false),
                  false),
       success_output_schema(), true, [](ToolContext& context, const json& arguments) {
         delete_observations(context.store.for_writing(), arguments.at("deletions"));
         return success("Observations deleted successfully");
       }});
  json relations_to_delete = array_of(relation_schema(false));
  relations_to_delete["description"] = "An array of relations to delete";
  tools.push_back(
      {"delete_relations", "Delete Relations", "Delete multiple relations from the knowledge graph",
       top_schema(object_schema({{"relations", relations_to_delete}}, {"relations"}, false), false),
       success_output_schema(), true, [](ToolContext& context, const json& arguments) {
         delete_relations(context.store.for_writing(), arguments.at("relations"));
         return success("Relations deleted successfully");
       }});
  tools.push_back({"read_graph", "Read Graph", "Read the entire knowledge graph",
                   top_schema(object_schema(json::object(), json::array(), false), false),
                   graph_output_schema(), false, [](ToolContext& context, const json&) {
                     return json_output(read_graph(context.store.for_reading()));
                   }});
  tools.push_back(
      {"search_nodes", "Search Nodes", "Search for nodes in the knowledge graph based on a query",
       top_schema(object_schema({{"query", string_field("The search query to match against entity "
                                                        "names, types, and observation content")}},
                                {"query"}, false),
                  false),
       graph_output_schema(), false, [](ToolContext& context, const json& arguments) {
         return json_output(search_nodes(context.store.for_reading(), arguments.at("query")));
       }});
  tools.push_back(
      {"open_nodes", "Open Nodes", "Open specific nodes in the knowledge graph by their names",
       top_schema(object_schema({{"names", string_array("An array of entity names to retrieve")}},
                                {"names"}, false),
                  false),
       graph_output_schema(), false, [](ToolContext& context, const json& arguments) {
         return json_output(open_nodes(context.store.for_reading(), arguments.at("names")));
       }});
  return tools;
}

}  // namespace edgehdf5::cli::mcp
