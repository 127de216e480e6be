// bench_train: training speed and quality on the full-scale synthetic set, all measured in one run.
//
//   bench_train --data DIR [--tags-limit N] [--threads N] [--parts 1,2,3,4] [--cache DIR]
//   (DIR defaults to $MOODBOOST_SYNTH_FULL: a `moodboost synth --tracks 17982` output with
//   features/, splits/*-{train,validation}.tsv and tags.txt)
//
// 1. Engineering, identical parameters (hist, max_depth 6, eta 0.1, 100 rounds, max_bin 256):
//    moodboost (shared matrices, its thread strategy) vs the naive loop (a fresh DMatrix per tag,
//    XGBoost's own threading). Wall time, ratio (target <= 0.85), max |prediction difference|.
// 2. Frontier: moodboost's default CPU settings (features --covariance upper --drop-constant,
//    default_boost_options() with early stopping) vs XGBoost's defaults (full features, max_depth
//    6, eta 0.3, max_bin 256, 100 rounds): wall time ratio (target <= 0.35) and validation
//    PR-AUC-macro difference (target >= -0.005).
// 3. moodboost's defaults with --device cuda, when the linked XGBoost has CUDA.
// 4. (not in the default --parts) the CPU thread strategies, per-tag vs tags-in-parallel, on the
//    same work, alternated twice; models must be identical.
// Wall and CPU seconds are both printed: on a shared machine the CPU seconds show the work.
//
// The test split is never loaded. A plain program (not a Google Benchmark fixture): each part
// runs once, minutes long, and prints its figures.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "detail/labels.hpp"
#include "detail/xgb.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/features.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/train.hpp"
#include "moodboost/version.hpp"

namespace fs = std::filesystem;
using namespace moodboost;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  fs::path data;
  std::size_t tags_limit = 0;
  int threads = 0;
  std::string parts = "1,2,3";
  fs::path cache;
};

struct Data {
  FeatureMatrix train_x, valid_x;
  LabelMatrix train_y, valid_y;
  std::vector<std::string> tags;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU seconds (user + system) of this process so far: on a shared machine, where wall time
// depends on the neighbours, CPU time shows the work done.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

Data load(const Args& args, bool moodboost_features) {
  const SplitFiles files = find_split_files(args.data / "splits", false);
  SplitFiles no_test{files.train, files.validation, {}};
  const SplitSet set = load_split_set(no_test, args.data / "tags.txt");
  FeatureOptions options;
  options.cache_dir = args.cache;
  options.threads = args.threads;
  if (moodboost_features) {
    options.covariance = CovarianceColumns::kUpperTriangle;
    options.drop_constant = true;
  }
  auto paths = [](const Split& split) {
    std::vector<std::string> rel, ids;
    for (const Track& t : split.tracks) {
      rel.push_back(feature_relpath(t).string());
      ids.push_back(t.track_id);
    }
    return std::pair(rel, ids);
  };
  const auto start = Clock::now();
  const auto [train_rel, train_ids] = paths(set.train);
  const auto [valid_rel, valid_ids] = paths(set.validation);
  LoadedFeatures train = load_features(args.data / "features", train_rel, train_ids, options);
  LoadedFeatures valid =
      load_features(args.data / "features", valid_rel, valid_ids, options, &train.schema);
  Data data{std::move(train.matrix), std::move(valid.matrix), set.labels(set.train),
            set.labels(set.validation), set.tags};
  fmt::print(
      "features ({}): {} + {} rows x {} columns, loaded in {:.1f} s\n",
      moodboost_features ? "moodboost defaults: --covariance upper --drop-constant" : "all columns",
      data.train_x.rows(), data.valid_x.rows(), data.train_x.cols(), seconds_since(start));
  return data;
}

std::vector<TagJob> jobs_for(const Data& data, std::size_t limit) {
  std::vector<TagJob> jobs;
  for (std::size_t t = 0; t < data.tags.size() && (limit == 0 || jobs.size() < limit); ++t) {
    TagJob job;
    job.column = t;
    job.tag = data.tags[t];
    jobs.push_back(std::move(job));
  }
  return jobs;
}

double pr_auc_macro_of(const Data& data, const std::vector<std::vector<double>>& scores,
                       const std::vector<TagJob>& jobs) {
  double sum = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    sum += average_precision(scores[i], detail::label_column(data.valid_y, jobs[i].column));
  }
  return sum / static_cast<double>(jobs.size());
}

// The naive loop: per tag, fresh training and validation DMatrix objects (the quantile sketch
// and gradient index are rebuilt every time), XGBoost's own threading, every round kept.
std::vector<std::vector<double>> naive_loop(const Data& data, const std::vector<TagJob>& jobs,
                                            const XgbParams& params, int rounds, int threads) {
  namespace xgb = detail::xgb;
  std::vector<std::vector<double>> out;
  for (const TagJob& job : jobs) {
    auto dtrain =
        xgb::make_dmatrix(data.train_x.data(), data.train_x.rows(), data.train_x.cols(), threads);
    auto dvalid =
        xgb::make_dmatrix(data.valid_x.data(), data.valid_x.rows(), data.valid_x.cols(), threads);
    std::vector<float> labels(static_cast<std::size_t>(data.train_y.rows()));
    for (Eigen::Index r = 0; r < data.train_y.rows(); ++r) {
      labels[static_cast<std::size_t>(r)] = data.train_y(r, static_cast<Eigen::Index>(job.column));
    }
    xgb::set_labels(dtrain.get(), labels);
    const DMatrixHandle cached[] = {dtrain.get()};
    xgb::Booster booster(cached);
    for (const auto& [key, value] : params) booster.set_param(key, value);
    for (int round = 0; round < rounds; ++round) booster.update(round, dtrain.get());
    const std::vector<float> scores = booster.predict(dvalid.get());
    out.emplace_back(scores.begin(), scores.end());
  }
  return out;
}

XgbParams with_engine(XgbParams params, int threads) {
  for (const auto& [key, value] : engine_params(Device::kCpu, threads)) params.emplace(key, value);
  params["seed"] = "0";
  params["scale_pos_weight"] = "1";
  return params;
}

std::vector<std::vector<double>> scores_of(const std::vector<TagFit>& fits) {
  std::vector<std::vector<double>> out;
  for (const TagFit& fit : fits) out.push_back(fit.validation_scores);
  return out;
}

void part_engineering(const Data& data, const Args& args, int threads) {
  const auto jobs = jobs_for(data, args.tags_limit);
  fmt::print(
      "\n[1] engineering: hist, max_depth 6, eta 0.1, 100 rounds, max_bin 256, {} tags, "
      "{} threads\n",
      jobs.size(), threads);
  const XgbParams params{{"max_depth", "6"}, {"eta", "0.1"}, {"max_bin", "256"}};
  auto start = Clock::now();
  double cpu = cpu_seconds();
  const auto naive = naive_loop(data, jobs, with_engine(params, threads), 100, threads);
  const double naive_s = seconds_since(start);
  const double naive_cpu = cpu_seconds() - cpu;
  fmt::print("  naive loop: {:.1f} s wall ({:.1f} s/tag), {:.1f} s CPU\n", naive_s,
             naive_s / jobs.size(), naive_cpu);

  BoostOptions options;
  options.params = params;
  // XGBoost's own start (moodboost starts from the tag's prior): the same models as the loop.
  options.params["base_score"] = "0.5";
  options.max_rounds = 100;
  options.early_stopping = 0;
  start = Clock::now();
  cpu = cpu_seconds();
  Trainer trainer(data.train_x, &data.valid_x, {Device::kCpu, threads, ThreadStrategy::kAuto});
  const auto fits = trainer.fit(data.train_y, &data.valid_y, jobs, options);
  const double ours_s = seconds_since(start);
  const double ours_cpu = cpu_seconds() - cpu;
  double max_diff = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    for (std::size_t r = 0; r < naive[i].size(); ++r) {
      max_diff = std::max(max_diff, std::abs(naive[i][r] - fits[i].validation_scores[r]));
    }
  }
  fmt::print("  moodboost ({}): {:.1f} s wall ({:.1f} s/tag), {:.1f} s CPU\n",
             to_string(trainer.strategy()), ours_s, ours_s / jobs.size(), ours_cpu);
  fmt::print("  ratio moodboost/naive: {:.3f} wall (target <= 0.85), {:.3f} CPU\n",
             ours_s / naive_s, ours_cpu / naive_cpu);
  fmt::print("  validation predictions: max |difference| = {:.3g} ({})\n", max_diff,
             max_diff == 0 ? "identical" : "DIFFERENT");
  fmt::print("  validation PR-AUC-macro: naive {:.4f}, moodboost {:.4f}\n",
             pr_auc_macro_of(data, naive, jobs), pr_auc_macro_of(data, scores_of(fits), jobs));
}

double run_defaults(const Data& data, const Args& args, Device device, int threads, double* pr_auc,
                    double* cpu_used = nullptr) {
  const auto jobs = jobs_for(data, args.tags_limit);
  const auto start = Clock::now();
  const double cpu = cpu_seconds();
  Trainer trainer(data.train_x, &data.valid_x, {device, threads, ThreadStrategy::kAuto});
  const auto fits = trainer.fit(data.train_y, &data.valid_y, jobs, default_boost_options());
  const double seconds = seconds_since(start);
  if (cpu_used != nullptr) *cpu_used = cpu_seconds() - cpu;
  *pr_auc = pr_auc_macro_of(data, scores_of(fits), jobs);
  double rounds = 0;
  for (const auto& fit : fits) rounds += fit.rounds_trained;
  fmt::print(
      "  moodboost defaults ({}, {}): {:.1f} s, validation PR-AUC-macro {:.4f}, mean rounds "
      "trained {:.1f}\n",
      to_string(device), to_string(trainer.strategy()), seconds, *pr_auc,
      rounds / static_cast<double>(fits.size()));
  return seconds;
}

void part_frontier(const Data& full, const Data& ours, const Args& args, int threads) {
  const auto jobs = jobs_for(full, args.tags_limit);
  fmt::print("\n[2] frontier: moodboost defaults vs XGBoost defaults, {} tags, {} threads\n",
             jobs.size(), threads);
  const XgbParams xgb_defaults{{"max_depth", "6"}, {"eta", "0.3"}, {"max_bin", "256"}};
  auto start = Clock::now();
  const double cpu = cpu_seconds();
  BoostOptions options;
  options.params = xgb_defaults;
  options.params["base_score"] = "0.5";  // XGBoost's default start
  options.max_rounds = 100;
  options.early_stopping = 0;
  Trainer trainer(full.train_x, &full.valid_x, {Device::kCpu, threads, ThreadStrategy::kAuto});
  const auto fits = trainer.fit(full.train_y, &full.valid_y, jobs, options);
  const double xgb_s = seconds_since(start);
  const double xgb_cpu = cpu_seconds() - cpu;
  const double xgb_pr = pr_auc_macro_of(full, scores_of(fits), jobs);
  fmt::print(
      "  XGBoost defaults (all columns, 100 rounds): {:.1f} s wall, {:.1f} s CPU, "
      "validation PR-AUC-macro {:.4f}\n",
      xgb_s, xgb_cpu, xgb_pr);
  double ours_pr = 0, ours_cpu = 0;
  const double ours_s = run_defaults(ours, args, Device::kCpu, threads, &ours_pr, &ours_cpu);
  fmt::print("  moodboost defaults: {:.1f} s CPU\n", ours_cpu);
  fmt::print(
      "  time ratio: {:.3f} wall (target <= 0.35), {:.3f} CPU; PR-AUC-macro difference: "
      "{:+.4f} (target >= -0.005)\n",
      ours_s / xgb_s, ours_cpu / xgb_cpu, ours_pr - xgb_pr);
}

// The two CPU thread strategies on the same work (moodboost's default parameters, a fixed
// number of rounds so both do the same work), run alternately to even out the neighbours' load.
void part_strategies(const Data& ours, const Args& args, int threads) {
  const auto jobs = jobs_for(ours, args.tags_limit);
  BoostOptions options = default_boost_options();
  options.max_rounds = 60;
  options.early_stopping = 0;
  fmt::print("\n[4] thread strategies: {} tags x {} rounds, moodboost parameters, {} threads\n",
             jobs.size(), options.max_rounds, threads);
  std::vector<std::string> models[2];
  for (int repeat = 0; repeat < 2; ++repeat) {
    for (int s = 0; s < 2; ++s) {
      const ThreadStrategy strategy =
          s == 0 ? ThreadStrategy::kPerTag : ThreadStrategy::kTagsInParallel;
      const auto start = Clock::now();
      const double cpu = cpu_seconds();
      Trainer trainer(ours.train_x, &ours.valid_x, {Device::kCpu, threads, strategy});
      const auto fits = trainer.fit(ours.train_y, &ours.valid_y, jobs, options);
      fmt::print("  {:<17} {:.1f} s wall, {:.1f} s CPU\n", to_string(strategy),
                 seconds_since(start), cpu_seconds() - cpu);
      models[s].clear();
      for (const auto& fit : fits) models[s].push_back(fit.model_json);
    }
  }
  fmt::print("  models identical across strategies: {}\n", models[0] == models[1] ? "yes" : "NO");
}

void part_cuda(const Data& ours, const Args& args, int threads) {
  fmt::print("\n[3] --device cuda\n");
  if (!xgboost_has_cuda()) {
    fmt::print(
        "  skipped: the linked XGBoost {} has no CUDA (build against a CUDA XGBoost, "
        "CMAKE_PREFIX_PATH)\n",
        xgboost_version());
    return;
  }
  double pr = 0;
  (void)run_defaults(ours, args, Device::kCuda, threads, &pr);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured
  Args args;
  if (const char* env = std::getenv("MOODBOOST_SYNTH_FULL")) args.data = env;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "bench_train: {} needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data") {
      args.data = value();
    } else if (a == "--tags-limit") {
      args.tags_limit = std::stoul(value());
    } else if (a == "--threads") {
      args.threads = std::stoi(value());
    } else if (a == "--parts") {
      args.parts = value();
    } else if (a == "--cache") {
      args.cache = value();
    } else {
      fmt::print(stderr,
                 "usage: bench_train --data DIR [--tags-limit N] [--threads N] [--parts 1,2,3] "
                 "[--cache DIR]\n");
      return 2;
    }
  }
  if (args.data.empty()) {
    fmt::print(stderr, "bench_train: give --data DIR or set MOODBOOST_SYNTH_FULL\n");
    return 2;
  }
  const int threads =
      args.threads > 0 ? args.threads : static_cast<int>(std::thread::hardware_concurrency());
  fmt::print("bench_train: {} (XGBoost {}{}), {} threads\n", args.data.string(), xgboost_version(),
             xgboost_has_cuda() ? ", CUDA" : "", threads);
  const auto total = Clock::now();
  try {
    const bool need_full =
        args.parts.find('1') != std::string::npos || args.parts.find('2') != std::string::npos;
    auto has = [&](char part) { return args.parts.find(part) != std::string::npos; };
    const bool need_ours = has('2') || has('3') || has('4');
    Data full, ours;
    if (need_full) full = load(args, false);
    if (need_ours) ours = load(args, true);
    if (args.parts.find('1') != std::string::npos) part_engineering(full, args, threads);
    if (args.parts.find('2') != std::string::npos) part_frontier(full, ours, args, threads);
    if (args.parts.find('3') != std::string::npos) part_cuda(ours, args, threads);
    if (args.parts.find('4') != std::string::npos) part_strategies(ours, args, threads);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_train: {}\n", e.what());
    return 1;
  }
  fmt::print("\ntotal wall time {:.1f} s\n", seconds_since(total));
  return 0;
}
