/// \file model_writer.hpp
/// Writing a model directory from tree boosters trained outside the library's Trainer (the
/// Python module's Dask path trains them with xgboost.dask): the same files, per-tag resume
/// records, thresholds and manifest as train_model_dir() writes (model.hpp), through the same
/// writers, so `moodboost predict`, `compare` and `importance` read it unchanged, and an
/// interrupted run resumes the way `moodboost train` does.
///
/// The order of the writes is train_model_dir()'s: run.json when the directory is claimed; per
/// tag its model file, then the record that vouches for it (both atomic); thresholds.tsv,
/// schema.json and, last, manifest.json. A directory without a manifest is never a model.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moodboost/feature_record.hpp"
#include "moodboost/feature_schema.hpp"
#include "moodboost/model.hpp"
#include "moodboost/types.hpp"

namespace moodboost {

/// What a model directory records about the data of a run, without the matrices (which may live
/// on other machines).
struct DataRecord {
  std::vector<std::string> tags;    ///< label columns, in order
  std::vector<SplitRecord> splits;  ///< train and validation
  FeatureRecord features;           ///< the manifest's "features"
  FeatureSchema schema;             ///< schema.json: the columns in matrix order
  /// Hashes of the matrices and labels, as fingerprint entries with keys "data.*" (e.g.
  /// "data.features", "data.labels"); the writer adds the hashes of the tags, the schema, the
  /// feature options and the split files. Two runs whose entries differ never resume each other.
  std::map<std::string, std::string> fingerprint;
};

/// A SplitRecord of \p file (its FNV-1a 64 hash read from the file). Throws IoError.
SplitRecord split_record(std::string role, const std::filesystem::path& file, std::size_t rows);

/// One tag's tree booster trained elsewhere, held out on the validation split.
struct ExternalTreeFit {
  std::size_t index = 0;    ///< the tag's column
  std::string model_json;   ///< XGBoost JSON holding exactly rounds [0, best_iteration]
  int best_iteration = 0;   ///< 0-based
  int rounds_trained = 0;   ///< rounds boosted, the early-stopping patience included
  double best_score = 0.0;  ///< the validation eval metric at best_iteration (NaN: none)
  double scale_pos_weight = 1.0;
  double base_score = 0.5;
  std::size_t positives = 0;  ///< positive training rows
  /// The saved model's probabilities on the validation rows, in validation order: the
  /// threshold and the validation metrics come from them, as in train_model_dir().
  std::vector<double> validation_scores;
  double seconds = 0.0;  ///< wall time of the tag's training
};

/// A model directory being written by an outside trainer. One writer per directory: it holds the
/// directory's lock (MODEL_DIR/.lock) for its lifetime.
class ModelDirWriter {
 public:
  /// Locks \p dir (created if missing) and claims it for the run of \p settings (trees only, held
  /// out on the validation split: settings.cv_folds must be 0, settings.refit none), \p data and
  /// \p trainer (entries naming the trainer and whatever else changes its models, e.g.
  /// {"trainer", "xgboost.dask rows"}; they join the run's arguments), or checks that it holds
  /// the same run, exactly as train_model_dir() does: other arguments are an InvalidArgument
  /// naming what differs unless settings.restart. \p validation_y: the validation labels (rows x
  /// tags). Throws InvalidArgument, DataError (the directory is locked by another writer),
  /// IoError.
  ModelDirWriter(const std::filesystem::path& dir, DataRecord data, LabelMatrix validation_y,
                 const RunSettings& settings, const std::map<std::string, std::string>& trainer,
                 const RunHooks& hooks = {});
  ~ModelDirWriter();
  ModelDirWriter(const ModelDirWriter&) = delete;
  ModelDirWriter& operator=(const ModelDirWriter&) = delete;

  /// The tags, in column order.
  [[nodiscard]] const std::vector<std::string>& tags() const noexcept;
  /// The record of tag \p index when it is finished: by an earlier run with the same arguments
  /// and data (record and model file intact) or by add().
  [[nodiscard]] std::optional<TagRecord> finished(std::size_t index) const;
  /// The configuration of the tree booster of every tag: the settings' base configuration (no
  /// search on this path). Its params are applied after BoostOptions::params (booster_plan()).
  [[nodiscard]] const TuneConfig& config() const noexcept;
  /// Finishes tag \p fit.index: its validation metrics and F1-optimal threshold from
  /// fit.validation_scores (train_model_dir()'s rule), then its model file and record. Returns
  /// the record. Throws InvalidArgument for an unknown index or validation scores of the wrong
  /// length, IoError.
  TagRecord add(const ExternalTreeFit& fit);
  /// Writes thresholds.tsv, schema.json and manifest.json (\p threads and \p strategy as the
  /// manifest's "threads" and "thread_strategy"). Returns the records in tag order. Throws
  /// InvalidArgument naming the first tag not finished, IoError.
  std::vector<TagRecord> finish(int threads, ThreadStrategy strategy);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace moodboost
