// The reference tables of data/, compiled in: CMake (cmake/ReferenceData.cmake) generates their
// definitions from data/reference_systems.tsv and data/reference_per_tag.tsv at configure time,
// so that the tables have one source and the program needs no data files at run time.
#pragma once

#include <string_view>

namespace moodboost::detail {

/// data/reference_systems.tsv, byte for byte.
extern const std::string_view kReferenceSystemsTsv;
/// data/reference_per_tag.tsv, byte for byte.
extern const std::string_view kReferencePerTagTsv;

}  // namespace moodboost::detail
