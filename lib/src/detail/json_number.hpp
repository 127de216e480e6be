// One JSON number -> the correctly rounded float32 of its decimal text.
//
// Rounding a decimal to double and the double to float rounds twice, and gets wrong the decimals
// whose double lands on a float halfway point. The feature parser avoids that without paying for
// an exact conversion of every number (about 20 ns each with std::from_chars, as much as the
// whole SAX parse of a number):
//  - a double d within a few double ulps of the decimal x: RapidJSON's normal-precision double
//    (kParseFullPrecisionFlag off, below), or in the loader's first try scanned_value() of
//    scan_number() (at most 3 ulps); rounds_to_float_exactly(d) says when float(d) is provably the
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
// scan_number() reads the numbers of feature files in about half the instructions of RapidJSON's
// digit-by-digit loop (which took two thirds of the loader's instructions): digits 8 at a time into
// an exact 64-bit significand (at most 19 digits), and one multiplication by a correctly rounded
// power of ten; the numbers it declines (longer, malformed, tokens) RapidJSON reads as before.
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
#include <iterator>
#include <limits>
#include <string_view>
#include <system_error>

#include "detail/unaligned.hpp"

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

/// A JSON number as scan_number() read it: (negative ? -1 : 1) * significand * 10^exponent.
struct ScannedNumber {
  const char* end = nullptr;  ///< one past its last byte
  std::uint64_t significand = 0;
  int exponent = 0;
  bool negative = false;
  bool integer = false;  ///< neither a fraction nor an exponent (RapidJSON's integer events)
};

/// The exponents scan_number() takes: |exponent| <= kScanMaxExponent.
inline constexpr int kScanMaxExponent = 80;

/// Bytes past the end of a number's text that scan_number() may load (it reads digits 8 at a
/// time): the number's buffer must hold them, after its terminating byte.
inline constexpr std::size_t kScanReadAhead = 8;

namespace number_detail {

inline constexpr std::uint64_t kPow10Int[] = {1,      10,      100,      1000,     10000,
                                              100000, 1000000, 10000000, 100000000};

// Appends the run of decimal digits at \p p to \p m (m * 10^n + digits, wrapping past 2^64) and
// moves p past it; returns n. Eight bytes at a time (SWAR): each byte XOR '0' is its digit value
// when it is a digit; the lowest byte whose value is above 9 ends the run (a carry out of a
// non-digit byte only reaches the bytes above it), and the run's digits, moved to the top of the
// word, are combined pairwise by three multiplications.
inline unsigned append_digits(const char*& p, std::uint64_t& m) noexcept {
  unsigned total = 0;
  for (;;) {
    std::uint64_t x = load_le64(p) ^ 0x3030303030303030u;
    const std::uint64_t above_nine = ((x + 0x7676767676767676u) | x) & 0x8080808080808080u;
    const unsigned n =
        above_nine == 0 ? 8 : static_cast<unsigned>(std::countr_zero(above_nine)) / 8;
    if (n == 0) return total;
    x <<= 8 * (8 - n);  // the run's digits in the top n bytes, zeros (leading zeros) below
    x = ((x * (1 + (10 << 8))) >> 8) & 0x00FF00FF00FF00FFu;
    x = ((x * (1 + (100 << 16))) >> 16) & 0x0000FFFF0000FFFFu;
    x = (x * (1 + (std::uint64_t{10000} << 32))) >> 32;
    m = m * kPow10Int[n] + x;
    p += n;
    total += n;
    if (n < 8) return total;
  }
}

// 10^k for k in [-kScanMaxExponent, kScanMaxExponent], each correctly rounded (the compiler
// rounds the literals).
inline constexpr double kPow10Double[] = {
    1e-80, 1e-79, 1e-78, 1e-77, 1e-76, 1e-75, 1e-74, 1e-73, 1e-72, 1e-71, 1e-70, 1e-69, 1e-68,
    1e-67, 1e-66, 1e-65, 1e-64, 1e-63, 1e-62, 1e-61, 1e-60, 1e-59, 1e-58, 1e-57, 1e-56, 1e-55,
    1e-54, 1e-53, 1e-52, 1e-51, 1e-50, 1e-49, 1e-48, 1e-47, 1e-46, 1e-45, 1e-44, 1e-43, 1e-42,
    1e-41, 1e-40, 1e-39, 1e-38, 1e-37, 1e-36, 1e-35, 1e-34, 1e-33, 1e-32, 1e-31, 1e-30, 1e-29,
    1e-28, 1e-27, 1e-26, 1e-25, 1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16,
    1e-15, 1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9,  1e-8,  1e-7,  1e-6,  1e-5,  1e-4,  1e-3,
    1e-2,  1e-1,  1e0,   1e1,   1e2,   1e3,   1e4,   1e5,   1e6,   1e7,   1e8,   1e9,   1e10,
    1e11,  1e12,  1e13,  1e14,  1e15,  1e16,  1e17,  1e18,  1e19,  1e20,  1e21,  1e22,  1e23,
    1e24,  1e25,  1e26,  1e27,  1e28,  1e29,  1e30,  1e31,  1e32,  1e33,  1e34,  1e35,  1e36,
    1e37,  1e38,  1e39,  1e40,  1e41,  1e42,  1e43,  1e44,  1e45,  1e46,  1e47,  1e48,  1e49,
    1e50,  1e51,  1e52,  1e53,  1e54,  1e55,  1e56,  1e57,  1e58,  1e59,  1e60,  1e61,  1e62,
    1e63,  1e64,  1e65,  1e66,  1e67,  1e68,  1e69,  1e70,  1e71,  1e72,  1e73,  1e74,  1e75,
    1e76,  1e77,  1e78,  1e79,  1e80};
static_assert(std::size(kPow10Double) == 2 * kScanMaxExponent + 1);

}  // namespace number_detail

/// Scans the JSON number whose first byte is at \p p, for the shapes feature files hold: an
/// optional minus, an integer part without leading zeros, an optional fraction and exponent, at
/// most 19 digits in all (so the significand is exact in 64 bits), an exponent of at most 4
/// digits, and a scaled exponent within kScanMaxExponent. Returns false for anything else (a
/// longer or malformed number, a NaN or infinity token, a negative integer below -2^63), which is
/// left to RapidJSON; true means RapidJSON reads the same bytes, [p, out.end), as this number
/// without error, and gives an integer event exactly when out.integer. The text must be followed
/// by a byte that is no digit (a NUL at the buffer's end) and kScanReadAhead readable bytes
/// after it. About half the instructions of RapidJSON's reading of the same number.
inline bool scan_number(const char* p, ScannedNumber& out) noexcept {
  const bool negative = *p == '-';
  p += negative ? 1 : 0;
  std::uint64_t m = 0;
  unsigned digits;
  if (*p == '0') {
    ++p;
    digits = 1;
    if (*p >= '0' && *p <= '9') return false;  // a leading zero: RapidJSON stops after the 0
  } else {
    digits = number_detail::append_digits(p, m);
    if (digits == 0) return false;  // no digit: a token, or an error RapidJSON places
  }
  int exponent = 0;
  bool integer = true;
  if (*p == '.') {
    ++p;
    const unsigned fraction = number_detail::append_digits(p, m);
    if (fraction == 0) return false;  // "1." is an error RapidJSON places
    digits += fraction;
    exponent = -static_cast<int>(fraction);
    integer = false;
  }
  if (digits > 19) return false;  // the significand may not fit in 64 bits: RapidJSON reads it
  if ((*p | 0x20) == 'e') {
    ++p;
    const bool minus = *p == '-';
    if (minus || *p == '+') ++p;
    int e = 0;
    int n = 0;
    for (; *p >= '0' && *p <= '9'; ++p) {
      if (++n > 4) return false;  // absurdly many exponent digits: RapidJSON reads them
      e = e * 10 + (*p - '0');
    }
    if (n == 0) return false;  // no exponent digit: an error RapidJSON places
    exponent += minus ? -e : e;
    integer = false;
  }
  if (exponent < -kScanMaxExponent || exponent > kScanMaxExponent) return false;
  if (integer && negative && m > (std::uint64_t{1} << 63)) return false;  // RapidJSON: a double
  out.end = p;
  out.significand = m;
  out.exponent = exponent;
  out.negative = negative;
  out.integer = integer;
  return true;
}

/// The double of a scan_number() result, within 3 double ulps of its exact value (the
/// significand rounded to double, times a correctly rounded power of ten: three roundings of at
/// most half an ulp each, relative to the value): close enough for rounds_to_float_exactly().
inline double scanned_value(const ScannedNumber& n) noexcept {
  const double d = static_cast<double>(n.significand) *
                   number_detail::kPow10Double[n.exponent + kScanMaxExponent];
  return n.negative ? -d : d;
}

/// Gives \p handler (a RapidJSON SAX handler) the event RapidJSON gives for the number \p n:
/// Uint, Uint64, Int (down to -2^31) or Int64 with the same value for an integer (RapidJSON's
/// choice, "-0" as Int(0)), else Double(scanned_value(n)). Returns what the handler returned.
template <typename Handler>
bool send_scanned(const ScannedNumber& n, Handler& handler) {
  const std::uint64_t m = n.significand;
  if (!n.integer) return handler.Double(scanned_value(n));
  if (!n.negative)
    return m <= 0xFFFFFFFFu ? handler.Uint(static_cast<unsigned>(m)) : handler.Uint64(m);
  if (m <= (std::uint64_t{1} << 31))
    return handler.Int(static_cast<int>(-static_cast<std::int64_t>(m)));
  return handler.Int64(static_cast<std::int64_t>(~m + 1));  // m <= 2^63 (scan_number())
}

/// The largest finite float, as the error messages print it.
inline constexpr const char* kFloatMaxText = "3.4028235e38";

}  // namespace moodboost::detail
