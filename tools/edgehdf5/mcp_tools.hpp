#pragma once
// The tools `edgehdf5 mcp` serves: the reference knowledge-graph memory server's nine
// (mcp_graph_tools.cpp: same names, input schemas, result shapes and semantics) and the memory
// tools (mcp_memory_tools.cpp: save, recall, forget, get, sessions, statistics).

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgehdf5/embedder.hpp"
#include "mcp_store_access.hpp"

namespace edgehdf5::cli::mcp {

struct ToolContext {
  StoreAccess& store;
  const TextEmbedder* embedder;  // null: the file's model is not at hand (no text tools)
};

// What a tool answers: structuredContent, and the text for `content` (the JSON itself, or a
// sentence where the reference server answers with one).
struct ToolOutput {
  nlohmann::json structured;
  std::string text;
};

// A call the tool refuses (an unknown entity, a bad argument value): the message goes to the
// agent as an isError result. Library errors (edgehdf5::Error) are reported the same way.
class ToolRefusal : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  nlohmann::json input_schema;
  nlohmann::json output_schema;
  bool writes = false;  // needs the writer lock; refused under --read-only
  std::function<ToolOutput(ToolContext&, const nlohmann::json&)> run;
};

// ToolOutput whose text is the structured JSON, indented as the reference server prints it.
ToolOutput json_output(nlohmann::json structured);

std::vector<Tool> graph_tools();
std::vector<Tool> memory_tools();

// Memories that hold an observation's text carry this source channel, so recall can say
// which hits are observations (and forget can refuse them).
inline constexpr const char* kObservationChannel = "knowledge_graph";

}  // namespace edgehdf5::cli::mcp
