// A differential check of the feature parser's number scanner (detail::scan_number, which the
// loader's first try reads numbers with) against RapidJSON's own reading of the same text. Shared
// by tests/test_numbers.cpp and tests/fuzz/fuzz_features.cpp.
//
// Where scan_number() takes a number, RapidJSON must read the same bytes as one number without
// error, give an integer event of the same type and value where the scanner's event is an integer,
// and Double otherwise; the scanner's double must lie within 3 ulps of the correctly rounded
// double of the text (std::from_chars). Where the scanner declines, RapidJSON reads the number
// itself, so there is nothing to compare.
#pragma once

#include <rapidjson/reader.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>

#include "detail/json_number.hpp"

namespace moodboost::test {

/// The number events of a RapidJSON parse: the last one's type and value.
struct NumberEvent : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, NumberEvent> {
  std::string type;  ///< "Int", "Uint", "Int64", "Uint64", "Double", or the non-number seen
  std::int64_t integer = 0;
  std::uint64_t unsigned_integer = 0;
  double real = 0;

  bool Int(int i) { return set("Int", i); }
  bool Uint(unsigned u) { return set_unsigned("Uint", u); }
  bool Int64(std::int64_t i) { return set("Int64", i); }
  bool Uint64(std::uint64_t u) { return set_unsigned("Uint64", u); }
  bool Double(double d) {
    type = "Double";
    real = d;
    return true;
  }
  bool Default() {
    type = "not a number";
    return true;
  }

  [[nodiscard]] std::string value() const {
    if (type == "Double") return std::to_string(real);
    if (type == "Uint" || type == "Uint64") return std::to_string(unsigned_integer);
    return std::to_string(integer);
  }

 private:
  bool set(const char* t, std::int64_t i) {
    type = t;
    integer = i;
    return true;
  }
  bool set_unsigned(const char* t, std::uint64_t u) {
    type = t;
    unsigned_integer = u;
    return true;
  }
};

/// Double ulps between two finite doubles of the same sign (or two zeros).
inline std::uint64_t ulps_apart(double a, double b) {
  if (a == 0 && b == 0) return std::signbit(a) == std::signbit(b) ? 0 : 1;
  if (std::signbit(a) != std::signbit(b)) return ~std::uint64_t{0};
  const auto x = std::bit_cast<std::uint64_t>(std::fabs(a));
  const auto y = std::bit_cast<std::uint64_t>(std::fabs(b));
  return x > y ? x - y : y - x;
}

/// "" when detail::scan_number() at \p text agrees with RapidJSON, else what differs. \p text is
/// NUL-terminated with detail::kScanReadAhead readable bytes after the NUL. \p scanned tells
/// whether the scanner took the number.
inline std::string scan_disagreement(const char* text, bool* scanned = nullptr) {
  detail::ScannedNumber n;
  const bool took = detail::scan_number(text, n);
  if (scanned != nullptr) *scanned = took;
  if (!took) return "";
  NumberEvent theirs;
  rapidjson::Reader reader;
  rapidjson::StringStream stream(text);
  const rapidjson::ParseResult ok = reader.Parse<rapidjson::kParseStopWhenDoneFlag>(stream, theirs);
  const auto length = static_cast<std::size_t>(n.end - text);
  if (!ok) return "scanned " + std::to_string(length) + " bytes, which RapidJSON refuses";
  if (stream.Tell() != length) {
    return "scanned " + std::to_string(length) + " bytes, RapidJSON read " +
           std::to_string(stream.Tell());
  }
  NumberEvent ours;
  (void)detail::send_scanned(n, ours);
  if (ours.type != theirs.type) return "event " + ours.type + ", RapidJSON's " + theirs.type;
  if (ours.type != "Double") {
    if (ours.value() != theirs.value())
      return "value " + ours.value() + ", RapidJSON's " + theirs.value();
    return "";
  }
  double exact = 0;
  const auto [end, ec] = std::from_chars(text, n.end, exact);
  if (ec != std::errc() || end != n.end) return "from_chars cannot read the scanned text";
  if (ulps_apart(ours.real, exact) > 3) {
    char shown[64];
    std::snprintf(shown, sizeof shown, "%.17g vs %.17g", ours.real, exact);
    return std::string("double ") + shown + " (scanned vs correctly rounded): over 3 ulps apart";
  }
  return "";
}

}  // namespace moodboost::test
