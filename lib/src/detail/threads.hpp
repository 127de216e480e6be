// How many threads a parallel step uses: what was asked for, capped at the cores this machine
// has and at the work there is (a thread per file, tag or resample at most). 0 (or less) asks for
// every core. Without the cap, `--threads 100000` made libgomp crash trying to start them all.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace moodboost::detail {

/// The cores this machine offers (OpenMP's default team size when OpenMP is on).
inline int machine_threads() {
#ifdef _OPENMP
  return std::max(1, omp_get_max_threads());
#else
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
#endif
}

/// \p requested (0 = every core) capped at machine_threads() and at \p work items (>= 1).
inline int usable_threads(int requested,
                          std::size_t work = std::numeric_limits<std::size_t>::max()) {
  const int cores = machine_threads();
  int threads = requested > 0 ? std::min(requested, cores) : cores;
  if (work < static_cast<std::size_t>(threads))
    threads = static_cast<int>(std::max<std::size_t>(1, work));
  return threads;
}

}  // namespace moodboost::detail
