// `moodboost explain`: why the model tagged one track as it did, from XGBoost's SHAP
// contributions (pred_contribs), grouped by descriptor family.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "command.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/features.hpp"
#include "moodboost/importance.hpp"
#include "moodboost/io.hpp"
#include "moodboost/model.hpp"
#include "validators.hpp"

namespace moodboost::app {
namespace {

namespace fs = std::filesystem;

struct ExplainArgs {
  std::string model;
  std::string features;
  std::string track;
  std::string split;
  std::vector<std::string> tags;
  bool all_tags = false;
  std::size_t top_tags = 3;
  std::size_t top = 6;
  std::string json;
};

// The feature file of \p track_id: from the split file when given, else by MTG-Jamendo's
// convention (track_0000948 -> 48/948.json: the folder is the number modulo 100).
fs::path feature_file_of(const std::string& track_id, const std::string& split_file) {
  if (!split_file.empty()) {
    const Split split = read_split(split_file);
    for (const Track& track : split.tracks) {
      if (track.track_id == track_id) return feature_relpath(track, split_file);
    }
    throw InvalidArgument(fmt::format("track {} is not in {}", track_id, split_file));
  }
  const std::size_t underscore = track_id.rfind('_');
  const std::string digits = track_id.substr(underscore == std::string::npos ? 0 : underscore + 1);
  unsigned long number = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    throw InvalidArgument(fmt::format(
        "--track {}: expected an MTG-Jamendo id like track_0000948 (or give --split to look the "
        "track up)",
        track_id));
  }
  return fs::path(fmt::format("{:02}", number % 100)) / fmt::format("{}.json", number);
}

std::vector<std::size_t> chosen_tags(const ExplainArgs& args, const LoadedModel& model,
                                     const FeatureMatrix& row) {
  const auto& names = model.tags();
  std::vector<std::size_t> out;
  if (args.all_tags) {
    out.resize(names.size());
    std::iota(out.begin(), out.end(), std::size_t{0});
    return out;
  }
  if (!args.tags.empty()) {
    for (const auto& wanted : args.tags) {
      // A tag is named in full ("mood/theme---dark") or by its short name ("dark").
      const auto it = std::find_if(names.begin(), names.end(), [&](const std::string& n) {
        return n == wanted || tag_display_name(n) == wanted;
      });
      if (it == names.end()) {
        throw InvalidArgument(
            fmt::format("--tag {}: not one of the model's {} tags", wanted, names.size()));
      }
      out.push_back(static_cast<std::size_t>(it - names.begin()));
    }
    return out;
  }
  // Default: the tags the model is most sure of for this track.
  const ScoreMatrix scores = model.predict(row);
  out.resize(names.size());
  std::iota(out.begin(), out.end(), std::size_t{0});
  std::stable_sort(out.begin(), out.end(), [&](std::size_t a, std::size_t b) {
    return scores(0, static_cast<Eigen::Index>(a)) > scores(0, static_cast<Eigen::Index>(b));
  });
  out.resize(std::min(args.top_tags, out.size()));
  return out;
}

int run_explain(const ExplainArgs& args) {
  const LoadedModel model(args.model, ModelChoice::kDefault);
  const FeatureSchema& schema = model.schema();
  const fs::path relative = feature_file_of(args.track, args.split);
  const std::string json = read_file(fs::path(args.features) / relative);
  const std::vector<float> values = parse_feature_row(json, schema, FeatureOptions{}, relative);
  FeatureMatrix row(1, static_cast<Eigen::Index>(values.size()));
  for (std::size_t c = 0; c < values.size(); ++c) row(0, static_cast<Eigen::Index>(c)) = values[c];

  const TrackExplanation explanation =
      explain_track(model, schema, row, args.track, chosen_tags(args, model, row));
  fmt::print("{}", explanation_text(explanation, args.top));
  if (!args.json.empty()) {
    write_file_atomic(args.json, explanation_json(explanation));
    fmt::print("\nwrote {}\n", args.json);
  }
  return kExitOk;
}

const RegisterCommand kExplain{
    {"explain",
     "Why was this track tagged dark? Per-tag SHAP contributions of one track's descriptors, "
     "grouped by family",
     75, [](CLI::App& sub) -> CommandRunner {
       auto args = std::make_shared<ExplainArgs>();
       sub.add_option("--model", args->model, "Model directory written by `moodboost train`")
           ->required()
           ->check(CLI::ExistingDirectory);
       sub.add_option("--features", args->features, "Directory of the feature files")
           ->required()
           ->check(CLI::ExistingDirectory);
       sub.add_option("--track", args->track, "TRACK_ID, e.g. track_0000948")->required();
       sub.add_option("--split", args->split,
                      "Split TSV to find the track's feature file in (default: the MTG-Jamendo "
                      "layout NN/<id>.json)")
           ->check(CLI::ExistingFile);
       sub.add_option("--tag", args->tags,
                      "Tag to explain, full or short name (repeatable; default: the --top-tags "
                      "tags with the highest probability)");
       sub.add_flag("--all-tags", args->all_tags, "Explain every tag");
       sub.add_option("--top-tags", args->top_tags, "Tags explained by default")
           ->check(whole_number(1, 100000))
           ->capture_default_str();
       sub.add_option("--top", args->top, "Families shown per tag")
           ->check(whole_number(1, 100000))
           ->capture_default_str();
       sub.add_option("--json", args->json,
                      "Also write the full explanation (every column's contribution) as JSON");
       return [args] { return run_explain(*args); };
     }}};

}  // namespace
}  // namespace moodboost::app
