// The feature-loader options shared by every command that reads feature files, so that they all
// read the same way:
//
//   column selection (when the schema is discovered, i.e. training / flatten without --schema):
//   --covariance full|upper|none  columns of the symmetric mfcc/gfcc cov and icov matrices
//                                 (upper drops the duplicate lower triangle: 2647 -> 2335 numbers)
//   --basic                       AcousticBrainz/gaia "basic" preset (675 numbers + 28 one-hot)
//   --include GLOB ...            keep only matching columns ('lowlevel.*')
//   --exclude GLOB ...            drop matching columns ('*.dvar*')
//   --drop-constant               drop columns constant on the rows loaded
//   --beats-summary               add rhythm.beats_position.{count,interval_mean,interval_std}
//   parsing:
//   --non-finite accept|reject    NaN/Inf numbers (bare nan/inf included): keep (default) or error
//   --lenient                     a field of the wrong shape becomes NaN instead of an error
//   --missing error|skip          a split track without a feature file: error (default) or drop
//   --max-file-bytes N            refuse larger feature files (default 16 MiB)
//   execution:
//   --threads N                   parser threads (default: all cores)
//   --cache DIR                   binary cache of the parsed matrix (reused while inputs match)
//   --cache-max-bytes N           size limit of the cache directory, least recently used entries
//                                 evicted first (default 4 GiB; 0 = no limit)
//
// Usage in a command's setup function:
//
//   auto features = std::make_shared<FeatureCliOptions>();
//   add_feature_options(sub, *features, /*column_selection=*/true);
//   return [features] { FeatureOptions options = to_feature_options(*features); ... };
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "moodboost/features.hpp"

namespace moodboost::app {

/// The parsed values of the feature options.
struct FeatureCliOptions {
  CovarianceColumns covariance = CovarianceColumns::kFull;  ///< --covariance
  bool basic = false;                                       ///< --basic
  std::vector<std::string> include;                         ///< --include
  std::vector<std::string> exclude;                         ///< --exclude
  bool drop_constant = false;                               ///< --drop-constant
  bool beats_summary = false;                               ///< --beats-summary
  NonFinitePolicy non_finite = NonFinitePolicy::kAccept;    ///< --non-finite
  bool lenient = false;                                     ///< --lenient
  MissingFilePolicy missing = MissingFilePolicy::kError;    ///< --missing
  std::uintmax_t max_file_bytes = kDefaultMaxFileBytes;     ///< --max-file-bytes
  int threads = 0;                                          ///< --threads
  std::filesystem::path cache_dir;                          ///< --cache
  std::uintmax_t cache_max_bytes = kDefaultCacheMaxBytes;   ///< --cache-max-bytes

  /// True when any column-selection option differs from its default.
  [[nodiscard]] bool selects_columns() const;
};

/// Declares the options above on \p app in option groups ("Feature columns" only when
/// \p column_selection, "Feature parsing"), writing into \p options (which must outlive the
/// parse). \p with_execution adds --threads, --cache and --cache-max-bytes.
void add_feature_options(CLI::App& app, FeatureCliOptions& options, bool column_selection,
                         bool with_execution = true);

/// The library options for \p cli.
FeatureOptions to_feature_options(const FeatureCliOptions& cli);

}  // namespace moodboost::app
