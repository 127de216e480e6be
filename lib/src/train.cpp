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

#include "detail/xgb.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/version.hpp"

namespace moodboost {
namespace xgb = detail::xgb;

namespace {

using Clock = std::chrono::steady_clock;

int all_cores() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

std::vector<float> float_labels(const LabelMatrix& labels, std::size_t column) {
  std::vector<float> out(static_cast<std::size_t>(labels.rows()));
  for (Eigen::Index r = 0; r < labels.rows(); ++r) {
    out[static_cast<std::size_t>(r)] =
        labels(r, static_cast<Eigen::Index>(column)) != 0 ? 1.f : 0.f;
  }
  return out;
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

std::vector<std::uint8_t> label_column(const LabelMatrix& labels, std::size_t column) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(labels.rows()));
  for (Eigen::Index r = 0; r < labels.rows(); ++r) {
    out[static_cast<std::size_t>(r)] = labels(r, static_cast<Eigen::Index>(column));
  }
  return out;
}

Device parse_device(std::string_view text) {
  if (text == "cpu") return Device::kCpu;
  if (text == "cuda") return Device::kCuda;
  if (text == "auto") return Device::kAuto;
  throw InvalidArgument("device '" + std::string(text) + "': expected cpu, cuda or auto");
}

std::string to_string(Device device) {
  switch (device) {
    case Device::kCpu:
      return "cpu";
    case Device::kCuda:
      return "cuda";
    case Device::kAuto:
      return "auto";
  }
  return "cpu";
}

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
// XGBoost's log messages while unused_xgboost_params() listens (the C API takes a plain
// function); at other times they go to stderr, as XGBoost's own logger sends them.
std::mutex log_mutex;
std::atomic<std::string*> log_sink = nullptr;

void capture_log(const char* message) {
  if (std::string* sink = log_sink.load(); sink != nullptr) {
    sink->append(message).push_back('\n');
  } else {
    std::fprintf(stderr, "%s\n", message);
  }
}

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

std::vector<std::string> unused_xgboost_params(const XgbParams& params) {
  XgbParams probe = engine_params(Device::kCpu, 1);
  for (const auto& [key, value] : params) probe[key] = value;
  probe["validate_parameters"] = "1";
  probe["verbosity"] = "1";  // warnings: the validation speaks through the log

  std::string log;
  {
    const std::lock_guard lock(log_mutex);
    MOODBOOST_XGB_CHECK(XGBRegisterLogCallback(capture_log));
    // The sink is cleared on every way out, an XgbError from the round included.
    struct Listen {
      explicit Listen(std::string* sink) { log_sink = sink; }
      ~Listen() { log_sink = nullptr; }
      Listen(const Listen&) = delete;
      Listen& operator=(const Listen&) = delete;
    } listen(&log);
    probe_round(probe);
  }
  return names_in_unused_warning(log);
}

ScalePosWeight parse_scale_pos_weight(std::string_view text) {
  if (text == "none") return ScalePosWeight::kNone;
  if (text == "sqrt") return ScalePosWeight::kSqrt;
  if (text == "ratio") return ScalePosWeight::kRatio;
  throw InvalidArgument("scale_pos_weight mode '" + std::string(text) +
                        "': expected none, sqrt or ratio");
}

std::string to_string(ScalePosWeight mode) {
  switch (mode) {
    case ScalePosWeight::kNone:
      return "none";
    case ScalePosWeight::kSqrt:
      return "sqrt";
    case ScalePosWeight::kRatio:
      return "ratio";
  }
  return "none";
}

double scale_pos_weight_value(ScalePosWeight mode, std::size_t positives, std::size_t negatives) {
  if (positives == 0 || mode == ScalePosWeight::kNone) return 1.0;
  const double ratio = static_cast<double>(negatives) / static_cast<double>(positives);
  return mode == ScalePosWeight::kSqrt ? std::sqrt(ratio) : ratio;
}

ThreadStrategy parse_thread_strategy(std::string_view text) {
  if (text == "auto") return ThreadStrategy::kAuto;
  if (text == "per-tag") return ThreadStrategy::kPerTag;
  if (text == "tags-in-parallel") return ThreadStrategy::kTagsInParallel;
  throw InvalidArgument("thread strategy '" + std::string(text) +
                        "': expected auto, per-tag or tags-in-parallel");
}

std::string to_string(ThreadStrategy strategy) {
  switch (strategy) {
    case ThreadStrategy::kAuto:
      return "auto";
    case ThreadStrategy::kPerTag:
      return "per-tag";
    case ThreadStrategy::kTagsInParallel:
      return "tags-in-parallel";
  }
  return "auto";
}

BoostOptions default_boost_options() {
  BoostOptions options;
  options.params = {{"max_depth", "4"},          {"eta", "0.1"},       {"max_bin", "64"},
                    {"colsample_bytree", "0.5"}, {"subsample", "0.8"}, {"min_child_weight", "1"},
                    {"reg_lambda", "1"}};
  options.max_rounds = 300;
  options.early_stopping = 20;
  options.eval_metric = "aucpr";
  options.scale_pos_weight = ScalePosWeight::kNone;
  return options;
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

struct Trainer::Impl {
  // One worker's matrices. The label lives in the DMatrix, so tags trained at the same time
  // need their own copies; tags trained one after another share one (and its gradient index).
  struct Slot {
    xgb::DMatrixPtr train;
    xgb::DMatrixPtr validation;
  };

  const FeatureMatrix* train_x = nullptr;
  const FeatureMatrix* validation_x = nullptr;
  Device device = Device::kCpu;
  int threads = 1;
  ThreadStrategy strategy = ThreadStrategy::kPerTag;
  std::vector<Slot> slots;

  int booster_threads() const { return strategy == ThreadStrategy::kTagsInParallel ? 1 : threads; }

  void ensure_slots(std::size_t count) {
    while (slots.size() < count) {
      Slot slot;
      slot.train = xgb::make_dmatrix(train_x->data(), static_cast<std::size_t>(train_x->rows()),
                                     static_cast<std::size_t>(train_x->cols()), threads);
      if (validation_x != nullptr) {
        slot.validation =
            xgb::make_dmatrix(validation_x->data(), static_cast<std::size_t>(validation_x->rows()),
                              static_cast<std::size_t>(validation_x->cols()), threads);
      }
      slots.push_back(std::move(slot));
    }
  }

  TagFit fit_one(Slot& slot, const LabelMatrix& train_labels, const LabelMatrix* validation_labels,
                 const TagJob& job, const BoostOptions& options, const FitHooks& hooks,
                 const std::atomic<bool>& abort) const;
};

namespace {

// The early-stopping state of one tag, as XGBoost's own EarlyStopping callback keeps it: the
// first round with the best score wins ties (a later equal score is no improvement).
struct EarlyStopping {
  bool maximize = true;
  int patience = 0;
  int best_round = -1;
  double best_score = std::numeric_limits<double>::quiet_NaN();

  // Returns true when training should stop after \p round.
  bool update(int round, double score) {
    const bool better = best_round < 0 || (maximize ? score > best_score : score < best_score);
    if (better) {
      best_round = round;
      best_score = score;
    }
    return patience > 0 && round - best_round >= patience;
  }
};

}  // namespace

TagFit Trainer::Impl::fit_one(Slot& slot, const LabelMatrix& train_labels,
                              const LabelMatrix* validation_labels, const TagJob& job,
                              const BoostOptions& options, const FitHooks& hooks,
                              const std::atomic<bool>& abort) const {
  const auto start = Clock::now();
  TagFit fit;
  fit.tag = job.tag;
  fit.column = job.column;

  const std::vector<float> y_train = float_labels(train_labels, job.column);
  fit.positives = count_positives(y_train);
  fit.negatives = y_train.size() - fit.positives;
  xgb::set_labels(slot.train.get(), y_train);

  bool can_validate = false;
  std::vector<std::uint8_t> valid_bytes;
  if (slot.validation && validation_labels != nullptr) {
    valid_bytes = label_column(*validation_labels, job.column);
    const std::vector<float> y_valid = float_labels(*validation_labels, job.column);
    const std::size_t valid_positives = count_positives(y_valid);
    xgb::set_labels(slot.validation.get(), y_valid);
    // Ranking metrics are undefined without both classes: such a tag trains without early
    // stopping and reports NaN (documented policy).
    can_validate = valid_positives > 0 && valid_positives < y_valid.size();
  }

  std::vector<DMatrixHandle> cached{slot.train.get()};
  if (slot.validation) cached.push_back(slot.validation.get());
  xgb::Booster booster(cached);

  const ScalePosWeight mode = job.scale_pos_weight.value_or(options.scale_pos_weight);
  fit.scale_pos_weight = scale_pos_weight_value(mode, fit.positives, fit.negatives);
  XgbParams params = engine_params(device, booster_threads());
  params["seed"] = std::to_string(options.seed);
  params["scale_pos_weight"] = param_number(fit.scale_pos_weight);
  const bool xgb_metric = options.eval_metric != "ap";
  if (xgb_metric) params["eval_metric"] = options.eval_metric;
  for (const auto& [key, value] : options.params) params[key] = value;
  for (const auto& [key, value] : job.params) params[key] = value;
  if (auto it = params.find("scale_pos_weight"); it != params.end()) {
    fit.scale_pos_weight = std::strtod(it->second.c_str(), nullptr);
  }
  for (const auto& [key, value] : params) booster.set_param(key, value);

  const bool fixed_rounds = job.rounds > 0;
  const int max_rounds = fixed_rounds ? job.rounds : options.max_rounds;
  EarlyStopping stopping{metric_maximize(options.eval_metric),
                         fixed_rounds ? 0 : options.early_stopping};
  const bool evaluate_each_round = can_validate && !fixed_rounds && options.early_stopping > 0;
  const std::string metric_name = "validation-" + options.eval_metric;

  auto evaluate = [&](int round) -> double {
    if (xgb_metric) {
      return xgb::parse_eval(booster.eval(round, slot.validation.get(), "validation"), metric_name);
    }
    // Exact average precision (metrics module) of this round's predictions; XGBoost serves
    // them from its per-matrix prediction cache, so each round costs one tree's worth.
    const std::vector<float> predicted = booster.predict(slot.validation.get());
    const std::vector<double> scores(predicted.begin(), predicted.end());
    return average_precision(scores, valid_bytes);
  };

  int round = 0;
  for (; round < max_rounds; ++round) {
    if (abort.load() || (hooks.stop_requested && hooks.stop_requested())) {
      throw TrainingInterrupted("training interrupted during tag '" + job.tag + "'");
    }
    booster.update(round, slot.train.get());
    if (hooks.on_round) hooks.on_round(job.tag, round);
    if (evaluate_each_round && stopping.update(round, evaluate(round))) {
      ++round;
      fit.early_stopped = round < max_rounds;
      break;
    }
  }
  fit.rounds_trained = round;
  const int keep = evaluate_each_round ? stopping.best_round + 1 : fit.rounds_trained;
  fit.best_iteration = keep - 1;

  xgb::Booster kept = booster.slice(0, keep);
  kept.set_param("nthread", std::to_string(booster_threads()));
  kept.set_attr("moodboost_tag", job.tag);
  kept.set_attr("best_iteration", std::to_string(fit.best_iteration));
  fit.model_json = kept.save_json();

  if (slot.validation) {
    const std::vector<float> scores = kept.predict(slot.validation.get());
    fit.validation_scores.assign(scores.begin(), scores.end());
  }
  if (evaluate_each_round) {
    fit.best_score = stopping.best_score;
  } else if (can_validate) {
    fit.best_score = evaluate(fit.best_iteration);
  } else {
    fit.best_score = std::numeric_limits<double>::quiet_NaN();
  }
  fit.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return fit;
}

Trainer::Trainer(const FeatureMatrix& train, const FeatureMatrix* validation,
                 const EngineOptions& engine)
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
  if (engine.device == Device::kAuto) {
    throw InvalidArgument("Trainer needs a resolved device (cpu or cuda): call resolve_device()");
  }
  impl_->train_x = &train;
  impl_->validation_x = validation;
  impl_->device = engine.device;
  impl_->threads = engine.threads > 0 ? engine.threads : all_cores();
  impl_->strategy =
      engine.strategy == ThreadStrategy::kAuto ? default_thread_strategy() : engine.strategy;
  // One GPU trains one tag at a time with every CPU thread feeding it.
  if (impl_->device == Device::kCuda || impl_->threads == 1) {
    impl_->strategy = ThreadStrategy::kPerTag;
  }
  impl_->ensure_slots(1);
}

Trainer::~Trainer() = default;

ThreadStrategy Trainer::strategy() const noexcept { return impl_->strategy; }
int Trainer::threads() const noexcept { return impl_->threads; }

std::vector<TagFit> Trainer::fit(const LabelMatrix& train_labels,
                                 const LabelMatrix* validation_labels, std::span<const TagJob> jobs,
                                 const BoostOptions& options, const FitHooks& hooks) {
  if (train_labels.rows() != impl_->train_x->rows()) {
    throw InvalidArgument("the training labels have " + std::to_string(train_labels.rows()) +
                          " rows, the training matrix " + std::to_string(impl_->train_x->rows()));
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
  }

  std::vector<TagFit> fits(jobs.size());
  if (jobs.empty()) return fits;
  const std::size_t workers = impl_->strategy == ThreadStrategy::kTagsInParallel
                                  ? std::min(jobs.size(), static_cast<std::size_t>(impl_->threads))
                                  : 1;
  impl_->ensure_slots(workers);

  std::atomic<std::size_t> next{0};
  std::atomic<bool> abort{false};
  std::mutex done_mutex;
  std::exception_ptr first_error;
  auto work = [&](std::size_t worker) {
    try {
      for (std::size_t i = next++; i < jobs.size() && !abort.load(); i = next++) {
        TagFit fit = impl_->fit_one(impl_->slots[worker], train_labels, validation_labels, jobs[i],
                                    options, hooks, abort);
        std::lock_guard lock(done_mutex);
        if (hooks.on_tag_done) hooks.on_tag_done(fit);
        fits[i] = std::move(fit);
      }
    } catch (...) {
      std::lock_guard lock(done_mutex);
      if (!first_error) first_error = std::current_exception();
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
  if (first_error) std::rethrow_exception(first_error);
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
  impl_->booster.set_param("nthread", std::to_string(threads > 0 ? threads : all_cores()));
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
  const auto dmat = xgb::make_dmatrix(features.data(), static_cast<std::size_t>(features.rows()),
                                      static_cast<std::size_t>(features.cols()),
                                      threads > 0 ? threads : all_cores());
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
