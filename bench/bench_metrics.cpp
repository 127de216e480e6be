// The full MediaEval evaluation (10 metrics: ROC-AUC, PR-AUC, precision, recall, F, macro and
// micro) on seeded synthetic matrices of the test split's shape (4231 x 56) and larger.
// Target: 4231 x 56 in under 20 ms on one core. Single-threaded: the metrics use no OpenMP.
// Rates (rows/s, scores/s) are per CPU second, the fair figure on a shared machine; compare the
// Time and CPU columns to see how busy the machine was.
//
//   build/bin/bench_metrics --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "moodboost/metrics.hpp"

namespace {

using namespace moodboost;

constexpr Eigen::Index kTags = 56;
constexpr double kPrevalence = 0.03;  // the test split's mean prevalence is 0.0319

// Labels at ~3% prevalence; continuous scores (all distinct: the longest curves) shifted up for
// positives; decisions at a fixed cut.
struct Problem {
  LabelMatrix truth;
  ScoreMatrix scores;
  LabelMatrix decisions;
};

Problem make_problem(Eigen::Index rows) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  Problem p{LabelMatrix(rows, kTags), ScoreMatrix(rows, kTags), LabelMatrix(rows, kTags)};
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (Eigen::Index c = 0; c < kTags; ++c) {
      const bool positive = r < 2 ? r == 0 : uniform(rng) < kPrevalence;
      p.truth(r, c) = positive ? 1 : 0;
      p.scores(r, c) = 0.5 * uniform(rng) + (positive ? 0.2 * uniform(rng) : 0.0);
      p.decisions(r, c) = p.scores(r, c) > 0.45 ? 1 : 0;
    }
  }
  return p;
}

void set_counters(benchmark::State& state, Eigen::Index rows) {
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["scores/s"] = benchmark::Counter(static_cast<double>(rows * kTags),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Evaluate(benchmark::State& state) {
  const Eigen::Index rows = state.range(0);
  const Problem p = make_problem(rows);
  for (auto _ : state) {
    Evaluation ev = evaluate(p.truth, p.scores, p.decisions);
    benchmark::DoNotOptimize(ev);
  }
  set_counters(state, rows);
}
BENCHMARK(BM_Evaluate)->Arg(4231)->Arg(100000)->Unit(benchmark::kMillisecond)->Threads(1);

void BM_FitThresholds(benchmark::State& state) {
  const Eigen::Index rows = state.range(0);
  const Problem p = make_problem(rows);
  for (auto _ : state) {
    std::vector<double> thresholds = fit_thresholds(p.truth, p.scores);
    benchmark::DoNotOptimize(thresholds);
  }
  set_counters(state, rows);
}
BENCHMARK(BM_FitThresholds)->Arg(4231)->Unit(benchmark::kMillisecond)->Threads(1);

// For comparison: std::sort of the micro problem's scores alone (4231 x 56 doubles), which is what
// a comparison sort would cost before any metric is computed.
void BM_StdSortMicroScores(benchmark::State& state) {
  const Problem p = make_problem(state.range(0));
  const std::vector<double> scores(p.scores.data(), p.scores.data() + p.scores.size());
  std::vector<double> work;
  for (auto _ : state) {
    work = scores;
    std::sort(work.begin(), work.end(), std::greater<>());
    benchmark::DoNotOptimize(work.data());
  }
  set_counters(state, state.range(0));
}
BENCHMARK(BM_StdSortMicroScores)->Arg(4231)->Unit(benchmark::kMillisecond)->Threads(1);

}  // namespace

BENCHMARK_MAIN();
