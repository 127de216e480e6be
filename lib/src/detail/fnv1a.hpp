// FNV-1a 64: the model directory's file fingerprints (model files, schema, splits, run
// arguments). Not for speed (the feature cache uses detail/hash64.hpp's XXH64).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace moodboost::detail {

/// Folds \p count objects at \p data, byte by byte, into \p hash (start from kFnvOffset).
template <typename Bytes>
void fnv_update(std::uint64_t& hash, const Bytes* data, std::size_t count) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  const std::size_t size = count * sizeof(Bytes);
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
}

inline constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;

/// \p value as 16 lower-case hex digits.
inline std::string hex64(std::uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

/// FNV-1a 64-bit hash of \p bytes as 16 lower-case hex digits.
inline std::string fnv1a_hex(std::string_view bytes) {
  std::uint64_t hash = kFnvOffset;
  fnv_update(hash, bytes.data(), bytes.size());
  return hex64(hash);
}

}  // namespace moodboost::detail
