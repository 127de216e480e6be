// bench_loader: throughput, cached reload and peak memory of the feature loader.
//
//   bench_loader [--features DIR] [--repetitions N] [--skip-memory] [Google Benchmark flags]
//
// DIR holds NN/<id>.json feature files (every such file is loaded, in sorted order). Without
// --features, $MOODBOOST_BENCH_FEATURES is used; without either, the full-scale synthetic set is
// generated once with `moodboost synth --out $TMPDIR/moodboost-bench-synth` (the program beside
// this one) and reused by later runs.
//
// In one run, on the same files and the same warm page cache, it measures at 1 and 2 threads:
// - ceiling:       parse_files_noop(): the same file claiming, read path, buffers and RapidJSON
//                  flags as the loader, with a SAX handler that does nothing;
// - load_schema:   load_features() with a saved schema (prediction);
// - load_discover: load_features() discovering the schema (training);
// and cached_reload (load_features() answered from its binary cache), then prints the ratios
// against the targets (loader >= 75% of the ceiling, cached reload >= 20x faster than parsing).
// Peak memory is measured in a fresh process per configuration (this program re-run in a child
// mode): VmHWM from /proc/self/status against the final matrix size (target <= 1.3x).
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "moodboost/error.hpp"
#include "moodboost/features.hpp"

namespace fs = std::filesystem;
using namespace moodboost;

namespace {

struct Files {
  fs::path dir;
  std::vector<std::string> relpaths;
  std::uintmax_t bytes = 0;
};

Files g_files;
FeatureSchema g_schema;
fs::path g_cache_dir;
// Benchmark name -> wall seconds and process CPU seconds (user + system, all threads) per run.
std::map<std::string, std::vector<double>> g_seconds;
std::map<std::string, std::vector<double>> g_cpu_seconds;

// Every NN/<id>.json under \p dir, sorted.
Files list_files(const fs::path& dir) {
  Files f;
  f.dir = dir;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    const fs::path rel = fs::relative(e.path(), dir);
    if (std::distance(rel.begin(), rel.end()) != 2) continue;
    f.relpaths.push_back(rel.string());
    f.bytes += e.file_size();
  }
  std::sort(f.relpaths.begin(), f.relpaths.end());
  return f;
}

fs::path self_path() { return fs::read_symlink("/proc/self/exe"); }

// The features directory: --features, $MOODBOOST_BENCH_FEATURES, or a generated synthetic set.
fs::path resolve_features(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("MOODBOOST_BENCH_FEATURES"); env != nullptr && *env != '\0')
    return env;
  const fs::path out = fs::temp_directory_path() / "moodboost-bench-synth";
  auto features_of = [](const fs::path& root) {
    return fs::is_directory(root / "features") ? root / "features" : root;
  };
  if (fs::exists(out / ".complete")) return features_of(out);
  const fs::path synth = self_path().parent_path() / "moodboost";
  const std::string cmd = fmt::format("'{}' synth --out '{}'", synth.string(), out.string());
  fmt::print(stderr, "bench_loader: generating the synthetic feature set: {}\n", cmd);
  if (std::system(cmd.c_str()) != 0) {
    throw Error("could not generate the synthetic set (" + cmd +
                "); pass --features DIR or set MOODBOOST_BENCH_FEATURES");
  }
  std::ofstream(out / ".complete") << "ok\n";
  return features_of(out);
}

std::vector<std::string> row_ids() { return g_files.relpaths; }

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

struct Timing {
  double wall = 0;
  double cpu = 0;
};

void record(benchmark::State& state, const std::string& name, Timing t) {
  g_seconds[name].push_back(t.wall);
  g_cpu_seconds[name].push_back(t.cpu);
  state.SetIterationTime(t.wall);
}

void set_counters(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(g_files.bytes));
  state.counters["files/s"] = benchmark::Counter(static_cast<double>(g_files.relpaths.size()),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

template <typename F>
Timing timed(F&& f) {
  const double cpu = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  f();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          cpu_seconds() - cpu};
}

void bm_ceiling(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::uintmax_t bytes = 0;
    const Timing s =
        timed([&] { bytes = parse_files_noop(g_files.dir, g_files.relpaths, threads); });
    benchmark::DoNotOptimize(bytes);
    record(state, fmt::format("ceiling/{}", threads), s);
  }
  set_counters(state);
}

void bm_load(benchmark::State& state, bool discover) {
  FeatureOptions options;
  options.threads = static_cast<int>(state.range(0));
  const auto ids = row_ids();
  for (auto _ : state) {
    LoadedFeatures loaded;
    const Timing s = timed([&] {
      loaded = load_features(g_files.dir, g_files.relpaths, ids, options,
                             discover ? nullptr : &g_schema);
    });
    benchmark::DoNotOptimize(loaded.matrix.data());
    record(state, fmt::format("{}/{}", discover ? "load_discover" : "load_schema", options.threads),
           s);
  }
  set_counters(state);
}

void bm_cached_reload(benchmark::State& state) {
  FeatureOptions options;
  options.threads = 1;
  options.cache_dir = g_cache_dir;
  const auto ids = row_ids();
  (void)load_features(g_files.dir, g_files.relpaths, ids, options, &g_schema);  // writes the cache
  for (auto _ : state) {
    LoadedFeatures loaded;
    const Timing s = timed(
        [&] { loaded = load_features(g_files.dir, g_files.relpaths, ids, options, &g_schema); });
    if (loaded.report.cache != CacheStatus::kHit) {
      state.SkipWithError("the cache was not used");
      break;
    }
    benchmark::DoNotOptimize(loaded.matrix.data());
    record(state, "cached_reload", s);
  }
  set_counters(state);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()
             ? 0
             : (v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

void print_summary() {
  const double n = static_cast<double>(g_files.relpaths.size());
  const double mb = static_cast<double>(g_files.bytes) / 1e6;
  fmt::print("\n=== bench_loader summary: {} files, {:.1f} MB in {} ===\n", g_files.relpaths.size(),
             mb, g_files.dir.string());
  fmt::print("(median of the repetitions; CPU = user + system time of all threads)\n");
  fmt::print("{:<15} {:>7} {:>9} {:>8} {:>8} {:>8} {:>13}\n", "configuration", "threads", "files/s",
             "MB/s", "wall s", "CPU s", "files/CPU-s");
  for (const auto& [name, secs] : g_seconds) {
    const double m = median(secs);
    const double c = median(g_cpu_seconds[name]);
    const auto slash = name.find('/');
    fmt::print("{:<15} {:>7} {:>9.0f} {:>8.1f} {:>8.3f} {:>8.3f} {:>13.0f}\n",
               name.substr(0, slash), slash == std::string::npos ? "-" : name.substr(slash + 1),
               n / m, mb / m, m, c, n / c);
  }
  for (const int t : {1, 2}) {
    const auto ceiling = fmt::format("ceiling/{}", t);
    for (const char* kind : {"load_schema", "load_discover"}) {
      const auto load = fmt::format("{}/{}", kind, t);
      if (g_seconds[ceiling].empty() || g_seconds[load].empty()) continue;
      fmt::print(
          "{} at {} thread(s): {:.1f}% of the ceiling's throughput (target >= 75%); by CPU time "
          "{:.1f}%\n",
          kind, t, 100.0 * median(g_seconds[ceiling]) / median(g_seconds[load]),
          100.0 * median(g_cpu_seconds[ceiling]) / median(g_cpu_seconds[load]));
    }
  }
  const double cached = median(g_seconds["cached_reload"]);
  for (const int t : {1, 2}) {
    for (const char* kind : {"load_schema", "load_discover"}) {
      const double parse = median(g_seconds[fmt::format("{}/{}", kind, t)]);
      if (cached > 0 && parse > 0) {
        fmt::print("cached reload: {:.0f}x faster than {} on {} thread(s) (target >= 20x)\n",
                   parse / cached, kind, t);
      }
    }
  }
}

// --- peak memory, one fresh process per configuration -------------------------------------

long status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0)
      return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
  }
  return -1;
}

// Child mode: one load, then its memory figures on stdout.
int run_child(const std::string& mode, int threads, const fs::path& schema_file) {
  const long baseline_kb = status_kb("VmRSS:");
  FeatureOptions options;
  options.threads = threads;
  if (mode == "cached") options.cache_dir = g_cache_dir;
  FeatureSchema schema;
  if (mode != "discover") schema = FeatureSchema::load(schema_file);
  const auto ids = row_ids();
  const LoadedFeatures loaded = load_features(g_files.dir, g_files.relpaths, ids, options,
                                              mode == "discover" ? nullptr : &schema);
  if (mode == "cached" && loaded.report.cache != CacheStatus::kHit) {
    std::fprintf(stderr, "bench_loader: expected a cache hit, got %s\n",
                 std::string(to_string(loaded.report.cache)).c_str());
    return 1;
  }
  const long hwm_kb = status_kb("VmHWM:");
  std::printf("%ld %ld %lld\n", baseline_kb, hwm_kb,
              static_cast<long long>(loaded.matrix.size()) * static_cast<long long>(sizeof(float)));
  return 0;
}

void measure_memory(const fs::path& schema_file) {
  fmt::print("\n=== peak memory (fresh process per configuration; VmHWM vs final matrix) ===\n");
  fmt::print("{:<28} {:>12} {:>12} {:>12} {:>8}\n", "configuration", "matrix MB", "VmHWM MB",
             "start RSS MB", "ratio");
  const std::vector<std::pair<std::string, int>> configs = {
      {"discover", 1}, {"discover", 2}, {"schema", 2}, {"cached", 1}};
  for (const auto& [mode, threads] : configs) {
    const std::string cmd = fmt::format(
        "'{}' --child {} --threads {} --features '{}' --cache-dir '{}' --schema-file '{}'",
        self_path().string(), mode, threads, g_files.dir.string(), g_cache_dir.string(),
        schema_file.string());
    std::FILE* pipe = ::popen(cmd.c_str(), "r");
    long baseline = 0, hwm = 0;
    long long matrix = 0;
    const bool ok =
        pipe != nullptr && std::fscanf(pipe, "%ld %ld %lld", &baseline, &hwm, &matrix) == 3;
    if (pipe != nullptr) ::pclose(pipe);
    if (!ok) {
      fmt::print("{:<28} failed: {}\n", mode, cmd);
      continue;
    }
    const double matrix_mb = static_cast<double>(matrix) / 1e6;
    const double hwm_mb = static_cast<double>(hwm) * 1024 / 1e6;
    fmt::print("{:<28} {:>12.1f} {:>12.1f} {:>12.1f} {:>7.3f}x\n",
               fmt::format("{} ({} thread(s))", mode, threads), matrix_mb, hwm_mb,
               static_cast<double>(baseline) * 1024 / 1e6, hwm_mb / matrix_mb);
  }
  fmt::print("target: VmHWM <= 1.3x the matrix\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string features_flag, child_mode, schema_file_flag, cache_flag;
  int child_threads = 1;
  int repetitions = 3;
  bool skip_memory = false;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--features") {
      features_flag = value();
    } else if (a == "--child") {
      child_mode = value();
    } else if (a == "--threads") {
      child_threads = std::atoi(value().c_str());
    } else if (a == "--schema-file") {
      schema_file_flag = value();
    } else if (a == "--cache-dir") {
      cache_flag = value();
    } else if (a == "--repetitions") {
      repetitions = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--skip-memory") {
      skip_memory = true;
    } else {
      rest.push_back(argv[i]);
    }
  }
  try {
    g_files = list_files(resolve_features(features_flag));
    if (g_files.relpaths.empty()) throw Error("no NN/<id>.json files in " + g_files.dir.string());
    if (!child_mode.empty()) {
      g_cache_dir = cache_flag;
      return run_child(child_mode, child_threads, schema_file_flag);
    }
    g_cache_dir = fs::temp_directory_path() / fmt::format("moodboost-bench-cache-{}", ::getpid());
    fs::create_directories(g_cache_dir);
    const fs::path schema_file = g_cache_dir / "schema.json";

    fmt::print(stderr,
               "bench_loader: {} files, {:.1f} MB; warming the page cache and saving the schema\n",
               g_files.relpaths.size(), static_cast<double>(g_files.bytes) / 1e6);
    (void)parse_files_noop(g_files.dir, g_files.relpaths, 2);
    FeatureOptions options;
    options.threads = 2;
    g_schema = load_features(g_files.dir, g_files.relpaths, row_ids(), options).schema;
    g_schema.save(schema_file);

    int rest_argc = static_cast<int>(rest.size());
    benchmark::Initialize(&rest_argc, rest.data());
    // Each iteration is a whole pass over the files: one iteration per repetition.
    for (const int t : {1, 2}) {
      benchmark::RegisterBenchmark("ceiling", bm_ceiling)
          ->Arg(t)
          ->Iterations(1)
          ->Repetitions(repetitions)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark("load_schema", [](benchmark::State& s) { bm_load(s, false); })
          ->Arg(t)
          ->Iterations(1)
          ->Repetitions(repetitions)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark("load_discover", [](benchmark::State& s) { bm_load(s, true); })
          ->Arg(t)
          ->Iterations(1)
          ->Repetitions(repetitions)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark("cached_reload", bm_cached_reload)
        ->Iterations(1)
        ->Repetitions(repetitions)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    print_summary();
    if (!skip_memory) measure_memory(schema_file);
    fs::remove_all(g_cache_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_loader: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
