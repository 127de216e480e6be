// One JSON number -> the correctly rounded float32 of its decimal text.
//
// Rounding a decimal to double and the double to float rounds twice, and gets wrong the decimals
// whose double lands on a float halfway point. The feature parser avoids that without paying for
// an exact conversion of every number (about 20 ns each with std::from_chars, as much as the
// whole SAX parse of a number):
//  - RapidJSON's normal-precision double d (kParseFullPrecisionFlag off) is within a few double
//    ulps of the decimal x (below); rounds_to_float_exactly(d) says when float(d) is provably the
//    float nearest x: d lies in the float normal range and farther than kHalfwayMargin double ulps
//    from a float halfway point, so x and d round to the same float. That is every number but
//    about 1 in 260,000;
//  - the others, and anything near the float range's ends (subnormals, underflow, overflow), are
//    converted exactly from their text by read_number() (std::from_chars: libstdc++ 12 rounds
//    correctly, fast_float with an exact fallback).
//
// RapidJSON 1.1.0's normal precision (reader.h ParseNumber, internal/strtod.h), relative error in
// double ulps: the significand is exact up to 2^53 (integer accumulation), then takes at most 17
// significant digits, each further step d * 10 + digit rounding twice (<= 1 ulp), and drops the
// digits after them (< 1 ulp); an integer part beyond 2^64 accumulates in double, one step per
// digit, and RapidJSON refuses one past DBL_MAX / 10 ("Number too big"), so at most about 290
// steps (a 308-digit integer part scaled down by its exponent); the scale is one multiplication
// or division by a correctly rounded 10^p (<= 1 ulp). The total stays under 300 ulps; the margin
// is 1024.
//
// The non-finite tokens accepted are a fixed set, documented in the README ("Feature columns"):
//   NaN, -NaN, Inf, -Inf, Infinity, -Infinity  (RapidJSON's kParseNanAndInfFlag)
//   nan, -nan, inf, -inf, infinity, -infinity   (Essentia's raw ostream output; the parser
//                                                 rewrites these to the spellings above first)
// RapidJSON 1.1.0 goes on after NaN/Inf into a fraction or an exponent ("NaN.5", "Infe3"); such a
// text reaches read_number() whole and is refused (kBadToken).
#pragma once

#include <bit>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>

namespace moodboost::detail {

enum class NumberText {
  kFinite,      ///< a finite value (zero and subnormals included: underflow rounds correctly)
  kNaN,         ///< one of the NaN tokens
  kInfinity,    ///< one of the infinity tokens
  kOutOfRange,  ///< a finite decimal beyond the type's range: the value is +-infinity
  kBadToken,    ///< not a number this parser accepts ("NaN.5", "Infe3")
};

namespace number_detail {

// The decimal exponent of the first significant digit of a JSON number's text (digits, an
// optional fraction, an optional exponent, as RapidJSON validated it): >= 0 for a magnitude >= 1.
// Saturates instead of overflowing on absurd exponents.
inline long significant_exponent(const char* p, const char* end) noexcept {
  long first = std::numeric_limits<long>::min();  // exponent of the first non-zero digit
  long integer_digits = 0;
  const char* q = p;
  for (; q != end && *q >= '0' && *q <= '9'; ++q) ++integer_digits;
  long position = integer_digits - 1;  // exponent of the digit being read
  for (const char* d = p; d != q; ++d, --position) {
    if (*d != '0') {
      first = position;
      break;
    }
  }
  if (q != end && *q == '.') {
    ++q;
    long fraction = -1;
    for (; q != end && *q >= '0' && *q <= '9'; ++q, --fraction) {
      if (first == std::numeric_limits<long>::min() && *q != '0') first = fraction;
    }
  }
  if (first == std::numeric_limits<long>::min()) return 0;  // a zero (from_chars never fails)
  long exponent = 0;
  if (q != end && (*q == 'e' || *q == 'E')) {
    ++q;
    bool negative = false;
    if (q != end && (*q == '+' || *q == '-')) negative = *q++ == '-';
    for (; q != end && *q >= '0' && *q <= '9'; ++q) {
      if (exponent < 100000000) exponent = exponent * 10 + (*q - '0');
    }
    if (negative) exponent = -exponent;
  }
  return first + exponent;
}

inline bool equals(const char* p, std::size_t n, std::string_view token) noexcept {
  return std::string_view(p, n) == token;
}

}  // namespace number_detail

/// Reads the JSON number text [text, text + size) into \p out (float or double), correctly
/// rounded. NaN and infinity tokens give NaN and +-infinity; a finite decimal beyond the range of
/// T gives +-infinity and kOutOfRange; below the smallest subnormal it rounds to +-0 (kFinite).
/// \p out is unspecified after kBadToken.
template <typename T>
NumberText read_number(const char* text, std::size_t size, T& out) noexcept {
  const char* const end = text + size;
  const bool minus = size > 0 && text[0] == '-';
  const char* p = text + (minus ? 1 : 0);
  if (p != end && (*p == 'N' || *p == 'I')) [[unlikely]] {
    const std::size_t rest = static_cast<std::size_t>(end - p);
    if (number_detail::equals(p, rest, "NaN")) {
      out = std::numeric_limits<T>::quiet_NaN();
      return NumberText::kNaN;
    }
    if (number_detail::equals(p, rest, "Inf") || number_detail::equals(p, rest, "Infinity")) {
      out = minus ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
      return NumberText::kInfinity;
    }
    return NumberText::kBadToken;
  }
  const auto [ptr, ec] = std::from_chars(text, end, out);
  if (ec == std::errc()) [[likely]] {
    return ptr == end ? NumberText::kFinite : NumberText::kBadToken;
  }
  if (ec != std::errc::result_out_of_range) return NumberText::kBadToken;
  // from_chars reports both overflow and underflow as out of range and leaves out unchanged.
  if (number_detail::significant_exponent(p, end) < 0) {
    out = minus ? -T(0) : T(0);  // below half the smallest subnormal: rounds to zero
    return NumberText::kFinite;
  }
  out = minus ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
  return NumberText::kOutOfRange;
}

/// Double ulps kept between RapidJSON's double and a float halfway point (see the top comment).
inline constexpr std::uint64_t kHalfwayMargin = 1024;

/// True when float(\p d) is the correctly rounded float32 of the decimal that RapidJSON's
/// normal-precision parse read as \p d: d is 0 (only a zero or a decimal far below the float
/// range reads as 0), or |d| lies in [2^-125, 2^127) and d is more than kHalfwayMargin double
/// ulps from a float halfway point. False means: convert the text with read_number().
inline bool rounds_to_float_exactly(double d) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(d);
  const std::uint64_t exponent = (bits >> 52) & 0x7FF;
  // The 29 bits of the double's significand below the float's 23: 2^28 is a float halfway point.
  const std::uint64_t below = bits & 0x1FFFFFFFu;
  constexpr std::uint64_t kHalf = std::uint64_t{1} << 28;
  const bool normal = exponent >= 1023 - 125 && exponent <= 1023 + 126;
  return (normal && below - kHalf + kHalfwayMargin > 2 * kHalfwayMargin) || d == 0.0;
}

/// The largest finite float, as the error messages print it.
inline constexpr const char* kFloatMaxText = "3.4028235e38";

}  // namespace moodboost::detail
