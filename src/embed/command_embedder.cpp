// CommandEmbedder: embeds text by running a user's command (see embedder.hpp).
//
// The command gets every text of a batch on stdin and answers on stdout. Writing all input
// before reading any output could deadlock (a command that answers line by line fills the
// stdout pipe while we still block on its stdin), so both pipes are served from one poll()
// loop. SIGPIPE is blocked on this thread while we write, so a command that exits without
// reading its input gives EPIPE here instead of killing the caller's process.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "edgehdf5/embedder.hpp"
#include "edgehdf5/error.hpp"

extern char** environ;

namespace edgehdf5 {
namespace {

std::string quoted(const std::string& command) { return "embedding command `" + command + "`"; }

std::string os_error(const char* what) {
  return std::string(what) + ": " + std::generic_category().message(errno);
}

// A file descriptor closed on destruction.
class Descriptor {
 public:
  Descriptor() = default;
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(Descriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Descriptor& operator=(Descriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() { reset(); }

  int get() const noexcept { return fd_; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Descriptor read_end;
  Descriptor write_end;
};

Pipe make_pipe(const std::string& command) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw Error(ErrorCode::io, "cannot run " + quoted(command) + ": " + os_error("pipe"));
  }
  return {Descriptor(fds[0]), Descriptor(fds[1])};
}

// Blocks SIGPIPE on this thread for the object's lifetime; a SIGPIPE our writes raised is
// taken off the pending set before the old mask returns, so it is never delivered.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&sigpipe_);
    sigaddset(&sigpipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &sigpipe_, &old_mask_);
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec no_wait{0, 0};
        while (sigtimedwait(&sigpipe_, nullptr, &no_wait) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t sigpipe_;
  sigset_t old_mask_;
  bool was_pending_ = false;
};

// Starts `/bin/sh -c command` with stdin and stdout on the given pipe ends.
pid_t spawn_shell(const std::string& command, int child_stdin, int child_stdout) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  posix_spawn_file_actions_adddup2(&actions, child_stdin, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_stdout, STDOUT_FILENO);
  // The child starts with no blocked signals and SIGPIPE at its default, whatever ours are.
  sigset_t empty;
  sigset_t defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attributes, &empty);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::string shell = "/bin/sh";
  std::string flag = "-c";
  std::string script = command;
  char* argv[] = {shell.data(), flag.data(), script.data(), nullptr};
  pid_t pid = -1;
  const int status = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (status != 0) {
    throw Error(ErrorCode::io,
                "cannot run " + quoted(command) + ": " + std::generic_category().message(status));
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

// Sends `input` to the child's stdin and collects its stdout until it closes it.
std::string exchange(const std::string& command, Descriptor to_child, Descriptor from_child,
                     std::string_view input) {
  if (::fcntl(to_child.get(), F_SETFL, ::fcntl(to_child.get(), F_GETFL) | O_NONBLOCK) != 0) {
    throw Error(ErrorCode::io, "cannot run " + quoted(command) + ": " + os_error("fcntl"));
  }
  if (input.empty()) to_child.reset();
  std::string output;
  char buffer[65536];
  while (from_child.get() >= 0) {
    pollfd fds[2] = {{from_child.get(), POLLIN, 0}, {to_child.get(), POLLOUT, 0}};
    const nfds_t count = to_child.get() >= 0 ? 2 : 1;
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::io, "cannot talk to " + quoted(command) + ": " + os_error("poll"));
    }
    if (count == 2 && fds[1].revents != 0) {
      const ssize_t written = ::write(to_child.get(), input.data(), input.size());
      if (written >= 0) {
        input.remove_prefix(static_cast<std::size_t>(written));
        if (input.empty()) to_child.reset();  // end of input: the command may finish
      } else if (errno == EPIPE) {
        to_child.reset();  // it stopped reading; what it printed is checked below
      } else if (errno != EAGAIN && errno != EINTR) {
        throw Error(ErrorCode::io, "cannot write to " + quoted(command) + ": " + os_error("write"));
      }
    }
    if (fds[0].revents != 0) {
      const ssize_t got = ::read(from_child.get(), buffer, sizeof buffer);
      if (got > 0) {
        output.append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0) {
        from_child.reset();
      } else if (errno != EAGAIN && errno != EINTR) {
        throw Error(ErrorCode::io, "cannot read from " + quoted(command) + ": " + os_error("read"));
      }
    }
  }
  return output;
}

std::string describe_exit(int status) {
  if (status < 0) return "could not be waited for";
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  const int code = WEXITSTATUS(status);
  std::string text = "exited with status " + std::to_string(code);
  if (code == 127) text += " (command not found?)";
  if (code == 126) text += " (not executable?)";
  return text;
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r") == std::string_view::npos;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

// A strict reader for one JSON array of numbers ("[0.1, -2e-3]"), the only shape accepted.
// Returns an empty string on success, else what is wrong.
std::string parse_vector(std::string_view line, std::vector<float>& vector) {
  auto skip_spaces = [&](std::size_t& at) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t' || line[at] == '\r')) ++at;
  };
  std::size_t at = 0;
  skip_spaces(at);
  if (at >= line.size() || line[at] != '[') return "expected a JSON array of numbers";
  ++at;
  skip_spaces(at);
  if (at < line.size() && line[at] == ']') return "the vector is empty";
  while (true) {
    skip_spaces(at);
    double value = 0.0;
    const char* begin = line.data() + at;
    const auto parsed = std::from_chars(begin, line.data() + line.size(), value);
    if (parsed.ec == std::errc::result_out_of_range) {
      return "value " + std::to_string(vector.size()) + " is outside the float range";
    }
    if (parsed.ec != std::errc{}) {
      return "value " + std::to_string(vector.size()) + " is not a number";
    }
    if (!std::isfinite(value)) return "value " + std::to_string(vector.size()) + " is not finite";
    if (std::fabs(value) > double{std::numeric_limits<float>::max()}) {
      return "value " + std::to_string(vector.size()) + " is outside the float range";
    }
    vector.push_back(static_cast<float>(value));
    at = static_cast<std::size_t>(parsed.ptr - line.data());
    skip_spaces(at);
    if (at >= line.size()) return "the array is not closed with ']'";
    if (line[at] == ']') break;
    if (line[at] != ',')
      return "expected ',' or ']' after value " + std::to_string(vector.size() - 1);
    ++at;
  }
  ++at;
  skip_spaces(at);
  if (at != line.size()) return "unexpected text after the array";
  return {};
}

}  // namespace

CommandEmbedder::CommandEmbedder(std::string command, std::string name, std::size_t dimension)
    : command_(std::move(command)), name_(std::move(name)), dimension_(dimension) {
  if (is_blank(command_)) {
    throw Error(ErrorCode::invalid_argument, "the embedding command is empty");
  }
}

std::vector<float> CommandEmbedder::embed(std::string_view text) const {
  const std::string texts[] = {std::string(text)};
  return std::move(embed_batch(texts).front());
}

std::vector<std::vector<float>> CommandEmbedder::embed_batch(
    std::span<const std::string> texts) const {
  if (texts.empty()) return {};
  std::string input;
  for (const std::string& text : texts) {
    const auto start = input.size();
    input += text;
    std::replace_if(
        input.begin() + static_cast<std::ptrdiff_t>(start), input.end(),
        [](char c) { return c == '\n' || c == '\r'; }, ' ');
    input += '\n';
  }

  Pipe to_child = make_pipe(command_);
  Pipe from_child = make_pipe(command_);
  std::string output;
  int status = 0;
  {
    const SigpipeBlock no_sigpipe;
    const pid_t pid = spawn_shell(command_, to_child.read_end.get(), from_child.write_end.get());
    to_child.read_end.reset();
    from_child.write_end.reset();
    try {
      output =
          exchange(command_, std::move(to_child.write_end), std::move(from_child.read_end), input);
    } catch (...) {
      ::kill(pid, SIGKILL);
      wait_for(pid);
      throw;
    }
    status = wait_for(pid);
  }
  if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error(ErrorCode::invalid_argument, quoted(command_) + " " + describe_exit(status));
  }

  std::vector<std::vector<float>> vectors;
  vectors.reserve(texts.size());
  std::size_t expected = dimension_;
  std::size_t line_number = 0;
  std::string_view rest(output);
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    ++line_number;
    if (is_blank(line)) continue;
    std::vector<float> vector;
    if (const std::string problem = parse_vector(trim(line), vector); !problem.empty()) {
      throw Error(ErrorCode::invalid_argument, quoted(command_) + " output line " +
                                                   std::to_string(line_number) + ": " + problem);
    }
    if (expected == 0) expected = vector.size();
    if (vector.size() != expected) {
      throw Error(ErrorCode::invalid_argument,
                  quoted(command_) + " output line " + std::to_string(line_number) + " has " +
                      std::to_string(vector.size()) + " values, expected " +
                      std::to_string(expected) +
                      (dimension_ != 0 ? " (the embedding dimension)" : " (as on its first line)"));
    }
    vectors.push_back(std::move(vector));
  }
  if (vectors.size() != texts.size()) {
    throw Error(ErrorCode::invalid_argument,
                quoted(command_) + " printed " + std::to_string(vectors.size()) + " vector" +
                    (vectors.size() == 1 ? "" : "s") + " for " + std::to_string(texts.size()) +
                    " text" + (texts.size() == 1 ? "" : "s") +
                    " (it must print one JSON array per input line)");
  }
  return vectors;
}

}  // namespace edgehdf5
