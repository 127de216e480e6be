// One name table per enum: to_string() and parse_*() of an enum are both read from its table, so
// that a name cannot be spelt two ways.
//
//   constexpr EnumName<Family> kFamilyNames[] = {{Family::kTree, "tree"}, {Family::kLinear,
//   "linear"}}; std::string to_string(Family f) { return detail::name_of(kFamilyNames, f); } Family
//   parse_family(std::string_view t) { return detail::parse_name(kFamilyNames, t, "family"); }
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "moodboost/error.hpp"

namespace moodboost::detail {

template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

/// The name of \p value in \p table (the first entry's name if it is absent, which a complete
/// table rules out).
template <typename E, std::size_t N>
std::string name_of(const EnumName<E> (&table)[N], E value) {
  for (const auto& entry : table) {
    if (entry.value == value) return std::string(entry.name);
  }
  return std::string(table[0].name);
}

/// "a, b or c": the names of \p table, for messages.
template <typename E, std::size_t N>
std::string names_of(const EnumName<E> (&table)[N]) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += table[i].name;
  }
  return out;
}

/// The value named \p text in \p table; throws InvalidArgument("<what> '<text>': expected a, b
/// or c") otherwise.
template <typename E, std::size_t N>
E parse_name(const EnumName<E> (&table)[N], std::string_view text, std::string_view what) {
  for (const auto& entry : table) {
    if (entry.name == text) return entry.value;
  }
  throw InvalidArgument(std::string(what) + " '" + std::string(text) + "': expected " +
                        names_of(table));
}

}  // namespace moodboost::detail
