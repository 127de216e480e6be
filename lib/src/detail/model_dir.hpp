// The model directory's private parts, shared by the files that implement model.hpp: file
// names, the fingerprint and resume check (model_resume.cpp), the per-tag records and the search
// logs (model_format.cpp), and the manifest (model_manifest.cpp, which also loads a directory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "detail/fnv1a.hpp"
#include "detail/json_util.hpp"
#include "moodboost/model.hpp"
#include "moodboost/model_writer.hpp"

namespace moodboost::detail {

inline constexpr int kFormatVersion = 2;
inline constexpr const char* kManifest = "manifest.json";
inline constexpr const char* kRunFile = "run.json";
inline constexpr const char* kTuningFile = "tuning.json";
inline constexpr const char* kTrialsFile = "trials.tsv";
inline constexpr const char* kThresholdsFile = "thresholds.tsv";
inline constexpr const char* kSchemaFile = "schema.json";
inline constexpr const char* kScalerFile = "scaler.tsv";

// ---- names and texts ---------------------------------------------------------------------------

/// models/NNN-<tag>[.linear][.refit].json
std::string model_file(std::size_t index, const std::string& tag, Family family, bool refit);

/// The record of one trained booster of \p family for the tag \p tag (column \p column) with the
/// settings \p config: \p fit is train's TagFit or an outside trainer's ExternalTreeFit (the
/// numbers and the model JSON of both). The held-out PR-AUC is left to the caller.
template <typename Fit>
ComponentRecord component_record(const Fit& fit, Family family, const TuneConfig& config,
                                 std::size_t column, const std::string& tag) {
  ComponentRecord c;
  c.family = family;
  c.params = config.params;
  c.scale_pos_weight_mode = to_string(config.scale_pos_weight);
  c.scale_pos_weight = fit.scale_pos_weight;
  c.base_score = fit.base_score;
  c.best_iteration = fit.best_iteration;
  c.rounds_trained = fit.rounds_trained;
  c.best_score = fit.best_score;
  c.seconds = fit.seconds;
  c.model_file = model_file(column, tag, family, false);
  c.model_hash = fnv1a_hex(fit.model_json);
  return c;
}
/// records/NNN.train.json or records/NNN.refit.json
std::string record_file(std::size_t index, bool refit);
/// "a=1;b=2"
std::string params_text(const XgbParams& params);
/// "%.17g"
std::string number_text(double value);
/// "tree,linear"
std::string families_text(const std::vector<Family>& families);

// ---- the resume check (model_resume.cpp) -------------------------------------------------------

/// The arguments that decide what a run produces, as name -> value.
std::map<std::string, std::string> run_arguments(const RunSettings& settings);
/// Hashes of the data a run learns from.
std::map<std::string, std::string> data_fingerprint(const TrainingData& data);
/// One hash of \p entries.
std::string fingerprint_of(const std::map<std::string, std::string>& entries);
/// Removes temporary files a killed run left behind.
void remove_stale_temporaries(const std::filesystem::path& dir);
/// An exclusive lock on a model directory (flock on MODEL_DIR/.lock, which holds the pid) for the
/// life of the object: a second writer fails at once, naming the directory and the pid, instead
/// of mixing its files with the first one's. Creates \p dir. Throws DataError when another
/// process holds it, IoError when it cannot be created or locked.
class RunLock {
 public:
  explicit RunLock(const std::filesystem::path& dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  std::filesystem::path file_;
  int fd_ = -1;
};

/// Claims \p dir for the run of \p entries (run.json), or checks that it holds the same run.
void check_or_claim_dir(const std::filesystem::path& dir,
                        const std::map<std::string, std::string>& entries, bool restart,
                        const RunHooks& hooks);

// ---- per-tag records and the search logs (model_format.cpp) ------------------------------------

/// The configuration each family in play uses for one tag.
using TagConfigs = std::vector<TuneConfig>;

/// A tag's results as the record and the manifest hold them (into an open object).
void write_tag_results(JsonWriter& w, const TagRecord& r, bool with_refit);
/// records/NNN.train.json
std::string record_json(const TagRecord& r, const std::string& fingerprint);
/// A finished, intact train record of tag \p index made with \p configs, or nothing.
std::optional<TagRecord> load_train_record(const std::filesystem::path& dir, std::size_t index,
                                           const std::string& tag, const std::string& fingerprint,
                                           const TagConfigs& configs);
/// records/NNN.refit.json
std::string refit_record_json(const TagRecord& r, const std::string& fingerprint);
/// Completes \p r's components from a finished, intact refit record; false when there is none.
bool load_refit_record(const std::filesystem::path& dir, TagRecord& r,
                       const std::string& fingerprint);
/// trials.tsv
std::string trials_tsv(const std::vector<Trial>& trials);
/// The trials an earlier run logged (a damaged line ends them).
std::vector<Trial> read_trials(const std::filesystem::path& file);
/// One family's search result (an object).
void write_family_choice(JsonWriter& w, const FamilyChoice& choice);
/// tuning.json
void write_tuning(const std::filesystem::path& file, const std::string& fingerprint,
                  const TuneResult& result);
/// tuning.json of the run \p fingerprint, or nothing.
std::optional<TuneResult> read_tuning(const std::filesystem::path& file,
                                      const std::string& fingerprint);

// ---- the manifest (model_manifest.cpp) ---------------------------------------------------------

/// What the manifest says besides the data, settings and records.
/// The manifest's "out_of_core" (written when the run had --memory-limit).
struct OutOfCoreRecord {
  bool used = false;                  // the training matrix was trained out of core
  std::uint64_t memory_limit = 0;     // bytes
  std::uint64_t estimated_bytes = 0;  // in_memory_training_bytes() of the training matrix
  std::size_t batch_rows = 0;         // 0 in memory
  std::size_t batches = 0;            // of the training matrix (0 in memory, or all tags resumed)
};

struct ManifestExtras {
  const std::map<std::string, std::string>* entries;
  std::string fingerprint;
  const TuneResult* tuning;
  ThreadStrategy strategy;
  int threads;
  std::string scaler_hash;  // empty without linear models
  // The trainer outside the library that wrote the directory (ModelDirWriter), or null.
  const std::map<std::string, std::string>* trainer = nullptr;
  std::optional<OutOfCoreRecord> out_of_core = std::nullopt;
};

/// Writes manifest.json: the last file of a complete model directory.
void write_manifest(const std::filesystem::path& dir, const DataRecord& data,
                    const RunSettings& settings, const ManifestExtras& extras,
                    const std::vector<TagRecord>& records);
/// What the manifest records of \p data (its matrices left out; no fingerprint entries).
DataRecord data_record(const TrainingData& data);
/// Fits \p r's validation metrics and F1-optimal threshold from \p scores (its model's
/// validation predictions).
void score_on_validation(TagRecord& r, const LabelMatrix& validation_y,
                         const std::vector<double>& scores);
/// The column names of \p schema, in order.
std::vector<std::string> column_names(const FeatureSchema& schema);

}  // namespace moodboost::detail
