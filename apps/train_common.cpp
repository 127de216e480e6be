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

// ---- inputs ------------------------------------------------------------------------------------

// XGBoost's aliases, so that a fixed --param learning_rate=0.05 also fixes the searched "eta".
std::string canonical_param(const std::string& key) {
  if (key == "learning_rate") return "eta";
  if (key == "lambda") return "reg_lambda";
  if (key == "alpha") return "reg_alpha";
  return key;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_string(items[i]);
  return out + "]";
}

std::string features_json(const FeatureCliOptions& cli, const fs::path& dir, std::size_t columns,
                          bool synthetic) {
  const char* covariance = cli.covariance == CovarianceColumns::kFull            ? "full"
                           : cli.covariance == CovarianceColumns::kUpperTriangle ? "upper"
                                                                                 : "none";
  return fmt::format(
      R"({{"features_dir":{},"columns":{},"synthetic":{},"loader_options":{{"covariance":"{}",)"
      R"("basic":{},"include":{},"exclude":{},"drop_constant":{},"beats_summary":{},)"
      R"("non_finite":"{}","lenient":{},"missing":"{}"}}}})",
      json_string(dir.string()), columns, synthetic, covariance, cli.basic, json_list(cli.include),
      json_list(cli.exclude), cli.drop_constant, cli.beats_summary,
      cli.non_finite == NonFinitePolicy::kAccept ? "accept" : "reject", cli.lenient,
      cli.missing == MissingFilePolicy::kSkip ? "skip" : "error");
}

std::vector<std::string> relpaths_of(const Split& split) {
  std::vector<std::string> out;
  out.reserve(split.tracks.size());
  for (const Track& track : split.tracks) out.push_back(feature_relpath(track).string());
  return out;
}

std::vector<std::string> ids_of(const Split& split) {
  std::vector<std::string> out;
  out.reserve(split.tracks.size());
  for (const Track& track : split.tracks) out.push_back(track.track_id);
  return out;
}

LabelMatrix keep_rows(const LabelMatrix& labels, const std::vector<std::size_t>& kept) {
  if (kept.size() == static_cast<std::size_t>(labels.rows())) return labels;
  LabelMatrix out(static_cast<Eigen::Index>(kept.size()), labels.cols());
  for (std::size_t r = 0; r < kept.size(); ++r) {
    out.row(static_cast<Eigen::Index>(r)) = labels.row(static_cast<Eigen::Index>(kept[r]));
  }
  return out;
}

void note(const std::string& text) { std::fprintf(stderr, "%s\n", text.c_str()); }

void print_load_report(const char* what, const LoadedFeatures& loaded) {
  note(fmt::format("{}: {} rows x {} columns ({:.1f} s; cache {})", what, loaded.matrix.rows(),
                   loaded.matrix.cols(), loaded.report.seconds, to_string(loaded.report.cache)));
  if (loaded.report.files_missing > 0) {
    note(fmt::format("{}: {} feature files missing, rows skipped (--missing skip)", what,
                     loaded.report.files_missing));
  }
}

// The training data: the train and validation splits and their features. The test split is
// not a parameter: training cannot read it.
TrainingData load_training_data(const TrainCliOptions& options, const SplitFiles& splits,
                                const fs::path& tags_file, UnknownTagPolicy unknown_tags) {
  SplitFiles files;
  files.train = splits.train;
  files.validation = splits.validation;
  std::optional<fs::path> tags;
  if (!tags_file.empty()) tags = tags_file;
  const SplitSet set = moodboost::load_split_set(files, tags, unknown_tags);

  TrainingData data;
  data.tags = set.tags;
  FeatureOptions loader = to_feature_options(options.loader);
  ProgressLine progress("loading features", "files");
  loader.progress = progress.callback();
  const LoadedFeatures train =
      load_features(options.features, relpaths_of(set.train), ids_of(set.train), loader);
  progress.finish();
  print_load_report("train features", train);
  ProgressLine progress_valid("loading features", "files");
  loader.progress = progress_valid.callback();
  const LoadedFeatures valid = load_features(options.features, relpaths_of(set.validation),
                                             ids_of(set.validation), loader, &train.schema);
  progress_valid.finish();
  print_load_report("validation features", valid);

  data.train_x = train.matrix;
  data.train_y = keep_rows(set.labels(set.train), train.kept_rows);
  for (std::size_t row : train.kept_rows)
    data.train_groups.push_back(set.train.tracks[row].artist_id);
  data.validation_x = valid.matrix;
  data.validation_y = keep_rows(set.labels(set.validation), valid.kept_rows);
  data.schema_json = train.schema.to_json();
  data.synthetic = train.report.synthetic;
  data.features_json = features_json(options.loader, options.features,
                                     static_cast<std::size_t>(train.matrix.cols()), data.synthetic);
  data.splits.push_back({"train", splits.train, static_cast<std::size_t>(data.train_x.rows()),
                         fnv1a_hex(read_file(splits.train))});
  data.splits.push_back({"validation", splits.validation,
                         static_cast<std::size_t>(data.validation_x.rows()),
                         fnv1a_hex(read_file(splits.validation))});
  if (data.synthetic) {
    note(
        "note: these features are moodboost's synthetic data set (moodboost synth), not real "
        "AcousticBrainz features");
  }
  return data;
}

// "linear:reg_lambda" -> (linear, "reg_lambda"); anything else is a tree parameter.
std::pair<Family, std::string> param_target(const std::string& key) {
  constexpr std::string_view kLinear = "linear:";
  if (key.starts_with(kLinear)) return {Family::kLinear, key.substr(kLinear.size())};
  return {Family::kTree, key};
}

// Checks \p params with XGBoost's own parameter validation for \p family (a typo would
// silently change nothing).
void check_xgboost_params(const XgbParams& params, Family family, const char* prefix) {
  if (params.empty()) return;
  std::vector<std::string> unused;
  try {
    unused = unused_xgboost_params(params, family);
  } catch (const XgbError& e) {
    throw InvalidArgument(fmt::format("--param: XGBoost {} rejects the {} parameters: {}",
                                      xgboost_version(), to_string(family), e.what()));
  }
  for (auto& name : unused) name = prefix + name;
  if (!unused.empty()) {
    throw InvalidArgument(
        fmt::format("--param {}: XGBoost {} does not use {} with moodboost's {} boosters "
                    "(misspelt?{})",
                    fmt::join(unused, ", "), xgboost_version(), unused.size() == 1 ? "it" : "them",
                    to_string(family),
                    family == Family::kTree ? " a linear parameter takes the prefix linear:" : ""));
  }
}

// The training settings from the options; the held-out data (cv_folds) and the search
// portfolio, which depend on the data, are set by resolve_selection().
RunSettings run_settings(const TrainCliOptions& options, Device device,
                         const std::vector<std::string>& command_line) {
  RunSettings s;
  s.boost = default_boost_options();
  if (options.rounds > 0) s.boost.max_rounds = options.rounds;
  if (options.rounds < 0) throw InvalidArgument("--rounds must be positive");
  if (options.early_stopping >= 0) s.boost.early_stopping = options.early_stopping;
  if (!options.eval_metric.empty()) s.boost.eval_metric = options.eval_metric;
  s.boost.seed = options.seed;
  XgbParams tree_user, linear_user;
  for (const std::string& pair : options.params) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw InvalidArgument("--param '" + pair + "': expected KEY=VALUE or linear:KEY=VALUE");
    }
    const auto [family, raw_key] = param_target(pair.substr(0, eq));
    const std::string key = canonical_param(raw_key);
    if (key.empty()) throw InvalidArgument("--param '" + pair + "': the key is empty");
    if (key == "nthread" || key == "objective" || key == "booster") {
      throw InvalidArgument("--param " + key +
                            ": set by moodboost (use --threads and --family; every booster is "
                            "binary:logistic)");
    }
    (family == Family::kLinear ? linear_user : tree_user)[key] = pair.substr(eq + 1);
    (family == Family::kLinear ? s.tune.fixed_linear_params : s.tune.fixed_params).insert(key);
  }
  check_xgboost_params(tree_user, Family::kTree, "");
  check_xgboost_params(linear_user, Family::kLinear, "linear:");
  for (const auto& [key, value] : tree_user) s.boost.params[key] = value;
  for (const auto& [key, value] : linear_user) s.boost.linear_params[key] = value;
  if (!options.scale_pos_weight.empty()) {
    s.boost.scale_pos_weight = parse_scale_pos_weight(options.scale_pos_weight);
    s.tune.fixed_scale_pos_weight = true;
  }
  s.base_config.family = Family::kTree;
  s.base_config.scale_pos_weight = s.boost.scale_pos_weight;
  for (const char* key : {"max_depth", "eta", "min_child_weight", "subsample", "colsample_bytree",
                          "reg_lambda", "reg_alpha", "max_bin"}) {
    if (auto it = s.boost.params.find(key); it != s.boost.params.end()) {
      s.base_config.params[key] = it->second;
    }
  }
  s.linear_base_config.family = Family::kLinear;
  s.linear_base_config.scale_pos_weight = s.boost.scale_pos_weight;
  for (const char* key : {"reg_lambda", "reg_alpha"}) {
    if (auto it = s.boost.linear_params.find(key); it != s.boost.linear_params.end()) {
      s.linear_base_config.params[key] = it->second;
    }
  }
  if (options.family == "auto") {
    s.tune.families = {Family::kTree, Family::kLinear};
  } else {
    s.tune.families = {parse_family(options.family)};
  }
  if (options.trials < -1) throw InvalidArgument("--trials must be 0 or more");
  if (options.budget_minutes < 0) throw InvalidArgument("--budget-minutes must be 0 or more");
  s.tune.trials = std::max(options.trials, 0);
  s.tune.budget_seconds = options.budget_minutes * 60.0;
  s.tune.per_tag = options.tune_per_tag;
  s.tune.seed = options.seed;
  s.refit = parse_refit(options.refit);
  s.engine.device = device;
  s.engine.threads = options.loader.threads;
  s.engine.strategy = parse_thread_strategy(options.thread_strategy);
  s.command_line = command_line;
  s.restart = options.restart;
  return s;
}

// --cv as a fold count: "auto" is -1 (decided by the data), else 0 or K >= 2.
int parse_cv(const std::string& text) {
  if (text == "auto") return -1;
  int folds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), folds);
  if (ec != std::errc() || end != text.data() + text.size() || folds < 0 || folds == 1 ||
      folds > 100) {
    throw InvalidArgument("--cv '" + text +
                          "': expected auto, 0 (hold out the validation split) or a number of "
                          "folds from 2 to 100");
  }
  return folds;
}

// Held-out data and the search portfolio from the data: --cv auto cross-validates small
// training splits, and a run without --trials/--budget-minutes searches the small-data
// portfolio when it cross-validates. Says what it chose in one line.
void resolve_selection(RunSettings& s, const TrainCliOptions& options, std::size_t train_rows) {
  const int asked = parse_cv(options.cv);
  s.cv_folds = asked >= 0 ? asked : auto_cv_folds(train_rows);
  const bool search = s.tune.trials > 0 || s.tune.budget_seconds > 0;
  s.tune.portfolio = !search && options.trials != 0 && s.cv_folds > 0;
  const std::string heldout =
      s.cv_folds > 0 ? fmt::format(
                           "{}-fold cross-validation on the training split, folds grouped by "
                           "ARTIST_ID",
                           s.cv_folds)
                     : std::string("the validation split");
  const std::string why =
      asked >= 0 ? fmt::format("--cv {}", options.cv)
      : s.cv_folds > 0
          ? fmt::format("--cv auto: {} training rows <= {}", train_rows, kCrossValidateRows)
          : fmt::format("--cv auto: {} training rows > {}; --cv 5 to cross-validate", train_rows,
                        kCrossValidateRows);
  std::string families;
  for (Family f : s.tune.families) families += (families.empty() ? "" : " and ") + to_string(f);
  const std::string search_text =
      search ? std::string("successive halving (--trials/--budget-minutes)")
      : s.tune.portfolio
          ? std::string("the small-data portfolio (4 tree and 6 linear configurations)")
          : std::string("none (the base configurations)");
  note(fmt::format(
      "selection: held out on {} ({}); search: {}; families: {}{}", heldout, why, search_text,
      families, s.tune.families.size() > 1 ? ", each tag keeps trees, linear or their blend" : ""));
}

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
      fmt::print("{} settings: {} ({})\n", to_string(family), settings.empty() ? "defaults" : settings,
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
      ->add_option("--param", o.params,
                   "KEY=VALUE: any XGBoost parameter of the trees, fixed (repeatable), e.g. "
                   "max_depth=6; linear:KEY=VALUE for the linear family (gblinear), e.g. "
                   "linear:reg_lambda=0.3")
      ->allow_extra_args(false);
  boost->add_option("--rounds", o.rounds,
                    fmt::format("Most boosting rounds per tag at eta >= 0.1, times 0.1/eta below "
                                "(default {})",
                                defaults.max_rounds));
  boost->add_option("--early-stopping", o.early_stopping,
                    fmt::format("Stop a tag after N rounds without held-out improvement (times "
                                "0.1/eta for eta < 0.1); 0 = off (default {})",
                                defaults.early_stopping));
  boost->add_option("--eval-metric", o.eval_metric,
                    fmt::format("Validation metric for early stopping: any XGBoost eval_metric, "
                                "or ap for the exact average precision (default {})",
                                defaults.eval_metric));
  boost
      ->add_option("--scale-pos-weight", o.scale_pos_weight,
                   fmt::format("Positive weight per tag: none, sqrt (sqrt(neg/pos)) or ratio "
                               "(neg/pos); fixes it in the search (default {})",
                               to_string(defaults.scale_pos_weight)))
      ->check(CLI::IsMember({"none", "sqrt", "ratio"}));
  boost->add_option("--seed", o.seed, "Seed of XGBoost's sampling and of the search")
      ->capture_default_str();
  auto* tuning = app.add_option_group(
      "Search",
      "Tuning on held-out data: the validation split or cross-validation folds of the "
      "training split (never the test split)");
  tuning
      ->add_option("--cv", o.cv,
                   fmt::format("Held-out data for the search, the rounds and the family: auto "
                               "({}-fold cross-validation grouped by ARTIST_ID when the training "
                               "split has at most {} rows, else the validation split), 0 (the "
                               "validation split) or K folds",
                               kAutoFolds, kCrossValidateRows))
      ->capture_default_str();
  tuning
      ->add_option("--family", o.family,
                   "auto (trees and a linear model, each tag keeps trees, linear or their blend "
                   "by held-out PR-AUC), tree or linear")
      ->check(CLI::IsMember({"auto", "tree", "linear"}))
      ->capture_default_str();
  auto* trials = tuning->add_option(
      "--trials", o.trials,
      "Random tree configurations in the first successive-halving stage, on top of the "
      "portfolio; 0 = no search at all (default: none, but the small-data portfolio when "
      "cross-validating)");
  auto* budget = tuning->add_option(
      "--budget-minutes", o.budget_minutes,
      "Wall-time budget of the search and the final training (the search takes at most half; the "
      "winner must fit the rest); sizes the search when --trials is "
      "not given, caps it when it is");
  (void)trials;
  (void)budget;
  tuning->add_flag("--tune-per-tag", o.tune_per_tag,
                   "Each tag keeps the best of the search's finalists (default: one setting for "
                   "all tags)");
  app.add_option("--refit", o.refit,
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
      ->add_option("--thread-strategy", o.thread_strategy,
                   "auto, per-tag (one tag at a time, all threads) or tags-in-parallel (one tag "
                   "per thread)")
      ->check(CLI::IsMember({"auto", "per-tag", "tags-in-parallel"}))
      ->capture_default_str();
  app.add_flag("--restart", o.restart,
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
  // Bad options fail before any work.
  RunSettings settings = run_settings(options, device.device, command_line);
  (void)parse_cv(options.cv);
  if (splits.train.empty() || splits.validation.empty()) {
    throw InvalidArgument("training needs a train and a validation split");
  }

  const TrainingData data = load_training_data(options, splits, tags_file, unknown_tags);
  resolve_selection(settings, options, static_cast<std::size_t>(data.train_x.rows()));

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
  const FeatureSchema schema =
      FeatureSchema::from_json(model.schema_json(), model_dir / "schema.json");
  const Split split = read_split(split_file);
  // The labels first: a tag outside the model's vocabulary fails before any file is written.
  const LabelMatrix truth =
      evaluate_split ? label_matrix(split, model.tags(), unknown_tags) : LabelMatrix();

  FeatureOptions loader = to_feature_options(loader_cli);
  // Prediction needs a score for every row of the split (the submission format).
  loader.missing_files = MissingFilePolicy::kError;
  ProgressLine progress("loading features", "files");
  loader.progress = progress.callback();
  const LoadedFeatures loaded =
      load_features(features, relpaths_of(split), ids_of(split), loader, &schema);
  progress.finish();
  print_load_report("features", loaded);

  const ScoreMatrix scores = model.predict(loaded.matrix);
  const LabelMatrix decisions = model.decide(scores);
  write_score_matrix(out_dir / "predictions.npy", scores);
  write_label_matrix(out_dir / "decisions.npy", decisions);
  note(fmt::format(
      "predictions.npy and decisions.npy ({} tracks x {} tags, {} models) written to {}",
      scores.rows(), scores.cols(), model.uses_refit() ? "refit" : "train-only", out_dir.string()));
  // Reports read "synthetic" from results.json to label numbers from moodboost's synthetic set.
  const bool synthetic = model.synthetic_features() || loaded.report.synthetic;
  std::vector<std::string> tag_models;
  for (std::size_t t = 0; t < model.tags().size(); ++t) {
    tag_models.push_back(fmt::format("{}: {}", json_string(model.tags()[t]),
                                     json_string(to_string(model.tag_models()[t]))));
  }
  const auto provenance = fmt::format(
      "\n  \"synthetic\": {},\n  \"model_dir\": {},\n  \"split\": {},\n  \"tag_models\": {{{}}},",
      synthetic, json_string(fs::absolute(model_dir).string()),
      json_string(fs::absolute(split_file).string()), fmt::join(tag_models, ", "));
  if (!evaluate_split) {
    write_file_atomic(out_dir / "results.json",
                      "{" + provenance.substr(0, provenance.size() - 1) + "\n}\n");
    return kExitOk;
  }

  EvaluateOptions eval_options;
  eval_options.single_class_tags = SingleClassTagPolicy::Exclude;
  eval_options.tag_names = model.tags();
  const Evaluation evaluation = evaluate(truth, scores, decisions, eval_options);
  write_file_atomic(out_dir / "results.tsv", format_results_file(evaluation));
  std::string results_json = format_results_json(evaluation, model.tags());
  results_json.insert(results_json.find('{') + 1, provenance);
  write_file_atomic(out_dir / "results.json", results_json);
  fmt::print("{}", format_results_display(evaluation));
  if (!evaluation.excluded_tags.empty()) {
    note(fmt::format("note: {} tags without both classes in {} are left out of the macro AUCs",
                     evaluation.excluded_tags.size(), split_file.string()));
  }
  return kExitOk;
}

}  // namespace moodboost::app
