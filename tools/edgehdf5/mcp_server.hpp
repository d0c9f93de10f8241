#pragma once
// The MCP server loop: newline-delimited JSON-RPC 2.0 over stdin/stdout (the MCP stdio
// transport), one call at a time in arrival order, so calls a client has in flight at once
// are all applied, in order.
//
// Methods: initialize (protocol versions kSupportedVersions; the client's when supported,
// else the newest), notifications/initialized, ping, tools/list, tools/call, and the
// 2026-07-28 revision's server/discover (which lists the versions served, so a client that
// tries the newest revision first learns to fall back to initialize). Anything else gets
// -32601 at once, before or after initialize; notifications never get an answer.
//
// Errors: a line that is not JSON: -32700 (id null), and serving goes on; a message that is
// not a JSON-RPC 2.0 request: -32600; a line over the length limit: -32600 naming the limit
// (the line is skipped without being held in memory); an unknown tool: -32602. Arguments
// that do not fit the tool's inputSchema, and failed operations (unknown entity, locked
// file, disk full), answer with an isError result whose text names the field or the cause.
//
// A write call's answer is written only after its changes are fsynced (StoreAccess).
// End of input, SIGTERM or SIGINT: the call in progress finishes and is answered, the store
// is closed (everything durable), and run() returns 0.

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcp_store_access.hpp"
#include "mcp_tools.hpp"

namespace edgehdf5::cli::mcp {

inline constexpr std::array<const char*, 4> kSupportedVersions = {"2025-11-25", "2025-06-18",
                                                                  "2025-03-26", "2024-11-05"};

struct ServerSettings {
  std::size_t max_line_bytes = 0;
  int input_fd = 0;
  int output_fd = 1;
};

class Server {
 public:
  Server(StoreAccess& store, const TextEmbedder* embedder, ServerSettings settings);
  // Serves until end of input or a termination signal. Returns the exit status.
  int run();
  // The answer to one message (a line), or null for a notification or a response.
  nlohmann::json handle_line(const std::string& line);

 private:
  nlohmann::json handle_request(const nlohmann::json& id, const std::string& method,
                                const nlohmann::json& params);
  nlohmann::json call_tool(const nlohmann::json& id, const nlohmann::json& params);
  nlohmann::json initialize(const nlohmann::json& params);
  nlohmann::json discover() const;
  nlohmann::json tool_list() const;
  void write_message(const nlohmann::json& message);

  StoreAccess& store_;
  const TextEmbedder* embedder_;
  ServerSettings settings_;
  std::vector<Tool> tools_;
  bool output_broken_ = false;
};

}  // namespace edgehdf5::cli::mcp
