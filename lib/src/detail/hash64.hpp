// A 64-bit non-cryptographic hash (the XXH64 algorithm, written from its published
// specification) for cache keys and cache checksums: fast enough (several GB/s) that checking a
// cached matrix costs little next to reading it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "detail/unaligned.hpp"

namespace moodboost::detail {

/// Streaming XXH64: update() any number of times, then digest().
class Hash64 {
 public:
  explicit Hash64(std::uint64_t seed = 0) noexcept
      : acc_{seed + kPrime1 + kPrime2, seed + kPrime2, seed, seed - kPrime1}, seed_(seed) {}

  void update(const void* data, std::size_t size) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    total_ += size;
    if (buffered_ + size < kStripe) {
      std::memcpy(buffer_ + buffered_, p, size);
      buffered_ += size;
      return;
    }
    if (buffered_ > 0) {
      const std::size_t fill = kStripe - buffered_;
      std::memcpy(buffer_ + buffered_, p, fill);
      consume_stripe(buffer_);
      p += fill;
      size -= fill;
      buffered_ = 0;
    }
    while (size >= kStripe) {
      consume_stripe(p);
      p += kStripe;
      size -= kStripe;
    }
    std::memcpy(buffer_, p, size);
    buffered_ = size;
  }
  void update(std::string_view text) noexcept { update(text.data(), text.size()); }
  /// Hashes the value's bytes (for integers and other trivially copyable values).
  template <typename T>
  void update_value(const T& value) noexcept {
    update(&value, sizeof(value));
  }

  [[nodiscard]] std::uint64_t digest() const noexcept {
    std::uint64_t h;
    if (total_ >= kStripe) {
      h = rotl(acc_[0], 1) + rotl(acc_[1], 7) + rotl(acc_[2], 12) + rotl(acc_[3], 18);
      for (const std::uint64_t a : acc_) h = (h ^ round(0, a)) * kPrime1 + kPrime4;
    } else {
      h = seed_ + kPrime5;
    }
    h += total_;
    const unsigned char* p = buffer_;
    std::size_t left = buffered_;
    for (; left >= 8; left -= 8, p += 8) {
      h ^= round(0, load64(p));
      h = rotl(h, 27) * kPrime1 + kPrime4;
    }
    if (left >= 4) {
      h ^= static_cast<std::uint64_t>(load32(p)) * kPrime1;
      h = rotl(h, 23) * kPrime2 + kPrime3;
      p += 4;
      left -= 4;
    }
    for (; left > 0; --left, ++p) {
      h ^= static_cast<std::uint64_t>(*p) * kPrime5;
      h = rotl(h, 11) * kPrime1;
    }
    h ^= h >> 33;
    h *= kPrime2;
    h ^= h >> 29;
    h *= kPrime3;
    h ^= h >> 32;
    return h;
  }

 private:
  static constexpr std::uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
  static constexpr std::uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
  static constexpr std::uint64_t kPrime3 = 0x165667B19E3779F9ULL;
  static constexpr std::uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;
  static constexpr std::uint64_t kPrime5 = 0x27D4EB2F165667C5ULL;
  static constexpr std::size_t kStripe = 32;

  static std::uint64_t rotl(std::uint64_t x, int r) noexcept { return (x << r) | (x >> (64 - r)); }
  static std::uint64_t round(std::uint64_t acc, std::uint64_t lane) noexcept {
    return rotl(acc + lane * kPrime2, 31) * kPrime1;
  }
  // In the host's byte order: XXH64's values on little-endian hosts only; the cache is not meant
  // to move between machines.
  static std::uint64_t load64(const unsigned char* p) noexcept {
    return load_unaligned<std::uint64_t>(p);
  }
  static std::uint32_t load32(const unsigned char* p) noexcept {
    return load_unaligned<std::uint32_t>(p);
  }
  void consume_stripe(const unsigned char* p) noexcept {
    for (int lane = 0; lane < 4; ++lane) acc_[lane] = round(acc_[lane], load64(p + 8 * lane));
  }

  std::uint64_t acc_[4];
  std::uint64_t seed_;
  std::uint64_t total_ = 0;
  unsigned char buffer_[kStripe] = {};
  std::size_t buffered_ = 0;
};

/// XXH64 of a byte range in one call.
inline std::uint64_t hash64(const void* data, std::size_t size, std::uint64_t seed = 0) noexcept {
  Hash64 h(seed);
  h.update(data, size);
  return h.digest();
}

}  // namespace moodboost::detail
