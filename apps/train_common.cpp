#include "train_common.hpp"

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <map>
#include <sstream>

#include "command.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/io.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/metrics_format.hpp"
#include "moodboost/npy.hpp"
#include "moodboost/version.hpp"
#include "progress.hpp"
#include "validators.hpp"

namespace moodboost::app {
namespace fs = std::filesystem;

namespace {

// ---- SIGINT: finish nothing new, keep what is finished, exit 130 -------------------------------

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int /*signal*/) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

struct SigintGuard {
  using Handler = void (*)(int);
  Handler previous;
  SigintGuard() : previous(std::signal(SIGINT, on_sigint)) { g_interrupted = false; }
  ~SigintGuard() { std::signal(SIGINT, previous); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;
};

void note(const std::string& text) { std::fprintf(stderr, "%s\n", text.c_str()); }

void print_load_report(std::string_view what, const LoadedFeatures& loaded) {
  // The rows and columns from the ids and the schema: an out-of-core load has no matrix here.
  note(fmt::format("{}: {} rows x {} columns ({:.1f} s; cache {})", what, loaded.row_ids.size(),
                   loaded.schema.size(), loaded.report.seconds, to_string(loaded.report.cache)));
  const LoadReport& report = loaded.report;
  if (report.files_missing > 0) {
    note(fmt::format("{}: {} feature files missing, rows skipped (--missing skip)", what,
                     report.files_missing));
  }
  // Why a cache entry was stale, torn or not written; what the size limit evicted.
  if (!report.cache_detail.empty())
    note(fmt::format("{}: cache {}: {}", what, to_string(report.cache), report.cache_detail));
  if (report.cache_evicted > 0) {
    note(
        fmt::format("{}: cache: evicted {} least recently used entries ({} bytes) to stay under "
                    "--cache-max-bytes",
                    what, report.cache_evicted, report.cache_evicted_bytes));
  }
  if (report.threads_capped_by_files) {
    note(fmt::format("{}: read on {} threads, one per file at most", what, report.threads));
  }
}

// The pipeline's load hooks for the terminal: a progress line per load, then its report.
struct LoadPrinter {
  std::unique_ptr<ProgressLine> progress;
  LoadHooks hooks() {
    LoadHooks h;
    h.begin = [this](std::string_view) {
      progress = std::make_unique<ProgressLine>("loading features", "files");
    };
    h.progress = [this](std::size_t done, std::size_t total) {
      if (progress) progress->update(done, total);
    };
    h.end = [this](std::string_view what, const LoadedFeatures& loaded) {
      if (progress) progress->finish();
      print_load_report(what, loaded);
    };
    return h;
  }
};

std::string cell(double value, const char* format = "{:.4f}") {
  return std::isnan(value) ? std::string("-") : fmt::format(fmt::runtime(format), value);
}

void print_summary(const std::vector<TagRecord>& records, bool refit) {
  std::size_t width = 3;
  for (const auto& r : records) width = std::max(width, tag_display_name(r.tag).size());
  const bool cross_validated = !records.empty() && records.front().folds > 0;
  const char* heldout = cross_validated ? "cv_PR-AUC" : "heldout_PR";
  fmt::print("{:<{}}  {:>6}  {:>11}  {:>13}  {:>10}  {:>10}  {:>11}  {:>9}  {:>7}{}\n", "tag",
             width, "model", "tree_rounds", "linear_rounds", heldout, "val_PR-AUC", "val_ROC-AUC",
             "threshold", "seconds", refit ? "  refit_rounds" : "");
  double pr = 0, roc = 0, seconds = 0;
  std::size_t scored = 0;
  auto rounds = [](const TagRecord& r, Family family, bool of_refit) {
    const ComponentRecord* c = r.component(family);
    if (c == nullptr) return std::string("-");
    return std::to_string(of_refit ? c->refit_rounds : c->best_iteration + 1);
  };
  for (const auto& r : records) {
    std::string refit_rounds;
    if (refit) {
      for (const ComponentRecord& c : r.components) {
        refit_rounds += (refit_rounds.empty() ? "" : "+") + std::to_string(c.refit_rounds);
      }
    }
    fmt::print("{:<{}}  {:>6}  {:>11}  {:>13}  {:>10}  {:>10}  {:>11}  {:>9}  {:>7.1f}{}\n",
               tag_display_name(r.tag), width, to_string(r.model), rounds(r, Family::kTree, false),
               rounds(r, Family::kLinear, false), cell(r.heldout_pr_auc), cell(r.validation_pr_auc),
               cell(r.validation_roc_auc), cell(r.threshold), r.seconds + r.refit_seconds,
               refit ? fmt::format("  {:>12}", refit_rounds) : std::string());
    if (!std::isnan(r.validation_pr_auc)) {
      pr += r.validation_pr_auc;
      roc += r.validation_roc_auc;
      ++scored;
    }
    seconds += r.seconds + r.refit_seconds;
  }
  if (scored > 0) {
    fmt::print("{:<{}}  {:>6}  {:>11}  {:>13}  {:>10}  {:>10.4f}  {:>11.4f}  {:>9}  {:>7.1f}\n",
               "macro", width, "", "", "", "", pr / static_cast<double>(scored),
               roc / static_cast<double>(scored), "", seconds);
  }
  std::size_t counts[3] = {0, 0, 0};
  for (const auto& r : records) ++counts[static_cast<int>(r.model)];
  fmt::print("models: {} tree, {} linear, {} blend (the manifest says why, per tag)\n", counts[0],
             counts[1], counts[2]);
  // The settings that won: one line per family when every tag shares them, else per tag.
  for (Family family : {Family::kTree, Family::kLinear}) {
    std::map<std::string, std::vector<std::string>> by_settings;
    for (const auto& r : records) {
      if (const ComponentRecord* c = r.component(family)) {
        std::vector<std::string> pairs;
        for (const auto& [key, value] : c->params) pairs.push_back(key + "=" + value);
        if (c->scale_pos_weight_mode != "none") {
          pairs.push_back("scale_pos_weight=" + c->scale_pos_weight_mode);
        }
        by_settings[fmt::format("{}", fmt::join(pairs, " "))].push_back(tag_display_name(r.tag));
      }
    }
    for (const auto& [settings, tags] : by_settings) {
      fmt::print("{} settings: {} ({})\n", to_string(family),
                 settings.empty() ? "defaults" : settings,
                 tags.size() == records.size() ? std::string("every tag")
                                               : fmt::format("{}", fmt::join(tags, ", ")));
    }
  }
}

}  // namespace

void add_train_options(CLI::App& app, TrainCliOptions& o) {
  const BoostOptions defaults = default_boost_options();
  app.add_option("--features", o.features, "Directory of the feature files (NN/<id>.json)")
      ->required();
  app.add_option("--out", o.out, "Model directory to write (resumed when it holds the same run)")
      ->required();
  auto* boost =
      app.add_option_group("Boosting", "XGBoost settings (fixed values are not searched)");
  boost
      ->add_option("--param", o.train.params,
                   "KEY=VALUE: any XGBoost parameter of the trees, fixed (repeatable), e.g. "
                   "max_depth=6; linear:KEY=VALUE for the linear family (gblinear), e.g. "
                   "linear:reg_lambda=0.3")
      ->allow_extra_args(false);
  boost
      ->add_option("--rounds", o.train.rounds,
                   fmt::format("Most boosting rounds per tag at eta >= 0.1, times 0.1/eta below "
                               "(default {})",
                               defaults.max_rounds))
      ->check(whole_number(1, 1000000));
  boost
      ->add_option("--early-stopping", o.train.early_stopping,
                   fmt::format("Stop a tag after N rounds without held-out improvement (times "
                               "0.1/eta for eta < 0.1); 0 = off (default {})",
                               defaults.early_stopping))
      ->check(whole_number(0, 1000000));
  boost->add_option("--eval-metric", o.train.eval_metric,
                    fmt::format("Validation metric for early stopping: any XGBoost eval_metric, "
                                "or ap for the exact average precision (default {})",
                                defaults.eval_metric));
  boost
      ->add_option("--scale-pos-weight", o.train.scale_pos_weight,
                   fmt::format("Positive weight per tag: none, sqrt (sqrt(neg/pos)) or ratio "
                               "(neg/pos); fixes it in the search (default {})",
                               to_string(defaults.scale_pos_weight)))
      ->check(CLI::IsMember({"none", "sqrt", "ratio"}));
  boost->add_option("--seed", o.train.seed, "Seed of XGBoost's sampling and of the search")
      ->capture_default_str()
      ->check(whole_number(0, INT64_MAX));
  auto* tuning = app.add_option_group(
      "Search",
      "Tuning on held-out data: the validation split or cross-validation folds of the "
      "training split (never the test split)");
  tuning
      ->add_option("--cv", o.train.cv,
                   fmt::format("Held-out data for the search, the rounds and the family: auto "
                               "({}-fold cross-validation grouped by ARTIST_ID when the training "
                               "split has at most {} rows, else the validation split), 0 (the "
                               "validation split) or K folds",
                               kAutoFolds, kCrossValidateRows))
      ->capture_default_str();
  tuning
      ->add_option("--family", o.train.family,
                   "auto (trees and a linear model, each tag keeps trees, linear or their blend "
                   "by held-out PR-AUC), tree or linear")
      ->check(CLI::IsMember({"auto", "tree", "linear"}))
      ->capture_default_str();
  tuning
      ->add_option("--trials", o.train.trials,
                   "Random tree configurations in the first successive-halving stage, on top of "
                   "the portfolio; 0 = no search at all (default: none, but the small-data "
                   "portfolio when cross-validating)")
      ->check(whole_number(0, 100000));
  tuning
      ->add_option("--budget-minutes", o.train.budget_minutes,
                   "Wall-time budget of the search and the final training (the search takes at "
                   "most half; the winner must fit the rest); sizes the search when --trials is "
                   "not given, caps it when it is (default 0: no budget)")
      ->check(finite_number(0, 525600));
  tuning->add_flag("--tune-per-tag", o.train.tune_per_tag,
                   "Each tag keeps the best of the search's finalists (default: one setting for "
                   "all tags)");
  app.add_option("--refit", o.train.refit,
                 "none, or train+validation: also retrain every tag on both splits with "
                 "round(best_rounds * (n_train + n_val) / n_train) rounds; predict uses those "
                 "models by default, with the train-only thresholds")
      ->check(CLI::IsMember({"none", "train+validation"}))
      ->capture_default_str();
  auto* engine = app.add_option_group("Engine", "Where and how fast (never changes a model)");
  engine
      ->add_option("--device", o.device,
                   "cpu, cuda (GPU hist; needs an XGBoost built with CUDA) or auto")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
      ->capture_default_str();
  engine
      ->add_option("--thread-strategy", o.train.thread_strategy,
                   "auto, per-tag (one tag at a time, all threads) or tags-in-parallel (one tag "
                   "per thread)")
      ->check(CLI::IsMember({"auto", "per-tag", "tags-in-parallel"}))
      ->capture_default_str();
  app.add_option("--memory-limit", o.memory_limit,
                 "Out-of-core training: when the training matrix's in-memory estimate (rows x "
                 "columns x 24 bytes, measured) exceeds BYTES (e.g. 4G, 512M; at least 1M), it "
                 "stays in the feature cache (--cache DIR is required; --cache-max-bytes must hold "
                 "it) and is streamed in batches "
                 "of about BYTES/32 into XGBoost's external-memory matrix (pages in a temporary "
                 "directory in --out, removed after); that path trains the tree family held out "
                 "on the validation split, and --cv K, --family linear and --device cuda are "
                 "refused with it. Not a cap on memory: XGBoost 1.7 still keeps about 14 bytes a "
                 "training cell, and a first run parses the matrix once to write the cache")
      ->check(byte_size(kMinMemoryLimit));
  app.add_flag("--restart", o.train.restart,
               "Discard an earlier run with other arguments in --out instead of refusing");
  add_feature_options(app, o.loader, /*column_selection=*/true, /*with_execution=*/true);
}

std::vector<std::string> command_line_of(const std::string& command, const CLI::App& app) {
  std::vector<std::string> out{"moodboost", command};
  std::istringstream lines(app.config_to_str(false, false));
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

int run_train(const TrainCliOptions& options, const SplitFiles& splits, const fs::path& tags_file,
              UnknownTagPolicy unknown_tags, const std::vector<std::string>& command_line) {
  // The device first: an impossible --device must fail before any data is read.
  const DeviceChoice device = resolve_device(parse_device(options.device));
  if (parse_device(options.device) == Device::kAuto) note(device.note);
  // Every option is checked before any work.
  TrainOptions train = options.train;
  train.threads = options.loader.threads;
  if (!options.memory_limit.empty()) {
    const auto bytes = parse_byte_size(options.memory_limit);
    if (!bytes)
      throw InvalidArgument("--memory-limit " + options.memory_limit + ": not a byte count");
    train.memory_limit = *bytes;
  }
  RunSettings settings = make_run_settings(train, device.device, command_line);
  if (train.memory_limit > 0 && options.loader.cache_dir.empty()) {
    throw InvalidArgument(
        "--memory-limit needs the binary feature cache, from which an out-of-core training "
        "matrix is streamed: add --cache DIR");
  }

  TrainingInputs inputs;
  inputs.features = options.features;
  inputs.splits = splits;
  if (!tags_file.empty()) inputs.tags = tags_file;
  inputs.unknown_tags = unknown_tags;
  inputs.loader = to_feature_options(options.loader);
  inputs.memory_limit = train.memory_limit;
  LoadPrinter printer;
  const TrainingData data = load_training_data(inputs, printer.hooks());
  if (data.features.synthetic) {
    note(
        "note: these features are moodboost's synthetic data set (moodboost synth), not real "
        "AcousticBrainz features");
  }
  const bool out_of_core = data.train_source != nullptr;
  if (train.memory_limit > 0) {
    const std::uint64_t need = in_memory_training_bytes(data.train_rows(), data.train_cols());
    if (out_of_core) {
      const std::size_t batch = out_of_core_batch_rows(train.memory_limit, data.train_cols());
      note(fmt::format(
          "out-of-core: the training matrix ({} x {}, about {:.1f} MB in memory) exceeds "
          "--memory-limit {} ({} bytes): streamed from {} in batches of {} rows into XGBoost's "
          "external memory; tree family, validation split held out",
          data.train_rows(), data.train_cols(), static_cast<double>(need) / 1e6,
          options.memory_limit, train.memory_limit,
          to_feature_options(options.loader).cache_dir.string(), batch));
    } else {
      note(
          fmt::format("in memory: the training matrix ({} x {}, about {:.1f} MB) fits "
                      "--memory-limit {}",
                      data.train_rows(), data.train_cols(), static_cast<double>(need) / 1e6,
                      options.memory_limit));
    }
  }
  note(resolve_selection(settings, train, data.train_rows(), out_of_core));

  SigintGuard sigint;
  ProgressLine progress("training", "tags");
  RunHooks hooks;
  hooks.message = [&](const std::string& text) { note(text); };
  hooks.fit.stop_requested = [] { return g_interrupted.load(); };
  hooks.fit.on_round = [&](const std::string& tag, int round) {
    progress.set_detail(fmt::format("{} round {}", tag_display_name(tag), round + 1));
  };
  hooks.trial_done = [&](const Trial& t) {
    note(
        fmt::format("search: trial {} ({} {}, {} tags): held-out PR-AUC-macro {:.4f}, {:.1f} "
                    "rounds, {:.1f} s",
                    t.id, to_string(t.config.family), t.stage, t.tags.size(), t.score,
                    t.mean_rounds, t.seconds));
  };
  hooks.tag_done = [&](const std::string& phase, std::size_t done, std::size_t total,
                       const TagRecord& r) {
    progress.update(done, total);
    if (!progress.enabled()) {
      note(fmt::format("{} {}/{} {}: {}, held-out PR-AUC {}, validation PR-AUC {}, {:.1f} s", phase,
                       done, total, tag_display_name(r.tag),
                       r.choice.reason.empty() ? to_string(r.model) : r.choice.reason,
                       cell(r.heldout_pr_auc), cell(r.validation_pr_auc),
                       phase == "refit" ? r.refit_seconds : r.seconds));
    }
  };
  std::vector<TagRecord> records;
  try {
    records = train_model_dir(data, settings, options.out, hooks);
  } catch (const TrainingInterrupted&) {
    progress.finish();
    note(
        fmt::format("moodboost train: interrupted; finished tags are kept in {}: run the same "
                    "command again to resume",
                    options.out.string()));
    return kExitInterrupted;
  }
  progress.finish();
  print_summary(records, settings.refit == Refit::kTrainValidation);
  note(fmt::format("model written to {}", options.out.string()));
  return kExitOk;
}

int run_predict(const fs::path& model_dir, const fs::path& features, const fs::path& split_file,
                const fs::path& out_dir, ModelChoice choice, const FeatureCliOptions& loader_cli,
                bool evaluate_split, UnknownTagPolicy unknown_tags) {
  const LoadedModel model(model_dir, choice, loader_cli.threads);
  LoadPrinter printer;
  const SplitPrediction prediction =
      predict_split(model, model_dir, features, split_file, to_feature_options(loader_cli),
                    evaluate_split, unknown_tags, printer.hooks());
  if (!evaluate_split) {
    // predictions.npy, decisions.npy and results.json's provenance only.
    SplitPrediction unscored = prediction;
    unscored.evaluation.reset();
    (void)write_split_prediction(unscored, model.tags(), out_dir);
  } else {
    (void)write_split_prediction(prediction, model.tags(), out_dir);
  }
  note(fmt::format(
      "predictions.npy and decisions.npy ({} tracks x {} tags, {} models) written to {}",
      prediction.scores.rows(), prediction.scores.cols(),
      model.uses_refit() ? "refit" : "train-only", out_dir.string()));
  if (prediction.evaluation) {
    fmt::print("{}", format_results_display(*prediction.evaluation));
    if (!prediction.excluded_tags.empty()) {
      note(fmt::format("note: {} tags without both classes in {} are left out of the macro AUCs",
                       prediction.excluded_tags.size(), split_file.string()));
    }
  }
  return kExitOk;
}

}  // namespace moodboost::app
