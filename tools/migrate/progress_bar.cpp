#include "progress_bar.hpp"

namespace edgehdf5::migrate {
namespace {

constexpr int kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr const char* kClearLine = "\r\033[K";

}  // namespace

ProgressBar::~ProgressBar() {
  if (drawn_) out_ << kClearLine << std::flush;
}

void ProgressBar::show(const Progress& progress) {
  const auto now = std::chrono::steady_clock::now();
  const bool new_stage = progress.stage != stage_;
  const bool finished = progress.total != 0 && progress.done >= progress.total;
  if (!new_stage && !finished && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  stage_ = progress.stage;
  drawn_ = true;

  out_ << kClearLine << progress.stage;
  if (progress.total == 0) {
    out_ << " ...";
  } else {
    const double fraction =
        static_cast<double>(progress.done) / static_cast<double>(progress.total);
    const int filled = static_cast<int>(fraction * kBarWidth);
    out_ << " [" << std::string(static_cast<std::size_t>(filled), '#')
         << std::string(static_cast<std::size_t>(kBarWidth - filled), '.') << "] "
         << static_cast<int>(fraction * 100) << "% " << progress.done << '/' << progress.total;
  }
  out_ << std::flush;
}

}  // namespace edgehdf5::migrate
