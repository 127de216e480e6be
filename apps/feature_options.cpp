#include "feature_options.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>

#include "moodboost/feature_record.hpp"
#include "validators.hpp"

namespace moodboost::app {

bool FeatureCliOptions::selects_columns() const {
  return covariance != CovarianceColumns::kFull || basic || !include.empty() || !exclude.empty() ||
         drop_constant || beats_summary;
}

void add_feature_options(CLI::App& app, FeatureCliOptions& options, bool column_selection,
                         bool with_execution) {
  if (column_selection) {
    CLI::Option_group* cols = app.add_option_group(
        "Feature columns", "Which columns a discovered schema keeps (ignored with a saved schema)");
    const std::map<std::string, CovarianceColumns> covariance{
        {"full", CovarianceColumns::kFull},
        {"upper", CovarianceColumns::kUpperTriangle},
        {"none", CovarianceColumns::kNone}};
    cols->add_option("--covariance", options.covariance,
                     "Columns of the symmetric cov/icov matrices: full, upper (drop the duplicate "
                     "lower triangle) or none (default " +
                         to_string(options.covariance) + ")")
        ->transform(CLI::CheckedTransformer(covariance, CLI::ignore_case));
    cols->add_flag("--basic", options.basic,
                   "AcousticBrainz 'basic' preset: drop *dmean*, *dvar*, *.min, *.max, *cov, "
                   "tonal.thpcp, lowlevel.spectral_energyband_high.*, lowlevel.silence_rate*");
    cols->add_option("--include", options.include,
                     "Keep only the columns whose name or field name matches one of these globs "
                     "(e.g. 'lowlevel.*')");
    cols->add_option("--exclude", options.exclude,
                     "Drop the columns whose name or field name matches one of these globs "
                     "(e.g. '*.dvar*')");
    cols->add_flag("--drop-constant,!--keep-constant", options.drop_constant,
                   std::string("Drop the columns that are constant on the rows loaded, or keep "
                               "them (default ") +
                       (options.drop_constant ? "--drop-constant" : "--keep-constant") + ")");
    cols->add_flag("--beats-summary", options.beats_summary,
                   "Add rhythm.beats_position.count, .interval_mean and .interval_std");
  }
  CLI::Option_group* parse = app.add_option_group("Feature parsing", "How feature files are read");
  const std::map<std::string, NonFinitePolicy> non_finite{{"accept", NonFinitePolicy::kAccept},
                                                          {"reject", NonFinitePolicy::kReject}};
  parse
      ->add_option("--non-finite", options.non_finite,
                   "NaN/Inf numbers (also bare nan/inf as raw Essentia writes them): accept "
                   "(default; NaN = missing) or reject (error naming file and field)")
      ->transform(CLI::CheckedTransformer(non_finite, CLI::ignore_case));
  parse->add_flag("--lenient", options.lenient,
                  "A field of the wrong shape (vector length, unknown key name, ...) becomes NaN "
                  "instead of an error");
  const std::map<std::string, MissingFilePolicy> missing{{"error", MissingFilePolicy::kError},
                                                         {"skip", MissingFilePolicy::kSkip}};
  parse
      ->add_option("--missing", options.missing,
                   "A split track without a feature file: error (default) or skip (drop the row)")
      ->transform(CLI::CheckedTransformer(missing, CLI::ignore_case));
  parse
      ->add_option("--max-file-bytes", options.max_file_bytes,
                   "Refuse feature files larger than this (default 16 MiB)")
      ->check(whole_number(1, INT64_MAX, "a number of bytes"));
  if (with_execution) {
    parse
        ->add_option("--threads", options.threads,
                     "Threads for reading the feature files and, in train and run, for training "
                     "(default 0: every core; more than the cores or the work can use is capped)")
        ->check(whole_number(0, kMaxThreadsOption));
    parse->add_option("--cache", options.cache_dir,
                      "Directory for a binary cache of the parsed matrix, reused while the files "
                      "(size, modification and change times in ns, inode) and the options are "
                      "unchanged");
    parse
        ->add_option("--cache-max-bytes", options.cache_max_bytes,
                     "Size limit of the --cache directory: the least recently used entries are "
                     "removed past it, a larger matrix is not cached (default " +
                         std::to_string(kDefaultCacheMaxBytes) + " = 4 GiB; 0 = no limit)")
        ->check(whole_number(0, INT64_MAX, "a number of bytes"));
  }
}

FeatureOptions to_feature_options(const FeatureCliOptions& cli) {
  FeatureOptions o;
  o.covariance = cli.covariance;
  o.basic_preset = cli.basic;
  o.include = cli.include;
  o.exclude = cli.exclude;
  o.drop_constant = cli.drop_constant;
  o.summarize_beats = cli.beats_summary;
  o.non_finite = cli.non_finite;
  o.shape_mismatch = cli.lenient ? ShapePolicy::kMissing : ShapePolicy::kError;
  o.missing_files = cli.missing;
  o.max_file_bytes = cli.max_file_bytes;
  o.threads = cli.threads;
  // More threads than cores only costs (and a huge count once crashed inside libgomp); the
  // library caps them too, this says so.
  const auto cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (cli.threads > cores) {
    std::fprintf(stderr, "note: --threads %d: using %d, the cores this machine has\n", cli.threads,
                 cores);
    o.threads = cores;
  }
  o.cache_dir = cli.cache_dir;
  o.cache_max_bytes = cli.cache_max_bytes;
  return o;
}

}  // namespace moodboost::app
