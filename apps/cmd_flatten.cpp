// `moodboost flatten`: feature files of one or more split files -> a float32 .npy matrix (rows in
// split order) and the column names, for numpy users.
#include <fmt/format.h>

#include <memory>

#include "command.hpp"
#include "feature_options.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/features.hpp"
#include "moodboost/io.hpp"
#include "moodboost/npy.hpp"
#include "progress.hpp"
#include "validators.hpp"

namespace moodboost::app {
namespace {

struct FlattenArgs {
  std::filesystem::path features;
  std::vector<std::filesystem::path> splits;
  std::filesystem::path out;
  std::filesystem::path names;
  std::filesystem::path ids;
  std::filesystem::path schema;
  std::filesystem::path save_schema;
  FeatureCliOptions options;
};

std::string lines(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& s : items) text += s + "\n";
  return text;
}

int run_flatten(const FlattenArgs& args) {
  if (!args.schema.empty() && args.options.selects_columns()) {
    throw InvalidArgument(
        "--schema fixes the columns: drop the column options (--covariance, "
        "--basic, --include, --exclude, --drop-constant, --beats-summary)");
  }
  std::vector<std::pair<std::string, std::filesystem::path>> inputs{{"--schema", args.schema}};
  for (const auto& tsv : args.splits) inputs.emplace_back("--split", tsv);
  check_outputs({{"--out", args.out},
                 {"--names", args.names},
                 {"--ids", args.ids},
                 {"--save-schema", args.save_schema}},
                inputs);
  std::vector<std::string> relpaths;
  std::vector<std::string> ids;
  for (const auto& tsv : args.splits) {
    const Split split = read_split(tsv);
    const std::vector<std::string> paths = feature_relpaths(split);
    const std::vector<std::string> split_ids = track_ids(split);
    relpaths.insert(relpaths.end(), paths.begin(), paths.end());
    ids.insert(ids.end(), split_ids.begin(), split_ids.end());
  }
  FeatureOptions options = to_feature_options(args.options);
  ProgressLine progress("parsing features", "files");
  options.progress = progress.callback();
  std::unique_ptr<FeatureSchema> schema;
  if (!args.schema.empty())
    schema = std::make_unique<FeatureSchema>(FeatureSchema::load(args.schema));
  // The rows are parsed straight into the mapped output file (no copy of the matrix to write).
  MappedNpyWriter out(args.out);
  const LoadedFeatures loaded =
      load_features(args.features, relpaths, ids, options, schema.get(), out);
  progress.finish();

  out.commit();
  write_file_atomic(args.names, lines(loaded.schema.column_names()));
  if (!args.ids.empty()) write_file_atomic(args.ids, lines(loaded.row_ids));
  if (!args.save_schema.empty()) loaded.schema.save(args.save_schema);
  fmt::print(stderr, "moodboost flatten: {}\nmoodboost flatten: wrote {} ({} x {} float32)\n",
             loaded.report.summary(), args.out.string(), out.rows(), out.cols());
  return kExitOk;
}

const RegisterCommand kFlatten{
    {"flatten", "Export the feature matrix of split files as a float32 .npy plus column names", 31,
     [](CLI::App& sub) -> CommandRunner {
       auto args = std::make_shared<FlattenArgs>();
       sub.add_option("--features", args->features,
                      "Features directory holding NN/<id>.json (e.g. the MTG-Jamendo "
                      "acousticbrainz download)")
           ->required()
           ->check(CLI::ExistingDirectory);
       sub.add_option("--split", args->splits,
                      "Split TSV (TRACK_ID ARTIST_ID ALBUM_ID PATH DURATION TAGS); repeat to "
                      "concatenate splits, rows in the order given")
           ->required()
           ->check(CLI::ExistingFile);
       sub.add_option("--out", args->out, "Output .npy (float32, rows = tracks in split order)")
           ->required();
       sub.add_option("--names", args->names, "Output text file: the column names, one per line")
           ->required();
       sub.add_option("--ids", args->ids,
                      "Output text file: the TRACK_ID of each row, one per line (useful with "
                      "--missing skip)");
       sub.add_option("--schema", args->schema,
                      "Use this saved schema (exact columns, e.g. the training run's) instead of "
                      "discovering one")
           ->check(CLI::ExistingFile);
       sub.add_option("--save-schema", args->save_schema, "Write the schema used as JSON");
       add_feature_options(sub, args->options, /*column_selection=*/true);
       return [args] { return run_flatten(*args); };
     }}};

}  // namespace
}  // namespace moodboost::app
