// Numbers in feature files: every value is the correctly rounded float32 of its decimal text,
// checked against exact integer arithmetic (exact_float.hpp); the non-finite tokens accepted are a
// fixed set; a finite decimal beyond the float32 range is counted, or refused under the reject
// policy.
#include <rapidjson/reader.h>

#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "detail/json_number.hpp"
#include "exact_float.hpp"
#include "moodboost/error.hpp"
#include "moodboost/feature_schema.hpp"
#include "moodboost/features.hpp"
#include "number_scan_check.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

// The float the library reads from one number's text (detail::read_number, the parser's converter).
float read_float(const std::string& text, detail::NumberText* kind = nullptr) {
  float v = 0;
  const detail::NumberText k = detail::read_number(text.data(), text.size(), v);
  if (kind != nullptr) *kind = k;
  return v;
}

bool exact(const std::string& text, float v) {
  const auto d = test::parse_decimal(text);
  return d && test::is_correctly_rounded(*d, v);
}

// The same texts through the whole parser: one vector field holding all of them.
std::vector<float> parse_vector(const std::vector<std::string>& texts, RowCounts* counts = nullptr,
                                const FeatureOptions& options = {}) {
  std::string json = "{\"lowlevel\": {\"x\": [";
  for (std::size_t i = 0; i < texts.size(); ++i) json += (i == 0 ? "" : ", ") + texts[i];
  json += "]}}";
  std::string discovery = "{\"lowlevel\": {\"x\": [";
  for (std::size_t i = 0; i < texts.size(); ++i) discovery += i == 0 ? "0" : ", 0";
  discovery += "]}}";
  const FeatureSchema schema = select_columns(discover_fields(discovery, "d.json"), {});
  return parse_feature_row(json, schema, options, "00/n.json", counts);
}

// 10K - 1 as decimal digits, for K's digits: the text just below.
std::string times_ten_minus_one(std::string digits) {
  std::size_t i = digits.size();
  while (i-- > 0) {
    if (digits[i] != '0') {
      --digits[i];
      break;
    }
    digits[i] = '9';
  }
  digits += '9';
  const auto first = digits.find_first_not_of('0');
  return first == std::string::npos ? "0" : digits.substr(first);
}

// "1234e-5" -> "1.234e-2": the same value with a fraction.
std::string scientific(const std::string& digits, long exponent) {
  if (digits.size() == 1) return digits + "e" + std::to_string(exponent);
  return digits.substr(0, 1) + "." + digits.substr(1) + "e" +
         std::to_string(exponent + static_cast<long>(digits.size()) - 1);
}

// Texts around the midpoint above \p a: exactly on it, one unit of a far digit below and above,
// in integer-with-exponent and in fraction form, and cut to 9, 17 and 20 significant digits.
std::vector<std::string> around_midpoint(float a) {
  const std::string mid = test::midpoint_text(a);  // "<digits>e-150"
  const std::string digits = mid.substr(0, mid.size() - 5);
  std::vector<std::string> out{
      mid,
      times_ten_minus_one(digits) + "e-151",
      digits + "1e-151",
      digits + "00000000000000000001e-170",
      scientific(digits, -150),
      scientific(times_ten_minus_one(digits), -151),
      scientific(digits + "1", -151),
  };
  for (const std::size_t cut : {9u, 17u, 20u}) {
    if (digits.size() <= cut) continue;
    const long e = -150 + static_cast<long>(digits.size() - cut);
    std::string head = digits.substr(0, cut);
    out.push_back(scientific(head, e));
    out.push_back(scientific(times_ten_minus_one(head), e - 1));
    out.push_back(scientific(head + "1", e - 1));
  }
  return out;
}

std::vector<float> adversarial_floats() {
  constexpr float kMax = std::numeric_limits<float>::max();
  std::vector<float> out = {0.0f,
                            std::numeric_limits<float>::denorm_min(),
                            2 * std::numeric_limits<float>::denorm_min(),
                            std::nextafter(std::numeric_limits<float>::min(), 0.0f),
                            std::numeric_limits<float>::min(),
                            1.0f,
                            std::nextafter(1.0f, 2.0f),
                            0.1f,
                            16777216.0f,
                            3.0e38f,
                            std::nextafter(kMax, 0.0f),
                            kMax};
  std::mt19937 rng(20261207);
  std::uniform_int_distribution<std::uint32_t> bits(0, 0x7F7FFFFFu);  // finite, non-negative
  for (int i = 0; i < 300; ++i) out.push_back(std::bit_cast<float>(bits(rng)));
  return out;
}

}  // namespace

TEST_CASE("numbers: the exact checker agrees with known roundings", "[numbers]") {
  // The checker is the reference of every test below: it must itself be right on values known
  // by hand (2^-24 = 5.9604644775390625e-8 is half an ulp of 1.0f; halfway ties go to even).
  CHECK(exact("1", 1.0f));
  CHECK_FALSE(exact("1", std::nextafter(1.0f, 2.0f)));
  CHECK(exact("1.000000059604644775390625", 1.0f));  // the tie: even mantissa (1.0)
  CHECK(exact("1.00000005960464477539062500001", std::nextafter(1.0f, 2.0f)));
  CHECK_FALSE(exact("1.00000005960464477539062500001", 1.0f));
  CHECK(exact("-0", -0.0f));
  CHECK_FALSE(exact("-0", 0.0f));
  CHECK(exact("1e39", std::numeric_limits<float>::infinity()));
  CHECK_FALSE(exact("1e38", std::numeric_limits<float>::infinity()));
  CHECK(exact("16777217", 16777216.0f));  // 2^24 + 1: a tie, to the even 2^24
  CHECK(exact("16777219", 16777220.0f));  // 2^24 + 3: a tie, to the even 2^24 + 4
}

TEST_CASE("numbers: decimals around float32 midpoints round correctly", "[numbers]") {
  std::size_t checked = 0;
  for (const float a : adversarial_floats()) {
    for (const std::string& text : around_midpoint(a)) {
      INFO(text);
      detail::NumberText kind{};
      const float v = read_float(text, &kind);
      CHECK(exact(text, v));
      CHECK(exact("-" + text, read_float("-" + text)));
      ++checked;
    }
  }
  CHECK(checked > 3000);
}

TEST_CASE("numbers: the halfway cases of the issue, 1 ulp apart in the 27th digit", "[numbers]") {
  const float one = 1.0f;
  const float up = std::nextafter(1.0f, 2.0f);
  CHECK(read_float("1.00000005960464477539062499") == one);
  CHECK(read_float("1.000000059604644775390625") == one);  // the tie, to even
  CHECK(read_float("1.00000005960464477539062501") == up);
  CHECK(read_float("1.0000000596046447753906250000000000000000000000001") == up);
  // Decimal -> double -> float gets this one wrong: the double nearest is the tie itself.
  const std::string twice = "1.0000000596046448";
  CHECK(exact(twice, read_float(twice)));
  CHECK(read_float(twice) == up);
  CHECK(static_cast<float>(1.0000000596046448) == one);  // what the old double path read
}

TEST_CASE("numbers: integers beyond 2^24 and 2^64 round correctly", "[numbers]") {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    const std::uint64_t u = rng() >> (rng() % 40);
    const std::string text = std::to_string(u);
    INFO(text);
    CHECK(exact(text, read_float(text)));
  }
  for (const char* text :
       {"16777217", "16777219", "33554435", "18446744073709551615", "18446744073709551616",
        "-9223372036854775809", "340282356779733661637539395458142568447",
        "340282356779733661637539395458142568448", "123456789012345678901234567890"}) {
    INFO(text);
    CHECK(exact(text, read_float(text)));
  }
}

TEST_CASE("numbers: zeros, underflow, subnormals, the largest float and beyond", "[numbers]") {
  using detail::NumberText;
  struct Case {
    const char* text;
    NumberText kind;
  };
  const std::string zeros80 = "0." + std::string(80, '0') + "1";
  const std::vector<std::pair<std::string, NumberText>> cases = {
      {"0e200", NumberText::kFinite},
      {"0e-200", NumberText::kFinite},
      {"-0.0e308", NumberText::kFinite},
      {"0." + std::string(80, '0'), NumberText::kFinite},
      {zeros80, NumberText::kFinite},
      {"-" + zeros80, NumberText::kFinite},
      {"1e-60", NumberText::kFinite},
      {"-1e-60", NumberText::kFinite},
      {"1e-400", NumberText::kFinite},
      {"7e-46", NumberText::kFinite},    // below half the smallest subnormal: 0
      {"7.1e-46", NumberText::kFinite},  // above it: the smallest subnormal
      {"1.401298464324817e-45", NumberText::kFinite},
      {"1e-45", NumberText::kFinite},
      {"1.1754942e-38", NumberText::kFinite},  // the largest subnormal
      {"3.4028234663852886e38", NumberText::kFinite},
      {"3.4028235677973366e38", NumberText::kFinite},  // below the midpoint: FLT_MAX
      {"3.40282356779733661637539395458142568447e38", NumberText::kFinite},
      {"3.40282356779733661637539395458142568448e38", NumberText::kOutOfRange},  // the tie: inf
      {"1e39", NumberText::kOutOfRange},
      {"-3.5e38", NumberText::kOutOfRange},
      {"1e308", NumberText::kOutOfRange},
  };
  for (const auto& [text, kind] : cases) {
    INFO(text);
    NumberText got{};
    const float v = read_float(text, &got);
    CHECK(got == kind);
    CHECK(exact(text, v));
  }
  CHECK(read_float("0e200") == 0.0f);
  CHECK(read_float(zeros80) == 0.0f);
  CHECK(std::signbit(read_float("-1e-60")));
  CHECK(read_float("7.1e-46") == std::numeric_limits<float>::denorm_min());
  CHECK(read_float("3.4028235677973366e38") == std::numeric_limits<float>::max());
  CHECK(read_float("-3.5e38") == -std::numeric_limits<float>::infinity());
}

namespace {

// "" when scan_number() agrees with RapidJSON on \p text, which is placed at the end of an
// allocation of exactly its bytes, its NUL and the read-ahead, so that AddressSanitizer catches a
// read past them.
std::string scan_check(const std::string& text, bool* scanned) {
  const auto buffer = std::make_unique<char[]>(text.size() + 1 + detail::kScanReadAhead);
  std::copy(text.begin(), text.end(), buffer.get());
  return test::scan_disagreement(buffer.get(), scanned);
}

}  // namespace

TEST_CASE("numbers: the scanner reads what RapidJSON reads, or leaves the number to it",
          "[numbers]") {
  // The shapes of feature files' numbers, and the boundaries of what the scanner takes.
  const std::vector<std::string> taken = {"0",
                                          "-0",
                                          "7",
                                          "0.847097754478",
                                          "-1.90627145767",
                                          "13.2960510254",
                                          "0.000650704023428",
                                          "1.2e-05",
                                          "5.60129E+3",
                                          "-0.0e-0",
                                          "4294967295",
                                          "4294967296",
                                          "-2147483648",
                                          "-2147483649",
                                          "1844674407370955161",
                                          "9999999999999999999",
                                          "-9223372036854775808",
                                          "1234567890.123456789",
                                          "1e80",
                                          "1e-80",
                                          "12e-80",
                                          "0.5e0081",
                                          "1e0080",
                                          "3.4028235677973366e38",
                                          "1.1754943508222875e-38"};
  const std::vector<std::string> declined = {
      "01",
      "-01",
      "1.",
      "1.e5",
      "1e",
      "1e+",
      "-",
      "-a",
      ".5",
      "NaN",
      "-Infinity",
      "Inf",
      "12345678901234567890",   // 20 digits
      "18446744073709551615",   // 2^64 - 1: 20 digits
      "1234567890.1234567890",  // 20 digits
      "-9223372036854775809",   // below -2^63: RapidJSON reads a double
      "1e81",
      "1e-81",
      "1.5e-80",  // scaled exponent beyond 80
      "1e00001",  // a 5-digit exponent
      "0." + std::string(30, '0') + "1"};
  for (const auto& t : taken) {
    INFO(t);
    bool scanned = false;
    CHECK(scan_check(t, &scanned).empty());
    CHECK(scanned);
  }
  for (const auto& t : declined) {
    INFO(t);
    bool scanned = true;
    CHECK(scan_check(t, &scanned).empty());
    CHECK_FALSE(scanned);
  }

  // Every run length of digits around the 8-byte steps, in the integer part, the fraction and
  // both, each followed by what can follow a number in a file or end it wrongly.
  std::mt19937_64 rng(20261207);
  const auto digits = [&](std::size_t n, bool leading_nonzero) {
    std::string out;
    for (std::size_t k = 0; k < n; ++k) {
      const bool nonzero = k == 0 && leading_nonzero;
      out += static_cast<char>(nonzero ? '1' + rng() % 9 : '0' + rng() % 10);
    }
    return out;
  };
  const std::vector<std::string> after = {"", ",", "]", "}", " ", "\n", "x", ".", "e", "-", "+"};
  std::size_t checked = 0, scanned_count = 0;
  for (std::size_t i = 0; i <= 21; ++i) {
    for (std::size_t f = 0; f <= 21; ++f) {
      for (const auto& tail : after) {
        for (const char* sign : {"", "-"}) {
          std::string text = sign;
          text += i == 0 ? "0" : digits(i, true);
          if (f > 0) text += "." + digits(f, false);
          text += tail;
          INFO(text);
          bool scanned = false;
          CHECK(scan_check(text, &scanned).empty());
          ++checked;
          scanned_count += scanned ? 1 : 0;
        }
      }
    }
  }
  // Random texts over the number alphabet: most malformed, many well formed.
  const std::string alphabet = "0123456789012345678901234567890123456789.-+eE,";
  for (int k = 0; k < 50000; ++k) {
    std::string text;
    const auto length = 1 + rng() % 30;
    for (std::size_t j = 0; j < length; ++j) text += alphabet[rng() % alphabet.size()];
    INFO(text);
    bool scanned = false;
    CHECK(scan_check(text, &scanned).empty());
    ++checked;
    scanned_count += scanned ? 1 : 0;
  }
  // Well-formed numbers with exponents, across the range the scanner takes and past it.
  for (int k = 0; k < 20000; ++k) {
    std::string text = rng() % 2 ? "-" : "";
    text += digits(1 + rng() % 10, true);
    if (rng() % 2) text += "." + digits(1 + rng() % 12, false);
    text += rng() % 2 ? "e" : "E";
    text += rng() % 3 == 0 ? "+" : (rng() % 2 ? "-" : "");
    text += std::to_string(rng() % 110);
    INFO(text);
    bool scanned = false;
    CHECK(scan_check(text, &scanned).empty());
    ++checked;
    scanned_count += scanned ? 1 : 0;
  }
  CHECK(scanned_count > checked / 4);  // not vacuous: thousands of numbers compared
}

TEST_CASE("numbers: the same texts through the whole parser", "[numbers][features]") {
  std::vector<std::string> texts = {"0e200",
                                    "0." + std::string(80, '0') + "1",
                                    "1e-60",
                                    "1.00000005960464477539062501",
                                    "3.4028235677973366e38",
                                    "16777217",
                                    "-0"};
  for (const float a : adversarial_floats()) {
    for (const auto& t : around_midpoint(a)) texts.push_back(t);
  }
  // Random decimals of 1 to 25 significant digits across the float range: most take the fast
  // path (RapidJSON's double, rounded once more where provably exact), the rest the exact one.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string digits = std::to_string(rng() % 9 + 1);
    const auto length = static_cast<int>(rng() % 25);
    for (int k = 0; k < length; ++k) digits += static_cast<char>('0' + rng() % 10);
    const long exponent = static_cast<long>(rng() % 90) - 60;
    texts.push_back((rng() % 2 ? "-" : "") + scientific(digits, exponent));
  }
  // Integer parts of up to 300 digits scaled back into the float range: RapidJSON accumulates
  // their digits past 2^64 in double, one rounding per digit (the largest error of its fast path).
  for (int i = 0; i < 300; ++i) {
    std::string digits = std::to_string(rng() % 9 + 1);
    const auto length = static_cast<int>(rng() % 300);
    for (int k = 0; k < length; ++k) digits += static_cast<char>('0' + rng() % 10);
    const int scale = length - static_cast<int>(rng() % 60) + 20;  // the value: ~1e-20 to ~1e40
    texts.push_back(digits + "e" + std::to_string(-scale));
  }
  RowCounts counts;
  const std::vector<float> row = parse_vector(texts, &counts);
  REQUIRE(row.size() == texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    INFO(texts[i]);
    CHECK(exact(texts[i], row[i]));
  }
  // Beyond the float range (the exact checker agreed on +-inf): counted as non-finite.
  const auto infinite =
      std::count_if(row.begin(), row.end(), [](float v) { return std::isinf(v); });
  CHECK(infinite > 0);
  CHECK(counts.nonfinite_values == static_cast<std::size_t>(infinite));
}

TEST_CASE("numbers: a value beyond float32 is counted, or refused naming file and field",
          "[numbers][features]") {
  RowCounts counts;
  const auto row = parse_vector({"1", "1e39", "-3.5e38", "NaN"}, &counts);
  CHECK(row[1] == std::numeric_limits<float>::infinity());
  CHECK(row[2] == -std::numeric_limits<float>::infinity());
  CHECK(counts.nonfinite_values == 3);

  FeatureOptions reject;
  reject.non_finite = NonFinitePolicy::kReject;
  try {
    (void)parse_vector({"1", "1e39"}, nullptr, reject);
    FAIL("1e39 passed the reject policy");
  } catch (const ParseError& e) {
    CHECK(e.place() == "/lowlevel/x/1");
    CHECK_THAT(e.what(), Catch::Contains("00/n.json") && Catch::Contains("1e39") &&
                             Catch::Contains("beyond the float32 range"));
  }
}

TEST_CASE("numbers: the accepted non-finite tokens are a fixed set", "[numbers][features]") {
  const std::vector<std::string> accepted = {"NaN", "-NaN", "Inf", "-Inf", "Infinity", "-Infinity",
                                             "nan", "-nan", "inf", "-inf", "infinity", "-infinity"};
  RowCounts counts;
  const auto row = parse_vector(accepted, &counts);
  CHECK(counts.nonfinite_values == accepted.size());
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    INFO(accepted[i]);
    const bool nan = accepted[i].find_first_of("Nn") != std::string::npos &&
                     accepted[i].find("inity") == std::string::npos &&
                     accepted[i].find("nf") == std::string::npos;
    CHECK(std::isnan(row[i]) == nan);
    if (!nan) CHECK((row[i] < 0) == (accepted[i][0] == '-'));
  }
}

TEST_CASE("numbers: anything else is a parse error at its byte", "[numbers][features]") {
  // {"lowlevel": {"x": [1, <token>]}}: the token starts at byte 23 (line 1, column 24).
  for (const char* token : {"NaN.5", "Infe3", "-Infinity.0", "Inf.5e2", "NaNE+7", "-NaN.25"}) {
    INFO(token);
    try {
      (void)parse_vector({"1", token});
      FAIL("accepted");
    } catch (const ParseError& e) {
      CHECK(e.place() == "byte 23 (line 1, column 24)");
      CHECK_THAT(e.what(), Catch::Contains("00/n.json") &&
                               Catch::Contains(std::string("invalid number \"") + token + "\""));
    }
  }
  // Spellings RapidJSON stops inside (a syntax error at the first wrong byte) or never starts.
  for (const char* token : {"nanx", "nan.5", "infx", "Infin", "NaN5", "+Inf", "NAN", "inf.5"}) {
    INFO(token);
    CHECK_THROWS_AS(parse_vector({"1", token}), ParseError);
  }
  // In a value the loader skips (metadata), a bad token is still an error.
  const std::string json = "{\"metadata\": {\"y\": Infe3}, \"lowlevel\": {\"x\": [1]}}";
  const FeatureSchema schema =
      select_columns(discover_fields("{\"lowlevel\": {\"x\": [1]}}", "d.json"), {});
  CHECK_THROWS_WITH(parse_feature_row(json, schema, {}, "00/m.json", nullptr),
                    Catch::Contains("byte 19") && Catch::Contains("invalid number \"Infe3\""));
  CHECK_THROWS_WITH(discover_fields(json, "00/m.json"), Catch::Contains("invalid number"));
}

TEST_CASE("numbers: a NUL in a key is shown escaped, the message whole", "[numbers][features]") {
  const std::string json = std::string("{\"lowlevel\": {\"a\\u0000b\": [1, 2], \"c\": [1, 2]}}");
  try {
    (void)discover_fields(json.substr(0, json.size() - 5) + "]}}", "00/k.json");
  } catch (const ParseError&) {
  }
  const FeatureSchema schema =
      select_columns(discover_fields("{\"lowlevel\": {\"c\": [1, 2, 3]}}", "d.json"), {});
  try {
    (void)parse_feature_row("{\"lowlevel\": {\"a\\u0000b\": {\"c\": [1, 2, 3]}, \"c\": [1]}}",
                            schema, {}, "00/k.json", nullptr);
    FAIL("a short vector was accepted");
  } catch (const ParseError& e) {
    CHECK(e.place() == "/lowlevel/c");
    CHECK_THAT(e.what(), Catch::EndsWith("expected 3 numbers, found 1"));
  }
  // The discovery's error names the field whose key holds the NUL.
  const std::string bad = "{\"lowlevel\": {\"\\u0000m\": {\"cov\": [[1, 2], [3]]}}}";
  try {
    (void)discover_fields(bad, "00/k.json");
    FAIL("a ragged matrix was accepted");
  } catch (const ParseError& e) {
    CHECK(e.place() == "/lowlevel/\\u0000m/cov/1");
    CHECK_THAT(e.what(), Catch::EndsWith("expected 2 numbers (as row 0), found 1"));
  }
}

namespace {

// Every number of a JSON text with its dotted path ("lowlevel.mfcc.cov.3.7"), as text.
struct NumberWalker : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, NumberWalker> {
  struct Level {
    bool array = false;
    std::size_t index = 0;
    std::string key;
  };
  std::vector<Level> stack;
  std::vector<std::pair<std::string, std::string>> numbers;  // (path, text)
  bool has_lowlevel = false;

  std::string path() const {
    std::string out;
    for (std::size_t i = 1; i < stack.size(); ++i) {
      if (!out.empty()) out += '.';
      out += stack[i - 1].array ? std::to_string(stack[i - 1].index) : stack[i - 1].key;
    }
    if (!stack.empty()) {
      if (!out.empty()) out += '.';
      out += stack.back().array ? std::to_string(stack.back().index) : stack.back().key;
    }
    return out;
  }
  bool value() {
    if (!stack.empty() && stack.back().array) ++stack.back().index;
    return true;
  }
  bool Default() { return value(); }
  bool RawNumber(const char* str, rapidjson::SizeType size, bool) {
    numbers.emplace_back(path(), std::string(str, size));
    return value();
  }
  bool Key(const char* str, rapidjson::SizeType size, bool) {
    stack.back().key.assign(str, size);
    if (stack.size() == 1 && stack.back().key == "lowlevel") has_lowlevel = true;
    return true;
  }
  bool StartObject() {
    stack.push_back({false, 0, {}});
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    stack.pop_back();
    return value();
  }
  bool StartArray() {
    stack.push_back({true, 0, {}});
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    stack.pop_back();
    return value();
  }
};

}  // namespace

TEST_CASE("numbers: every number of the shared AcousticBrainz samples reads exactly",
          "[numbers][shared]") {
  const fs::path dir = test::samples_dir();
  if (!test::require_shared(dir)) {
    WARN("MOODBOOST-SKIP: " << dir.string() << " is absent: the real samples were not checked");
    return;
  }
  std::size_t files = 0, numbers = 0, through_parser = 0, declined = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    const std::string json = test::read_text(entry.path());
    NumberWalker walker;
    rapidjson::Reader reader;
    rapidjson::StringStream stream(json.c_str());
    const auto ok =
        reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseNanAndInfFlag>(
            stream, walker);
    INFO(entry.path().string());
    REQUIRE(ok);
    ++files;
    std::map<std::string, std::string> by_path;
    for (const auto& [path, text] : walker.numbers) {
      INFO(path << " = " << text);
      if (!test::parse_decimal(text)) continue;  // NaN/Inf tokens: no decimal to compare
      CHECK(exact(text, read_float(text)));
      bool scanned = false;
      CHECK(scan_check(text, &scanned).empty());
      declined += scanned ? 0 : 1;
      by_path.emplace(path, text);
      ++numbers;
    }
    // Through the parser: the file's own schema, each column named by its path.
    if (!walker.has_lowlevel) continue;  // the high-level sample
    const FeatureSchema schema = select_columns(discover_fields(json, entry.path()), {});
    const std::vector<float> row = parse_feature_row(json, schema, {}, entry.path(), nullptr);
    for (std::size_t c = 0; c < schema.size(); ++c) {
      const auto it = by_path.find(schema.columns()[c].name);
      if (it == by_path.end()) continue;  // one-hot and beats-summary columns
      INFO(it->first << " = " << it->second);
      CHECK(exact(it->second, row[c]));
      ++through_parser;
    }
  }
  CHECK(files >= 5);
  CHECK(numbers > 10000);
  CHECK(through_parser > 5000);
  // The loader's fast number scanner takes the real extractors' numbers (the rest go through
  // RapidJSON's own reading, exact too, but slower).
  CHECK(declined * 1000 < numbers);
}
