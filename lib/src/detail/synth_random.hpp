// Deterministic, platform-independent random numbers for synth. Every stream is keyed by a hash
// of what it is for (seed, track id, purpose), so one track's values never depend on another
// track, on the order of work or on the number of threads. The standard <random> distributions
// are not used on purpose: their output differs between standard libraries.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace moodboost::detail {

/// splitmix64 finaliser: a strong 64-bit mix (Steele, Lea, Flood 2014).
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// Combines two keys into one (order matters).
constexpr std::uint64_t mix64(std::uint64_t a, std::uint64_t b) noexcept {
  return mix64(a ^ mix64(b + 0x632BE59BD9B4E019ull));
}

/// FNV-1a of a string, then mixed: a stable key for ids and tag names.
constexpr std::uint64_t hash_text(std::string_view text) noexcept {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ull;
  }
  return mix64(h);
}

/// xoshiro256** (Blackman, Vigna 2018) seeded from one 64-bit key through splitmix64.
class Rng {
 public:
  explicit constexpr Rng(std::uint64_t key) noexcept {
    for (auto& s : state_) {
      key += 0x9E3779B97F4A7C15ull;
      s = mix64(key);
    }
  }

  constexpr std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, n), n > 0 (modulo: the bias, below n / 2^64, is irrelevant here).
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }

  /// True with probability p.
  bool chance(double p) noexcept { return uniform() < p; }

  /// Standard normal (Marsaglia's polar method; the second value of each pair is kept).
  double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0.0, v = 0.0, s = 0.0;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

  /// Approximately standard normal, fast: the Irwin-Hall sum of four 16-bit uniforms from one
  /// draw, rescaled to variance 1 (bounded by +-3.46). Used for frame-to-frame noise only.
  double frame_noise() noexcept {
    const std::uint64_t r = next();
    const auto sum =
        static_cast<double>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
    // Each uniform is (k + 0.5) / 65536, mean 1/2, variance 1/12: the sum has mean 2, variance 1/3.
    return ((sum + 2.0) / 65536.0 - 2.0) * 1.7320508075688772;
  }

  /// Normal with mean \p mean and standard deviation \p sd.
  double normal(double mean, double sd) noexcept { return mean + sd * normal(); }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }

  std::uint64_t state_[4] = {};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace moodboost::detail
