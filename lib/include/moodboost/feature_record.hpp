/// \file feature_record.hpp
/// What a model directory records about its features (the manifest's "features" object): where
/// they came from, how many columns, whether they are moodboost's synthetic data, and the loader
/// options that shaped the matrix, as a typed struct with its JSON form. Prediction reads the
/// options back, so that a model's features are parsed the way they were at training.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "moodboost/features.hpp"

namespace moodboost {

/// The manifest's "features" object.
struct FeatureRecord {
  std::filesystem::path features_dir;  ///< the features directory given to training
  std::size_t columns = 0;             ///< the schema's columns
  bool synthetic = false;              ///< the features are moodboost's synthetic set
  /// The loader options that shaped the matrix: column selection and parsing. The execution
  /// options (threads, cache, progress) are not recorded.
  FeatureOptions options;
};

/// {"features_dir", "columns", "synthetic", "loader_options": {"covariance", "basic", "include",
/// "exclude", "drop_constant", "beats_summary", "non_finite", "lenient", "missing",
/// "max_file_bytes"}} as one line of JSON.
std::string to_json(const FeatureRecord& record);

/// Reads to_json() output (and the manifests of earlier versions, which lack "max_file_bytes").
/// Throws ParseError naming \p file and the JSON pointer.
FeatureRecord feature_record_from_json(std::string_view text, const std::filesystem::path& file);

/// "full", "upper" or "none".
std::string to_string(CovarianceColumns covariance);
/// "full", "upper" or "none"; throws InvalidArgument otherwise.
CovarianceColumns parse_covariance(std::string_view text);
/// "accept" or "reject".
std::string to_string(NonFinitePolicy policy);
/// "accept" or "reject"; throws InvalidArgument otherwise.
NonFinitePolicy parse_non_finite(std::string_view text);
/// "error" or "skip".
std::string to_string(MissingFilePolicy policy);
/// "error" or "skip"; throws InvalidArgument otherwise.
MissingFilePolicy parse_missing_files(std::string_view text);

}  // namespace moodboost
