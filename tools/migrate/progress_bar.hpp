#pragma once
// A one-line progress bar redrawn in place on a terminal (with \r), at most ten times a
// second so that drawing never slows the work it shows.

#include <chrono>
#include <ostream>
#include <string>

#include "migration.hpp"

namespace edgehdf5::migrate {

class ProgressBar {
 public:
  // REQUIRES: `out` is a terminal (the caller checks with isatty).
  explicit ProgressBar(std::ostream& out) : out_(out) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  // Clears the line, so that what is printed next starts on a clean one.
  ~ProgressBar();

  void show(const Progress& progress);

 private:
  std::ostream& out_;
  std::string stage_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
};

}  // namespace edgehdf5::migrate
