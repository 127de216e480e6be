// moodboost synth: feature files per second, without I/O (one file's JSON text) and written to a
// directory (atomic writes, one syncfs) with 1 and 2 threads. Target: the full set (17,982 files,
// ~1.1 GB) well under a minute on 2 cores, i.e. more than ~600 files/s with 2 threads.
// Rates are per wall second (the writer is I/O-bound in part).
//
//   build/bin/bench_synth --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "moodboost/synth.hpp"

namespace {

using namespace moodboost;

std::vector<Track> small_set(std::size_t tracks) {
  SynthSplitOptions options;
  options.tracks = tracks;
  const SynthSplitSet set = generate_synthetic_splits(options);
  std::vector<Track> out;
  for (const auto& split : set.splits) out.insert(out.end(), split.begin(), split.end());
  return out;
}

void BM_SynthFeatureJson(benchmark::State& state) {
  const std::vector<Track> tracks = small_set(400);
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string json = synthetic_feature_json(tracks[i++ % tracks.size()], kDefaultSynthSeed);
    bytes += json.size();
    benchmark::DoNotOptimize(json.data());
  }
  state.counters["files/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["MB/s"] =
      benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SynthFeatureJson);

void BM_SynthWriteFeatures(benchmark::State& state) {
  const std::vector<Track> tracks = small_set(2000);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("moodboost-bench-synth-" + std::to_string(std::random_device{}()));
  SynthFeatureOptions options;
  options.threads = static_cast<int>(state.range(0));
  std::uintmax_t bytes = 0;
  for (auto _ : state) bytes += write_synthetic_features(dir, tracks, options).bytes;
  std::filesystem::remove_all(dir);
  state.counters["files/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * tracks.size()), benchmark::Counter::kIsRate);
  state.counters["MB/s"] =
      benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SynthWriteFeatures)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
