#include "mcp_server.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <iostream>

#include "edgehdf5/error.hpp"
#include "edgehdf5/version.hpp"
#include "mcp_argument_check.hpp"
#include "mcp_line_reader.hpp"

namespace edgehdf5::cli::mcp {
namespace {

using nlohmann::json;

// JSON-RPC 2.0 error codes (https://www.jsonrpc.org/specification#error_object).
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;

std::atomic<bool> stop_requested{false};

extern "C" void request_stop(int) { stop_requested.store(true); }

// SIGTERM and SIGINT end the loop between calls. No SA_RESTART: the poll() waiting for
// input returns EINTR at once, so the server notices within the poll interval at worst.
void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client gone: write() fails with EPIPE, we stop
}

json error_response(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json result_response(const json& id, json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json tool_error(const std::string& message) {
  return {{"content", {{{"type", "text"}, {"text", message}}}}, {"isError", true}};
}

constexpr const char* kInstructions =
    "Durable agent memory in one HDF5 file. The knowledge-graph tools (create_entities, "
    "create_relations, add_observations, delete_*, read_graph, search_nodes, open_nodes) work "
    "as the reference memory server's; save_memory and recall store and find free text "
    "(recall also finds entity observations). Every successful write is on disk before the "
    "answer.";

}  // namespace

Server::Server(StoreAccess& store, const TextEmbedder* embedder, ServerSettings settings)
    : store_(store), embedder_(embedder), settings_(settings) {
  tools_ = graph_tools();
  for (Tool& tool : memory_tools()) tools_.push_back(std::move(tool));
}

json Server::initialize(const json& params) {
  std::string version = kSupportedVersions.front();
  if (params.is_object()) {
    const auto requested = params.find("protocolVersion");
    if (requested != params.end() && requested->is_string() &&
        std::find(kSupportedVersions.begin(), kSupportedVersions.end(),
                  requested->get<std::string>()) != kSupportedVersions.end()) {
      version = *requested;
    }
  }
  return {{"protocolVersion", version},
          {"capabilities", {{"tools", {{"listChanged", false}}}}},
          {"serverInfo", {{"name", "edgehdf5"}, {"title", "edgehdf5 memory"}, {"version", kVersion}}},
          {"instructions", kInstructions}};
}

json Server::discover() const {
  json versions = json::array();
  for (const char* version : kSupportedVersions) versions.push_back(version);
  return {{"resultType", "complete"},
          {"supportedVersions", versions},
          {"capabilities", {{"tools", {{"listChanged", false}}}}},
          {"serverInfo", {{"name", "edgehdf5"}, {"title", "edgehdf5 memory"}, {"version", kVersion}}},
          {"instructions", kInstructions}};
}

json Server::tool_list() const {
  json list = json::array();
  for (const Tool& tool : tools_) {
    list.push_back({{"name", tool.name},
                    {"title", tool.title},
                    {"description", tool.description},
                    {"inputSchema", tool.input_schema},
                    {"outputSchema", tool.output_schema},
                    {"annotations", {{"readOnlyHint", !tool.writes}}}});
  }
  return {{"tools", list}};
}

json Server::call_tool(const json& id, const json& params) {
  if (!params.is_object() || !params.contains("name") || !params.at("name").is_string()) {
    return error_response(id, kInvalidParams, "tools/call needs params.name, a string");
  }
  const std::string name = params.at("name");
  const auto tool = std::find_if(tools_.begin(), tools_.end(),
                                 [&](const Tool& candidate) { return candidate.name == name; });
  if (tool == tools_.end()) return error_response(id, kInvalidParams, "Unknown tool: " + name);
  const json arguments = params.value("arguments", json::object());
  if (const std::string problem = check_arguments(tool->input_schema, arguments);
      !problem.empty()) {
    return result_response(id, tool_error("Invalid arguments for tool " + name + ": " + problem));
  }
  if (tool->writes && store_.read_only()) {
    return result_response(id, tool_error("Tool " + name +
                                          " changes the memory file, and this server was "
                                          "started with --read-only"));
  }
  ToolContext context{store_, embedder_};
  json answer;
  try {
    const ToolOutput output = tool->run(context, arguments);
    if (tool->writes) store_.write_done();  // durable before the answer goes out
    answer = {{"content", {{{"type", "text"}, {"text", output.text}}}},
              {"structuredContent", output.structured}};
  } catch (const std::exception& error) {
    std::string message = error.what();
    if (tool->writes) {
      // What the call changed before it failed must be durable too, or be reported.
      try {
        store_.write_done();
      } catch (const std::exception& flush_error) {
        message += std::string("; and making earlier changes durable failed: ") + flush_error.what();
      }
    }
    answer = tool_error(message);
  }
  return result_response(id, std::move(answer));
}

json Server::handle_request(const json& id, const std::string& method, const json& params) {
  if (method == "initialize") return result_response(id, initialize(params));
  if (method == "ping") return result_response(id, json::object());
  if (method == "server/discover") return result_response(id, discover());
  if (method == "tools/list") return result_response(id, tool_list());
  if (method == "tools/call") return call_tool(id, params);
  return error_response(id, kMethodNotFound, "Method not found: " + method);
}

json Server::handle_line(const std::string& line) {
  json message;
  try {
    message = json::parse(line);
  } catch (const json::parse_error& error) {
    return error_response(nullptr, kParseError, std::string("Parse error: ") + error.what());
  }
  if (!message.is_object()) {
    return error_response(nullptr, kInvalidRequest,
                          message.is_array() ? "Invalid Request: batches are not supported"
                                             : "Invalid Request: a message must be an object");
  }
  const auto id_field = message.find("id");
  const bool has_id = id_field != message.end();
  const json id = has_id ? *id_field : json(nullptr);
  if (has_id && !(id.is_string() || id.is_number_integer())) {
    return error_response(nullptr, kInvalidRequest, "Invalid Request: id must be a string or an integer");
  }
  if (message.value("jsonrpc", json()) != "2.0") {
    return error_response(id, kInvalidRequest, "Invalid Request: jsonrpc must be \"2.0\"");
  }
  const auto method = message.find("method");
  if (method == message.end()) {
    // A response to a request we never send, or nothing at all.
    if (has_id && (message.contains("result") || message.contains("error"))) return nullptr;
    return error_response(id, kInvalidRequest, "Invalid Request: no method");
  }
  if (!method->is_string()) return error_response(id, kInvalidRequest, "Invalid Request: method must be a string");
  const json params = message.value("params", json::object());
  if (!params.is_object() && !params.is_array()) {
    return has_id ? error_response(id, kInvalidRequest, "Invalid Request: params must be an object")
                  : nullptr;
  }
  if (!has_id) return nullptr;  // notifications (initialized, cancelled, ...): no answer
  try {
    return handle_request(id, *method, params);
  } catch (const std::exception& error) {
    return error_response(id, kInternalError, error.what());
  }
}

void Server::write_message(const json& message) {
  if (output_broken_) return;
  const std::string text = message.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t count = ::write(settings_.output_fd, text.data() + written, text.size() - written);
    if (count < 0) {
      if (errno == EINTR) continue;
      output_broken_ = true;
      std::cerr << "edgehdf5 mcp: cannot write to standard output; stopping\n";
      return;
    }
    written += static_cast<std::size_t>(count);
  }
}

int Server::run() {
  install_stop_handlers();
  LineReader reader(settings_.input_fd, settings_.max_line_bytes);
  int status = 0;
  while (!stop_requested.load() && !output_broken_) {
    LineRead read;
    try {
      read = reader.next(std::chrono::milliseconds{50});
    } catch (const std::exception& error) {
      std::cerr << "edgehdf5 mcp: " << error.what() << '\n';
      status = 1;
      break;
    }
    if (read.status == LineStatus::end) break;
    if (read.status == LineStatus::idle) {
      try {
        store_.idle();
      } catch (const std::exception& error) {
        std::cerr << "edgehdf5 mcp: handing the writer lock back: " << error.what() << '\n';
      }
      continue;
    }
    if (read.status == LineStatus::too_long) {
      write_message(error_response(
          nullptr, kInvalidRequest,
          "Invalid Request: a message of " + std::to_string(read.skipped_bytes) +
              " bytes is over this server's limit of " + std::to_string(settings_.max_line_bytes) +
              " bytes per line (--max-line-bytes); it was skipped"));
      continue;
    }
    if (read.text.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
    const json answer = handle_line(read.text);
    if (!answer.is_null()) write_message(answer);
    try {
      store_.call_answered();
    } catch (const std::exception& error) {
      std::cerr << "edgehdf5 mcp: handing the writer lock back: " << error.what() << '\n';
    }
  }
  try {
    store_.close();
  } catch (const std::exception& error) {
    std::cerr << "edgehdf5 mcp: closing " << store_.file().string() << ": " << error.what() << '\n';
    status = 1;
  }
  return status;
}

}  // namespace edgehdf5::cli::mcp
