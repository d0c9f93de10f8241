#pragma once
// Reads newline-delimited messages from a file descriptor (the MCP stdio transport) with a
// limit on the length of one line. A line over the limit is reported and its remaining bytes
// are read and dropped as they arrive, so a client sending a huge line costs the server
// at most `max_line_bytes` of memory, never the whole line.
//
// Reads wait with poll(), so the caller gets control back every `poll_interval` to notice a
// signal (SIGTERM) or to do idle work, without a thread.

#include <chrono>
#include <cstddef>
#include <string>

namespace edgehdf5::cli::mcp {

// The documented default: 16 MiB, far above any tool call an agent makes (a create_entities
// call with thousands of entities is well under 1 MiB), small enough to refuse a runaway.
inline constexpr std::size_t kDefaultMaxLineBytes = std::size_t{16} << 20;

enum class LineStatus {
  line,      // `text` holds one line, without its '\n' (a trailing '\r' is dropped too)
  too_long,  // a line longer than the limit was skipped; `skipped_bytes` says how long
  idle,      // nothing complete arrived within the poll interval
  end,       // end of input (a last line without '\n' is returned as a line first)
};

struct LineRead {
  LineStatus status = LineStatus::idle;
  std::string text;
  std::size_t skipped_bytes = 0;
};

class LineReader {
 public:
  // Reserves room for one line at its longest plus one read (address space; pages become
  // resident only as a line fills them), so the buffer never doubles past the limit.
  LineReader(int fd, std::size_t max_line_bytes);

  // Waits at most `poll_interval` for input. Throws Error(io) on a read error.
  LineRead next(std::chrono::milliseconds poll_interval);

 private:
  // A complete line (or an over-long one finished) already in buffer_, if any.
  bool take_buffered(LineRead& out);

  int fd_;
  std::size_t max_line_bytes_;
  std::string buffer_;         // bytes read but not yet returned (< one line + one read)
  bool discarding_ = false;    // inside an over-long line: drop bytes up to its '\n'
  std::size_t discarded_ = 0;  // bytes of that line dropped so far
  bool eof_ = false;
};

}  // namespace edgehdf5::cli::mcp
