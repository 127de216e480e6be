// bench_loader: throughput, cached reload and peak memory of the feature loader.
//
//   bench_loader [--features DIR] [--max-files N] [--repetitions N] [--pairs N] [--skip-memory]
//                [Google Benchmark flags]
//
// DIR holds NN/<id>.json feature files (every such file is loaded, in sorted order; the first N
// with --max-files). Without
// --features, $MOODBOOST_BENCH_FEATURES is used; without either, the full-scale synthetic set is
// generated once with `moodboost synth --out $TMPDIR/moodboost-bench-synth` (the program beside
// this one) and reused by later runs.
//
// In one run, on the same files and the same warm page cache, it measures wall time at 1 and 2
// threads:
// - bare_parse:    the ceiling, written here without the library: a bare in-situ RapidJSON SAX
//                  parse with default flags (kParseInsituFlag only), one reused buffer per thread,
//                  a handler that only counts numbers, built with the same flags as the library;
// - load_schema:   load_features() with a saved schema (prediction);
// - load_discover: load_features() discovering the schema (training);
// - bare_store:    a second reference, not a target: the bare parse converting every number to
//                  float and storing it into a fresh files x columns matrix (what the bare parse
//                  adds to give a matrix: the conversion and the output memory; the loader reads
//                  numbers with its own scanner, in fewer instructions than RapidJSON's);
// - flatten:       the whole `moodboost flatten` command (the program beside this one: split TSV,
//                  schema discovery, matrix, .npy (fsync'd) and names written), one process per
//                  run, each writing a new output file (the previous run's is removed untimed);
// and cached_reload (load_features() answered from its binary cache), then prints the ratios
// against the targets (the loader >= 85% of the bare parse's throughput, the whole flatten
// <= 1.5x the bare parse's time, cached reload >= 20x faster than parsing), from the medians of
// the repetitions (5 by default, run in random order) and from the best runs, and then from paired
// runs (--pairs rounds of bare, X, X, bare: each run against the bare run beside it, so that a slow
// spell of a shared machine falls on both sides of a ratio).
// Peak memory is measured in a fresh process per configuration (this program re-run in a child
// mode): VmHWM from /proc/self/status against the final matrix size (target <= 1.3x).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <rapidjson/reader.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
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

// Every NN/<id>.json under \p dir, sorted; the first \p max_files of them when it is not 0.
Files list_files(const fs::path& dir, std::size_t max_files) {
  Files f;
  f.dir = dir;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    const fs::path rel = fs::relative(e.path(), dir);
    if (std::distance(rel.begin(), rel.end()) != 2) continue;
    f.relpaths.push_back(rel.string());
  }
  std::sort(f.relpaths.begin(), f.relpaths.end());
  if (max_files != 0 && f.relpaths.size() > max_files) f.relpaths.resize(max_files);
  for (const auto& rel : f.relpaths) f.bytes += fs::file_size(dir / rel);
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

// User + system CPU seconds of this process (RUSAGE_SELF) or of its waited-for children.
double cpu_seconds(int who = RUSAGE_SELF) {
  rusage usage{};
  ::getrusage(who, &usage);
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

// --- the ceiling: a bare in-situ SAX parse, no library code ------------------------------------

struct CountNumbers : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, CountNumbers> {
  std::size_t numbers = 0;
  void start_row(float*) {}
  bool Int(int) { return ++numbers, true; }
  bool Uint(unsigned) { return ++numbers, true; }
  bool Int64(std::int64_t) { return ++numbers, true; }
  bool Uint64(std::uint64_t) { return ++numbers, true; }
  bool Double(double) { return ++numbers, true; }
};

// A second reference, not a target: what the bare parse must add to give a matrix, converting
// every number to float and storing it, one after the other, into the file's row of a freshly
// allocated files x columns matrix (numbers past the last column all land in it). No key
// lookup, no checks: the gap between it and the bare parse is the conversion and the output
// memory, which the ceiling above does not pay for (its compiler drops the unused conversion).
struct StoreNumbers : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, StoreNumbers> {
  static inline std::size_t columns = 1;
  std::size_t numbers = 0;
  float* row = nullptr;
  void start_row(float* r) { row = r; }
  bool store(float v) {
    row[numbers < columns ? numbers : columns - 1] = v;
    return ++numbers, true;
  }
  bool Int(int i) { return store(static_cast<float>(i)); }
  bool Uint(unsigned u) { return store(static_cast<float>(u)); }
  bool Int64(std::int64_t i) { return store(static_cast<float>(i)); }
  bool Uint64(std::uint64_t u) { return store(static_cast<float>(u)); }
  bool Double(double d) { return store(static_cast<float>(d)); }
};

// Reads every file into one reused buffer per thread (openat on the open directory, as the
// loader does) and parses it in situ with RapidJSON's default flags. Returns the numbers counted.
template <typename Handler = CountNumbers>
std::size_t bare_parse(int threads) {
  // StoreNumbers writes into a new matrix, as the loader does (allocated, not touched: the
  // kernel hands out zeroed pages on first write); CountNumbers writes nothing.
  std::unique_ptr<float[]> matrix;
  if constexpr (!std::is_same_v<Handler, CountNumbers>) {
    const std::size_t bytes = g_files.relpaths.size() * StoreNumbers::columns * sizeof(float);
    matrix.reset(new float[bytes / sizeof(float)]);
    // Transparent huge pages where the kernel gives them on request, as the loader asks.
    const auto page = static_cast<std::uintptr_t>(2) << 20;
    const auto begin = (reinterpret_cast<std::uintptr_t>(matrix.get()) + page - 1) & ~(page - 1);
    const auto end = (reinterpret_cast<std::uintptr_t>(matrix.get()) + bytes) & ~(page - 1);
    if (end > begin) (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }
  const int dir_fd = ::open(g_files.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) throw Error("bare_parse: cannot open " + g_files.dir.string());
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> numbers{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    std::vector<char> buffer;
    rapidjson::Reader reader;
    std::size_t counted = 0;
    for (std::size_t i = next++; i < g_files.relpaths.size(); i = next++) {
      const int fd = ::openat(dir_fd, g_files.relpaths[i].c_str(), O_RDONLY | O_CLOEXEC);
      struct stat st {};
      if (fd < 0 || ::fstat(fd, &st) != 0) {
        failed = true;
        if (fd >= 0) ::close(fd);
        continue;
      }
      const auto size = static_cast<std::size_t>(st.st_size);
      if (buffer.size() < size + 1) buffer.resize(size + 1);
      std::size_t got = 0;
      for (ssize_t n = 0; got < size && (n = ::read(fd, buffer.data() + got, size - got)) > 0;)
        got += static_cast<std::size_t>(n);
      ::close(fd);
      buffer[got] = '\0';
      Handler handler;
      handler.start_row(matrix ? matrix.get() + i * StoreNumbers::columns : nullptr);
      rapidjson::InsituStringStream stream(buffer.data());
      if (!reader.Parse<rapidjson::kParseInsituFlag>(stream, handler)) failed = true;
      counted += handler.numbers;
    }
    numbers += counted;
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  ::close(dir_fd);
  if (failed) throw Error("bare_parse: a file could not be read or parsed");
  return numbers;
}

template <typename Handler>
void bm_bare_parse(benchmark::State& state, const char* name) {
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::size_t numbers = 0;
    const Timing s = timed([&] { numbers = bare_parse<Handler>(threads); });
    benchmark::DoNotOptimize(numbers);
    record(state, fmt::format("{}/{}", name, threads), s);
  }
  set_counters(state);
}

// --- the whole flatten command ------------------------------------------------------------------

fs::path g_split_tsv;

// A split TSV listing every file (the flatten command reads feature paths from splits).
fs::path write_split(const fs::path& dir) {
  const fs::path tsv = dir / "bench-split.tsv";
  std::ofstream out(tsv);
  out << "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\n";
  for (std::size_t i = 0; i < g_files.relpaths.size(); ++i) {
    const std::string& rel = g_files.relpaths[i];
    out << "track_" << i << "\tartist_" << i << "\talbum_" << i << '\t'
        << rel.substr(0, rel.size() - 5) << ".mp3\t200.0\tmood/theme---happy\n";
  }
  if (!out) throw Error("cannot write " + tsv.string());
  return tsv;
}

// One run of the whole `moodboost flatten` command (the program beside this one). Throws when it
// fails.
Timing run_flatten(int threads) {
  const fs::path program = self_path().parent_path() / "moodboost";
  const std::string cmd = fmt::format(
      "'{}' flatten --features '{}' --split '{}' --out '{}' --names '{}' --threads {} 2>/dev/null",
      program.string(), g_files.dir.string(), g_split_tsv.string(),
      (g_cache_dir / "flat.npy").string(), (g_cache_dir / "flat.txt").string(), threads);
  // Each run writes a new file: replacing the previous run's 200 MB output would add the file
  // system's freeing of it to the time (about 60 ms on ext4), which is not flatten's work.
  std::error_code ec;
  fs::remove(g_cache_dir / "flat.npy", ec);
  const double cpu = cpu_seconds(RUSAGE_CHILDREN);
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(cmd.c_str());
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (status != 0) throw Error("flatten failed: " + cmd);
  return {wall, cpu_seconds(RUSAGE_CHILDREN) - cpu};
}

// One load_features() of every file, with the saved schema or discovering one.
Timing run_load(int threads, bool discover) {
  FeatureOptions options;
  options.threads = threads;
  const auto ids = row_ids();
  LoadedFeatures loaded;
  const Timing t = timed([&] {
    loaded =
        load_features(g_files.dir, g_files.relpaths, ids, options, discover ? nullptr : &g_schema);
  });
  benchmark::DoNotOptimize(loaded.matrix.data());
  return t;
}

void bm_flatten(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    try {
      record(state, fmt::format("flatten/{}", threads), run_flatten(threads));
    } catch (const Error& e) {
      state.SkipWithError(e.what());
      break;
    }
  }
  set_counters(state);
}

void bm_load(benchmark::State& state, bool discover) {
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    record(state, fmt::format("{}/{}", discover ? "load_discover" : "load_schema", threads),
           run_load(threads, discover));
  }
  set_counters(state);
}

// --- paired runs ------------------------------------------------------------------------------
// The targets are ratios to the bare parse. On a shared machine a slow spell lasts longer than a
// run and only ever adds time, so medians taken over separate runs compare runs from different
// spells. Here the ceiling and a configuration alternate as A B B A, and each run is compared
// with the ceiling run beside it: the ratio of two runs made seconds apart.
std::map<std::string, std::vector<double>> g_paired;  // "load_schema/1" -> ratios

void run_pairs(int rounds) {
  if (rounds <= 0) return;
  fmt::print(stderr, "bench_loader: paired runs ({} rounds of bare, X, X, bare)\n", rounds);
  for (const int t : {1, 2}) {
    const auto bare = [t] { return timed([t] { (void)bare_parse<CountNumbers>(t); }).wall; };
    // bare_store too: under the same pairing, what converting and storing the numbers costs.
    for (const std::string config : {"bare_store", "load_schema", "load_discover", "flatten"}) {
      const auto run = [&] {
        if (config == "bare_store") return timed([t] { (void)bare_parse<StoreNumbers>(t); }).wall;
        return config == "flatten" ? run_flatten(t).wall
                                   : run_load(t, config == "load_discover").wall;
      };
      auto& ratios = g_paired[fmt::format("{}/{}", config, t)];
      for (int r = 0; r < rounds; ++r) {
        const double b1 = bare(), x1 = run(), x2 = run(), b2 = bare();
        // loads: throughput relative to the bare parse; flatten: time relative to it.
        ratios.push_back(config == "flatten" ? x1 / b1 : b1 / x1);
        ratios.push_back(config == "flatten" ? x2 / b2 : b2 / x2);
      }
    }
  }
}

void bm_cached_reload(benchmark::State& state) {
  FeatureOptions options;
  options.threads = static_cast<int>(state.range(0));  // the cache is read and hashed in blocks
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
    record(state, fmt::format("cached_reload/{}", options.threads), s);
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
  // The targets compare medians; on a shared machine, where other work only ever adds time, the
  // best run of each configuration is shown beside them.
  const auto best = [](const std::vector<double>& v) {
    return *std::min_element(v.begin(), v.end());
  };
  for (const int t : {1, 2}) {
    const auto ceiling = fmt::format("bare_parse/{}", t);
    if (g_seconds[ceiling].empty()) continue;
    const double bare = median(g_seconds[ceiling]);
    const double bare_best = best(g_seconds[ceiling]);
    for (const char* kind : {"load_schema", "load_discover"}) {
      const auto load = fmt::format("{}/{}", kind, t);
      if (g_seconds[load].empty()) continue;
      fmt::print(
          "{} at {} thread(s): {:.1f}% of the bare parse's throughput by wall time (target >= "
          "85%); by CPU time {:.1f}%; best runs {:.1f}%\n",
          kind, t, 100.0 * bare / median(g_seconds[load]),
          100.0 * median(g_cpu_seconds[ceiling]) / median(g_cpu_seconds[load]),
          100.0 * bare_best / best(g_seconds[load]));
      const auto store = fmt::format("bare_store/{}", t);
      if (!g_seconds[store].empty()) {
        fmt::print(
            "  ({:.1f}% of bare_store's throughput, the parse that converts and stores every "
            "number; best runs {:.1f}%)\n",
            100.0 * median(g_seconds[store]) / median(g_seconds[load]),
            100.0 * best(g_seconds[store]) / best(g_seconds[load]));
      }
    }
    const auto store = fmt::format("bare_store/{}", t);
    if (!g_seconds[store].empty()) {
      fmt::print(
          "bare_store at {} thread(s): {:.1f}% of the bare parse's throughput (best runs "
          "{:.1f}%): converting and storing the numbers alone\n",
          t, 100.0 * bare / median(g_seconds[store]), 100.0 * bare_best / best(g_seconds[store]));
    }
    const auto flatten = fmt::format("flatten/{}", t);
    if (!g_seconds[flatten].empty()) {
      fmt::print(
          "flatten at {} thread(s): {:.2f}x the bare parse's wall time (target <= 1.5x); best "
          "runs {:.2f}x\n",
          t, median(g_seconds[flatten]) / bare, best(g_seconds[flatten]) / bare_best);
    }
  }
  if (!g_paired.empty()) {
    fmt::print(
        "\npaired runs (each run against the bare parse run next to it; median and range):\n");
    for (const auto& [name, ratios] : g_paired) {
      const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
      const bool flatten = name.rfind("flatten", 0) == 0;
      if (flatten) {
        fmt::print(
            "  {:<16} {:.2f}x the bare parse's wall time ({:.2f}x-{:.2f}x, {} pairs; target "
            "<= 1.5x)\n",
            name, median(ratios), *lo, *hi, ratios.size());
      } else {
        fmt::print(
            "  {:<16} {:.1f}% of the bare parse's throughput ({:.1f}%-{:.1f}%, {} pairs; {})\n",
            name, 100.0 * median(ratios), 100.0 * *lo, 100.0 * *hi, ratios.size(),
            name.rfind("bare_store", 0) == 0 ? "a reference, not a target" : "target >= 85%");
      }
    }
  }
  for (const int t : {1, 2}) {
    // Both at the same thread count: the cache is read and hashed on the threads too.
    const double cached = median(g_seconds[fmt::format("cached_reload/{}", t)]);
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
  int repetitions = 5;
  int pairs = 3;
  std::size_t max_files = 0;
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
    } else if (a == "--pairs") {
      pairs = std::max(0, std::atoi(value().c_str()));
    } else if (a == "--max-files") {
      max_files = static_cast<std::size_t>(std::max(0L, std::atol(value().c_str())));
    } else if (a == "--skip-memory") {
      skip_memory = true;
    } else if (a == "--help" || a == "-h") {
      // Before anything is read or generated: the usage is the comment at the top of this file.
      std::printf(
          "usage: bench_loader [--features DIR] [--max-files N] [--repetitions N] "
          "[--skip-memory] [Google Benchmark flags]\n"
          "  --features DIR    NN/<id>.json feature files (default $MOODBOOST_BENCH_FEATURES, "
          "else the\n"
          "                    synthetic set generated once in $TMPDIR/moodboost-bench-synth)\n"
          "  --max-files N     only the first N files in sorted order\n"
          "  --repetitions N   runs of each configuration, in random order (default 5)\n"
          "  --pairs N         rounds of paired runs (bare, X, X, bare) per configuration and "
          "thread\n"
          "                    count, each run against the bare run beside it (default 3; 0: "
          "none)\n"
          "  --skip-memory     leave out the peak-memory runs\n"
          "Google Benchmark's own flags follow (e.g. --benchmark_filter=load):\n");
      rest.push_back(argv[i]);
      int rest_argc = static_cast<int>(rest.size());
      benchmark::Initialize(&rest_argc, rest.data());  // prints its flags and exits
      return 0;
    } else {
      rest.push_back(argv[i]);
    }
  }
  try {
    g_files = list_files(resolve_features(features_flag), max_files);
    if (g_files.relpaths.empty()) throw Error("no NN/<id>.json files in " + g_files.dir.string());
    if (!child_mode.empty()) {
      g_cache_dir = cache_flag;
      return run_child(child_mode, child_threads, schema_file_flag);
    }
    g_cache_dir = fs::temp_directory_path() / fmt::format("moodboost-bench-cache-{}", ::getpid());
    fs::create_directories(g_cache_dir);
    const fs::path schema_file = g_cache_dir / "schema.json";
    g_split_tsv = write_split(g_cache_dir);

    fmt::print(stderr,
               "bench_loader: {} files, {:.1f} MB; warming the page cache and saving the schema\n",
               g_files.relpaths.size(), static_cast<double>(g_files.bytes) / 1e6);
    (void)bare_parse<CountNumbers>(2);
    FeatureOptions options;
    options.threads = 2;
    g_schema = load_features(g_files.dir, g_files.relpaths, row_ids(), options).schema;
    g_schema.save(schema_file);
    StoreNumbers::columns = g_schema.size();

    // The repetitions of all configurations run in random order, so that a slow spell of a shared
    // machine spreads over them instead of falling on one (--benchmark_enable_random_interleaving
    // =false turns it off).
    std::string interleave = "--benchmark_enable_random_interleaving=true";
    rest.insert(rest.begin() + 1, interleave.data());
    int rest_argc = static_cast<int>(rest.size());
    benchmark::Initialize(&rest_argc, rest.data());
    // Each iteration is a whole pass over the files: one iteration per repetition.
    const auto add = [repetitions](const char* name, int threads, auto run) {
      benchmark::RegisterBenchmark(name, run)
          ->Arg(threads)
          ->Iterations(1)
          ->Repetitions(repetitions)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    };
    for (const int t : {1, 2}) {
      add("bare_parse", t,
          [](benchmark::State& s) { bm_bare_parse<CountNumbers>(s, "bare_parse"); });
      add("bare_store", t,
          [](benchmark::State& s) { bm_bare_parse<StoreNumbers>(s, "bare_store"); });
      add("load_schema", t, [](benchmark::State& s) { bm_load(s, false); });
      add("load_discover", t, [](benchmark::State& s) { bm_load(s, true); });
      add("flatten", t, bm_flatten);
      add("cached_reload", t, bm_cached_reload);
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    run_pairs(pairs);
    print_summary();
    if (!skip_memory) measure_memory(schema_file);
    fs::remove_all(g_cache_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_loader: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
