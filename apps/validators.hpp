// CLI11 checks with messages a user can read ("expected a whole number from 1 to 17982, got 5"),
// instead of CLI11's ranges, which print the largest double in full (309 digits).
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moodboost::app {

/// A whole number in [lo, hi] (hi = the type's maximum when omitted in the message).
inline CLI::Validator whole_number(std::int64_t lo, std::int64_t hi,
                                   const std::string& what = "a whole number") {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        std::int64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        const bool ok =
            ec == std::errc() && end == text.data() + text.size() && value >= lo && value <= hi;
        if (ok) return {};
        const std::string range = hi == INT64_MAX
                                      ? " >= " + std::to_string(lo)
                                      : " from " + std::to_string(lo) + " to " + std::to_string(hi);
        return "expected " + what + range + ", got '" + text + "'";
      },
      hi == INT64_MAX ? "INT>=" + std::to_string(lo)
                      : "INT in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

/// A finite number in [lo, hi].
inline CLI::Validator finite_number(double lo, double hi) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        const bool ok = ec == std::errc() && end == text.data() + text.size() &&
                        std::isfinite(value) && value >= lo && value <= hi;
        if (ok) return {};
        return "expected a finite number from " + CLI::detail::to_string(lo) + " to " +
               CLI::detail::to_string(hi) + ", got '" + text + "'";
      },
      "NUMBER in [" + CLI::detail::to_string(lo) + ", " + CLI::detail::to_string(hi) + "]");
}

/// A byte count as written on a command line: a whole number with an optional binary suffix
/// K, M, G or T (case-insensitive; x 1024, 1024^2, ...), optionally followed by B or iB:
/// "1048576", "512M", "4G", "1.5G" is not accepted (whole numbers only). Empty on a malformed or
/// overflowing value.
inline std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  int shift = 0;
  if (!unit.empty()) {
    switch (unit.front()) {
      case 'k':
      case 'K':
        shift = 10;
        break;
      case 'm':
      case 'M':
        shift = 20;
        break;
      case 'g':
      case 'G':
        shift = 30;
        break;
      case 't':
      case 'T':
        shift = 40;
        break;
      default:
        break;
    }
    if (shift > 0) unit.remove_prefix(1);
    if (unit == "iB" || unit == "ib") {
      if (shift == 0) return std::nullopt;
      unit = {};
    } else if (unit == "B" || unit == "b") {
      unit = {};
    }
    if (!unit.empty()) return std::nullopt;
  }
  if (shift > 0 && value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

/// A byte count (parse_byte_size()) of at least \p lo bytes.
inline CLI::Validator byte_size(std::uint64_t lo) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        const auto value = parse_byte_size(text);
        if (value && *value >= lo) return {};
        return "expected a byte count of at least " + std::to_string(lo) +
               " (a whole number of bytes, or with a suffix K, M, G or T: 512M, 4G), got '" + text +
               "'";
      },
      "BYTES");
}

/// The most threads any --threads accepts: more than a machine could use is a typo.
inline constexpr std::int64_t kMaxThreadsOption = 4096;

}  // namespace moodboost::app

#include <filesystem>
#include <utility>
#include <vector>

#include "moodboost/error.hpp"

namespace moodboost::app {

/// Checks a command's output files before any work: none is a directory, no two are the same
/// file, and none is one of its \p inputs (e.g. `flatten --out X --names X`). Each entry is
/// (option, path); empty paths are skipped. Throws InvalidArgument naming the options.
inline void check_outputs(
    const std::vector<std::pair<std::string, std::filesystem::path>>& outputs,
    const std::vector<std::pair<std::string, std::filesystem::path>>& inputs = {}) {
  namespace fs = std::filesystem;
  auto same = [](const fs::path& a, const fs::path& b) {
    std::error_code ec1, ec2;
    return fs::weakly_canonical(a, ec1) == fs::weakly_canonical(b, ec2);
  };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& [option, path] = outputs[i];
    if (path.empty()) continue;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      throw InvalidArgument(option + " " + path.string() +
                            ": is a directory; expected a file path");
    }
    for (std::size_t j = i + 1; j < outputs.size(); ++j) {
      if (!outputs[j].second.empty() && same(path, outputs[j].second)) {
        throw InvalidArgument(option + " and " + outputs[j].first + " name the same file (" +
                              path.string() + "): one would overwrite the other");
      }
    }
    for (const auto& [input_option, input] : inputs) {
      if (!input.empty() && same(path, input)) {
        throw InvalidArgument(option + " " + path.string() + " is also " + input_option +
                              ": writing it would destroy an input");
      }
    }
  }
}

}  // namespace moodboost::app
