// A progress line on stderr (count, rate, ETA), shown only when stderr is a terminal.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

#include "moodboost/progress.hpp"

namespace moodboost::app {

class ProgressLine {
 public:
  /// \param label what is counted, e.g. "parsing features"; \param unit e.g. "files".
  ProgressLine(std::string label, std::string unit);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  /// Thread-safe; redraws at most ~10 times a second.
  void update(std::size_t done, std::size_t total);
  /// Updates the free-text detail shown after the counts (e.g. "tag happy, round 40").
  void set_detail(std::string detail);
  /// Prints the final line (once) and a newline.
  void finish();
  /// A callback for library calls that report progress.
  ProgressFn callback();
  /// True when progress is drawn (stderr is a terminal and MOODBOOST_NO_PROGRESS is unset).
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }

 private:
  void draw_locked(bool final);

  std::string label_;
  std::string unit_;
  std::string detail_;
  bool enabled_;
  bool finished_ = false;
  std::size_t done_ = 0;
  std::size_t total_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::mutex mutex_;
};

/// "1h02m", "3m05s", "42s".
std::string format_duration(double seconds);

}  // namespace moodboost::app
