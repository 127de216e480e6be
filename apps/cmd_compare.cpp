// `moodboost compare`: our systems against the published VGG-ish baseline (or a per-tag figures
// file), per tag and overall, with paired bootstrap intervals; writes compare.md/.tsv/.json/.html.
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "moodboost/compare.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/npy.hpp"
#include "moodboost/reference.hpp"
#include "progress.hpp"
#include "validators.hpp"

namespace moodboost::app {
namespace {

namespace fs = std::filesystem;

struct CompareArgs {
  std::string groundtruth;
  std::string tags;
  std::vector<std::string> systems;
  std::string baseline = "vggish";
  std::string references = "all";
  std::size_t resamples = 1000;
  std::uint64_t seed = 0;
  double confidence = 0.95;
  int threads = 0;
  bool synthetic = false;
  std::string out_dir;
};

struct SystemSpec {
  std::string name;
  fs::path predictions;
  fs::path decisions;
};

// NAME=PREDICTIONS.npy[:DECISIONS.npy] or NAME=DIR (a predict output directory). The decisions
// part is split off at the last ':' when the part before it ends in ".npy", so that a ':'
// elsewhere in a path still works.
SystemSpec parse_system(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw InvalidArgument(fmt::format(
        "--system '{}': expected NAME=PREDICTIONS.npy or NAME=PREDICTIONS.npy:DECISIONS.npy",
        text));
  }
  SystemSpec spec;
  spec.name = text.substr(0, eq);
  check_system_name(spec.name);
  const std::string files = text.substr(eq + 1);
  // A directory written by `moodboost predict`: its predictions.npy, and decisions.npy if there.
  if (fs::is_directory(files)) {
    spec.predictions = fs::path(files) / "predictions.npy";
    if (fs::exists(fs::path(files) / "decisions.npy")) {
      spec.decisions = fs::path(files) / "decisions.npy";
    }
    return spec;
  }
  const std::size_t colon = files.rfind(':');
  if (colon != std::string::npos && files.substr(0, colon).ends_with(".npy") &&
      colon + 1 < files.size()) {
    spec.predictions = files.substr(0, colon);
    spec.decisions = files.substr(colon + 1);
  } else {
    spec.predictions = files;
  }
  return spec;
}

PublishedSystem choose_baseline(const std::string& choice) {
  if (const PublishedSystem* builtin = builtin_references().find(choice)) {
    if (!builtin->has_per_tag()) {
      throw InvalidArgument(fmt::format(
          "--baseline {}: the built-in table has only overall figures for it; a baseline needs "
          "per-tag figures (built in: vggish)",
          choice));
    }
    return *builtin;
  }
  if (!fs::is_regular_file(choice)) {
    throw InvalidArgument(fmt::format(
        "--baseline {}: neither a built-in baseline (vggish) nor an existing file", choice));
  }
  return read_per_tag_figures(choice, "baseline");
}

int run_compare(const CompareArgs& args) {
  const std::vector<std::string> tags = read_tag_list(args.tags);
  // The ground truth: a MediaEval matrix, or the labels of a split file (e.g. the synthetic
  // test split, which has no groundtruth.npy), columns in --tags order.
  const LabelMatrix groundtruth =
      fs::path(args.groundtruth).extension() == ".tsv"
          ? label_matrix(read_split(args.groundtruth), tags, UnknownTagPolicy::kError)
          : read_label_matrix(args.groundtruth);
  const PublishedSystem baseline = choose_baseline(args.baseline);
  std::vector<PublishedSystem> references;
  if (args.references == "all") {
    for (const auto& r : builtin_references().systems) {
      if (r.id != baseline.id && r.role == "reference") references.push_back(r);
    }
  }

  std::vector<SystemPredictions> systems;
  for (const auto& text : args.systems) {
    const SystemSpec spec = parse_system(text);
    SystemPredictions s;
    s.name = spec.name;
    s.predictions_file = spec.predictions;
    s.predictions = read_score_matrix(spec.predictions);
    if (!spec.decisions.empty()) {
      s.decisions_file = spec.decisions;
      s.decisions = read_label_matrix(spec.decisions);
    }
    s.provenance = read_provenance(spec.predictions);
    if (args.synthetic) {
      s.provenance = {true, true, "--synthetic on the command line", {}};
    }
    systems.push_back(std::move(s));
  }

  CompareOptions options;
  options.resamples = args.resamples;
  options.seed = args.seed;
  options.confidence = args.confidence;
  options.threads = args.threads;
  options.groundtruth_file = args.groundtruth;
  ProgressLine progress("bootstrap", "resamples");
  options.progress = progress.callback();
  const auto start = std::chrono::steady_clock::now();
  const Comparison comparison =
      compare_systems(groundtruth, tags, systems, baseline, references, options);
  progress.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.resamples > 0) {
    fmt::print(stderr,
               "moodboost compare: {} system(s) scored, {} bootstrap resamples in {:.2f} s\n",
               systems.size(), args.resamples, seconds);
  }

  const auto files = write_compare_reports(comparison, args.out_dir);
  fmt::print("{}\n", comparison.title);
  for (const auto& note : comparison.notes) fmt::print("note: {}\n", note);
  const auto baseline_pr = baseline.overall_value("PR-AUC-macro");
  for (const auto& s : comparison.systems) {
    fmt::print("{}: PR-AUC-macro {:.4f}", s.name, s.evaluation.macro.pr_auc);
    if (args.resamples > 0) {
      fmt::print(" [{:.4f}, {:.4f}]", s.pr_auc_macro_interval.low, s.pr_auc_macro_interval.high);
    }
    fmt::print(", ROC-AUC-macro {:.4f}; PR-AUC per tag vs baseline: {} won, {} lost, {} tied\n",
               s.evaluation.macro.roc_auc, s.pr_auc_vs_baseline.won, s.pr_auc_vs_baseline.lost,
               s.pr_auc_vs_baseline.tied);
  }
  if (baseline_pr) fmt::print("baseline ({}): PR-AUC-macro {:.4f}\n", baseline.name, *baseline_pr);
  for (const auto& file : files) fmt::print("wrote {}\n", file.string());
  fmt::print("open {} in a browser\n", files.back().string());
  return kExitOk;
}

const RegisterCommand kCompare{
    {"compare",
     "Compare systems' test predictions with the published VGG-ish baseline: per tag, overall, "
     "with paired bootstrap intervals (Markdown, TSV, JSON, HTML)",
     60, [](CLI::App& sub) -> CommandRunner {
       auto args = std::make_shared<CompareArgs>();
       sub.add_option("--groundtruth", args->groundtruth,
                      "Ground truth of the test tracks: a .npy matrix (tracks x tags, bool, as "
                      "MediaEval's groundtruth.npy) or the test split .tsv (its labels, in --tags "
                      "order)")
           ->required()
           ->check(CLI::ExistingFile);
       sub.add_option("--tags", args->tags, "Tag list, one per line, in column order")
           ->required()
           ->check(CLI::ExistingFile);
       sub.add_option("--system", args->systems,
                      "NAME=PREDICTIONS.npy[:DECISIONS.npy] or NAME=DIR (the predictions.npy and "
                      "decisions.npy that `moodboost predict` wrote in DIR), repeatable: a system "
                      "to compare. NAME uses letters, digits, '_', '-', '+'. Decisions add "
                      "precision, recall and F. A results.json beside the predictions (written by "
                      "predict) tells whether they come from synthetic data")
           ->required();
       sub.add_option("--baseline", args->baseline,
                      "vggish (the published VGG-ish figures, built in) or a TSV file with "
                      "columns tag, ROC-AUC, PR-AUC")
           ->capture_default_str();
       sub.add_option("--references", args->references,
                      "Published reference lines to show: all (popularity baseline, best 2019 and "
                      "2020 runs) or none")
           ->check(CLI::IsMember({"all", "none"}))
           ->capture_default_str();
       sub.add_option("--bootstrap", args->resamples,
                      "Paired bootstrap resamples of the test tracks (0: no intervals)")
           ->capture_default_str();
       sub.add_option("--seed", args->seed, "Bootstrap seed")->capture_default_str();
       sub.add_option("--confidence", args->confidence, "Interval coverage")
           ->check(finite_number(0.5, 0.999))
           ->capture_default_str();
       sub.add_option("--threads", args->threads, "Bootstrap threads (0: all cores)")
           ->check(whole_number(0, kMaxThreadsOption))
           ->capture_default_str();
       sub.add_flag("--synthetic", args->synthetic,
                    "The predictions come from moodboost's synthetic data: label every report so "
                    "(detected from results.json beside the predictions when present)");
       sub.add_option("--out-dir", args->out_dir,
                      "Directory for compare.md, compare.tsv, compare.json, compare.html")
           ->required();
       return [args] { return run_compare(*args); };
     }}};

}  // namespace
}  // namespace moodboost::app
