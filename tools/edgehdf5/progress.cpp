#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

namespace edgehdf5::cli {
namespace {

constexpr int kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr const char* kClearLine = "\r\033[K";

}  // namespace

bool Progress::enabled() {
  static const bool terminal = ::isatty(STDERR_FILENO) == 1;
  return terminal;
}

Progress::Progress(std::string label, std::size_t total)
    : label_(std::move(label)), total_(total) {
  if (enabled()) draw();
}

Progress::~Progress() {
  if (drawn_) {
    std::fputs(kClearLine, stderr);
    std::fflush(stderr);
  }
}

void Progress::update(std::size_t done) {
  done_ = done;
  if (!enabled()) return;
  const auto now = std::chrono::steady_clock::now();
  const bool finished = total_ != 0 && done_ >= total_;
  if (finished || now - last_draw_ >= kRedrawInterval) draw();
}

void Progress::restart(std::string label, std::size_t total) {
  label_ = std::move(label);
  total_ = total;
  done_ = 0;
  if (enabled()) draw();
}

void Progress::draw() {
  last_draw_ = std::chrono::steady_clock::now();
  drawn_ = true;
  std::string line = kClearLine + label_;
  if (total_ == 0) {
    line += " ...";
  } else {
    const double fraction =
        static_cast<double>(std::min(done_, total_)) / static_cast<double>(total_);
    const int filled = static_cast<int>(fraction * kBarWidth);
    line += " [" + std::string(static_cast<std::size_t>(filled), '#') +
            std::string(static_cast<std::size_t>(kBarWidth - filled), '.') + "] " +
            std::to_string(static_cast<int>(fraction * 100)) + "% " + std::to_string(done_) +
            "/" + std::to_string(total_);
  }
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace edgehdf5::cli
