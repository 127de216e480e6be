#include "moodboost/pipeline.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "detail/fnv1a.hpp"
#include "moodboost/error.hpp"
#include "moodboost/io.hpp"
#include "moodboost/npy.hpp"
#include "moodboost/version.hpp"

namespace moodboost {
namespace fs = std::filesystem;

namespace {

// XGBoost's aliases, so that a fixed --param learning_rate=0.05 also fixes the searched "eta".
std::string canonical_param(const std::string& key) {
  if (key == "learning_rate") return "eta";
  if (key == "lambda") return "reg_lambda";
  if (key == "alpha") return "reg_alpha";
  return key;
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

// The largest --budget-minutes: a year. More is a typo (or inf), not a budget.
constexpr double kMaxBudgetMinutes = 525600;

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

LabelMatrix keep_rows(const LabelMatrix& labels, const std::vector<std::size_t>& kept) {
  if (kept.size() == static_cast<std::size_t>(labels.rows())) return labels;
  LabelMatrix out(static_cast<Eigen::Index>(kept.size()), labels.cols());
  for (std::size_t r = 0; r < kept.size(); ++r) {
    out.row(static_cast<Eigen::Index>(r)) = labels.row(static_cast<Eigen::Index>(kept[r]));
  }
  return out;
}

// One feature load with the hooks around it.
LoadedFeatures load_with_hooks(std::string_view what, const fs::path& features, const Split& split,
                               FeatureOptions options, const FeatureSchema* schema,
                               const LoadHooks& hooks) {
  if (hooks.begin) hooks.begin(what);
  options.progress = hooks.progress;
  LoadedFeatures loaded =
      load_features(features, feature_relpaths(split), track_ids(split), options, schema);
  if (hooks.end) hooks.end(what, loaded);
  return loaded;
}

}  // namespace

FeatureOptions training_feature_options() {
  FeatureOptions o;
  o.covariance = CovarianceColumns::kUpperTriangle;
  o.drop_constant = true;
  return o;
}

RunSettings make_run_settings(const TrainOptions& options, Device device,
                              std::vector<std::string> command_line) {
  RunSettings s;
  s.boost = default_boost_options();
  if (options.rounds) {
    if (*options.rounds < 1) {
      throw InvalidArgument(fmt::format("--rounds {}: expected at least 1", *options.rounds));
    }
    s.boost.max_rounds = *options.rounds;
  }
  if (options.early_stopping) {
    if (*options.early_stopping < 0) {
      throw InvalidArgument(
          fmt::format("--early-stopping {}: expected 0 (off) or more", *options.early_stopping));
    }
    s.boost.early_stopping = *options.early_stopping;
  }
  if (options.eval_metric) {
    check_eval_metric(*options.eval_metric);
    s.boost.eval_metric = *options.eval_metric;
  }
  // XGBoost reads its seed as a signed 64-bit integer.
  if (options.seed > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    throw InvalidArgument(fmt::format("--seed {}: expected at most {}", options.seed,
                                      std::numeric_limits<std::int64_t>::max()));
  }
  if (options.threads < 0) {
    throw InvalidArgument(
        fmt::format("--threads {}: expected 0 (every core) or more", options.threads));
  }
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
  if (options.trials && *options.trials < 0) {
    throw InvalidArgument(
        fmt::format("--trials {}: expected 0 (no search) or more", *options.trials));
  }
  if (!std::isfinite(options.budget_minutes) || options.budget_minutes < 0 ||
      options.budget_minutes > kMaxBudgetMinutes) {
    throw InvalidArgument(fmt::format("--budget-minutes {}: expected a finite number from 0 to {}",
                                      options.budget_minutes, kMaxBudgetMinutes));
  }
  const int cv = parse_cv(options.cv);
  if (options.memory_limit > 0) {
    // Refused whatever the matrix's size, so that no run learns late that it cannot do this.
    if (options.memory_limit < kMinMemoryLimit) {
      throw InvalidArgument(fmt::format("--memory-limit {}: expected at least {} bytes (1M)",
                                        options.memory_limit, kMinMemoryLimit));
    }
    if (cv >= 2) {
      throw InvalidArgument(fmt::format(
          "--cv {} with --memory-limit: out-of-core training holds out the validation split "
          "(XGBoost {} cannot slice an external-memory matrix into folds); use --cv 0 or auto",
          options.cv, xgboost_version()));
    }
    if (options.family == "linear") {
      throw InvalidArgument(
          "--family linear with --memory-limit: out-of-core training trains the tree family "
          "only (the linear family needs the standardised matrix in memory); use --family tree "
          "or auto");
    }
    if (device != Device::kCpu) {
      throw InvalidArgument("--memory-limit trains on the CPU: use --device cpu");
    }
  }
  s.memory_limit = options.memory_limit;
  s.tune.trials = options.trials.value_or(0);
  s.tune.budget_seconds = options.budget_minutes * 60.0;
  s.tune.per_tag = options.tune_per_tag;
  s.tune.seed = options.seed;
  s.refit = parse_refit(options.refit);
  s.engine.device = device;
  s.engine.threads = options.threads;
  s.engine.strategy = parse_thread_strategy(options.thread_strategy);
  s.command_line = std::move(command_line);
  s.restart = options.restart;
  return s;
}

std::string resolve_selection(RunSettings& s, const TrainOptions& options, std::size_t train_rows,
                              bool out_of_core) {
  const int asked = parse_cv(options.cv);
  s.cv_folds = out_of_core ? 0 : asked >= 0 ? asked : auto_cv_folds(train_rows);
  if (out_of_core) s.tune.families = {Family::kTree};
  const bool search = s.tune.trials > 0 || s.tune.budget_seconds > 0;
  s.tune.portfolio = !search && options.trials.value_or(-1) != 0 && s.cv_folds > 0;
  const std::string heldout =
      s.cv_folds > 0 ? fmt::format(
                           "{}-fold cross-validation on the training split, folds grouped by "
                           "ARTIST_ID",
                           s.cv_folds)
                     : std::string("the validation split");
  const std::string why =
      out_of_core ? std::string(
                        "out of core: XGBoost cannot slice an external-memory matrix into "
                        "folds")
      : asked >= 0 ? fmt::format("--cv {}", options.cv)
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
  return fmt::format(
      "selection: held out on {} ({}); search: {}; families: {}{}", heldout, why, search_text,
      families,
      s.tune.families.size() > 1 ? ", each tag keeps trees, linear or their blend"
      : out_of_core && options.family != "tree"
          ? " (out of core: the linear family needs the standardised matrix in memory)"
          : "");
}

TrainingData load_training_data(const TrainingInputs& inputs, const LoadHooks& hooks) {
  if (inputs.splits.train.empty() || inputs.splits.validation.empty()) {
    throw InvalidArgument("training needs a train and a validation split");
  }
  // The test split is not read: training cannot see it.
  SplitFiles files;
  files.train = inputs.splits.train;
  files.validation = inputs.splits.validation;
  const SplitSet set = load_split_set(files, inputs.tags, inputs.unknown_tags);

  TrainingData data;
  data.tags = set.tags;
  LoadedFeatures train;
  if (inputs.memory_limit > 0) {
    // The matrix stays in the cache unless it fits the limit (then the load below is a hit).
    if (hooks.begin) hooks.begin("train features");
    FeatureOptions options = inputs.loader;
    options.progress = hooks.progress;
    DiskFeatures disk = load_features_on_disk(inputs.features, feature_relpaths(set.train),
                                              track_ids(set.train), options);
    const std::uint64_t need = in_memory_training_bytes(disk.matrix->rows(), disk.matrix->cols());
    if (need > inputs.memory_limit) {
      data.train_source = std::move(disk.matrix);
      train.matrix.resize(0, static_cast<Eigen::Index>(data.train_source->cols()));
    } else {
      train.matrix = load_features(inputs.features, feature_relpaths(set.train),
                                   track_ids(set.train), options, nullptr)
                         .matrix;
    }
    train.schema = std::move(disk.schema);
    train.row_ids = std::move(disk.row_ids);
    train.kept_rows = std::move(disk.kept_rows);
    train.report = std::move(disk.report);
    if (hooks.end) hooks.end("train features", train);
  } else {
    train = load_with_hooks("train features", inputs.features, set.train, inputs.loader, nullptr,
                            hooks);
  }
  const LoadedFeatures valid = load_with_hooks("validation features", inputs.features,
                                               set.validation, inputs.loader, &train.schema, hooks);
  data.train_x = std::move(train.matrix);
  data.train_y = keep_rows(set.labels(set.train), train.kept_rows);
  for (std::size_t row : train.kept_rows) {
    data.train_groups.push_back(set.train.tracks[row].artist_id);
  }
  data.validation_x = valid.matrix;
  data.validation_y = keep_rows(set.labels(set.validation), valid.kept_rows);
  data.schema = train.schema;
  data.features.features_dir = inputs.features;
  data.features.columns = data.train_cols();
  data.features.synthetic = train.report.synthetic;
  data.features.options = inputs.loader;
  data.features.options.threads = 0;
  data.features.options.cache_dir.clear();
  data.features.options.progress = nullptr;
  data.splits.push_back(
      {"train", files.train, data.train_rows(), detail::fnv1a_hex(read_file(files.train))});
  data.splits.push_back({"validation", files.validation,
                         static_cast<std::size_t>(data.validation_x.rows()),
                         detail::fnv1a_hex(read_file(files.validation))});
  return data;
}

SplitPrediction predict_split(const LoadedModel& model, const fs::path& model_dir,
                              const fs::path& features, const fs::path& split_file,
                              const FeatureOptions& loader, bool evaluate,
                              UnknownTagPolicy unknown_tags, const LoadHooks& hooks) {
  const Split split = read_split(split_file);
  // The labels first: a tag outside the model's vocabulary fails before any work.
  const LabelMatrix truth =
      evaluate ? label_matrix(split, model.tags(), unknown_tags) : LabelMatrix();
  FeatureOptions options = loader;
  // Prediction needs a score for every row of the split (the submission format).
  options.missing_files = MissingFilePolicy::kError;
  const LoadedFeatures loaded =
      load_with_hooks("features", features, split, options, &model.schema(), hooks);

  SplitPrediction out;
  out.scores = model.predict(loaded.matrix);
  out.decisions = model.decide(out.scores);
  out.track_ids = loaded.row_ids;
  out.report = loaded.report;
  // Reports read "synthetic" from results.json to label numbers from moodboost's synthetic set.
  out.provenance.synthetic = model.synthetic_features() || loaded.report.synthetic;
  out.provenance.model_dir = fs::absolute(model_dir);
  out.provenance.split = fs::absolute(split_file);
  for (std::size_t t = 0; t < model.tags().size(); ++t) {
    out.provenance.tag_models.emplace_back(model.tags()[t], to_string(model.tag_models()[t]));
  }
  if (evaluate) {
    EvaluateOptions eval_options;
    eval_options.single_class_tags = SingleClassTagPolicy::kExclude;
    eval_options.tag_names = model.tags();
    out.evaluation = moodboost::evaluate(truth, out.scores, out.decisions, eval_options);
    for (std::size_t t : out.evaluation->excluded_tags)
      out.excluded_tags.push_back(model.tags()[t]);
  }
  return out;
}

std::vector<fs::path> write_split_prediction(const SplitPrediction& prediction,
                                             const std::vector<std::string>& tags,
                                             const fs::path& out_dir) {
  std::vector<fs::path> written{out_dir / "predictions.npy", out_dir / "decisions.npy"};
  write_score_matrix(written[0], prediction.scores);
  write_label_matrix(written[1], prediction.decisions);
  if (prediction.evaluation) {
    written.push_back(out_dir / "results.tsv");
    write_file_atomic(written.back(), format_results_file(*prediction.evaluation));
  }
  written.push_back(out_dir / "results.json");
  write_file_atomic(
      written.back(),
      format_results_json(prediction.provenance,
                          prediction.evaluation ? &*prediction.evaluation : nullptr, tags));
  return written;
}

NaiveBaseline popular_baseline(const LabelMatrix& train_labels,
                               const std::vector<std::string>& tags, std::size_t test_rows) {
  const auto rows = static_cast<Eigen::Index>(test_rows);
  const Eigen::VectorXd counts = train_labels.cast<double>().colwise().sum().transpose();
  NaiveBaseline out;
  out.decisions = LabelMatrix::Zero(rows, train_labels.cols());
  // The most frequent training tag; the first in vocabulary order on a tie (as numpy.argmax).
  Eigen::Index best = 0;
  counts.maxCoeff(&best);
  out.decisions.col(best).setOnes();
  out.predictions = out.decisions.cast<double>();
  out.description = fmt::format(
      "popular baseline: {} ({} of {} training tracks) for all {} test tracks",
      best < static_cast<Eigen::Index>(tags.size()) ? tags[static_cast<std::size_t>(best)]
                                                    : std::to_string(best),
      counts(best), train_labels.rows(), rows);
  return out;
}

NaiveBaseline random_baseline(const LabelMatrix& train_labels, std::size_t test_rows) {
  const auto rows = static_cast<Eigen::Index>(test_rows);
  const Eigen::VectorXd counts = train_labels.cast<double>().colwise().sum().transpose();
  NaiveBaseline out;
  // Every test track gets the training-split tag frequencies; no tag is decided.
  const Eigen::RowVectorXd frequencies =
      counts.transpose() / static_cast<double>(train_labels.rows());
  out.predictions = ScoreMatrix(rows, train_labels.cols());
  out.predictions.rowwise() = frequencies;
  out.decisions = LabelMatrix::Zero(rows, train_labels.cols());
  out.description = fmt::format(
      "random baseline: training tag frequencies ({} tracks) as scores for all {} test tracks, "
      "no decisions",
      train_labels.rows(), rows);
  return out;
}

}  // namespace moodboost
