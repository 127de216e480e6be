#include "moodboost/model.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>

#include "detail/enum_names.hpp"
#include "detail/fnv1a.hpp"
#include "detail/labels.hpp"
#include "detail/model_dir.hpp"
#include "moodboost/folds.hpp"
#include "moodboost/io.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/metrics_format.hpp"
#include "moodboost/version.hpp"

namespace moodboost {
namespace fs = std::filesystem;
using namespace detail;

namespace detail {

// Fits the validation metrics and the threshold of \p r from \p scores (its model's validation
// predictions).
void score_on_validation(TagRecord& r, const LabelMatrix& validation_y,
                         const std::vector<double>& scores) {
  const std::vector<std::uint8_t> labels = label_column(validation_y, r.index);
  r.validation_positives =
      static_cast<std::size_t>(std::count(labels.begin(), labels.end(), std::uint8_t{1}));
  const bool both = r.validation_positives > 0 &&
                    r.validation_positives < static_cast<std::size_t>(labels.size());
  if (!both || scores.size() != labels.size()) {
    // Documented policy: ranking metrics are undefined; decisions fall back to score > 0.5.
    r.validation_roc_auc = r.validation_pr_auc = std::numeric_limits<double>::quiet_NaN();
    r.threshold = 0.5;
    return;
  }
  r.validation_roc_auc = roc_auc(scores, labels);
  r.validation_pr_auc = average_precision(scores, labels);
  // The reference decision script's rule (metrics module): F1-optimal, decisions score > t.
  r.threshold = best_f1_threshold(scores, labels);
}

}  // namespace detail

namespace {

// ---- finishing a tag ---------------------------------------------------------------------------

ComponentRecord component_of(const TagFit& fit, const TuneConfig& config) {
  ComponentRecord c = component_record(fit, fit.family, config, fit.column, fit.tag);
  c.heldout_pr_auc = fit.heldout_pr_auc;
  return c;
}

// A tag's record from its fits (one per family in play, in the run's family order): which
// model it uses (blend.hpp's rule when both families were trained), its components, its
// validation results and threshold.
TagRecord finish_tag(const std::vector<TagFit>& fits, const TagConfigs& configs,
                     const TrainingData& data, std::uint64_t seed) {
  const TagFit& first = fits.front();
  TagRecord r;
  r.index = first.column;
  r.tag = first.tag;
  r.folds = first.folds;
  r.positives = first.positives;
  const TagFit* tree = nullptr;
  const TagFit* linear = nullptr;
  for (const TagFit& fit : fits) {
    (fit.family == Family::kTree ? tree : linear) = &fit;
    r.seconds += fit.seconds;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (tree != nullptr && linear != nullptr) {
    const std::vector<std::uint8_t> labels =
        label_column(first.folds > 0 ? data.train_y : data.validation_y, first.column);
    r.choice = choose_tag_model(tree->heldout_scores, linear->heldout_scores, labels, 200,
                                seed ^ (0xb1e4dull + first.column));
  } else {
    r.choice.model = tree != nullptr ? TagModel::kTree : TagModel::kLinear;
    r.choice.tree_pr_auc = tree != nullptr ? tree->heldout_pr_auc : nan;
    r.choice.linear_pr_auc = linear != nullptr ? linear->heldout_pr_auc : nan;
    r.choice.blend_pr_auc = r.choice.tree_se = r.choice.linear_se = nan;
    r.choice.tree_wins = r.choice.linear_wins = nan;
    r.choice.reason = to_string(r.choice.model) + ": the only family trained";
  }
  r.model = r.choice.model;
  auto config_of = [&](Family family) -> const TuneConfig& {
    return *std::find_if(configs.begin(), configs.end(),
                         [&](const TuneConfig& c) { return c.family == family; });
  };
  std::vector<double> scores;
  switch (r.model) {
    case TagModel::kTree:
      r.components.push_back(component_of(*tree, config_of(Family::kTree)));
      r.heldout_pr_auc = tree->heldout_pr_auc;
      scores = tree->validation_scores;
      break;
    case TagModel::kLinear:
      r.components.push_back(component_of(*linear, config_of(Family::kLinear)));
      r.heldout_pr_auc = linear->heldout_pr_auc;
      scores = linear->validation_scores;
      break;
    case TagModel::kBlend:
      r.components.push_back(component_of(*tree, config_of(Family::kTree)));
      r.components.push_back(component_of(*linear, config_of(Family::kLinear)));
      for (ComponentRecord& c : r.components) c.weight = kBlendWeight;
      r.heldout_pr_auc = r.choice.blend_pr_auc;
      scores = blend_scores(tree->validation_scores, linear->validation_scores);
      break;
  }
  score_on_validation(r, data.validation_y, scores);
  return r;
}

LabelMatrix stack(const LabelMatrix& a, const LabelMatrix& b) {
  LabelMatrix out(a.rows() + b.rows(), a.cols());
  out << a, b;
  return out;
}

FeatureMatrix stack(const FeatureMatrix& a, const FeatureMatrix& b) {
  FeatureMatrix out(a.rows() + b.rows(), a.cols());
  out << a, b;
  return out;
}

// The rows of an out-of-core matrix followed by those of an in-memory one (the out-of-core
// refit on train + validation), without copying either.
class StackedRows final : public RowBatchSource {
 public:
  StackedRows(const RowBatchSource& top, const FeatureMatrix& bottom)
      : top_(top), bottom_(bottom) {}
  [[nodiscard]] std::size_t rows() const override {
    return top_.rows() + static_cast<std::size_t>(bottom_.rows());
  }
  [[nodiscard]] std::size_t cols() const override { return top_.cols(); }
  void read_rows(std::size_t first, std::size_t count, float* out) const override {
    if (first > rows() || count > rows() - first) {
      throw InvalidArgument("rows [" + std::to_string(first) + ", " +
                            std::to_string(first + count) + ") are out of range (" +
                            std::to_string(rows()) + " rows)");
    }
    const std::size_t from_top = first < top_.rows() ? std::min(count, top_.rows() - first) : 0;
    if (from_top > 0) top_.read_rows(first, from_top, out);
    const std::size_t rest = count - from_top;
    if (rest > 0) {
      const std::size_t row = first + from_top - top_.rows();
      std::memcpy(out + from_top * cols(), bottom_.data() + row * cols(),
                  rest * cols() * sizeof(float));
    }
  }

 private:
  const RowBatchSource& top_;
  const FeatureMatrix& bottom_;
};

// Removes a directory (XGBoost's external-memory pages) on every way out.
struct RemoveDirGuard {
  fs::path dir;
  RemoveDirGuard() = default;
  RemoveDirGuard(const RemoveDirGuard&) = delete;
  RemoveDirGuard& operator=(const RemoveDirGuard&) = delete;
  ~RemoveDirGuard() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

}  // namespace

std::size_t TrainingData::train_rows() const {
  return train_source ? train_source->rows() : static_cast<std::size_t>(train_x.rows());
}

std::size_t TrainingData::train_cols() const {
  return train_source ? train_source->cols() : static_cast<std::size_t>(train_x.cols());
}

std::uint64_t in_memory_training_bytes(std::size_t rows, std::size_t cols) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  if (rows == 0 || cols == 0) return 0;
  if (rows > kMax / cols || rows * cols > kMax / kInMemoryBytesPerCell) return kMax;
  return static_cast<std::uint64_t>(rows) * cols * kInMemoryBytesPerCell;
}

std::size_t out_of_core_batch_rows(std::uint64_t memory_limit, std::size_t cols) {
  const std::uint64_t row_bytes = std::max<std::uint64_t>(1, cols) * sizeof(float);
  return static_cast<std::size_t>(std::max<std::uint64_t>(1, memory_limit / 32 / row_bytes));
}

int refit_rounds(int best_rounds, std::size_t train_rows, std::size_t validation_rows) {
  if (train_rows == 0) return std::max(1, best_rounds);
  const double scaled = static_cast<double>(best_rounds) *
                        static_cast<double>(train_rows + validation_rows) /
                        static_cast<double>(train_rows);
  return std::max(1, static_cast<int>(std::lround(scaled)));
}

int auto_cv_folds(std::size_t train_rows) {
  return train_rows <= kCrossValidateRows ? kAutoFolds : 0;
}

namespace {
constexpr detail::EnumName<Refit> kRefitNames[] = {{Refit::kNone, "none"},
                                                   {Refit::kTrainValidation, "train+validation"}};
constexpr detail::EnumName<ModelChoice> kModelChoiceNames[] = {{ModelChoice::kDefault, "default"},
                                                               {ModelChoice::kTrain, "train"},
                                                               {ModelChoice::kRefit, "refit"}};
}  // namespace

Refit parse_refit(std::string_view text) { return detail::parse_name(kRefitNames, text, "refit"); }
std::string to_string(Refit refit) { return detail::name_of(kRefitNames, refit); }
ModelChoice parse_model_choice(std::string_view text) {
  return detail::parse_name(kModelChoiceNames, text, "models");
}

const ComponentRecord* TagRecord::component(Family family) const {
  for (const ComponentRecord& c : components) {
    if (c.family == family) return &c;
  }
  return nullptr;
}

std::vector<TagRecord> train_model_dir(const TrainingData& data, const RunSettings& settings,
                                       const fs::path& dir, const RunHooks& hooks) {
  const auto tag_count = static_cast<Eigen::Index>(data.tags.size());
  const bool out_of_core = data.train_source != nullptr;
  if (data.train_y.cols() != tag_count || data.validation_y.cols() != tag_count ||
      static_cast<std::size_t>(data.train_y.rows()) != data.train_rows() ||
      data.validation_y.rows() != data.validation_x.rows() ||
      (out_of_core && data.train_x.size() != 0)) {
    throw InvalidArgument(
        "training data shapes disagree: train " + std::to_string(data.train_rows()) + "x" +
        std::to_string(data.train_cols()) + " features, " + std::to_string(data.train_y.rows()) +
        "x" + std::to_string(data.train_y.cols()) + " labels; validation " +
        std::to_string(data.validation_x.rows()) + " rows, " +
        std::to_string(data.validation_y.rows()) + " label rows; " +
        std::to_string(data.tags.size()) + " tags");
  }
  if (settings.tune.families.empty()) throw InvalidArgument("no model family to train");
  if (settings.cv_folds > 0 && data.train_groups.size() != data.train_rows()) {
    throw InvalidArgument("cross-validation needs the ARTIST_ID of every training row (" +
                          std::to_string(data.train_groups.size()) + " for " +
                          std::to_string(data.train_rows()) + " rows)");
  }
  if (out_of_core && (settings.cv_folds > 0 || settings.tune.families.size() != 1 ||
                      settings.tune.families.front() != Family::kTree)) {
    throw InvalidArgument(
        "out-of-core training holds out the validation split and trains the tree family only "
        "(XGBoost " +
        xgboost_version() +
        " cannot slice an external-memory matrix into folds; the linear family needs the "
        "standardised matrix in memory)");
  }
  if (out_of_core && settings.memory_limit == 0) {
    throw InvalidArgument("out-of-core training needs a memory limit to size its batches");
  }
  // Before the run directory is claimed (run.json): XGBoost would refuse them mid-run.
  if (out_of_core) {
    check_no_infinity(*data.train_source, &data.validation_x,
                      out_of_core_batch_rows(settings.memory_limit, data.train_cols()));
  } else {
    check_no_infinity(data.train_x, &data.validation_x);
  }
  auto say = [&](const std::string& text) {
    if (hooks.message) hooks.message(text);
  };

  std::map<std::string, std::string> entries = run_arguments(settings);
  entries.merge(data_fingerprint(data));
  const std::string fingerprint = fingerprint_of(entries);
  // The folds before anything is written: too few artists for the folds is an argument error.
  std::vector<int> folds;
  if (settings.cv_folds > 0) {
    folds = grouped_stratified_folds(data.train_y, data.train_groups, settings.cv_folds,
                                     settings.tune.seed);
  }
  const RunLock run_lock(dir);
  check_or_claim_dir(dir, entries, settings.restart, hooks);
  remove_stale_temporaries(dir);

  // Out of core: XGBoost's pages go to a temporary directory in the model directory (the same
  // disk as the output, not a RAM-backed /tmp), removed on every way out.
  RemoveDirGuard pages;
  ExternalMemoryOptions external;
  if (out_of_core) {
    pages.dir = dir / (".external-memory.tmp-" + std::to_string(::getpid()));
    external.cache_dir = pages.dir;
    external.batch_rows = out_of_core_batch_rows(settings.memory_limit, data.train_cols());
  }
  const std::unique_ptr<Trainer> trainer_owner =
      out_of_core
          ? std::make_unique<Trainer>(*data.train_source, &data.validation_x, settings.engine,
                                      external)
          : std::make_unique<Trainer>(data.train_x, &data.validation_x, settings.engine, folds);
  Trainer& trainer = *trainer_owner;

  // 1. The search (reused from tuning.json when an earlier run finished it).
  std::vector<TuneConfig> bases{settings.base_config, settings.linear_base_config};
  bases[0].family = Family::kTree;
  bases[1].family = Family::kLinear;
  TuneResult tuning;
  if (auto done = read_tuning(dir / kTuningFile, fingerprint)) {
    tuning = *done;
    say("search: reusing the finished search in " + (dir / kTuningFile).string());
  } else {
    std::vector<Trial> logged = read_trials(dir / kTrialsFile);
    if (!logged.empty()) say("search: reusing " + std::to_string(logged.size()) + " logged trials");
    std::vector<Trial> log;
    std::mutex log_mutex;
    TuneHooks tune_hooks;
    tune_hooks.fit = hooks.fit;
    tune_hooks.find_done = [&](const Trial& planned) -> std::optional<Trial> {
      for (const Trial& t : logged) {
        if (t.id == planned.id && t.stage == planned.stage && t.tags == planned.tags &&
            t.max_rounds == planned.max_rounds && t.config.key() == planned.config.key()) {
          std::lock_guard lock(log_mutex);
          log.push_back(t);
          write_file_atomic(dir / kTrialsFile, trials_tsv(log));
          return t;
        }
      }
      return std::nullopt;
    };
    tune_hooks.on_trial = [&](const Trial& trial) {
      std::lock_guard lock(log_mutex);
      log.push_back(trial);
      write_file_atomic(dir / kTrialsFile, trials_tsv(log));
      if (hooks.trial_done) hooks.trial_done(trial);
    };
    tuning = tune(trainer, data.train_y, data.validation_y, data.tags, settings.boost, bases,
                  settings.tune, tune_hooks);
    tuning.trials = log;
    write_tuning(dir / kTuningFile, fingerprint, tuning);
  }
  if (tuning.families.size() != settings.tune.families.size()) {
    throw DataError((dir / kTuningFile).string() + ": holds " +
                    std::to_string(tuning.families.size()) + " families, the run " +
                    std::to_string(settings.tune.families.size()));
  }
  auto configs_of = [&](std::size_t index) {
    TagConfigs configs;
    for (const FamilyChoice& choice : tuning.families) configs.push_back(choice.config(index));
    return configs;
  };

  // 2. Every family in play for every tag on the training split (its rounds from the held-out
  // data), then the tag's model; finished tags of an earlier run are kept.
  const std::size_t families = tuning.families.size();
  std::vector<std::optional<TagRecord>> records(data.tags.size());
  std::vector<TagJob> jobs;
  for (std::size_t i = 0; i < data.tags.size(); ++i) {
    const TagConfigs configs = configs_of(i);
    records[i] = load_train_record(dir, i, data.tags[i], fingerprint, configs);
    if (records[i]) continue;
    for (const TuneConfig& config : configs) {
      TagJob job;
      job.column = i;
      job.tag = data.tags[i];
      job.family = config.family;
      job.params = config.params;
      job.scale_pos_weight = config.scale_pos_weight;
      jobs.push_back(std::move(job));
    }
  }
  std::size_t done = data.tags.size() - jobs.size() / families;
  if (done > 0) {
    say("resuming: " + std::to_string(done) + " of " + std::to_string(data.tags.size()) +
        " tags already trained in " + dir.string());
  }
  std::map<std::size_t, std::vector<TagFit>> pending;  // fits of tags not complete yet
  FitHooks fit_hooks = hooks.fit;
  fit_hooks.on_tag_done = [&](const TagFit& fit) {
    std::vector<TagFit>& fits = pending[fit.column];
    fits.push_back(fit);
    if (fits.size() < families) return;
    // The run's family order, whatever order the fits finished in.
    std::vector<TagFit> ordered;
    for (const FamilyChoice& choice : tuning.families) {
      for (const TagFit& f : fits) {
        if (f.family == choice.best.family) ordered.push_back(f);
      }
    }
    pending.erase(fit.column);
    const TagRecord r = finish_tag(ordered, configs_of(fit.column), data, settings.boost.seed);
    // The models first, then the record that vouches for them: a crash in between leaves
    // models without a record, which the next run trains again.
    for (const ComponentRecord& c : r.components) {
      const auto used = std::find_if(ordered.begin(), ordered.end(),
                                     [&](const TagFit& f) { return f.family == c.family; });
      write_file_atomic(dir / c.model_file, used->model_json);
    }
    write_file_atomic(dir / record_file(r.index, false), record_json(r, fingerprint));
    records[r.index] = r;
    ++done;
    if (hooks.tag_done) hooks.tag_done("train", done, data.tags.size(), r);
  };
  (void)trainer.fit(data.train_y, &data.validation_y, jobs, settings.boost, fit_hooks);
  std::vector<TagRecord> result;
  for (auto& r : records) result.push_back(*r);

  // 3. The refit on train + validation of every model a tag uses, with the documented number of
  // rounds.
  if (settings.refit == Refit::kTrainValidation) {
    const std::size_t train_rows = data.train_rows();
    const auto valid_rows = static_cast<std::size_t>(data.validation_x.rows());
    std::vector<TagJob> refit_jobs;
    std::map<std::size_t, std::size_t> waiting;  // tag -> components still to refit
    for (TagRecord& r : result) {
      if (load_refit_record(dir, r, fingerprint)) continue;
      for (const ComponentRecord& c : r.components) {
        TagJob job;
        job.column = r.index;
        job.tag = r.tag;
        job.family = c.family;
        job.rounds = refit_rounds(c.best_iteration + 1, train_rows, valid_rows);
        job.params = c.params;
        job.scale_pos_weight = parse_scale_pos_weight(c.scale_pos_weight_mode);
        refit_jobs.push_back(std::move(job));
      }
      waiting[r.index] = r.components.size();
    }
    if (!refit_jobs.empty()) {
      const LabelMatrix all_y = stack(data.train_y, data.validation_y);
      FeatureMatrix all_x;
      std::unique_ptr<StackedRows> all_rows;
      std::unique_ptr<Trainer> refitter_owner;
      if (out_of_core) {
        all_rows = std::make_unique<StackedRows>(*data.train_source, data.validation_x);
        refitter_owner = std::make_unique<Trainer>(*all_rows, nullptr, settings.engine, external);
      } else {
        all_x = stack(data.train_x, data.validation_x);
        // The training split's scaler, so that one scaler.tsv serves every linear model.
        refitter_owner = std::make_unique<Trainer>(all_x, nullptr, settings.engine,
                                                   std::vector<int>{}, trainer.scaler());
      }
      Trainer& refitter = *refitter_owner;
      std::size_t refit_done = result.size() - waiting.size();
      std::map<std::size_t, std::vector<TagFit>> refits;
      FitHooks refit_hooks = hooks.fit;
      refit_hooks.on_tag_done = [&](const TagFit& fit) {
        std::vector<TagFit>& fits = refits[fit.column];
        fits.push_back(fit);
        if (fits.size() < waiting.at(fit.column)) return;
        TagRecord& r = result[fit.column];
        r.refit_seconds = 0;
        for (ComponentRecord& c : r.components) {
          const auto f = std::find_if(fits.begin(), fits.end(),
                                      [&](const TagFit& x) { return x.family == c.family; });
          c.refit_rounds = f->rounds_trained;
          c.refit_seconds = f->seconds;
          c.refit_model_file = model_file(r.index, r.tag, c.family, true);
          c.refit_model_hash = fnv1a_hex(f->model_json);
          write_file_atomic(dir / c.refit_model_file, f->model_json);
          r.refit_seconds += f->seconds;
        }
        write_file_atomic(dir / record_file(r.index, true), refit_record_json(r, fingerprint));
        refits.erase(fit.column);
        ++refit_done;
        if (hooks.tag_done) hooks.tag_done("refit", refit_done, result.size(), r);
      };
      (void)refitter.fit(all_y, nullptr, refit_jobs, settings.boost, refit_hooks);
    }
  }

  // 4. Thresholds, the schema, the scaler and the manifest, last: a manifest means a complete
  // model directory.
  std::vector<double> thresholds;
  bool any_linear = false;
  for (const TagRecord& r : result) {
    thresholds.push_back(r.threshold);
    any_linear = any_linear || r.component(Family::kLinear) != nullptr;
  }
  write_file_atomic(dir / kThresholdsFile, format_thresholds_file(data.tags, thresholds));
  write_file_atomic(dir / kSchemaFile, data.schema.to_json());
  ManifestExtras extras{&entries,          fingerprint, &tuning, trainer.strategy(),
                        trainer.threads(), "",          nullptr};
  if (settings.memory_limit > 0) {
    extras.out_of_core =
        OutOfCoreRecord{out_of_core, settings.memory_limit,
                        in_memory_training_bytes(data.train_rows(), data.train_cols()),
                        external.batch_rows, trainer.external_batches()};
  }
  if (any_linear) {
    const std::string scaler = scaler_tsv(trainer.scaler(), column_names(data.schema));
    write_file_atomic(dir / kScalerFile, scaler);
    extras.scaler_hash = fnv1a_hex(scaler);
  }
  write_manifest(dir, data_record(data), settings, extras, result);
  return result;
}
}  // namespace moodboost
