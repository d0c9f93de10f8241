// The memory tools: what edgehdf5 adds to the graph tools. Save a memory, recall memories
// (hybrid, vector or keyword, with the store's filters and recency weighting; observations
// rank among them), forget or get one by id, record and read session summaries, statistics.

#include <chrono>
#include <limits>
#include <unordered_map>
#include <utility>

#include "edgehdf5/error.hpp"
#include "mcp_tools.hpp"
#include "query_support.hpp"

namespace edgehdf5::cli::mcp {
namespace {

using nlohmann::json;

constexpr const char* kDraft07 = "http://json-schema.org/draft-07/schema#";

json input_schema(json properties, json required) {
  json schema = {{"type", "object"}, {"properties", std::move(properties)}, {"$schema", kDraft07}};
  if (!required.empty()) schema["required"] = std::move(required);
  return schema;
}

json output_schema(json properties, json required) {
  return {{"type", "object"},
          {"properties", std::move(properties)},
          {"required", std::move(required)},
          {"$schema", kDraft07}};
}

json described(const char* type, const char* description) {
  return {{"type", type}, {"description", description}};
}

const json kStringArray = {{"type", "array"}, {"items", {{"type", "string"}}}};

json memory_properties() {
  return {{"id", {{"type", "integer"}}},        {"text", {{"type", "string"}}},
          {"session_id", {{"type", "string"}}}, {"channel", {{"type", "string"}}},
          {"tags", kStringArray},               {"timestamp", {{"type", "number"}}}};
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const TextEmbedder& require_embedder(const ToolContext& context) {
  if (context.embedder == nullptr) {
    throw ToolRefusal("this file's embedder ('" + context.store.file().string() +
                      "') is not built in: start the server with --embed-cmd CMD to use text tools");
  }
  return *context.embedder;
}

// "a,b" <-> ["a","b"]: the store keeps tags comma-separated.
std::string joined_tags(const json& tags) {
  std::string joined;
  for (const json& tag : tags) {
    const std::string text = tag;
    if (text.find(',') != std::string::npos) {
      throw ToolRefusal("tags: '" + text + "' contains a comma, which separates tags");
    }
    if (text.empty()) continue;
    if (!joined.empty()) joined += ',';
    joined += text;
  }
  return joined;
}

json split_tags(const std::string& tags) {
  json result = json::array();
  std::size_t start = 0;
  while (start <= tags.size() && !tags.empty()) {
    const std::size_t comma = tags.find(',', start);
    const std::string tag = tags.substr(start, comma - start);
    if (!tag.empty()) result.push_back(tag);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return result;
}

json memory_json(MemoryId id, const MemoryEntry& entry) {
  return {{"id", id},
          {"text", entry.chunk},
          {"session_id", entry.session_id},
          {"channel", entry.source_channel},
          {"tags", split_tags(entry.tags)},
          {"timestamp", entry.timestamp}};
}

MemoryId memory_id_argument(const json& arguments) {
  const double value = arguments.at("id").get<double>();
  if (value < 0 || value > static_cast<double>(std::numeric_limits<MemoryId>::max())) {
    throw ToolRefusal("id: no memory has id " + arguments.at("id").dump());
  }
  return static_cast<MemoryId>(value);
}

// The memory ids that hold observations, with the entity each belongs to.
std::unordered_map<MemoryId, const Entity*> observation_owners(const HDF5Memory& memory) {
  std::unordered_map<MemoryId, const Entity*> owners;
  const KnowledgeGraph& graph = memory.knowledge();
  if (graph.observation_count() == 0) return owners;
  for (const Entity& entity : graph.entities()) {
    for (const Observation& observation : graph.observations_of(entity.id)) {
      if (observation.memory_id >= 0) owners.emplace(observation.memory_id, &entity);
    }
  }
  return owners;
}

ToolOutput save_memory(ToolContext& context, const json& arguments) {
  const TextEmbedder& embedder = require_embedder(context);
  MemoryEntry entry;
  entry.chunk = arguments.at("text");
  if (entry.chunk.empty()) throw ToolRefusal("text: is empty");
  entry.session_id = arguments.value("session_id", "");
  entry.source_channel = arguments.value("channel", "mcp");
  if (entry.source_channel == kObservationChannel) {
    throw ToolRefusal(std::string("channel: '") + kObservationChannel +
                      "' is kept for observations (use add_observations)");
  }
  entry.tags = joined_tags(arguments.value("tags", json::array()));
  entry.timestamp = arguments.value("timestamp", now_seconds());
  entry.embedding = embedder.embed(entry.chunk);
  HDF5Memory& memory = context.store.for_writing();
  const MemoryId id = memory.save(entry);
  return json_output({{"id", id}});
}

ToolOutput recall(ToolContext& context, const json& arguments) {
  const TextEmbedder& embedder = require_embedder(context);
  const std::string question = arguments.at("query");
  const std::string mode = arguments.value("mode", "hybrid");
  Query query;
  query.k = arguments.value("k", 5);
  if (mode != "keyword") query.vector = embedder.embed(question);
  if (mode != "vector") query.text = question;
  if (arguments.contains("session_id")) query.filter.session_id = arguments.at("session_id");
  if (arguments.contains("channel")) query.filter.source_channel = arguments.at("channel");
  if (arguments.contains("tags")) {
    for (const json& tag : arguments.at("tags")) query.filter.tags.push_back(tag);
  }
  query.filter.all_tags = arguments.value("all_tags", false);
  if (arguments.contains("after")) query.filter.after = arguments.at("after").get<double>();
  if (arguments.contains("before")) query.filter.before = arguments.at("before").get<double>();
  if (arguments.contains("half_life_seconds")) {
    query.filter.half_life_seconds = arguments.at("half_life_seconds").get<double>();
  }
  const HDF5Memory& memory = context.store.for_reading();
  json hits = json::array();
  if (memory.count_active() > 0) {
    const FoundMemories found = resolve_hits(memory, run_query(memory, query));
    const auto owners = observation_owners(memory);
    for (const auto& [match, entry] : found.hits) {
      json hit = memory_json(match.id, entry);
      hit["score"] = match.score;
      if (const auto owner = owners.find(match.id); owner != owners.end()) {
        hit["kind"] = "observation";
        hit["entity"] = owner->second->name;
        hit["entityType"] = owner->second->type;
      } else {
        hit["kind"] = "memory";
      }
      hits.push_back(std::move(hit));
    }
  }
  return json_output({{"hits", hits}, {"mode", mode}});
}

ToolOutput forget(ToolContext& context, const json& arguments) {
  const MemoryId id = memory_id_argument(arguments);
  HDF5Memory& memory = context.store.for_writing();
  if (const auto owners = observation_owners(memory); owners.contains(id)) {
    throw ToolRefusal("memory " + std::to_string(id) + " is an observation of entity '" +
                      owners.at(id)->name + "': delete it with delete_observations");
  }
  memory.remove(id);
  return json_output({{"forgotten", id}});
}

ToolOutput get_memory(ToolContext& context, const json& arguments) {
  const MemoryId id = memory_id_argument(arguments);
  const HDF5Memory& memory = context.store.for_reading();
  return json_output(memory_json(id, memory.get(id)));
}

ToolOutput record_session(ToolContext& context, const json& arguments) {
  const std::string session_id = arguments.at("session_id");
  HDF5Memory& memory = context.store.for_writing();
  // By default the session covers the memories saved with its id.
  const MemoryColumns& columns = memory.columns();
  MemoryId start = -1, end = -1;
  columns.session_ids.load();  // every row is looked at: one pass over the file
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (columns.session_ids[row] != session_id) continue;
    if (start < 0) start = columns.ids[row];
    end = columns.ids[row] + 1;
  }
  if (start < 0) start = end = columns.ids.empty() ? 0 : columns.ids.back() + 1;
  if (arguments.contains("start_id")) start = arguments.at("start_id").get<MemoryId>();
  if (arguments.contains("end_id")) end = arguments.at("end_id").get<MemoryId>();
  memory.add_session(session_id, start, end, arguments.value("channel", "mcp"),
                     arguments.at("summary"));
  return json_output({{"session_id", session_id}, {"start_id", start}, {"end_id", end}});
}

ToolOutput get_session_summary(ToolContext& context, const json& arguments) {
  const std::string session_id = arguments.at("session_id");
  const HDF5Memory& memory = context.store.for_reading();
  return json_output(
      {{"session_id", session_id}, {"summary", memory.get_session_summary(session_id)}});
}

ToolOutput memory_stats(ToolContext& context, const json&) {
  const HDF5Memory& memory = context.store.for_reading();
  const StoreInfo info = memory.info();
  const auto owners = observation_owners(memory);
  return json_output({{"file", context.store.file().string()},
                      {"memories", memory.count_active()},
                      {"rows", memory.count()},
                      {"observation_memories", owners.size()},
                      {"sessions", info.sessions},
                      {"entities", info.entities},
                      {"relations", info.relations},
                      {"observations", info.observations},
                      {"embedder", memory.config().embedder},
                      {"embedding_dim", memory.config().embedding_dim}});
}

}  // namespace

std::vector<Tool> memory_tools() {
  std::vector<Tool> tools;
  const json hit_properties = [] {
    json properties = memory_properties();
    properties["score"] = {{"type", "number"}};
    properties["kind"] = {{"type", "string"}, {"enum", {"memory", "observation"}}};
    properties["entity"] = {{"type", "string"}};
    properties["entityType"] = {{"type", "string"}};
    return properties;
  }();
  tools.push_back(
      {"save_memory", "Save Memory",
       "Remember a piece of text (embedded and indexed for recall). Returns its id.",
       input_schema({{"text", described("string", "The text to remember")},
                     {"session_id", described("string", "The conversation it belongs to")},
                     {"channel", described("string", "Where it came from (chat, email...); default mcp")},
                     {"tags", {{"type", "array"}, {"items", {{"type", "string"}}},
                               {"description", "Labels to filter recall by"}}},
                     {"timestamp", described("number", "Seconds since the Unix epoch; default now")}},
                    {"text"}),
       output_schema({{"id", {{"type", "integer"}}}}, {"id"}), true, &save_memory});
  tools.push_back(
      {"recall", "Recall",
       "Find the memories (and knowledge-graph observations) that best answer a question, "
       "ranked, with ids and scores",
       input_schema(
           {{"query", described("string", "The question or keywords")},
            {"k", {{"type", "integer"}, {"minimum", 1}, {"description", "How many hits; default 5"}}},
            {"mode", {{"type", "string"}, {"enum", {"hybrid", "vector", "keyword"}},
                      {"description", "hybrid (default): meaning and words; vector; keyword (BM25)"}}},
            {"session_id", described("string", "Only memories of this session")},
            {"channel", described("string", "Only memories from this channel")},
            {"tags", {{"type", "array"}, {"items", {{"type", "string"}}},
                      {"description", "Only memories with any of these tags (all, with all_tags)"}}},
            {"all_tags", described("boolean", "Require every tag")},
            {"after", described("number", "Only memories at or after this time (epoch seconds)")},
            {"before", described("number", "Only memories at or before this time (epoch seconds)")},
            {"half_life_seconds",
             {{"type", "number"}, {"minimum", 0},
              {"description", "Weight scores by recency: halve per this many seconds of age"}}}},
           {"query"}),
       output_schema({{"hits", {{"type", "array"},
                                {"items", {{"type", "object"}, {"properties", hit_properties},
                                           {"required", {"id", "score", "text", "kind"}}}}}},
                      {"mode", {{"type", "string"}}}},
                     {"hits", "mode"}),
       false, &recall});
  tools.push_back(
      {"forget", "Forget Memory", "Forget (delete) a memory by its id",
       input_schema({{"id", described("integer", "The memory's id (from save_memory or recall)")}},
                    {"id"}),
       output_schema({{"forgotten", {{"type", "integer"}}}}, {"forgotten"}), true, &forget});
  tools.push_back(
      {"get_memory", "Get Memory", "One memory by its id",
       input_schema({{"id", described("integer", "The memory's id")}}, {"id"}),
       output_schema(memory_properties(), {"id", "text", "session_id", "channel", "tags", "timestamp"}),
       false, &get_memory});
  tools.push_back(
      {"record_session", "Record Session Summary",
       "Record the summary of a conversation (by default covering the memories saved with its "
       "session_id)",
       input_schema({{"session_id", described("string", "The conversation's id")},
                     {"summary", described("string", "What it was about")},
                     {"channel", described("string", "Where it happened; default mcp")},
                     {"start_id", described("integer", "First memory id it covers")},
                     {"end_id", described("integer", "One past the last memory id it covers")}},
                    {"session_id", "summary"}),
       output_schema({{"session_id", {{"type", "string"}}},
                      {"start_id", {{"type", "integer"}}},
                      {"end_id", {{"type", "integer"}}}},
                     {"session_id", "start_id", "end_id"}),
       true, &record_session});
  tools.push_back(
      {"get_session_summary", "Get Session Summary",
       "The latest summary recorded for a conversation",
       input_schema({{"session_id", described("string", "The conversation's id")}}, {"session_id"}),
       output_schema({{"session_id", {{"type", "string"}}}, {"summary", {{"type", "string"}}}},
                     {"session_id", "summary"}),
       false, &get_session_summary});
  tools.push_back(
      {"memory_stats", "Memory Statistics",
       "How much the memory file holds: memories, sessions, entities, relations, observations",
       input_schema(json::object(), json::array()),
       output_schema({{"file", {{"type", "string"}}},
                      {"memories", {{"type", "integer"}}},
                      {"rows", {{"type", "integer"}}},
                      {"observation_memories", {{"type", "integer"}}},
                      {"sessions", {{"type", "integer"}}},
                      {"entities", {{"type", "integer"}}},
                      {"relations", {{"type", "integer"}}},
                      {"observations", {{"type", "integer"}}},
                      {"embedder", {{"type", "string"}}},
                      {"embedding_dim", {{"type", "integer"}}}},
                     {"memories", "entities", "relations", "observations"}),
       false, &memory_stats});
  return tools;
}

}  // namespace edgehdf5::cli::mcp
