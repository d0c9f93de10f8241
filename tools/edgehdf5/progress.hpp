#pragma once
// Progress bars for long work (imports, exports, index builds), drawn on stderr only when
// stderr is a terminal: piped or redirected output, and the tests, never see them. Redrawn
// in place at most ten times a second, so drawing never slows the work it shows.

#include <chrono>
#include <cstddef>
#include <string>

namespace edgehdf5::cli {

class Progress {
 public:
  // `total` 0: the amount of work is unknown; the label is shown with "...".
  Progress(std::string label, std::size_t total);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // Clears the line, so that what is printed next starts on a clean one.
  ~Progress();

  // Sets how much of `total` is done (drawn when enough time passed since the last draw).
  void update(std::size_t done);
  // Starts a new stage on the same line (e.g. from "reading" to "embedding").
  void restart(std::string label, std::size_t total);

  // Whether bars are drawn at all (stderr is a terminal). Decided once per process.
  static bool enabled();

 private:
  void draw();

  std::string label_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
};

}  // namespace edgehdf5::cli
