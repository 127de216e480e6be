// Loads of whole words from byte buffers at any alignment (memcpy, which compilers turn into one
// load): the key compares of the feature parser, its number scanner and the cache's hash.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace moodboost::detail {

/// The \p Word stored at \p p, at any alignment, in the host's byte order.
template <typename Word>
Word load_unaligned(const void* p) noexcept {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

/// The 8 bytes at \p p as a little-endian word: the byte at p in the lowest 8 bits.
inline std::uint64_t load_le64(const void* p) noexcept {
  const auto w = load_unaligned<std::uint64_t>(p);
  if constexpr (std::endian::native == std::endian::big) return __builtin_bswap64(w);
  return w;
}

}  // namespace moodboost::detail
