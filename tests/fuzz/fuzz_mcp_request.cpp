// Fuzz target: what `edgehdf5 mcp` does with the bytes a client sends
// (tools/edgehdf5/mcp_*.cpp). The bytes go through the stdio line reader (with a 4 KiB line
// limit, so over-long lines are exercised too), each line through Server::handle_line: the
// JSON-RPC checks, initialize / tools/list / tools/call, the argument checks against every
// tool's inputSchema, and the tools themselves on a real, writable memory file (on /dev/shm,
// built-in hash:32 embedder). The file persists across inputs, as a long-running server's
// does, and is made afresh every kInputsPerFile inputs so it stays small.
//
// Checked for every line: handle_line returns (never throws); its answer is null (for a
// notification, or a response sent to the server) or a JSON-RPC 2.0 response: an object with
// "jsonrpc": "2.0", an "id" (the request's own when the line was a request with a valid id),
// and exactly one of "result" and "error", an error holding an integer code and a string
// message. An internal error (-32603, an exception a tool let through) is a finding too: a
// bad argument must be answered with an isError result naming it.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "edgehdf5/edgehdf5.hpp"
#include "fuzz/fuzz_support.hpp"
#include "mcp_line_reader.hpp"
#include "mcp_server.hpp"
#include "mcp_store_access.hpp"

namespace {

using nlohmann::json;
namespace mcp = edgehdf5::cli::mcp;

constexpr int kInputsPerFile = 2000;
constexpr std::size_t kMaxLineBytes = 4096;
constexpr int kInternalError = -32603;

// The server over a fresh memory file, remade every kInputsPerFile inputs.
struct Harness {
  std::filesystem::path file;
  edgehdf5::HashEmbedder embedder{32};
  std::unique_ptr<mcp::StoreAccess> store;
  std::unique_ptr<mcp::Server> server;
  int inputs = 0;

  Harness() : file(edgehdf5::fuzz::scratch_directory() / "mcp.h5") {}

  mcp::Server& next_input() {
    if (server == nullptr || ++inputs % kInputsPerFile == 0) reset();
    return *server;
  }

  void reset() {
    server.reset();
    if (store != nullptr) store->close();
    store.reset();
    std::filesystem::remove(file);
    edgehdf5::MemoryConfig config;
    config.path = file;
    config.embedding_dim = embedder.dimension();
    config.embedder = embedder.name();
    edgehdf5::HDF5Memory::create(config).close();
    mcp::AccessSettings settings;
    settings.lock_timeout = std::chrono::milliseconds(0);
    store = std::make_unique<mcp::StoreAccess>(file, settings);
    server = std::make_unique<mcp::Server>(*store, &embedder, mcp::ServerSettings{kMaxLineBytes, -1, -1});
  }
};

// The id a conforming answer to `line` carries, when the line is a request with a valid id.
std::optional<json> request_id(const std::string& line) {
  const json message = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!message.is_object() || message.value("jsonrpc", json()) != "2.0") return std::nullopt;
  const auto id = message.find("id");
  if (id == message.end() || !(id->is_string() || id->is_number_integer())) return std::nullopt;
  if (!message.contains("method")) return std::nullopt;
  return *id;
}

void check_answer(const std::string& line, const json& answer) {
  using edgehdf5::fuzz::violated;
  if (answer.is_null()) return;
  if (!answer.is_object()) violated("the answer is not an object");
  if (answer.value("jsonrpc", json()) != "2.0") violated("the answer's jsonrpc is not \"2.0\"");
  if (!answer.contains("id")) violated("the answer has no id");
  const bool has_result = answer.contains("result");
  const bool has_error = answer.contains("error");
  if (has_result == has_error) violated("the answer needs exactly one of result and error");
  if (has_error) {
    const json& error = answer["error"];
    if (!error.is_object() || !error.contains("code") || !error["code"].is_number_integer() ||
        !error.contains("message") || !error["message"].is_string()) {
      violated("an error without an integer code and a string message");
    }
    if (error["code"] == kInternalError) violated("an internal error (-32603) escaped a tool");
  }
  if (const std::optional<json> id = request_id(line); id && answer["id"] != *id) {
    violated("the answer's id is not the request's");
  }
  if (has_result && !answer["result"].is_object()) violated("a result that is not an object");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  mcp::Server& server = harness.next_input();

  // The line reader reads a descriptor, as it reads stdin: the input as a file.
  const std::filesystem::path input = edgehdf5::fuzz::scratch_directory() / "request";
  edgehdf5::fuzz::write_bytes(input, edgehdf5::fuzz::as_text(data, size));
  const int fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) edgehdf5::fuzz::violated("cannot open the input file");
  mcp::LineReader reader(fd, kMaxLineBytes);
  for (;;) {
    const mcp::LineRead read = reader.next(std::chrono::milliseconds(0));
    if (read.status == mcp::LineStatus::end) break;
    if (read.status == mcp::LineStatus::idle) continue;
    if (read.status == mcp::LineStatus::too_long) {
      if (read.skipped_bytes <= kMaxLineBytes) edgehdf5::fuzz::violated("a short line refused as too long");
      continue;
    }
    if (read.text.size() > kMaxLineBytes) edgehdf5::fuzz::violated("a line over the limit returned");
    json answer;
    try {
      answer = server.handle_line(read.text);
    } catch (...) {
      edgehdf5::fuzz::violated("handle_line threw");
    }
    check_answer(read.text, answer);
  }
  ::close(fd);
  return 0;
}
