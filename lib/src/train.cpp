#include "moodboost/train.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>

#include "detail/enum_names.hpp"
#include "detail/first_error.hpp"
#include "detail/labels.hpp"
#include "detail/linear_model.hpp"
#include "detail/threads.hpp"
#include "detail/xgb.hpp"
#include "moodboost/folds.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/version.hpp"

namespace moodboost {
namespace xgb = detail::xgb;
using detail::label_column;

namespace {

using Clock = std::chrono::steady_clock;

int all_cores() { return detail::machine_threads(); }

std::vector<float> float_labels(const LabelMatrix& labels, std::size_t column) {
  std::vector<float> out(static_cast<std::size_t>(labels.rows()));
  for (Eigen::Index r = 0; r < labels.rows(); ++r) {
    out[static_cast<std::size_t>(r)] =
        labels(r, static_cast<Eigen::Index>(column)) != 0 ? 1.f : 0.f;
  }
  return out;
}

// The value of \p key (or its XGBoost alias) in \p params as a number, or \p fallback.
double number_param(const XgbParams& params, std::initializer_list<const char*> keys,
                    double fallback) {
  for (const char* key : keys) {
    if (auto it = params.find(key); it != params.end()) {
      char* end = nullptr;
      const double value = std::strtod(it->second.c_str(), &end);
      if (end != it->second.c_str()) return value;
    }
  }
  return fallback;
}

std::size_t count_positives(const std::vector<float>& labels) {
  return static_cast<std::size_t>(std::count(labels.begin(), labels.end(), 1.f));
}

// Formats a double the way XGBoost reads it back exactly (shortest round-trip form).
std::string param_number(double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

// One boosting round with \p params on a 4-row, 1-column matrix: what XGBoost makes of a
// parameter set (and of the device it names) before any real work. Throws XgbError when it
// refuses them.
void probe_round(const XgbParams& params) {
  const float data[] = {0.f, 1.f, 2.f, 3.f};
  const float labels[] = {0.f, 1.f, 0.f, 1.f};
  auto dmat = xgb::make_dmatrix(data, 4, 1, 1);
  xgb::set_labels(dmat.get(), labels);
  const DMatrixHandle cached[] = {dmat.get()};
  xgb::Booster probe(cached);
  for (const auto& [key, value] : params) probe.set_param(key, value);
  probe.update(0, dmat.get());
}

}  // namespace

namespace {
constexpr detail::EnumName<Device> kDeviceNames[] = {
    {Device::kCpu, "cpu"}, {Device::kCuda, "cuda"}, {Device::kAuto, "auto"}};
constexpr detail::EnumName<ScalePosWeight> kScalePosWeightNames[] = {
    {ScalePosWeight::kNone, "none"},
    {ScalePosWeight::kSqrt, "sqrt"},
    {ScalePosWeight::kRatio, "ratio"}};
constexpr detail::EnumName<ThreadStrategy> kThreadStrategyNames[] = {
    {ThreadStrategy::kAuto, "auto"},
    {ThreadStrategy::kPerTag, "per-tag"},
    {ThreadStrategy::kTagsInParallel, "tags-in-parallel"}};
constexpr detail::EnumName<Family> kFamilyNames[] = {{Family::kTree, "tree"},
                                                     {Family::kLinear, "linear"}};
}  // namespace

Device parse_device(std::string_view text) {
  return detail::parse_name(kDeviceNames, text, "device");
}
std::string to_string(Device device) { return detail::name_of(kDeviceNames, device); }
ScalePosWeight parse_scale_pos_weight(std::string_view text) {
  return detail::parse_name(kScalePosWeightNames, text, "scale_pos_weight mode");
}
std::string to_string(ScalePosWeight mode) { return detail::name_of(kScalePosWeightNames, mode); }
ThreadStrategy parse_thread_strategy(std::string_view text) {
  return detail::parse_name(kThreadStrategyNames, text, "thread strategy");
}
std::string to_string(ThreadStrategy strategy) {
  return detail::name_of(kThreadStrategyNames, strategy);
}
Family parse_family(std::string_view text) {
  return detail::parse_name(kFamilyNames, text, "family");
}
std::string to_string(Family family) { return detail::name_of(kFamilyNames, family); }

XgbParams engine_params(Device device, int threads) {
  XgbParams params{{"objective", "binary:logistic"},
                   {"nthread", std::to_string(threads > 0 ? threads : all_cores())},
                   {"verbosity", "0"}};
  if (device == Device::kCuda) {
    // XGBoost 2.x selects the GPU with `device`; 1.x with the gpu_hist tree method and the GPU
    // predictor. Everything else (the loop, the parameters, the models) is the same.
    if (xgb::major_version() >= 2) {
      params["device"] = "cuda";
      params["tree_method"] = "hist";
    } else {
      params["tree_method"] = "gpu_hist";
      params["predictor"] = "gpu_predictor";
    }
  } else {
    params["tree_method"] = "hist";
  }
  return params;
}

XgbParams linear_engine_params() {
  return {{"objective", "binary:logistic"}, {"booster", "gblinear"}, {"updater", "shotgun"},
          {"feature_selector", "cyclic"},   {"nthread", "1"},        {"verbosity", "0"}};
}

int rounds_for_learning_rate(int rounds, double eta) {
  if (!(eta > 0) || !std::isfinite(eta) || eta >= 0.1) return rounds;
  const double scaled = std::ceil(static_cast<double>(rounds) * 0.1 / eta - 1e-9);
  return scaled >= static_cast<double>(std::numeric_limits<int>::max() / 2)
             ? std::numeric_limits<int>::max() / 2
             : static_cast<int>(scaled);
}

BoosterPlan booster_plan(Family family, const BoostOptions& options, const XgbParams& tag_params,
                         ScalePosWeight mode, std::size_t positives, std::size_t negatives,
                         Device device, int threads) {
  const bool linear = family == Family::kLinear;
  BoosterPlan plan;
  plan.scale_pos_weight = scale_pos_weight_value(mode, positives, negatives);
  XgbParams& params = plan.params;
  params = linear ? linear_engine_params() : engine_params(device, threads);
  params["seed"] = std::to_string(options.seed);
  params["scale_pos_weight"] = param_number(plan.scale_pos_weight);
  if (options.eval_metric != "ap") params["eval_metric"] = options.eval_metric;
  for (const auto& [key, value] : linear ? options.linear_params : options.params) {
    params[key] = value;
  }
  for (const auto& [key, value] : tag_params) params[key] = value;
  plan.scale_pos_weight = number_param(params, {"scale_pos_weight"}, plan.scale_pos_weight);
  if (params.contains("base_score")) {
    plan.base_score = number_param(params, {"base_score"}, 0.5);
  } else {
    // The prior the weighted logistic loss starts from; kept inside (0, 1) for XGBoost.
    const double pos = plan.scale_pos_weight * static_cast<double>(positives);
    const double prior = pos / (pos + static_cast<double>(negatives));
    plan.base_score = std::clamp(prior, 1e-6, 1.0 - 1e-6);
    params["base_score"] = param_number(plan.base_score);
  }
  const double eta = number_param(params, {"eta", "learning_rate"}, linear ? 0.5 : 0.3);
  plan.max_rounds = rounds_for_learning_rate(options.max_rounds, eta);
  plan.patience = rounds_for_learning_rate(options.early_stopping, eta);
  return plan;
}

DeviceChoice resolve_device(Device requested) {
  const bool has_cuda = xgboost_has_cuda();
  if (requested == Device::kCpu) return {Device::kCpu, "device cpu"};
  if (requested == Device::kCuda) {
    if (!has_cuda) {
      throw InvalidArgument("--device cuda: the linked XGBoost " + xgboost_version() +
                            " was built without CUDA (XGBuildInfo USE_CUDA is not true); build "
                            "moodboost against a CUDA build of XGBoost >= 1.7 (CMAKE_PREFIX_PATH) "
                            "or use --device cpu");
    }
    return {Device::kCuda, "device cuda: XGBoost " + xgboost_version() + " GPU hist"};
  }
  if (!has_cuda) {
    return {Device::kCpu, "device auto: using the CPU (the linked XGBoost " + xgboost_version() +
                              " has no CUDA)"};
  }
  // A CUDA build may still run on a machine without a usable GPU: probe with one tiny round.
  try {
    probe_round(engine_params(Device::kCuda, 1));
  } catch (const XgbError& e) {
    return {Device::kCpu, std::string("device auto: using the CPU (XGBoost has CUDA but no GPU "
                                      "could train: ") +
                              e.what() + ")"};
  }
  return {Device::kCuda, "device auto: using the GPU (XGBoost " + xgboost_version() +
                             " built with CUDA, a CUDA device answered)"};
}

namespace {
// The quoted names in XGBoost's `Parameters: { "a", "b" } are not used.` (1.7) or
// `... might not be used.` (later versions) warning.
std::vector<std::string> names_in_unused_warning(std::string_view log) {
  std::vector<std::string> names;
  const auto open = log.find("Parameters: {");
  if (open == std::string_view::npos) return names;
  const auto close = log.find('}', open);
  std::string_view list = log.substr(open, close - open);
  for (auto q = list.find('"'); q != std::string_view::npos; q = list.find('"')) {
    const auto end = list.find('"', q + 1);
    if (end == std::string_view::npos) break;
    names.emplace_back(list.substr(q + 1, end - q - 1));
    list.remove_prefix(end + 1);
  }
  return names;
}
}  // namespace

std::vector<std::string> unused_xgboost_params(const XgbParams& params, Family family) {
  XgbParams probe =
      family == Family::kLinear ? linear_engine_params() : engine_params(Device::kCpu, 1);
  for (const auto& [key, value] : params) probe[key] = value;
  probe["validate_parameters"] = "1";
  probe["verbosity"] = "1";  // warnings: the validation speaks through the log

  std::string log;
  {
    const xgb::LogCapture capture;  // XGBoost's log goes to stderr again on every way out
    probe_round(probe);
    log = capture.text();
  }
  return names_in_unused_warning(log);
}

double scale_pos_weight_value(ScalePosWeight mode, std::size_t positives, std::size_t negatives) {
  if (positives == 0 || mode == ScalePosWeight::kNone) return 1.0;
  const double ratio = static_cast<double>(negatives) / static_cast<double>(positives);
  return mode == ScalePosWeight::kSqrt ? std::sqrt(ratio) : ratio;
}

BoostOptions default_boost_options() { return BoostOptions{}; }

void check_eval_metric(const std::string& eval_metric) {
  if (eval_metric == "ap") return;
  const float data[] = {0.f, 1.f, 2.f, 3.f};
  const float labels[] = {0.f, 1.f, 0.f, 1.f};
  try {
    auto dmat = xgb::make_dmatrix(data, 4, 1, 1);
    xgb::set_labels(dmat.get(), labels);
    const DMatrixHandle cached[] = {dmat.get()};
    xgb::Booster probe(cached);
    for (const auto& [key, value] : engine_params(Device::kCpu, 1)) probe.set_param(key, value);
    probe.set_param("eval_metric", eval_metric);
    probe.update(0, dmat.get());
    const std::string line = probe.eval(0, dmat.get(), "validation");
    (void)xgb::parse_eval(line, "validation-" + eval_metric);
  } catch (const XgbError& e) {
    // XGBoost's message ends in a stack trace: the first line says it.
    std::string reason = e.what();
    if (const auto end = reason.find('\n'); end != std::string::npos) reason.resize(end);
    throw InvalidArgument("--eval-metric " + eval_metric + ": XGBoost " + xgboost_version() +
                          " cannot evaluate it for binary:logistic (" + reason +
                          "); use one of auc, aucpr, logloss, error, map, ... or ap");
  }
}

bool metric_maximize(std::string_view eval_metric) {
  // As XGBoost's own early stopping decides (python-package callback.py): these grow better.
  for (std::string_view prefix : {"auc", "aucpr", "ap", "map", "ndcg", "pre"}) {
    if (eval_metric == prefix ||
        (eval_metric.size() > prefix.size() && eval_metric.substr(0, prefix.size()) == prefix &&
         eval_metric[prefix.size()] == '@')) {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

namespace {

// The early-stopping state of one tag, as XGBoost's own EarlyStopping callback keeps it: the
// first round with the best score wins ties (a later equal score is no improvement).
struct EarlyStopping {
  bool maximize = true;
  int patience = 0;
  int best_round = -1;
  double best_score = std::numeric_limits<double>::quiet_NaN();

  // Records \p score of \p round; returns true when it is a new best.
  bool update(int round, double score) {
    const bool better = best_round < 0 || (maximize ? score > best_score : score < best_score);
    if (better) {
      best_round = round;
      best_score = score;
    }
    return better;
  }
  // True when training should stop after \p round.
  [[nodiscard]] bool exhausted(int round) const {
    return patience > 0 && round - best_round >= patience;
  }
};

std::vector<int> as_int_rows(const std::vector<std::size_t>& rows) {
  return std::vector<int>(rows.begin(), rows.end());
}

std::size_t family_index(Family family) { return family == Family::kLinear ? 1 : 0; }

}  // namespace

struct Trainer::Impl {
  // One family's XGBoost matrices in one worker, built when a job of the family first needs
  // them. The label lives in the DMatrix, so tags trained at the same time need their own
  // copies; tags trained one after another share them (and their gradient index).
  struct Views {
    // The out-of-core training matrix's iterator and proxy (its matrix moved into `train`):
    // declared first, so that they outlive the matrix.
    xgb::ExternalDMatrix external;
    xgb::DMatrixPtr train;       // the whole training matrix (raw, or standardised for linear)
    xgb::DMatrixPtr validation;  // the validation matrix, same scale: held-out evaluation
    // What a saved model predicts the validation rows from: the raw matrix (NaN replaced by the
    // training means for the folded linear models).
    xgb::DMatrixPtr validation_raw;
    std::vector<xgb::DMatrixPtr> fold_train;  // training rows outside fold k
    std::vector<xgb::DMatrixPtr> fold_held;   // training rows of fold k
  };
  struct Slot {
    Views views[2];  // by family_index()
  };

  const FeatureMatrix* train_x = nullptr;  // null out of core
  const RowBatchSource* source = nullptr;  // the out-of-core training matrix
  ExternalMemoryOptions external;
  std::filesystem::path pages_dir;  // this Trainer's XGBoost pages (removed with it)
  std::size_t external_batches = 0;
  std::size_t train_rows = 0;
  std::size_t train_cols = 0;
  const FeatureMatrix* validation_x = nullptr;
  Device device = Device::kCpu;
  int threads = 1;
  ThreadStrategy strategy = ThreadStrategy::kPerTag;
  std::vector<int> folds;  // per training row; empty: the validation split is held out
  int fold_count = 0;
  std::vector<std::vector<int>> fold_train_rows, fold_held_rows;
  // The linear family's inputs, made before the workers start (prepare_linear()).
  std::optional<ColumnScaler> scaler;
  bool linear_ready = false;
  FeatureMatrix train_z, validation_z, validation_imputed;
  bool validation_imputed_used = false;
  std::vector<Slot> slots;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    slots.clear();  // XGBoost's matrices first: they may hold their page files open
    if (!pages_dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(pages_dir, ec);
    }
  }

  int booster_threads() const { return strategy == ThreadStrategy::kTagsInParallel ? 1 : threads; }

  const ColumnScaler& get_scaler() {
    if (!scaler && source != nullptr) {
      throw InvalidArgument("the linear family cannot train out of core (no column scaler)");
    }
    if (!scaler) scaler = fit_column_scaler(*train_x);
    return *scaler;
  }

  void prepare_linear() {
    if (linear_ready) return;
    const ColumnScaler& s = get_scaler();
    train_z = standardize(*train_x, s);
    if (validation_x != nullptr) {
      validation_z = standardize(*validation_x, s);
      validation_imputed_used = has_missing(*validation_x);
      if (validation_imputed_used) validation_imputed = impute_means(*validation_x, s);
    }
    linear_ready = true;
  }

  static xgb::DMatrixPtr dmatrix(const FeatureMatrix& x, int nthread) {
    return xgb::make_dmatrix(x.data(), static_cast<std::size_t>(x.rows()),
                             static_cast<std::size_t>(x.cols()), nthread);
  }

  // The out-of-core training matrix: the source's rows in batches of external.batch_rows, one
  // batch in memory at a time, into an XGBoost external-memory matrix with its pages under
  // pages_dir.
  xgb::DMatrixPtr external_matrix(Views& v) {
    static std::atomic<unsigned> counter{0};
    std::error_code ec;
    pages_dir = external.cache_dir / ("xgboost-pages-" + std::to_string(counter++));
    std::filesystem::remove_all(pages_dir, ec);
    std::filesystem::create_directories(pages_dir, ec);
    if (ec) {
      throw IoError(pages_dir, "cannot create the directory for XGBoost's external-memory pages: " +
                                   ec.message());
    }
    const RowBatchSource& rows = *source;
    const std::size_t batch_rows = external.batch_rows;
    // XGBoost converts a batch into its own page before it asks for the next one, so one buffer
    // serves every batch.
    auto fill = [&rows, batch_rows, buffer = std::vector<float>()](std::size_t batch,
                                                                   DMatrixHandle proxy) mutable {
      const std::size_t first = batch * batch_rows;
      if (first >= rows.rows()) return false;
      const std::size_t count = std::min(batch_rows, rows.rows() - first);
      buffer.resize(count * rows.cols());
      rows.read_rows(first, count, buffer.data());
      xgb::set_dense_batch(proxy, buffer.data(), count, rows.cols());
      return true;
    };
    v.external = xgb::make_external_dmatrix(std::move(fill), pages_dir / "train", threads);
    external_batches = v.external.batches;
    return std::move(v.external.matrix);
  }

  Views& views(Slot& slot, Family family, bool need_folds) {
    Views& v = slot.views[family_index(family)];
    const bool linear = family == Family::kLinear;
    if (!v.train) {
      v.train =
          source != nullptr ? external_matrix(v) : dmatrix(linear ? train_z : *train_x, threads);
    }
    if (validation_x != nullptr && !v.validation) {
      v.validation = dmatrix(linear ? validation_z : *validation_x, threads);
      if (linear) {
        v.validation_raw =
            dmatrix(validation_imputed_used ? validation_imputed : *validation_x, threads);
      }
    }
    if (need_folds && v.fold_train.empty()) {
      for (int k = 0; k < fold_count; ++k) {
        v.fold_train.push_back(xgb::slice_rows(v.train.get(), fold_train_rows[k]));
        v.fold_held.push_back(xgb::slice_rows(v.train.get(), fold_held_rows[k]));
      }
    }
    return v;
  }

  TagFit fit_one(Slot& slot, const LabelMatrix& train_labels, const LabelMatrix* validation_labels,
                 const TagJob& job, const BoostOptions& options, const FitHooks& hooks,
                 const std::atomic<bool>& abort);
};

TagFit Trainer::Impl::fit_one(Slot& slot, const LabelMatrix& train_labels,
                              const LabelMatrix* validation_labels, const TagJob& job,
                              const BoostOptions& options, const FitHooks& hooks,
                              const std::atomic<bool>& abort) {
  const auto start = Clock::now();
  TagFit fit;
  fit.tag = job.tag;
  fit.column = job.column;
  fit.family = job.family;
  const bool linear = job.family == Family::kLinear;
  const bool has_validation = validation_x != nullptr && validation_labels != nullptr;
  // Without any held-out set, every one of max_rounds rounds is kept.
  const bool fixed_rounds = job.rounds > 0 || (fold_count == 0 && !has_validation);
  const int fixed_count = job.rounds > 0 ? job.rounds : options.max_rounds;
  const bool cross_validate = !fixed_rounds && fold_count > 0;
  Views& v = views(slot, job.family, cross_validate);

  const std::vector<float> y_train = float_labels(train_labels, job.column);
  fit.positives = count_positives(y_train);
  fit.negatives = y_train.size() - fit.positives;

  const BoosterPlan plan = booster_plan(
      job.family, options, job.params, job.scale_pos_weight.value_or(options.scale_pos_weight),
      fit.positives, fit.negatives, device, linear ? 1 : booster_threads());
  const XgbParams& params = plan.params;
  fit.scale_pos_weight = plan.scale_pos_weight;
  fit.base_score = plan.base_score;
  const bool xgb_metric = options.eval_metric != "ap";

  auto make_booster = [&](std::vector<DMatrixHandle> cached) {
    xgb::Booster booster(cached);
    for (const auto& [key, value] : params) booster.set_param(key, value);
    return booster;
  };
  auto check_stop = [&] {
    if (abort.load() || (hooks.stop_requested && hooks.stop_requested())) {
      throw TrainingInterrupted("training interrupted during tag '" + job.tag + "'");
    }
  };
  // A booster on the whole training split with exactly \p rounds rounds.
  auto train_whole = [&](int rounds) {
    xgb::set_labels(v.train.get(), y_train);
    xgb::Booster booster = make_booster({v.train.get()});
    for (int round = 0; round < rounds; ++round) {
      check_stop();
      booster.update(round, v.train.get());
      if (hooks.on_round) hooks.on_round(job.tag, round);
    }
    return booster;
  };
  // Saves \p booster as the tag's model (the scaler folded into a linear one) and predicts the
  // validation rows with exactly what was saved.
  auto keep = [&](xgb::Booster& booster) {
    booster.set_attr("moodboost_tag", job.tag);
    booster.set_attr("best_iteration", std::to_string(fit.best_iteration));
    fit.model_json = booster.save_json();
    if (linear) fit.model_json = detail::fold_scaler_into_gblinear(fit.model_json, get_scaler());
    if (validation_x != nullptr) {
      xgb::Booster saved = xgb::Booster::from_buffer(fit.model_json);
      saved.set_param("nthread", std::to_string(booster_threads()));
      const std::vector<float> scores =
          saved.predict(linear ? v.validation_raw.get() : v.validation.get());
      fit.validation_scores.assign(scores.begin(), scores.end());
    }
  };

  if (fixed_rounds) {
    xgb::Booster booster = train_whole(fixed_count);
    fit.rounds_trained = fixed_count;
    fit.best_iteration = fixed_count - 1;
    fit.best_score = std::numeric_limits<double>::quiet_NaN();
    fit.heldout_pr_auc = std::numeric_limits<double>::quiet_NaN();
    if (job.keep_model) keep(booster);
    fit.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return fit;
  }

  // The held-out sets: the validation split, or the K folds of the training split.
  struct Held {
    DMatrixHandle train = nullptr;
    DMatrixHandle held = nullptr;
    std::vector<std::uint8_t> labels;        // of the held rows
    const std::vector<int>* rows = nullptr;  // training rows held out (cross-validation)
    bool usable = false;                     // both classes: ranking metrics are defined
  };
  std::vector<Held> sets;
  std::vector<std::uint8_t> heldout_labels;  // in heldout_scores order
  if (cross_validate) {
    heldout_labels = label_column(train_labels, job.column);
    for (int k = 0; k < fold_count; ++k) {
      Held h{v.fold_train[k].get(), v.fold_held[k].get(), {}, &fold_held_rows[k], false};
      std::vector<float> y_fold, y_held;
      for (int r : fold_train_rows[k]) y_fold.push_back(y_train[static_cast<std::size_t>(r)]);
      for (int r : fold_held_rows[k]) {
        y_held.push_back(y_train[static_cast<std::size_t>(r)]);
        h.labels.push_back(heldout_labels[static_cast<std::size_t>(r)]);
      }
      xgb::set_labels(h.train, y_fold);
      xgb::set_labels(h.held, y_held);
      const std::size_t pos = count_positives(y_held);
      h.usable = pos > 0 && pos < y_held.size();
      sets.push_back(std::move(h));
    }
  } else {
    heldout_labels = label_column(*validation_labels, job.column);
    const std::vector<float> y_valid = float_labels(*validation_labels, job.column);
    xgb::set_labels(v.train.get(), y_train);
    xgb::set_labels(v.validation.get(), y_valid);
    const std::size_t pos = count_positives(y_valid);
    // Ranking metrics are undefined without both classes: such a tag trains without early
    // stopping and reports NaN (documented policy).
    sets.push_back({v.train.get(), v.validation.get(), heldout_labels, nullptr,
                    pos > 0 && pos < y_valid.size()});
  }
  std::vector<xgb::Booster> boosters;
  for (const Held& h : sets) boosters.push_back(make_booster({h.train, h.held}));
  const bool any_usable =
      std::any_of(sets.begin(), sets.end(), [](const Held& h) { return h.usable; });

  const int patience = plan.patience;
  const int max_rounds = plan.max_rounds;
  const bool evaluate_each_round = any_usable && patience > 0;
  EarlyStopping stopping{metric_maximize(options.eval_metric), patience};
  const std::string metric_name = "validation-" + options.eval_metric;

  // The held-out metric of round \p round: on the validation split, or the mean over the folds
  // with both classes (as xgboost.cv averages its folds).
  auto evaluate = [&](int round) -> double {
    double sum = 0.0;
    int count = 0;
    for (std::size_t k = 0; k < sets.size(); ++k) {
      if (!sets[k].usable) continue;
      if (xgb_metric) {
        sum += xgb::parse_eval(boosters[k].eval(round, sets[k].held, "validation"), metric_name);
      } else {
        // Exact average precision (metrics module) of this round's predictions; XGBoost serves
        // tree predictions from its per-matrix cache, so each round costs one tree's worth.
        const std::vector<float> predicted = boosters[k].predict(sets[k].held);
        sum += average_precision(std::vector<double>(predicted.begin(), predicted.end()),
                                 sets[k].labels);
      }
      ++count;
    }
    return count > 0 ? sum / count : std::numeric_limits<double>::quiet_NaN();
  };
  // The held-out predictions (and, for a linear model on the validation split, the model
  // itself: gblinear cannot be sliced) at the current round.
  std::vector<std::vector<float>> best_predictions(sets.size());
  std::string linear_snapshot;
  auto capture = [&] {
    for (std::size_t k = 0; k < sets.size(); ++k) {
      best_predictions[k] = boosters[k].predict(sets[k].held);
    }
    if (linear && !cross_validate && job.keep_model) linear_snapshot = boosters[0].save_json();
  };

  int round = 0;
  for (; round < max_rounds; ++round) {
    check_stop();
    for (std::size_t k = 0; k < sets.size(); ++k) boosters[k].update(round, sets[k].train);
    if (hooks.on_round) hooks.on_round(job.tag, round);
    if (evaluate_each_round) {
      if (stopping.update(round, evaluate(round))) capture();
      if (stopping.exhausted(round)) {
        ++round;
        fit.early_stopped = round < max_rounds;
        break;
      }
    }
  }
  fit.rounds_trained = round;
  const int kept_rounds = evaluate_each_round ? stopping.best_round + 1 : fit.rounds_trained;
  fit.best_iteration = kept_rounds - 1;
  if (!evaluate_each_round) capture();
  fit.best_score = evaluate_each_round ? stopping.best_score
                   : any_usable        ? evaluate(fit.best_iteration)
                                       : std::numeric_limits<double>::quiet_NaN();
  fit.folds = cross_validate ? fold_count : 0;
  if (cross_validate) {
    fit.heldout_scores.assign(heldout_labels.size(), 0.0);
    for (std::size_t k = 0; k < sets.size(); ++k) {
      const std::vector<int>& rows = *sets[k].rows;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        fit.heldout_scores[static_cast<std::size_t>(rows[i])] = best_predictions[k][i];
      }
    }
  } else {
    fit.heldout_scores.assign(best_predictions[0].begin(), best_predictions[0].end());
  }
  const auto held_positives = static_cast<std::size_t>(
      std::count(heldout_labels.begin(), heldout_labels.end(), std::uint8_t{1}));
  fit.heldout_pr_auc = held_positives > 0 && held_positives < heldout_labels.size()
                           ? average_precision(fit.heldout_scores, heldout_labels)
                           : std::numeric_limits<double>::quiet_NaN();

  if (job.keep_model) {
    if (cross_validate) {
      xgb::Booster whole = train_whole(kept_rounds);
      keep(whole);
    } else if (linear) {
      xgb::Booster kept = xgb::Booster::from_buffer(linear_snapshot);
      keep(kept);
    } else {
      xgb::Booster kept = boosters[0].slice(0, kept_rounds);
      keep(kept);
    }
  }
  fit.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return fit;
}

namespace {

std::size_t count_infinite(const FeatureMatrix& m) {
  const float* data = m.data();
  const auto n = static_cast<std::size_t>(m.size());
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += std::isinf(data[i]) ? 1 : 0;
  return count;
}

std::size_t count_infinite(const RowBatchSource& source, std::size_t batch_rows) {
  if (batch_rows == 0) throw InvalidArgument("check_no_infinity: batch_rows must be at least 1");
  std::vector<float> batch;
  std::size_t count = 0;
  for (std::size_t first = 0; first < source.rows(); first += batch_rows) {
    const std::size_t rows = std::min(batch_rows, source.rows() - first);
    batch.resize(rows * source.cols());
    source.read_rows(first, rows, batch.data());
    for (const float v : batch) count += std::isinf(v) ? 1 : 0;
  }
  return count;
}

// Throws the DataError of check_no_infinity() when either count is not zero.
void refuse_infinity(std::size_t in_train, std::size_t in_validation) {
  if (in_train == 0 && in_validation == 0) return;
  auto values = [](std::size_t n) {
    return std::to_string(n) + (n == 1 ? " infinite value" : " infinite values");
  };
  std::string where;
  if (in_train > 0) where = "the training features hold " + values(in_train);
  if (in_validation > 0) {
    where += (where.empty() ? "the validation features hold " : ", the validation features ") +
             values(in_validation);
  }
  throw DataError(where +
                  " (Inf tokens or numbers beyond the float32 range, read under --non-finite "
                  "accept), which XGBoost refuses: correct the files, or run with --non-finite "
                  "reject to have each file and field named");
}

}  // namespace

void check_no_infinity(const FeatureMatrix& train, const FeatureMatrix* validation) {
  refuse_infinity(count_infinite(train), validation != nullptr ? count_infinite(*validation) : 0);
}

void check_no_infinity(const RowBatchSource& train, const FeatureMatrix* validation,
                       std::size_t batch_rows) {
  refuse_infinity(count_infinite(train, batch_rows),
                  validation != nullptr ? count_infinite(*validation) : 0);
}

Trainer::Trainer(const FeatureMatrix& train, const FeatureMatrix* validation,
                 const EngineOptions& engine, std::vector<int> folds,
                 std::optional<ColumnScaler> scaler)
    : impl_(std::make_unique<Impl>()) {
  if (train.rows() == 0 || train.cols() == 0) {
    throw InvalidArgument("the training matrix is empty (" + std::to_string(train.rows()) +
                          " rows, " + std::to_string(train.cols()) + " columns)");
  }
  if (validation != nullptr && validation->cols() != train.cols()) {
    throw InvalidArgument("the validation matrix has " + std::to_string(validation->cols()) +
                          " columns, the training matrix " + std::to_string(train.cols()));
  }
  if (validation != nullptr && validation->rows() == 0) validation = nullptr;
  check_no_infinity(train, validation);
  if (engine.device == Device::kAuto) {
    throw InvalidArgument("Trainer needs a resolved device (cpu or cuda): call resolve_device()");
  }
  if (scaler && scaler->size() != static_cast<std::size_t>(train.cols())) {
    throw InvalidArgument("the scaler has " + std::to_string(scaler->size()) +
                          " columns, the training matrix " + std::to_string(train.cols()));
  }
  if (!folds.empty()) {
    if (folds.size() != static_cast<std::size_t>(train.rows())) {
      throw InvalidArgument("the folds have " + std::to_string(folds.size()) +
                            " entries, the training matrix " + std::to_string(train.rows()) +
                            " rows");
    }
    const int k = *std::max_element(folds.begin(), folds.end()) + 1;
    if (k < 2 || *std::min_element(folds.begin(), folds.end()) < 0) {
      throw InvalidArgument("cross-validation folds must be numbered 0..K-1 with K >= 2");
    }
    for (int f = 0; f < k; ++f) {
      impl_->fold_train_rows.push_back(as_int_rows(fold_rows(folds, f, false)));
      impl_->fold_held_rows.push_back(as_int_rows(fold_rows(folds, f, true)));
      if (impl_->fold_train_rows.back().empty() || impl_->fold_held_rows.back().empty()) {
        throw InvalidArgument("cross-validation fold " + std::to_string(f) +
                              " is empty or holds every row");
      }
    }
    impl_->fold_count = k;
    impl_->folds = std::move(folds);
  }
  impl_->train_x = &train;
  impl_->train_rows = static_cast<std::size_t>(train.rows());
  impl_->train_cols = static_cast<std::size_t>(train.cols());
  impl_->validation_x = validation;
  impl_->scaler = std::move(scaler);
  impl_->device = engine.device;
  impl_->threads = detail::usable_threads(engine.threads);
  impl_->strategy =
      engine.strategy == ThreadStrategy::kAuto ? default_thread_strategy() : engine.strategy;
  // One GPU trains one tag at a time with every CPU thread feeding it.
  if (impl_->device == Device::kCuda || impl_->threads == 1) {
    impl_->strategy = ThreadStrategy::kPerTag;
  }
}

Trainer::Trainer(const RowBatchSource& train, const FeatureMatrix* validation,
                 const EngineOptions& engine, ExternalMemoryOptions external)
    : impl_(std::make_unique<Impl>()) {
  if (train.rows() == 0 || train.cols() == 0) {
    throw InvalidArgument("the training matrix is empty (" + std::to_string(train.rows()) +
                          " rows, " + std::to_string(train.cols()) + " columns)");
  }
  if (validation != nullptr && static_cast<std::size_t>(validation->cols()) != train.cols()) {
    throw InvalidArgument("the validation matrix has " + std::to_string(validation->cols()) +
                          " columns, the training matrix " + std::to_string(train.cols()));
  }
  if (validation != nullptr && validation->rows() == 0) validation = nullptr;
  if (engine.device != Device::kCpu) {
    throw InvalidArgument("out-of-core training runs on the CPU (device cpu), not " +
                          to_string(engine.device));
  }
  if (external.batch_rows == 0) throw InvalidArgument("out-of-core batches need at least 1 row");
  impl_->source = &train;
  impl_->train_rows = train.rows();
  impl_->train_cols = train.cols();
  impl_->external = std::move(external);
  impl_->validation_x = validation;
  impl_->device = Device::kCpu;
  impl_->threads = detail::usable_threads(engine.threads);
  // One external-memory matrix, shared by the tags one after another (a copy per thread would
  // multiply the pages and the memory they take).
  impl_->strategy = ThreadStrategy::kPerTag;
}

Trainer::~Trainer() = default;

ThreadStrategy Trainer::strategy() const noexcept { return impl_->strategy; }
int Trainer::threads() const noexcept { return impl_->threads; }
int Trainer::folds() const noexcept { return impl_->fold_count; }
std::size_t Trainer::external_batches() const noexcept { return impl_->external_batches; }
const ColumnScaler& Trainer::scaler() const { return impl_->get_scaler(); }

std::vector<TagFit> Trainer::fit(const LabelMatrix& train_labels,
                                 const LabelMatrix* validation_labels, std::span<const TagJob> jobs,
                                 const BoostOptions& options, const FitHooks& hooks) {
  if (static_cast<std::size_t>(train_labels.rows()) != impl_->train_rows) {
    throw InvalidArgument("the training labels have " + std::to_string(train_labels.rows()) +
                          " rows, the training matrix " + std::to_string(impl_->train_rows));
  }
  if (validation_labels != nullptr && impl_->validation_x != nullptr &&
      validation_labels->rows() != impl_->validation_x->rows()) {
    throw InvalidArgument(
        "the validation labels have " + std::to_string(validation_labels->rows()) +
        " rows, the validation matrix " + std::to_string(impl_->validation_x->rows()));
  }
  if (options.max_rounds < 1) {
    throw InvalidArgument("rounds must be at least 1, got " + std::to_string(options.max_rounds));
  }
  if (options.early_stopping < 0) {
    throw InvalidArgument("early stopping must be 0 (off) or positive, got " +
                          std::to_string(options.early_stopping));
  }
  bool any_linear = false;
  for (const TagJob& job : jobs) {
    if (static_cast<Eigen::Index>(job.column) >= train_labels.cols() ||
        (validation_labels != nullptr &&
         static_cast<Eigen::Index>(job.column) >= validation_labels->cols())) {
      throw InvalidArgument("tag '" + job.tag + "': label column " + std::to_string(job.column) +
                            " is out of range");
    }
    if (train_labels.col(static_cast<Eigen::Index>(job.column)).cast<int>().sum() == 0) {
      throw DataError("tag '" + job.tag +
                      "' has no positive track in the training split: no booster can learn it");
    }
    any_linear = any_linear || job.family == Family::kLinear;
  }
  if (any_linear && impl_->source != nullptr) {
    throw InvalidArgument(
        "out-of-core training trains the tree family only: the linear family needs the "
        "standardised matrix in memory");
  }
  // The standardised copies are made here, before any worker starts.
  if (any_linear) impl_->prepare_linear();

  std::vector<TagFit> fits(jobs.size());
  if (jobs.empty()) return fits;
  const std::size_t workers = impl_->strategy == ThreadStrategy::kTagsInParallel
                                  ? std::min(jobs.size(), static_cast<std::size_t>(impl_->threads))
                                  : 1;
  while (impl_->slots.size() < workers) impl_->slots.emplace_back();

  std::atomic<std::size_t> next{0};
  std::atomic<bool> abort{false};
  std::mutex done_mutex;
  detail::FirstError errors;
  auto work = [&](std::size_t worker) {
    std::size_t i = 0;
    try {
      for (i = next++; i < jobs.size() && !abort.load(); i = next++) {
        TagFit fit = impl_->fit_one(impl_->slots[worker], train_labels, validation_labels, jobs[i],
                                    options, hooks, abort);
        std::lock_guard lock(done_mutex);
        if (hooks.on_tag_done) hooks.on_tag_done(fit);
        fits[i] = std::move(fit);
      }
    } catch (...) {
      errors.capture(i);
      abort = true;
    }
  };
  if (workers == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    pool.reserve(workers);
    for (std::size_t w = 0; w < workers; ++w) pool.emplace_back(work, w);
    for (auto& thread : pool) thread.join();
  }
  errors.rethrow_if_any();
  return fits;
}

ThreadStrategy default_thread_strategy() { return ThreadStrategy::kTagsInParallel; }

// ---------------------------------------------------------------------------------------------

struct TagBooster::Impl {
  xgb::Booster booster;
  int threads = 0;
};

TagBooster::TagBooster(std::string_view model, int threads)
    : impl_(std::make_unique<Impl>(Impl{xgb::Booster::from_buffer(model), threads})) {
  impl_->booster.set_param("nthread", std::to_string(detail::usable_threads(threads)));
}

TagBooster::~TagBooster() = default;
TagBooster::TagBooster(TagBooster&&) noexcept = default;
TagBooster& TagBooster::operator=(TagBooster&&) noexcept = default;

int TagBooster::rounds() const { return impl_->booster.boosted_rounds(); }

std::vector<double> TagBooster::predict(const FeatureMatrix& features) const {
  const TagBooster* self = this;
  const ScoreMatrix scores = predict_tags(std::span(self, 1), features, impl_->threads);
  return std::vector<double>(scores.data(), scores.data() + scores.size());
}

ScoreMatrix predict_tags(std::span<const TagBooster> boosters, const FeatureMatrix& features,
                         int threads) {
  ScoreMatrix scores(features.rows(), static_cast<Eigen::Index>(boosters.size()));
  if (features.rows() == 0 || boosters.empty()) return scores;
  const auto dmat =
      xgb::make_dmatrix(features.data(), static_cast<std::size_t>(features.rows()),
                        static_cast<std::size_t>(features.cols()), detail::usable_threads(threads));
  for (std::size_t t = 0; t < boosters.size(); ++t) {
    const std::vector<float> column = boosters[t].impl_->booster.predict(dmat.get());
    if (column.size() != static_cast<std::size_t>(features.rows())) {
      throw XgbError("XGBoosterPredictFromDMatrix", "expected " + std::to_string(features.rows()) +
                                                        " predictions, got " +
                                                        std::to_string(column.size()));
    }
    for (Eigen::Index r = 0; r < features.rows(); ++r) {
      scores(r, static_cast<Eigen::Index>(t)) = column[static_cast<std::size_t>(r)];
    }
  }
  return scores;
}

}  // namespace moodboost
