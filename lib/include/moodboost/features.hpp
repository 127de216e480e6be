/// \file features.hpp
/// The feature loader: Essentia "music extractor" / AcousticBrainz low-level JSON files
/// (`<features_dir>/NN/<id>.json`) to a dense float32 matrix with named columns.
///
/// - Sections `lowlevel`, `rhythm` and `tonal` become columns; `metadata` never does.
/// - Columns, their names and their order come from a FeatureSchema (feature_schema.hpp). Training
///   discovers the schema from its files; prediction passes the saved schema, so a column can
///   never shift.
/// - A descriptor missing from a file gives NaN (XGBoost's missing value). A descriptor the schema
///   does not know is ignored and counted (LoadReport::unknown_fields).
/// - Numbers: integers (`"min": 0`) are numbers, bools are 0/1, `null` is NaN. The bare tokens
///   raw Essentia writes (`nan`, `-nan`, `inf`, `-inf`, invalid JSON) and the ones Python writes
///   (`NaN`, `Infinity`, `-Infinity`) are read as NaN / +-infinity, or rejected
///   (NonFinitePolicy::kReject).
/// - Categorical strings are one-hot over fixed vocabularies (kKeyVocabulary, kScaleVocabulary).
///   Flat spellings, which Essentia's newer key profiles write (`"key_temperley": {"key": "Ab"}` in
///   the music-2.0 sample), count as their sharp equivalent (Ab = G#, Bb = A#, Db = C#, Eb = D#,
///   Gb = F#; also Cb = B, Fb = E). A value outside the vocabulary is an error (ParseError naming
///   the file, the JSON pointer and the value), or, with ShapePolicy::kMissing, leaves the field's
///   one-hot columns NaN (missing), like any other malformed field.
/// - Errors name the file relative to the features directory and the place in it:
///   `48/948.json: /lowlevel/mfcc/cov/3: expected 13 numbers, found 12`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "moodboost/feature_schema.hpp"
#include "moodboost/io.hpp"
#include "moodboost/progress.hpp"
#include "moodboost/types.hpp"

namespace moodboost {

/// Which columns the symmetric matrices (`lowlevel.mfcc.cov`, `.icov`, `lowlevel.gfcc.cov`,
/// `.icov`: every square FieldKind::kMatrix) give.
enum class CovarianceColumns {
  kFull,           ///< all r*c numbers (music 1.0: 2647 numeric columns)
  kUpperTriangle,  ///< only element (i, j) with i <= j: drops the duplicate lower triangle (2335)
  kNone,           ///< none
};

/// What to do with a NaN or infinite number in a file.
enum class NonFinitePolicy {
  kAccept,  ///< store it (NaN = missing for XGBoost; +-inf stays +-inf) and count it
  kReject,  ///< throw ParseError naming the file and JSON pointer
};

/// What to do with a field whose shape differs from the schema's (a vector or matrix row of the
/// wrong length, an array where a number belongs, a category value outside the vocabulary, ...).
enum class ShapePolicy {
  kError,  ///< throw ParseError: "48/948.json: /lowlevel/mfcc/cov/3: expected 13 numbers, found 12"
  kMissing,  ///< "lenient": all the field's columns become NaN; counted in LoadReport
};

/// Default size limit of a feature cache directory (FeatureOptions::cache_max_bytes): 4 GiB, room
/// for a few full MTG-Jamendo matrices (55,000 tracks x 2,675 columns x 4 bytes = 0.6 GB each).
inline constexpr std::uintmax_t kDefaultCacheMaxBytes = std::uintmax_t{4} << 30;

/// What to do when a requested feature file does not exist.
enum class MissingFilePolicy {
  kError,  ///< throw DataError naming the count and the first few paths
  kSkip,   ///< drop those rows (LoadedFeatures::kept_rows says which rows remain) and count them
};

/// Options of the feature loader. The column-selection options apply when a schema is
/// discovered (training); with a saved schema they are ignored, since the schema fixes the
/// columns. Parsing and execution options apply always.
struct FeatureOptions {
  // --- column selection (schema discovery only) -------------------------------------------
  /// Columns of the symmetric cov/icov matrices.
  CovarianceColumns covariance = CovarianceColumns::kFull;
  /// AcousticBrainz/gaia "basic" preprocessing: drop the fields matching `*dmean*`, `*dvar*`,
  /// `*.min`, `*.max`, `*cov`, `tonal.thpcp`, `lowlevel.spectral_energyband_high.*`,
  /// `lowlevel.silence_rate*` (and `rhythm.beats_position`, which is never a column unless
  /// summarised). On music 1.0: 675 numeric columns + 28 one-hot columns.
  bool basic_preset = false;
  /// Glob patterns (fnmatch(3): `*`, `?`, `[...]`; `*` also matches '.'). When non-empty, only the
  /// columns matching one of them are kept. A pattern matches a column when it matches the
  /// column's name (`lowlevel.mfcc.cov.3.7`), its field's name (`lowlevel.mfcc.cov`) or its
  /// descriptor's name (`lowlevel.mfcc`).
  std::vector<std::string> include;
  /// Glob patterns of columns to drop (applied after `include`), e.g. "*.dvar*".
  std::vector<std::string> exclude;
  /// Drop the columns whose value is the same on every training row (bitwise-equal floats; a
  /// column that is NaN on every row is constant too; a column with NaN on some rows only is kept,
  /// since missingness carries information).
  bool drop_constant = false;
  /// Add 3 columns summarising `rhythm.beats_position`: `rhythm.beats_position.count` (number of
  /// beats), `.interval_mean` and `.interval_std` (mean and population standard deviation of the
  /// inter-beat intervals in seconds; NaN with fewer than 2 beats).
  bool summarize_beats = false;

  // --- parsing ------------------------------------------------------------------------------
  /// NaN/infinite numbers in a file.
  NonFinitePolicy non_finite = NonFinitePolicy::kAccept;
  /// Fields of the wrong shape (see ShapePolicy).
  ShapePolicy shape_mismatch = ShapePolicy::kError;
  /// Requested files that do not exist.
  MissingFilePolicy missing_files = MissingFilePolicy::kError;
  /// Files larger than this are refused (IoError), so that a stray huge file cannot exhaust memory.
  /// Only regular files are read: a FIFO, socket, device or directory (also behind a symlink) is
  /// refused with an IoError naming it, without blocking.
  std::uintmax_t max_file_bytes = kDefaultMaxFileBytes;

  // --- execution ----------------------------------------------------------------------------
  /// Worker threads for parsing; 0 = OpenMP's default (all cores). Capped at the cores and at the
  /// number of files (LoadReport::threads says how many ran).
  int threads = 0;
  /// Directory of the binary cache; empty = no cache. See load_features().
  std::filesystem::path cache_dir;
  /// Size limit of the entries in cache_dir, in bytes: after each load that uses the cache, the
  /// least recently used entries are removed until the rest fit; a matrix larger than the limit
  /// is not cached. 0 = no limit.
  std::uintmax_t cache_max_bytes = kDefaultCacheMaxBytes;
  /// Progress callback (files done, files total); may be empty.
  ProgressFn progress;
};

/// State of the binary cache for one load.
enum class CacheStatus {
  kDisabled,  ///< no cache directory given
  kHit,       ///< the matrix was read from the cache
  kMiss,      ///< no cache entry for these inputs; the files were parsed (and the cache written)
  kStale,     ///< a cache entry existed but its inputs changed (see LoadReport::cache_detail)
  kCorrupt,   ///< a cache entry existed but was truncated or failed its checksum; rebuilt
};

/// "disabled", "hit", "miss", "stale" or "corrupt".
std::string_view to_string(CacheStatus status) noexcept;

/// What a load did and found. Counts refer to the parse that produced the matrix (restored from
/// the cache on a cache hit).
struct LoadReport {
  std::size_t files_requested = 0;  ///< rows asked for
  std::size_t files_loaded = 0;     ///< rows in the matrix (requested minus skipped missing files)
  std::size_t files_missing = 0;    ///< requested files that do not exist
  std::vector<std::string> missing_examples;  ///< the first (up to 5) missing relative paths
  std::size_t files_parsed = 0;               ///< JSON files parsed by this call (0 on a cache hit)
  std::uintmax_t bytes_parsed = 0;            ///< bytes of JSON parsed by this call
  std::size_t discovery_files =
      0;  ///< files parsed to discover the schema (a sample; see load_features)
  bool schema_rediscovered = false;  ///< the sample missed a field, so the files were parsed again
  /// NaN/Inf numbers read from the files (kept as NaN/+-inf), finite decimals beyond the float32
  /// range included (read as +-inf; train refuses them).
  std::size_t nonfinite_values = 0;
  std::size_t nan_cells = 0;  ///< NaN cells in the final matrix (missing descriptors included)
  std::size_t shape_mismatches = 0;  ///< fields set to NaN under ShapePolicy::kMissing
  /// Fields not in the schema (ignored), as "section.key[.key...]" -> number of files with it.
  std::map<std::string, std::size_t> unknown_fields;
  std::size_t dropped_constant_columns = 0;  ///< columns removed by FeatureOptions::drop_constant
  bool synthetic =
      false;  ///< `<features_dir>/moodboost-synthetic.json` exists (`moodboost synth` data)
  CacheStatus cache = CacheStatus::kDisabled;
  std::string cache_detail;          ///< why the cache was stale/corrupt, or why it was not written
  std::filesystem::path cache_file;  ///< the cache file used (empty when disabled)
  std::size_t cache_evicted = 0;     ///< least recently used cache entries removed by this call
  std::uintmax_t cache_evicted_bytes = 0;  ///< their bytes
  int threads = 1;                         ///< worker threads used for parsing
  bool threads_capped_by_files = false;    ///< fewer files than threads asked for: one per file
  double seconds = 0;                      ///< wall time of the whole call

  /// Total number of unknown-field occurrences (sum of unknown_fields).
  [[nodiscard]] std::size_t unknown_field_count() const noexcept;
  /// A few lines for humans: counts, rates, cache state, unknown fields (the first few).
  [[nodiscard]] std::string summary() const;
};

/// The result of load_features().
struct LoadedFeatures {
  FeatureMatrix matrix;  ///< rows = kept files in request order, columns = schema.columns()
  FeatureSchema schema;  ///< the schema used (given or discovered)
  std::vector<std::string> row_ids;    ///< the id of each matrix row
  std::vector<std::size_t> kept_rows;  ///< for each matrix row, its position in the request
  LoadReport report;
};

/// Loads the feature files \p relpaths (relative to \p features_dir, e.g. "48/948.json"; row i of
/// the matrix is relpaths[i], named row_ids[i]) into a matrix.
///
/// - With \p schema: the columns are exactly \p schema's (prediction).
/// - Without: the schema is discovered (training). Discovery parses a sample of the files (up to
///   16, evenly spaced, first and last included) for their fields, selects columns with the
///   options, then parses every file; a file holding a field the sample lacked makes the loader
///   add its fields and parse all files again (LoadReport::schema_rediscovered), so the schema is
///   the union of the fields of all files. Two files disagreeing on a field's shape is an error
///   naming both files. Constant columns are dropped last (drop_constant).
/// - Files are parsed in parallel (FeatureOptions::threads) straight into the matrix.
/// - Only regular files are read (symlinks to them included); anything else is an IoError naming
///   the file and its kind (found on the open file: a FIFO cannot hang the loader).
/// - With FeatureOptions::cache_dir: the first load writes `<cache_dir>/features-<hash>.mbfc`
///   (matrix, schema, row ids, report counts) keyed on the features directory, the file list and
///   row ids, every file's size, modification and status-change times in nanoseconds and inode
///   (so a rewrite with the same size and a restored modification time is still seen), the options
///   that shape the matrix, and the given schema. A later load of the same inputs reads it
///   (LoadReport::cache == kHit); changed inputs are detected (kStale) and a torn (truncated,
///   partly written) or corrupted cache file is detected by its size and checksum (kCorrupt); both
///   are rebuilt. A cache that cannot be read or written costs only time: the load goes on and
///   LoadReport::cache_detail says why. Entries are evicted least recently used first past
///   FeatureOptions::cache_max_bytes (LoadReport::cache_evicted).
///
/// Throws InvalidArgument (relpaths and row_ids of different lengths, bad options), DataError
/// (missing files under MissingFilePolicy::kError: the count and the first paths; shape conflicts
/// between files during discovery; no rows), ParseError (a malformed file: path relative to
/// \p features_dir, JSON pointer or byte position, what was expected and found) and IoError.
LoadedFeatures load_features(const std::filesystem::path& features_dir,
                             const std::vector<std::string>& relpaths,
                             const std::vector<std::string>& row_ids, const FeatureOptions& options,
                             const FeatureSchema* schema = nullptr);

/// Where load_features() can put the matrix instead of LoadedFeatures::matrix: memory the caller
/// provides, e.g. a memory-mapped output file (write_npy_mapped() in npy.hpp), so that the files
/// are parsed straight into it, with no copy of the matrix and no second pass over it.
class MatrixTarget {
 public:
  virtual ~MatrixTarget() = default;
  /// Room for a rows x cols float32 matrix (row-major), filled by the caller of allocate(). May
  /// be called again (a wider schema): earlier contents are then dropped.
  virtual float* allocate(std::size_t rows, std::size_t cols) = 0;
  /// Keeps the first rows x cols floats of the allocation as the final rows x cols matrix (rows
  /// of missing files or constant columns removed, compacted in place). Returns where they are now.
  virtual float* shrink(std::size_t rows, std::size_t cols) = 0;
};

/// load_features() writing the matrix into \p target (LoadedFeatures::matrix stays empty); the
/// rows, schema, report and errors are the same.
LoadedFeatures load_features(const std::filesystem::path& features_dir,
                             const std::vector<std::string>& relpaths,
                             const std::vector<std::string>& row_ids, const FeatureOptions& options,
                             const FeatureSchema* schema, MatrixTarget& target);

/// The result of load_features_on_disk(): a load whose matrix stays in the binary cache.
struct DiskFeatures {
  FeatureSchema schema;                ///< the schema used (given or discovered)
  std::vector<std::string> row_ids;    ///< the id of each matrix row
  std::vector<std::size_t> kept_rows;  ///< for each matrix row, its position in the request
  LoadReport report;                   ///< as load_features() reports it; cache_file is the file
  /// The matrix (rows = kept files in request order, columns = schema.columns()), read in row
  /// batches from report.cache_file, which the reader holds open.
  std::shared_ptr<const RowBatchSource> matrix;
};

/// load_features() for a matrix that need not fit in memory (out-of-core training): the same
/// inputs, rules and errors, but the matrix is left in the binary cache (options.cache_dir is
/// required) and read from it in row batches. A cache hit reads the file's header and checks the
/// matrix's checksum one 4 MiB block at a time, never holding the matrix. Otherwise the files are
/// parsed by load_features() (which holds the matrix once, while parsing and writing the cache),
/// and the matrix is freed before this returns. Throws what load_features() throws,
/// InvalidArgument without options.cache_dir, and IoError when the cache cannot be written or
/// read back.
DiskFeatures load_features_on_disk(const std::filesystem::path& features_dir,
                                   const std::vector<std::string>& relpaths,
                                   const std::vector<std::string>& row_ids,
                                   const FeatureOptions& options,
                                   const FeatureSchema* schema = nullptr);

/// The schema load_features() discovers from its sample of \p relpaths (up to 16 files, evenly
/// spaced, first and last included; sampled files that do not exist are passed over), without
/// parsing the other files: for loaders that split the rows over several processes and need one
/// schema for all of them. Unlike load_features(), fields that only unsampled files hold are not
/// added, and drop_constant is not applied (it needs every row). Throws DataError when no sampled
/// file exists, IoError, ParseError.
FeatureSchema discover_schema(const std::filesystem::path& features_dir,
                              const std::vector<std::string>& relpaths,
                              const FeatureOptions& options);

/// The fields of one feature file given as text, in canonical order. \p file names it in errors.
/// Throws ParseError for malformed JSON or a file without lowlevel/rhythm/tonal sections.
std::vector<FeatureField> discover_fields(std::string_view json, const std::filesystem::path& file);

/// The columns \p options select from \p fields (covariance, basic_preset, include, exclude,
/// summarize_beats; drop_constant needs data and is applied by load_features()). Throws
/// InvalidArgument when nothing is left.
FeatureSchema select_columns(std::vector<FeatureField> fields, const FeatureOptions& options);

/// The schema of a single file: select_columns(discover_fields(file), options). Reads at most
/// options.max_file_bytes. Throws IoError and ParseError.
FeatureSchema schema_of_file(const std::filesystem::path& path, const FeatureOptions& options);

/// Counts from parsing one row (parse_feature_row()).
struct RowCounts {
  std::size_t nonfinite_values = 0;
  std::size_t shape_mismatches = 0;
  std::vector<std::string> unknown_fields;  ///< names of the fields not in the schema
};

/// Parses one feature file given as text into one row of \p schema's columns (NaN where the file
/// lacks a field). Same rules and errors as load_features(); \p file names the file in errors.
std::vector<float> parse_feature_row(std::string_view json, const FeatureSchema& schema,
                                     const FeatureOptions& options,
                                     const std::filesystem::path& file,
                                     RowCounts* counts = nullptr);

/// Reads and parses \p relpaths as load_features() does (same threads, file claiming, read buffers
/// and RapidJSON flags, not in situ) with a SAX handler that does nothing: the cost of the read
/// path and the parse alone. (bench/bench_loader's ceiling is a bare in-situ RapidJSON parse with
/// default flags, written there without the library.) Returns the bytes parsed. Throws IoError
/// and ParseError (malformed JSON).
std::uintmax_t parse_files_noop(const std::filesystem::path& features_dir,
                                const std::vector<std::string>& relpaths, int threads,
                                std::uintmax_t max_file_bytes = kDefaultMaxFileBytes);

}  // namespace moodboost
