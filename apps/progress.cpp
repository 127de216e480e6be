#include "progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace moodboost::app {

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "--";
  const auto total = static_cast<long long>(seconds + 0.5);
  const long long h = total / 3600, m = (total % 3600) / 60, s = total % 60;
  if (h > 0) return fmt::format("{}h{:02}m", h, m);
  if (m > 0) return fmt::format("{}m{:02}s", m, s);
  return fmt::format("{}s", s);
}

ProgressLine::ProgressLine(std::string label, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      enabled_(::isatty(STDERR_FILENO) == 1 && std::getenv("MOODBOOST_NO_PROGRESS") == nullptr),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(std::size_t done, std::size_t total) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  if (finished_) return;
  if (done > done_) done_ = done;
  total_ = total;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done_ < total_) return;
  last_draw_ = now;
  draw_locked(false);
}

void ProgressLine::set_detail(std::string detail) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  detail_ = std::move(detail);
}

void ProgressLine::finish() {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  draw_locked(true);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

ProgressFn ProgressLine::callback() {
  return [this](std::size_t done, std::size_t total) { update(done, total); };
}

void ProgressLine::draw_locked(bool final) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  std::string line =
      fmt::format("\r\033[K{}: {}/{} {} ({:.1f}/s", label_, done_, total_, unit_, rate);
  if (final || done_ >= total_) {
    line += fmt::format(", {} elapsed)", format_duration(elapsed));
  } else {
    const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : -1.0;
    line += fmt::format(", ETA {})", format_duration(eta));
  }
  if (!detail_.empty()) line += " " + detail_;
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace moodboost::app
