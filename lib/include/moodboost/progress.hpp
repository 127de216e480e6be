/// \file progress.hpp
/// How long-running library calls report progress without printing: they call a callback that
/// the caller (apps/) turns into a progress line.
#pragma once

#include <cstddef>
#include <functional>

namespace moodboost {

/// Called with the number of finished work items and the total. It may be called from several
/// threads at once and must be thread-safe; it must not throw.
using ProgressFn = std::function<void(std::size_t done, std::size_t total)>;

}  // namespace moodboost
