// An exact checker of decimal -> float32 rounding, in integer arithmetic only: no strtod, no
// from_chars, no long double. Shared by tests/test_numbers.cpp and tests/fuzz/fuzz_features.cpp.
//
// A decimal text D = M * 10^E (M the digits as one integer). A float r is the correctly rounded
// float32 of D (round to nearest, ties to even) when D lies between the midpoints of r and its
// neighbours. Every float is k * 2^-149 for an integer k, so a midpoint is K * 2^-150 with
// K = k_a + k_b, and comparing D with it is comparing the integers M * 10^E * 2^150 and K
// (each side multiplied by 10^-E when E < 0).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moodboost::test {

/// A non-negative arbitrary-precision integer (base 2^32, little-endian limbs).
class BigUint {
 public:
  BigUint() = default;
  explicit BigUint(std::uint64_t v) {
    while (v != 0) {
      limbs_.push_back(static_cast<std::uint32_t>(v));
      v >>= 32;
    }
  }
  void mul_add(std::uint32_t m, std::uint32_t a) {
    std::uint64_t carry = a;
    for (auto& l : limbs_) {
      const std::uint64_t t = static_cast<std::uint64_t>(l) * m + carry;
      l = static_cast<std::uint32_t>(t);
      carry = t >> 32;
    }
    if (carry != 0) limbs_.push_back(static_cast<std::uint32_t>(carry));
    trim();
  }
  void mul_pow10(long n) {
    for (; n >= 9; n -= 9) mul_add(1000000000u, 0);
    for (; n > 0; --n) mul_add(10u, 0);
  }
  void shl(long bits) {
    if (limbs_.empty() || bits <= 0) return;
    const auto words = static_cast<std::size_t>(bits / 32);
    const int rest = static_cast<int>(bits % 32);
    if (rest != 0) {
      std::uint32_t carry = 0;
      for (auto& l : limbs_) {
        const std::uint32_t next = l >> (32 - rest);
        l = (l << rest) | carry;
        carry = next;
      }
      if (carry != 0) limbs_.push_back(carry);
    }
    limbs_.insert(limbs_.begin(), words, 0u);
  }
  void add(const BigUint& o) {
    std::uint64_t carry = 0;
    if (limbs_.size() < o.limbs_.size()) limbs_.resize(o.limbs_.size(), 0u);
    for (std::size_t i = 0; i < limbs_.size(); ++i) {
      const std::uint64_t t =
          static_cast<std::uint64_t>(limbs_[i]) + (i < o.limbs_.size() ? o.limbs_[i] : 0) + carry;
      limbs_[i] = static_cast<std::uint32_t>(t);
      carry = t >> 32;
    }
    if (carry != 0) limbs_.push_back(static_cast<std::uint32_t>(carry));
  }
  /// Divides by \p d in place; returns the remainder.
  std::uint32_t div_small(std::uint32_t d) {
    std::uint64_t rem = 0;
    for (auto it = limbs_.rbegin(); it != limbs_.rend(); ++it) {
      const std::uint64_t cur = (rem << 32) | *it;
      *it = static_cast<std::uint32_t>(cur / d);
      rem = cur % d;
    }
    trim();
    return static_cast<std::uint32_t>(rem);
  }
  [[nodiscard]] bool is_zero() const noexcept { return limbs_.empty(); }
  /// Decimal digits.
  [[nodiscard]] std::string decimal() const {
    if (limbs_.empty()) return "0";
    BigUint t = *this;
    std::string out;
    while (!t.is_zero()) {
      std::uint32_t chunk = t.div_small(1000000000u);
      for (int i = 0; i < 9; ++i) {
        out += static_cast<char>('0' + chunk % 10);
        chunk /= 10;
        if (t.is_zero() && chunk == 0) break;
      }
    }
    while (out.size() > 1 && out.back() == '0') out.pop_back();
    std::reverse(out.begin(), out.end());
    return out;
  }
  friend int compare(const BigUint& a, const BigUint& b) {
    if (a.limbs_.size() != b.limbs_.size()) return a.limbs_.size() < b.limbs_.size() ? -1 : 1;
    for (std::size_t i = a.limbs_.size(); i-- > 0;) {
      if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i] ? -1 : 1;
    }
    return 0;
  }

 private:
  void trim() {
    while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
  }
  std::vector<std::uint32_t> limbs_;
};

/// A decimal JSON number's text as sign, digits and a power of ten.
struct Decimal {
  bool negative = false;
  BigUint digits;
  long exponent = 0;  ///< value = digits * 10^exponent
};

/// Parses JSON number grammar -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; nothing on anything
/// else (NaN and Inf tokens included). Exponents beyond +-100000 are refused too.
inline std::optional<Decimal> parse_decimal(std::string_view text) {
  Decimal d;
  std::size_t i = 0;
  auto digit = [&](std::size_t at) {
    return at < text.size() && text[at] >= '0' && text[at] <= '9';
  };
  if (i < text.size() && text[i] == '-') d.negative = (++i, true);
  if (!digit(i)) return std::nullopt;
  for (; digit(i); ++i) d.digits.mul_add(10, static_cast<std::uint32_t>(text[i] - '0'));
  if (i < text.size() && text[i] == '.') {
    if (!digit(++i)) return std::nullopt;
    for (; digit(i); ++i) {
      d.digits.mul_add(10, static_cast<std::uint32_t>(text[i] - '0'));
      --d.exponent;
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool minus = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) minus = text[i++] == '-';
    if (!digit(i)) return std::nullopt;
    long e = 0;
    for (; digit(i); ++i) {
      e = e * 10 + (text[i] - '0');
      if (e > 100000) return std::nullopt;
    }
    d.exponent += minus ? -e : e;
  }
  if (i != text.size()) return std::nullopt;
  return d;
}

/// k for a non-negative finite float f = k * 2^-149.
inline BigUint float_units(float f) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(f) & 0x7FFFFFFFu;
  const std::uint32_t biased = bits >> 23;
  std::uint32_t mantissa = bits & 0x7FFFFFu;
  long shift = 0;
  if (biased != 0) {
    mantissa |= 0x800000u;
    shift = static_cast<long>(biased) - 1;
  }
  BigUint k(mantissa);
  k.shl(shift);
  return k;
}

/// Compares |D| with the midpoint K * 2^-150: <0, 0, >0.
inline int compare_with_midpoint(const Decimal& d, const BigUint& k_sum) {
  BigUint left = d.digits;
  BigUint right = k_sum;
  if (d.exponent >= 0) {
    left.mul_pow10(d.exponent);
  } else {
    right.mul_pow10(-d.exponent);
  }
  left.shl(150);
  return compare(left, right);
}

/// True when \p r is the float32 nearest |D| (ties to even, beyond the range +-inf) with D's sign.
inline bool is_correctly_rounded(const Decimal& d, float r) {
  if (std::isnan(r) || std::signbit(r) != d.negative) return false;
  const float a = std::fabs(r);
  constexpr float kMax = std::numeric_limits<float>::max();
  const bool even = (std::bit_cast<std::uint32_t>(a) & 1u) == 0;
  if (std::isinf(a)) {
    // 2^128, the next power above FLT_MAX, is even: the midpoint itself rounds to infinity.
    BigUint mid = float_units(kMax);
    BigUint top(1);
    top.shl(128 + 149);
    mid.add(top);
    return compare_with_midpoint(d, mid) >= 0;
  }
  // Below: the midpoint with the next float towards zero (none for zero).
  if (a > 0.0f) {
    BigUint mid = float_units(a);
    mid.add(float_units(std::nextafter(a, 0.0f)));
    const int c = compare_with_midpoint(d, mid);
    if (c < 0 || (c == 0 && !even)) return false;
  }
  BigUint mid = float_units(a);
  if (a == kMax) {
    BigUint top(1);
    top.shl(128 + 149);
    mid.add(top);
  } else {
    mid.add(float_units(std::nextafter(a, std::numeric_limits<float>::infinity())));
  }
  const int c = compare_with_midpoint(d, mid);
  return c < 0 || (c == 0 && even);
}

/// The exact decimal text of the midpoint between the non-negative finite float \p a and the
/// next float up (2^128 above FLT_MAX): K * 2^-150 = K * 5^150 / 10^150.
inline std::string midpoint_text(float a) {
  BigUint k = float_units(a);
  if (a == std::numeric_limits<float>::max()) {
    BigUint top(1);
    top.shl(128 + 149);
    k.add(top);
  } else {
    k.add(float_units(std::nextafter(a, std::numeric_limits<float>::infinity())));
  }
  for (int i = 0; i < 150; ++i) k.mul_add(5, 0);
  return k.decimal() + "e-150";
}

}  // namespace moodboost::test
