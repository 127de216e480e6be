// Paired bootstrap speed at the MediaEval test-set shape (4231 tracks x 56 tags, 1000 resamples),
// for one and two systems and 1 or 2 threads. Target: a few seconds on 2 cores.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "moodboost/bootstrap.hpp"

namespace {

using moodboost::LabelMatrix;
using moodboost::ScoreMatrix;

struct Data {
  LabelMatrix truth;
  std::vector<ScoreMatrix> systems;
};

// Labels at the real test set's mean prevalence (3.2%) and noisy informative scores.
const Data& data() {
  static const Data d = [] {
    constexpr Eigen::Index kRows = 4231, kTags = 56;
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(0, 1);
    Data out{LabelMatrix(kRows, kTags), {}};
    for (Eigen::Index r = 0; r < kRows; ++r) {
      for (Eigen::Index t = 0; t < kTags; ++t) out.truth(r, t) = u(rng) < 0.032 ? 1 : 0;
    }
    for (int s = 0; s < 2; ++s) {
      ScoreMatrix scores(kRows, kTags);
      for (Eigen::Index r = 0; r < kRows; ++r) {
        for (Eigen::Index t = 0; t < kTags; ++t) scores(r, t) = u(rng) + 0.3 * out.truth(r, t);
      }
      out.systems.push_back(std::move(scores));
    }
    return out;
  }();
  return d;
}

void BM_PairedBootstrap(benchmark::State& state) {
  const auto systems = static_cast<std::size_t>(state.range(0));
  moodboost::BootstrapOptions options;
  options.resamples = 1000;
  options.threads = static_cast<int>(state.range(1));
  std::vector<const ScoreMatrix*> inputs;
  for (std::size_t s = 0; s < systems; ++s) inputs.push_back(&data().systems[s]);
  for (auto _ : state) {
    auto result = moodboost::paired_bootstrap(data().truth, inputs, options);
    benchmark::DoNotOptimize(result);
  }
  const double cells = static_cast<double>(data().truth.size()) * static_cast<double>(systems) *
                       static_cast<double>(options.resamples);
  state.counters["cells/s"] =
      benchmark::Counter(cells, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PairedBootstrap)
    ->ArgNames({"systems", "threads"})
    ->Args({1, 1})
    ->Args({1, 2})
    ->Args({2, 1})
    ->Args({2, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
