// "No exception escapes a parallel region": workers catch, keep the first error, and the caller
// rethrows it after the loop. One helper for every parallel loop of the library.
//
//   detail::FirstError errors;
//   #pragma omp parallel for num_threads(n)
//   for (long i = 0; i < n_items; ++i) {
//     if (errors.failed()) continue;  // optional: stop early
//     try { work(i); } catch (...) { errors.capture(i); }
//   }
//   errors.rethrow_if_any();
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <limits>
#include <mutex>

namespace moodboost::detail {

class FirstError {
 public:
  /// Records the exception being handled (call inside a catch block) for work item \p index.
  /// Of several, the one of the lowest index is kept, so that which error a run reports does not
  /// depend on thread timing.
  void capture(std::size_t index = 0) noexcept {
    std::lock_guard lock(mutex_);
    if (!error_ || index < index_) {
      error_ = std::current_exception();
      index_ = index;
    }
    failed_.store(true, std::memory_order_relaxed);
  }
  /// True once any worker has failed (for stopping early).
  [[nodiscard]] bool failed() const noexcept { return failed_.load(std::memory_order_relaxed); }
  /// Rethrows the kept exception, if any. Call after the workers have finished.
  void rethrow_if_any() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
  std::size_t index_ = std::numeric_limits<std::size_t>::max();
  std::atomic<bool> failed_{false};
};

}  // namespace moodboost::detail
