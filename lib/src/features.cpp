#include "moodboost/features.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <set>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "detail/feature_cache.hpp"
#include "detail/feature_parser.hpp"
#include "detail/file_buffer.hpp"
#include "detail/hash64.hpp"
#include "detail/threads.hpp"
#include "moodboost/error.hpp"

namespace moodboost {
namespace fs = std::filesystem;

namespace {

// The marker `moodboost synth` writes beside its feature files.
constexpr const char* kSyntheticMarker = "moodboost-synthetic.json";
// Files parsed to discover the schema before the full pass.
constexpr std::size_t kDiscoverySample = 16;
// Missing paths named in the error message.
constexpr std::size_t kMissingExamples = 5;

// AcousticBrainz/gaia "basic" preprocessing (SCHEMA.md section 5), matched against field names.
constexpr const char* kBasicPresetExcludes[] = {"*dmean*",
                                                "*dvar*",
                                                "*.min",
                                                "*.max",
                                                "*cov",
                                                "tonal.thpcp",
                                                "lowlevel.spectral_energyband_high.*",
                                                "lowlevel.silence_rate*"};

// The threads for \p files files: at most one per core and one per file (detail/threads.hpp).
int resolve_threads(int requested, std::size_t files = std::numeric_limits<std::size_t>::max()) {
  if (requested < 0)
    throw InvalidArgument("threads must be >= 0 (0 = all cores), got " + std::to_string(requested));
#ifdef _OPENMP
  return detail::usable_threads(requested, files);
#else
  (void)files;
  return 1;
#endif
}

bool glob_match(const std::string& pattern, const std::string& text) {
  return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

// A pattern matches a column when it matches its name, its field's name or its descriptor's
// ("lowlevel.mfcc.cov.3.7", "lowlevel.mfcc.cov", "lowlevel.mfcc").
bool matches_any(const std::vector<std::string>& patterns, const Column& column,
                 const std::string& field) {
  const std::string descriptor = column.section + "." + column.descriptor;
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
    return glob_match(p, column.name) || glob_match(p, field) || glob_match(p, descriptor);
  });
}

std::string policy_text(const FeatureOptions& o, bool with_selection) {
  std::string s;
  if (with_selection) {
    s += "covariance=";
    s += o.covariance == CovarianceColumns::kFull            ? "full"
         : o.covariance == CovarianceColumns::kUpperTriangle ? "upper"
                                                             : "none";
    s += " basic=" + std::to_string(o.basic_preset);
    s += " include=[";
    for (const auto& p : o.include) s += p + "\x1f";
    s += "] exclude=[";
    for (const auto& p : o.exclude) s += p + "\x1f";
    s += "] drop_constant=" + std::to_string(o.drop_constant);
    s += " summarize_beats=" + std::to_string(o.summarize_beats) + " ";
  }
  s += "non_finite=";
  s += o.non_finite == NonFinitePolicy::kAccept ? "accept" : "reject";
  s += " shape=";
  s += o.shape_mismatch == ShapePolicy::kError ? "error" : "missing";
  s += " missing_files=";
  s += o.missing_files == MissingFilePolicy::kError ? "error" : "skip";
  s += " max_file_bytes=" + std::to_string(o.max_file_bytes);
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// What one parallel pass over the files found.
struct PassResult {
  std::size_t files = 0;
  std::uintmax_t bytes = 0;
  std::size_t nonfinite = 0;
  std::size_t mismatches = 0;
  std::size_t nan_cells = 0;
  std::map<std::string, std::size_t> unknown;  // field -> files
  std::vector<std::size_t> rows_with_new_fields;
  std::vector<detail::FileStamp> stamps;  // as read (per matrix row)
  std::vector<std::size_t> missing;       // rows whose file does not exist (missing_ok), sorted
  float* data = nullptr;                  // the target's allocation the rows were parsed into
};

// Keeps the exception of the lowest row index among those thrown by the workers.
class FirstError {
 public:
  void record(std::size_t index, std::exception_ptr e) {
    std::lock_guard lock(mutex_);
    if (!error_ || index < index_) {
      error_ = std::move(e);
      index_ = index;
    }
    failed_.store(true, std::memory_order_relaxed);
  }
  [[nodiscard]] bool failed() const noexcept { return failed_.load(std::memory_order_relaxed); }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
  std::size_t index_ = 0;
  std::atomic<bool> failed_{false};
};

// The stamp of a file that does not exist.
const detail::FileStamp kMissingStamp{detail::CacheKey::kMissingSize, 0, 0, 0};

// Files handed to a worker at a time: small enough to balance the threads, large enough that the
// shared counter is not contended.
constexpr std::size_t kFilesPerClaim = 8;

// Reads every file of \p files on \p threads OpenMP threads, each with its own buffer and state:
// make_state() once per thread, work(state, i, buffer, stamp) per file, merge(state) once per
// thread (serialised). Files are claimed from a shared counter (a dynamic schedule without a
// worksharing construct, so a thread that fails early cannot leave the others waiting). The
// exception of the lowest file index is rethrown after the parallel region; none escapes it.
// With \p missing_ok, a file that does not exist is handed to work() with the stamp
// kMissingStamp (its size CacheKey::kMissingSize) and the buffer as it was.
template <typename MakeState, typename Work, typename Merge>
void for_each_file(const detail::Directory& dir, const std::vector<std::string>& files, int threads,
                   std::uintmax_t max_file_bytes, const ProgressFn& progress, MakeState make_state,
                   Work work, Merge merge, bool missing_ok = false) {
  FirstError error;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex merge_mutex;
  const std::size_t n = files.size();
#pragma omp parallel num_threads(threads)
  {
    try {
      auto state = make_state();
      detail::FileBuffer buffer;
      for (;;) {
        const std::size_t begin = next.fetch_add(kFilesPerClaim, std::memory_order_relaxed);
        if (begin >= n || error.failed()) break;
        const std::size_t end = std::min(n, begin + kFilesPerClaim);
        for (std::size_t i = begin; i < end; ++i) {
          try {
            detail::FileStamp stamp;
            if (missing_ok) {
              if (!buffer.read_if_exists(dir, files[i], max_file_bytes, stamp))
                stamp = kMissingStamp;
            } else {
              stamp = buffer.read(dir, files[i], max_file_bytes);
            }
            work(state, i, buffer, stamp);
          } catch (...) {
            error.record(i, std::current_exception());
            break;
          }
        }
        const std::size_t finished =
            done.fetch_add(end - begin, std::memory_order_relaxed) + (end - begin);
        if (progress && (finished % 64 < kFilesPerClaim || finished == n)) progress(finished, n);
      }
      std::lock_guard lock(merge_mutex);
      merge(state);
    } catch (...) {
      error.record(0, std::current_exception());  // per-thread setup failed (out of memory)
    }
  }
  error.rethrow();
}

// Parses files[i] into row i of \p target's new files.size() x schema.size() allocation. With
// \p missing_ok, a file that does not exist leaves its row NaN and is listed in `missing`.
PassResult parse_pass(const detail::Directory& dir, const std::vector<std::string>& files,
                      const FeatureSchema& schema, const FeatureOptions& options, int threads,
                      MatrixTarget& target, bool discovering, bool missing_ok) {
  const detail::CompiledSchema compiled(schema);
  const std::size_t cols = schema.size();
  float* const data = target.allocate(files.size(), cols);
  PassResult total;
  total.stamps.resize(files.size());
  struct State {
    State(const detail::CompiledSchema& c, const FeatureOptions& o)
        : parser(c, o.non_finite, o.shape_mismatch) {}
    detail::RowParser parser;
    detail::RowResult row;
    PassResult found;
  };
  for_each_file(
      dir, files, threads, options.max_file_bytes, options.progress,
      [&] { return std::make_unique<State>(compiled, options); },
      [&](std::unique_ptr<State>& s, std::size_t i, detail::FileBuffer& buffer,
          const detail::FileStamp& stamp) {
        total.stamps[i] = stamp;
        float* out = data + i * cols;
        PassResult& local = s->found;
        if (stamp.size == detail::CacheKey::kMissingSize) {
          std::fill(out, out + cols, std::numeric_limits<float>::quiet_NaN());
          local.missing.push_back(i);
          return;
        }
        if (!s->parser.parse(buffer, files[i], out, s->row)) {
          // The in-situ parse failed and overwrote the bytes: read them again for the error.
          total.stamps[i] = buffer.read(dir, files[i], options.max_file_bytes);
          s->parser.reparse(buffer, files[i], out, s->row);
        }
        ++local.files;
        local.bytes += buffer.size();
        local.nonfinite += s->row.nonfinite_values;
        local.mismatches += s->row.shape_mismatches;
        local.nan_cells += static_cast<std::size_t>(
            std::count_if(out, out + cols, [](float v) { return std::isnan(v); }));
        if (!s->row.unknown_fields.empty()) {
          auto& names = s->row.unknown_fields;
          std::sort(names.begin(), names.end());
          names.erase(std::unique(names.begin(), names.end()), names.end());
          for (const auto& name : names) ++local.unknown[name];
          if (discovering && s->row.new_section_fields) local.rows_with_new_fields.push_back(i);
        }
      },
      [&](std::unique_ptr<State>& s) {
        const PassResult& local = s->found;
        total.files += local.files;
        total.bytes += local.bytes;
        total.nonfinite += local.nonfinite;
        total.mismatches += local.mismatches;
        total.nan_cells += local.nan_cells;
        for (const auto& [name, count] : local.unknown) total.unknown[name] += count;
        total.rows_with_new_fields.insert(total.rows_with_new_fields.end(),
                                          local.rows_with_new_fields.begin(),
                                          local.rows_with_new_fields.end());
        total.missing.insert(total.missing.end(), local.missing.begin(), local.missing.end());
      },
      missing_ok);
  std::sort(total.rows_with_new_fields.begin(), total.rows_with_new_fields.end());
  std::sort(total.missing.begin(), total.missing.end());
  total.data = data;
  return total;
}

// The stamp of every file (size kMissingSize when it does not exist), on \p threads threads.
std::vector<detail::FileStamp> stat_files(const detail::Directory& dir,
                                          const std::vector<std::string>& files, int threads) {
  std::vector<detail::FileStamp> stamps(files.size());
  FirstError error;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(files.size()); ++i) {
    const auto k = static_cast<std::size_t>(i);
    try {
      if (!dir.stat(files[k], stamps[k]))
        stamps[k] = detail::FileStamp{detail::CacheKey::kMissingSize, 0};
    } catch (...) {
      error.record(k, std::current_exception());
    }
  }
  error.rethrow();
  return stamps;
}

// During discovery a shape error in the full pass means two files disagree: name the file whose
// shape the schema took ("01/1.json: /lowlevel/mfcc/mean: expected 2 numbers, found 3 (the shape
// seen in 00/0.json)").
ParseError with_shape_origin(const ParseError& e, const detail::FieldUnion& fields) {
  std::vector<std::string> path;
  std::string_view rest = e.place();
  std::string origin;
  while (rest.size() > 1 && rest[0] == '/') {
    rest.remove_prefix(1);
    const auto slash = rest.find('/');
    path.emplace_back(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (const std::string& file = fields.first_file(path); !file.empty()) origin = file;
  }
  const std::string what = e.what();
  const std::string prefix = e.file().string() + ": " + e.place() + ": ";
  // Only a shape error ("expected 2 numbers, found 3") has a shape seen elsewhere.
  if (origin.empty() || what.rfind(prefix + "expected ", 0) != 0) return e;
  return ParseError(e.file(), e.place(),
                    what.substr(prefix.size()) + " (the shape seen in " + origin + ")");
}

// The rows of \p n files that schema discovery parses first: kDiscoverySample spread evenly.
std::vector<std::size_t> discovery_sample(std::size_t n) {
  std::vector<std::size_t> sample;
  const std::size_t k = std::min(kDiscoverySample, n);
  for (std::size_t j = 0; j < k; ++j) sample.push_back(k == 1 ? 0 : j * (n - 1) / (k - 1));
  sample.erase(std::unique(sample.begin(), sample.end()), sample.end());
  return sample;
}

// The indices of the files whose stamp says they do not exist (stat_files()).
std::vector<std::size_t> missing_in(const std::vector<detail::FileStamp>& stamps) {
  std::vector<std::size_t> missing;
  for (std::size_t i = 0; i < stamps.size(); ++i) {
    if (stamps[i].size == detail::CacheKey::kMissingSize) missing.push_back(i);
  }
  return missing;
}

// Applies the missing-file policy to the requested files whose indices are \p missing (sorted):
// fills out.kept_rows, out.row_ids and out.report, or throws DataError (the error policy, or no
// file at all).
void account_missing(const fs::path& features_dir, const std::vector<std::string>& relpaths,
                     const std::vector<std::string>& row_ids,
                     const std::vector<std::size_t>& missing, const FeatureOptions& options,
                     LoadedFeatures& out) {
  std::vector<std::size_t>& kept_rows = out.kept_rows;
  LoadReport& report = out.report;
  kept_rows.clear();
  report.missing_examples.clear();
  for (std::size_t i = 0, m = 0; i < relpaths.size(); ++i) {
    if (m < missing.size() && missing[m] == i) {
      ++m;
      if (report.missing_examples.size() < kMissingExamples)
        report.missing_examples.push_back(relpaths[i]);
    } else {
      kept_rows.push_back(i);
    }
  }
  report.files_missing = missing.size();
  if (!missing.empty() && options.missing_files == MissingFilePolicy::kError) {
    std::string list;
    for (const auto& m : report.missing_examples) list += (list.empty() ? "" : ", ") + m;
    throw DataError(std::to_string(missing.size()) + " of " + std::to_string(relpaths.size()) +
                    " feature files are missing in " + features_dir.string() + " (first: " + list +
                    (missing.size() > report.missing_examples.size() ? ", ..." : "") +
                    "); use the skip policy for missing files to drop those rows");
  }
  if (kept_rows.empty())
    throw DataError("none of the " + std::to_string(relpaths.size()) + " feature files exists");
  report.files_loaded = kept_rows.size();
  out.row_ids.clear();
  for (const auto r : kept_rows) out.row_ids.push_back(row_ids[r]);
}

// Shrinks \p matrix to rows x cols elements in place, keeping the first rows * cols (the
// allocation shrinks with realloc: no second matrix).
void shrink_matrix(FeatureMatrix& matrix, std::size_t rows, std::size_t cols) {
  // Eigen: resize() to the same number of elements keeps the buffer; conservativeResize() of a
  // row-major matrix that keeps its column count reallocates in place (realloc).
  matrix.resize(matrix.size(), 1);
  matrix.conservativeResize(static_cast<Eigen::Index>(rows * cols), 1);
  matrix.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
}

// Moves the rows \p kept (ascending) of the matrix at \p data to its first rows, in place.
void keep_rows(float* data, std::size_t cols, const std::vector<std::size_t>& kept) {
  for (std::size_t j = 0; j < kept.size(); ++j) {
    // Row kept[j] >= j: moving forward never overwrites a row still to be moved.
    if (kept[j] != j) std::memmove(data + j * cols, data + kept[j] * cols, cols * sizeof(float));
  }
}

// The default target: LoadedFeatures::matrix.
class EigenTarget final : public MatrixTarget {
 public:
  explicit EigenTarget(FeatureMatrix& matrix) : matrix_(matrix) {}
  float* allocate(std::size_t rows, std::size_t cols) override {
    matrix_.resize(0, 0);  // free before allocating a new width
    matrix_.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    detail::advise_huge_pages(matrix_.data(), rows * cols * sizeof(float));
    return matrix_.data();
  }
  float* shrink(std::size_t rows, std::size_t cols) override {
    shrink_matrix(matrix_, rows, cols);
    return matrix_.data();
  }
  /// Takes \p matrix as the result (a cache hit): no copy.
  void adopt(FeatureMatrix&& matrix) { matrix_ = std::move(matrix); }

 private:
  FeatureMatrix& matrix_;
};

// Adds the fields of files[rows[k]] to \p fields.
void discover_from(const detail::Directory& dir, const std::vector<std::string>& files,
                   const std::vector<std::size_t>& rows, const FeatureOptions& options,
                   detail::FieldUnion& fields) {
  detail::FileBuffer buffer;
  for (const std::size_t r : rows) {
    buffer.read(dir, files[r], options.max_file_bytes);
    auto found = detail::collect_fields(buffer, files[r]);
    fields.add(found, files[r]);
  }
}

bool same_value(float a, float b) {
  if (std::isnan(a)) return std::isnan(b);
  return std::memcmp(&a, &b, sizeof(float)) == 0;
}

// Removes the constant columns of the rows x cols matrix at \p data in place (the rows are
// compacted forward; the caller shrinks the allocation). Returns the kept column indices.
std::vector<std::size_t> drop_constant_columns(float* data, std::size_t rows, std::size_t cols) {
  std::vector<char> varies(cols, 0);
  const float* first = data;
  for (std::size_t r = 1; r < rows; ++r) {
    const float* row = data + r * cols;
    for (std::size_t c = 0; c < cols; ++c)
      varies[c] |= static_cast<char>(!same_value(row[c], first[c]));
  }
  std::vector<std::size_t> kept;
  for (std::size_t c = 0; c < cols; ++c) {
    if (varies[c] != 0) kept.push_back(c);
  }
  if (kept.size() == cols) return kept;
  for (std::size_t r = 0; r < rows; ++r) {
    // Destination index r*kept+j never exceeds the source index r*cols+kept[j]: safe forward copy.
    for (std::size_t j = 0; j < kept.size(); ++j)
      data[r * kept.size() + j] = data[r * cols + kept[j]];
  }
  return kept;
}

detail::CacheKey make_cache_key(const fs::path& dir, const std::vector<std::string>& relpaths,
                                const std::vector<std::string>& row_ids,
                                const FeatureOptions& options, const FeatureSchema* schema,
                                const std::vector<detail::FileStamp>& stamps) {
  detail::CacheKey key;
  const std::string canonical = fs::weakly_canonical(dir).string();
  const std::string schema_text =
      schema != nullptr ? schema->to_json() : std::string("(discovered)");
  for (int k = 0; k < 2; ++k) {
    detail::Hash64 h(static_cast<std::uint64_t>(k) + 1);
    h.update_value(canonical.size());
    h.update(canonical);
    for (const auto* list : {&relpaths, &row_ids}) {
      h.update_value(list->size());
      for (const auto& s : *list) {
        h.update_value(s.size());
        h.update(s);
      }
    }
    h.update(schema_text);
    key.list_digest[k] = h.digest();
  }
  key.options = policy_text(options, schema == nullptr);
  key.stamps = stamps;
  key.relpaths = relpaths;
  return key;
}

// Keeps options.cache_dir within options.cache_max_bytes after a load that used it, and says so.
void evict_cache_entries(const FeatureOptions& options, LoadReport& report) {
  const detail::Eviction evicted =
      detail::evict_cache(options.cache_dir, options.cache_max_bytes, report.cache_file);
  report.cache_evicted = evicted.entries;
  report.cache_evicted_bytes = evicted.bytes;
  if (evicted.removed_current) {
    report.cache_detail += std::string(report.cache_detail.empty() ? "" : "; ") +
                           "this entry alone exceeds the cache size limit "
                           "(--cache-max-bytes " +
                           std::to_string(options.cache_max_bytes) + ") and was removed";
  }
}

}  // namespace

std::string_view to_string(CacheStatus status) noexcept {
  switch (status) {
    case CacheStatus::kDisabled:
      return "disabled";
    case CacheStatus::kHit:
      return "hit";
    case CacheStatus::kMiss:
      return "miss";
    case CacheStatus::kStale:
      return "stale";
    case CacheStatus::kCorrupt:
      return "corrupt";
  }
  return "?";
}

std::size_t LoadReport::unknown_field_count() const noexcept {
  std::size_t n = 0;
  for (const auto& [name, files] : unknown_fields) n += files;
  return n;
}

std::string LoadReport::summary() const {
  std::string s =
      std::to_string(files_loaded) + " of " + std::to_string(files_requested) + " feature files";
  if (synthetic) s += " (SYNTHETIC data written by `moodboost synth`)";
  if (cache == CacheStatus::kHit) {
    s += " read from the cache " + cache_file.string();
  } else {
    const double mb = static_cast<double>(bytes_parsed) / 1e6;
    char rate[96];
    std::snprintf(rate, sizeof(rate),
                  ": parsed %zu files, %.1f MB, %.0f files/s, %.0f MB/s on %d threads",
                  files_parsed, mb, seconds > 0 ? static_cast<double>(files_parsed) / seconds : 0.0,
                  seconds > 0 ? mb / seconds : 0.0, threads);
    s += rate;
    if (threads_capped_by_files) s += " (one per file at most)";
  }
  char time[48];
  std::snprintf(time, sizeof(time), " in %.2f s", seconds);
  s += time;
  s += "\n  missing files: " + std::to_string(files_missing);
  for (const auto& m : missing_examples) s += " " + m;
  s += "\n  NaN/Inf numbers read: " + std::to_string(nonfinite_values) +
       "; NaN cells in the matrix: " + std::to_string(nan_cells) +
       "; malformed fields set to NaN: " + std::to_string(shape_mismatches);
  s += "\n  unknown fields (ignored): " + std::to_string(unknown_fields.size()) + " names, " +
       std::to_string(unknown_field_count()) + " occurrences";
  std::size_t shown = 0;
  for (const auto& [name, files] : unknown_fields) {
    if (shown++ == 5) {
      s += " ...";
      break;
    }
    s += (shown == 1 ? ": " : ", ") + name + " (" + std::to_string(files) + " files)";
  }
  if (dropped_constant_columns > 0)
    s += "\n  constant columns dropped: " + std::to_string(dropped_constant_columns);
  if (schema_rediscovered)
    s += "\n  the discovery sample missed some fields: all files were parsed twice";
  if (cache != CacheStatus::kDisabled) {
    s += "\n  cache: " + std::string(to_string(cache));
    if (!cache_detail.empty()) s += " (" + cache_detail + ")";
    if (cache_evicted > 0) {
      s += "; evicted " + std::to_string(cache_evicted) + " least recently used entr" +
           (cache_evicted == 1 ? "y" : "ies") + " (" + std::to_string(cache_evicted_bytes) +
           " bytes) to stay under the cache size limit (--cache-max-bytes)";
    }
  }
  return s;
}

std::vector<FeatureField> discover_fields(std::string_view json, const fs::path& file) {
  detail::FileBuffer buffer;
  buffer.assign(json);
  auto fields = detail::collect_fields(buffer, file.string());
  detail::FieldUnion all;
  all.add(fields, file.string());
  return all.fields();
}

FeatureSchema select_columns(std::vector<FeatureField> fields, const FeatureOptions& options) {
  const FeatureSchema all = FeatureSchema::all_columns(std::move(fields), options.summarize_beats);
  FeatureSchema selected = all.filtered([&](const Column& c) {
    const FeatureField& f = all.fields()[c.field];
    const std::string field_name = f.name();
    if (f.kind == FieldKind::kMatrix && f.rows == f.cols) {
      if (options.covariance == CovarianceColumns::kNone) return false;
      if (options.covariance == CovarianceColumns::kUpperTriangle &&
          c.element / f.cols > c.element % f.cols) {
        return false;
      }
    }
    if (options.basic_preset) {
      for (const char* pattern : kBasicPresetExcludes) {
        if (glob_match(pattern, field_name)) return false;
      }
    }
    if (!options.include.empty() && !matches_any(options.include, c, field_name)) return false;
    return !matches_any(options.exclude, c, field_name);
  });
  if (selected.size() == 0) {
    throw InvalidArgument("the column options leave no feature column (of " +
                          std::to_string(all.size()) + ")");
  }
  return selected;
}

FeatureSchema schema_of_file(const fs::path& path, const FeatureOptions& options) {
  detail::FileBuffer buffer;
  buffer.read(path, options.max_file_bytes);
  return select_columns(discover_fields(buffer.view(), path), options);
}

std::vector<float> parse_feature_row(std::string_view json, const FeatureSchema& schema,
                                     const FeatureOptions& options, const fs::path& file,
                                     RowCounts* counts) {
  const detail::CompiledSchema compiled(schema);
  detail::RowParser parser(compiled, options.non_finite, options.shape_mismatch);
  detail::FileBuffer buffer;
  buffer.assign(json);
  std::vector<float> row(schema.size());
  detail::RowResult result;
  if (!parser.parse(buffer, file.string(), row.data(), result)) {
    buffer.assign(json);
    parser.reparse(buffer, file.string(), row.data(), result);
  }
  if (counts != nullptr) {
    counts->nonfinite_values = result.nonfinite_values;
    counts->shape_mismatches = result.shape_mismatches;
    counts->unknown_fields = std::move(result.unknown_fields);
  }
  return row;
}

std::uintmax_t parse_files_noop(const fs::path& features_dir,
                                const std::vector<std::string>& relpaths, int threads,
                                std::uintmax_t max_file_bytes) {
  std::uintmax_t total = 0;
  const detail::Directory dir(features_dir);
  for_each_file(
      dir, relpaths, resolve_threads(threads), max_file_bytes, ProgressFn{},
      [] { return std::uintmax_t{0}; },
      [&](std::uintmax_t& bytes, std::size_t i, detail::FileBuffer& buffer,
          const detail::FileStamp&) {
        detail::parse_noop(buffer, relpaths[i]);
        bytes += buffer.size();
      },
      [&](const std::uintmax_t& bytes) { total += bytes; });
  return total;
}

LoadedFeatures load_features(const fs::path& features_dir, const std::vector<std::string>& relpaths,
                             const std::vector<std::string>& row_ids, const FeatureOptions& options,
                             const FeatureSchema* schema) {
  FeatureMatrix matrix;
  EigenTarget target(matrix);
  LoadedFeatures out = load_features(features_dir, relpaths, row_ids, options, schema, target);
  out.matrix = std::move(matrix);
  return out;
}

LoadedFeatures load_features(const fs::path& features_dir, const std::vector<std::string>& relpaths,
                             const std::vector<std::string>& row_ids, const FeatureOptions& options,
                             const FeatureSchema* schema, MatrixTarget& target) {
  const auto start = std::chrono::steady_clock::now();
  if (relpaths.size() != row_ids.size()) {
    throw InvalidArgument("load_features: " + std::to_string(relpaths.size()) + " paths but " +
                          std::to_string(row_ids.size()) + " row ids");
  }
  if (relpaths.empty()) throw DataError("no feature files requested");
  const int threads = resolve_threads(options.threads, relpaths.size());
  const detail::Directory dir(features_dir);
  std::error_code ec;

  LoadedFeatures out;
  LoadReport& report = out.report;
  report.files_requested = relpaths.size();
  report.threads = threads;
  report.threads_capped_by_files = threads < resolve_threads(options.threads);
  report.synthetic = fs::exists(features_dir / kSyntheticMarker, ec);

  // Which files exist. With a cache, every file is stat'ed first: the stamps are the cache key.
  // Without one, the files are only opened by the parse, which finds the missing ones itself
  // (a stat per file is about 2% of the load) -- unless a file of the discovery sample is
  // missing, since the sample is taken among the files that exist.
  std::vector<detail::FileStamp> stamps;
  bool stat_first = !options.cache_dir.empty();
  if (!stat_first && schema == nullptr) {
    for (const std::size_t r : discovery_sample(relpaths.size())) {
      detail::FileStamp stamp;
      if (!dir.stat(relpaths[r], stamp)) stat_first = true;
    }
  }
  if (stat_first) {
    stamps = stat_files(dir, relpaths, threads);
    account_missing(features_dir, relpaths, row_ids, missing_in(stamps), options, out);
  }

  // The cache.
  detail::CacheKey key;
  if (!options.cache_dir.empty()) {
    key = make_cache_key(features_dir, relpaths, row_ids, options, schema, stamps);
    report.cache_file = options.cache_dir / key.file_name();
    detail::CacheEntry entry;
    detail::CacheLookup lookup;
    try {
      lookup = detail::read_cache(report.cache_file, key, entry, threads);
    } catch (const IoError& e) {
      lookup = {CacheStatus::kCorrupt, std::string("unreadable: ") + e.what()};
    }
    report.cache = lookup.status;
    report.cache_detail = lookup.detail;
    if (lookup.status == CacheStatus::kHit && entry.kept_rows == out.kept_rows) {
      const bool synthetic = report.synthetic;
      const auto cache_file = report.cache_file;
      report = std::move(entry.report);
      report.files_parsed = 0;
      report.bytes_parsed = 0;
      report.synthetic = synthetic;
      report.cache = CacheStatus::kHit;
      report.cache_file = cache_file;
      report.threads = threads;
      report.threads_capped_by_files = threads < resolve_threads(options.threads);
      if (auto* eigen = dynamic_cast<EigenTarget*>(&target)) {
        eigen->adopt(std::move(entry.matrix));
      } else {
        const auto rows = static_cast<std::size_t>(entry.matrix.rows());
        const auto cols = static_cast<std::size_t>(entry.matrix.cols());
        std::copy_n(entry.matrix.data(), rows * cols, target.allocate(rows, cols));
        (void)target.shrink(rows, cols);
      }
      out.schema = std::move(entry.schema);
      evict_cache_entries(options, report);
      report.seconds = seconds_since(start);
      return out;
    }
    if (lookup.status == CacheStatus::kHit) {
      report.cache = CacheStatus::kStale;
      report.cache_detail = "the cached rows differ";
    }
  }

  std::vector<std::string> kept_files;
  if (stat_first) {
    kept_files.reserve(out.kept_rows.size());
    for (const auto r : out.kept_rows) kept_files.push_back(relpaths[r]);
  }
  const std::vector<std::string>& files = stat_first ? kept_files : relpaths;
  // Without the stat pass: the rows of missing files are dropped after parsing (or the missing
  // files refused, before any parse error: what a stat pass would have found first).
  const auto parse = [&](const FeatureSchema& columns, bool discovering) {
    try {
      return parse_pass(dir, files, columns, options, threads, target, discovering, !stat_first);
    } catch (...) {
      if (!stat_first && options.missing_files == MissingFilePolicy::kError) {
        account_missing(features_dir, relpaths, row_ids,
                        missing_in(stat_files(dir, relpaths, threads)), options, out);
      }
      throw;
    }
  };
  // The matrix as it stands: where, and its shape.
  float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  const auto drop_missing_rows = [&](const PassResult& pass) {
    data = pass.data;
    rows = files.size();
    cols = out.schema.size();
    if (stat_first) return;
    account_missing(features_dir, relpaths, row_ids, pass.missing, options, out);
    if (!pass.missing.empty()) {
      keep_rows(data, cols, out.kept_rows);
      rows = out.kept_rows.size();
    }
  };

  PassResult pass;
  if (schema != nullptr) {
    out.schema = *schema;
    pass = parse(out.schema, false);
    drop_missing_rows(pass);
  } else {
    // Discovery: a sample first; then, if the full pass meets fields the sample lacked, their
    // files are added and everything is parsed again with the complete schema.
    detail::FieldUnion fields;
    const std::vector<std::size_t> sample = discovery_sample(files.size());
    discover_from(dir, files, sample, options, fields);
    report.discovery_files = sample.size();
    for (int round = 0;; ++round) {
      out.schema = select_columns(fields.fields(), options);
      try {
        pass = parse(out.schema, true);
      } catch (const ParseError& e) {
        throw with_shape_origin(e, fields);
      }
      if (pass.rows_with_new_fields.empty()) break;
      // The files with unknown keys: their fields join the schema. Keys whose values give no field
      // (only null) stay unknown; when nothing new is found, this pass stands.
      const std::size_t known = fields.size();
      discover_from(dir, files, pass.rows_with_new_fields, options, fields);
      report.discovery_files += pass.rows_with_new_fields.size();
      if (fields.size() == known) break;
      if (round > 0) throw Error("feature schema discovery did not converge");  // cannot happen
      report.schema_rediscovered = true;
      report.files_parsed += pass.files;
      report.bytes_parsed += pass.bytes;
    }
    drop_missing_rows(pass);
    if (options.drop_constant) {
      const auto kept = drop_constant_columns(data, rows, cols);
      report.dropped_constant_columns = out.schema.size() - kept.size();
      if (kept.empty()) throw DataError("every feature column is constant on the training rows");
      std::set<std::size_t> keep(kept.begin(), kept.end());
      std::size_t index = 0;
      out.schema = out.schema.filtered([&](const Column&) { return keep.count(index++) != 0; });
      cols = kept.size();
      pass.nan_cells = static_cast<std::size_t>(
          std::count_if(data, data + rows * cols, [](float v) { return std::isnan(v); }));
    }
  }
  data = target.shrink(rows, cols);
  report.files_parsed += pass.files;
  report.bytes_parsed += pass.bytes;
  report.nonfinite_values = pass.nonfinite;
  report.shape_mismatches = pass.mismatches;
  report.nan_cells = pass.nan_cells;
  report.unknown_fields = std::move(pass.unknown);

  if (!options.cache_dir.empty()) {
    // Files that changed while they were read would make the key lie: do not cache then.
    bool unchanged = true;
    for (std::size_t j = 0; j < files.size(); ++j)
      unchanged = unchanged && pass.stamps[j] == stamps[out.kept_rows[j]];
    const auto matrix_bytes = static_cast<std::uintmax_t>(rows * cols) * sizeof(float);
    if (!unchanged) {
      report.cache_detail = "feature files changed while they were read; cache not written";
    } else if (options.cache_max_bytes != 0 && matrix_bytes > options.cache_max_bytes) {
      report.cache_detail = "cache not written: the matrix (" + std::to_string(matrix_bytes) +
                            " bytes) is larger than the cache size limit (--cache-max-bytes " +
                            std::to_string(options.cache_max_bytes) + ")";
    } else {
      detail::CacheEntry entry;
      entry.schema = out.schema;
      entry.kept_rows = out.kept_rows;
      entry.report = report;
      try {
        detail::write_cache(report.cache_file, key, entry, data, rows, cols);
      } catch (const IoError& e) {
        // A cache that cannot be written (read-only or full disk) costs speed, not the result.
        report.cache_detail = std::string("cache not written: ") + e.what();
      }
    }
    evict_cache_entries(options, report);
  }
  report.seconds = seconds_since(start);
  return out;
}

DiskFeatures load_features_on_disk(const fs::path& features_dir,
                                   const std::vector<std::string>& relpaths,
                                   const std::vector<std::string>& row_ids,
                                   const FeatureOptions& options, const FeatureSchema* schema) {
  const auto start = std::chrono::steady_clock::now();
  if (options.cache_dir.empty()) {
    throw InvalidArgument(
        "out-of-core loading needs the binary feature cache: give it a directory (--cache DIR)");
  }
  if (relpaths.size() != row_ids.size() || relpaths.empty()) {
    // load_features() says what is wrong.
    (void)load_features(features_dir, relpaths, row_ids, options, schema);
  }
  const int threads = resolve_threads(options.threads);
  const detail::Directory dir(features_dir);
  const std::vector<detail::FileStamp> stamps = stat_files(dir, relpaths, threads);
  const detail::CacheKey key =
      make_cache_key(features_dir, relpaths, row_ids, options, schema, stamps);
  const fs::path file = options.cache_dir / key.file_name();
  std::vector<std::size_t> existing;
  for (std::size_t i = 0; i < stamps.size(); ++i) {
    if (stamps[i].size != detail::CacheKey::kMissingSize) existing.push_back(i);
  }

  DiskFeatures out;
  detail::CacheEntry entry;
  detail::CacheMatrixPlace place;
  detail::CacheLookup lookup;
  try {
    lookup = detail::read_cache_header(file, key, entry, place, /*verify=*/true);
  } catch (const IoError& e) {
    lookup = {CacheStatus::kCorrupt, std::string("unreadable: ") + e.what()};
  }
  const bool missing_refused =
      existing.size() < relpaths.size() && options.missing_files == MissingFilePolicy::kError;
  if (lookup.status == CacheStatus::kHit && entry.kept_rows == existing && !missing_refused) {
    out.report = std::move(entry.report);
    out.report.files_parsed = 0;
    out.report.bytes_parsed = 0;
    out.report.cache = CacheStatus::kHit;
  } else {
    // Parse (and write the cache) as load_features() does; only the matrix is dropped.
    LoadedFeatures loaded = load_features(features_dir, relpaths, row_ids, options, schema);
    loaded.matrix.resize(0, 0);
    out.report = std::move(loaded.report);
    const detail::CacheLookup written =
        detail::read_cache_header(file, key, entry, place, /*verify=*/false);
    if (written.status != CacheStatus::kHit || entry.kept_rows != loaded.kept_rows) {
      throw IoError(
          file, "out-of-core loading needs the feature cache, which was not written (" +
                    (out.report.cache_detail.empty() ? written.detail : out.report.cache_detail) +
                    ")");
    }
  }
  std::error_code ec;
  out.report.synthetic = fs::exists(features_dir / kSyntheticMarker, ec);
  out.report.cache_file = file;
  out.report.threads = threads;
  out.schema = std::move(entry.schema);
  out.kept_rows = std::move(entry.kept_rows);
  for (const auto r : out.kept_rows) out.row_ids.push_back(row_ids[r]);
  out.matrix = std::make_shared<detail::CacheRows>(file, place);
  out.report.seconds = seconds_since(start);
  return out;
}

FeatureSchema discover_schema(const fs::path& features_dir,
                              const std::vector<std::string>& relpaths,
                              const FeatureOptions& options) {
  const detail::Directory dir(features_dir);
  // load_features()'s sample positions, over the requested files.
  std::vector<std::string> files;
  const std::vector<std::size_t> sample = discovery_sample(relpaths.size());
  for (const std::size_t r : sample) {
    const std::string& file = relpaths[r];
    std::error_code ec;
    if ((files.empty() || files.back() != file) && fs::is_regular_file(features_dir / file, ec)) {
      files.push_back(file);
    }
  }
  if (files.empty()) {
    throw DataError("none of the " + std::to_string(sample.size()) +
                    " sampled feature files exists in " + features_dir.string());
  }
  std::vector<std::size_t> rows(files.size());
  for (std::size_t j = 0; j < rows.size(); ++j) rows[j] = j;
  detail::FieldUnion fields;
  discover_from(dir, files, rows, options, fields);
  return select_columns(fields.fields(), options);
}

}  // namespace moodboost
