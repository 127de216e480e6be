// A model directory written from tree boosters trained outside the Trainer (model_writer.hpp):
// train_model_dir()'s claim, resume records, thresholds and manifest, through the same writers.
#include "moodboost/model_writer.hpp"

#include <cmath>
#include <limits>

#include "detail/fnv1a.hpp"
#include "detail/labels.hpp"
#include "detail/model_dir.hpp"
#include "moodboost/io.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/metrics_format.hpp"

namespace moodboost {
namespace fs = std::filesystem;
using namespace detail;

SplitRecord split_record(std::string role, const fs::path& file, std::size_t rows) {
  return {std::move(role), file, rows, fnv1a_hex(read_file(file))};
}

struct ModelDirWriter::Impl {
  fs::path dir;
  DataRecord data;
  LabelMatrix validation_y;
  RunSettings settings;
  std::map<std::string, std::string> trainer;
  std::map<std::string, std::string> entries;
  std::string fingerprint;
  TuneResult tuning;
  std::vector<std::optional<TagRecord>> records;
  std::unique_ptr<RunLock> lock;
};

ModelDirWriter::ModelDirWriter(const fs::path& dir, DataRecord data, LabelMatrix validation_y,
                               const RunSettings& settings,
                               const std::map<std::string, std::string>& trainer,
                               const RunHooks& hooks)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (settings.cv_folds != 0 || settings.refit != Refit::kNone ||
      settings.tune.families != std::vector<Family>{Family::kTree}) {
    throw InvalidArgument(
        "a model directory from an outside trainer holds tree boosters held out on the "
        "validation split: family tree, --cv 0, --refit none");
  }
  if (validation_y.cols() != static_cast<Eigen::Index>(data.tags.size())) {
    throw InvalidArgument("validation labels have " + std::to_string(validation_y.cols()) +
                          " columns for " + std::to_string(data.tags.size()) + " tags");
  }
  for (const auto& [key, value] : data.fingerprint) {
    if (!key.starts_with("data.")) {
      throw InvalidArgument("data fingerprint entry '" + key + "': expected a key data.*");
    }
  }
  m.dir = dir;
  m.data = std::move(data);
  m.validation_y = std::move(validation_y);
  m.settings = settings;
  m.trainer = trainer;
  m.entries = run_arguments(settings);
  for (const auto& [key, value] : m.data.fingerprint) m.entries[key] = value;
  std::string tags;
  for (const auto& tag : m.data.tags) tags += tag + "\n";
  m.entries["data.tags"] = fnv1a_hex(tags) + " (" + std::to_string(m.data.tags.size()) + " tags)";
  m.entries["data.schema"] = fnv1a_hex(m.data.schema.to_json());
  m.entries["data.feature_options"] = fnv1a_hex(to_json(m.data.features));
  for (const auto& split : m.data.splits) m.entries["data.split." + split.role] = split.hash;
  for (const auto& [key, value] : trainer) m.entries["trainer." + key] = value;
  m.fingerprint = fingerprint_of(m.entries);
  TuneConfig base = settings.base_config;
  base.family = Family::kTree;
  m.tuning.families.push_back({base, std::numeric_limits<double>::quiet_NaN(), {}});

  m.lock = std::make_unique<RunLock>(dir);
  check_or_claim_dir(dir, m.entries, settings.restart, hooks);
  remove_stale_temporaries(dir);
  if (!read_tuning(dir / kTuningFile, m.fingerprint)) {
    write_tuning(dir / kTuningFile, m.fingerprint, m.tuning);
  }
  m.records.resize(m.data.tags.size());
  std::size_t done = 0;
  for (std::size_t i = 0; i < m.data.tags.size(); ++i) {
    m.records[i] = load_train_record(dir, i, m.data.tags[i], m.fingerprint, {base});
    done += m.records[i] ? 1 : 0;
  }
  if (done > 0 && hooks.message) {
    hooks.message("resuming: " + std::to_string(done) + " of " +
                  std::to_string(m.data.tags.size()) + " tags already trained in " + dir.string());
  }
}

ModelDirWriter::~ModelDirWriter() = default;

const std::vector<std::string>& ModelDirWriter::tags() const noexcept { return impl_->data.tags; }

std::optional<TagRecord> ModelDirWriter::finished(std::size_t index) const {
  if (index >= impl_->records.size()) return std::nullopt;
  return impl_->records[index];
}

const TuneConfig& ModelDirWriter::config() const noexcept {
  return impl_->tuning.families.front().best;
}

TagRecord ModelDirWriter::add(const ExternalTreeFit& fit) {
  Impl& m = *impl_;
  if (fit.index >= m.data.tags.size()) {
    throw InvalidArgument("tag index " + std::to_string(fit.index) + " out of range (" +
                          std::to_string(m.data.tags.size()) + " tags)");
  }
  if (fit.validation_scores.size() != static_cast<std::size_t>(m.validation_y.rows())) {
    throw InvalidArgument(
        "tag '" + m.data.tags[fit.index] + "': " + std::to_string(fit.validation_scores.size()) +
        " validation scores for " + std::to_string(m.validation_y.rows()) + " validation rows");
  }
  const TuneConfig& config = m.tuning.families.front().best;
  ComponentRecord c =
      component_record(fit, Family::kTree, config, fit.index, m.data.tags[fit.index]);

  TagRecord r;
  r.index = fit.index;
  r.tag = m.data.tags[fit.index];
  r.folds = 0;
  r.positives = fit.positives;
  r.seconds = fit.seconds;
  // Held out on the validation split: the held-out scores are the validation scores.
  const std::vector<std::uint8_t> labels = label_column(m.validation_y, fit.index);
  const auto positives = std::count(labels.begin(), labels.end(), std::uint8_t{1});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  c.heldout_pr_auc = positives > 0 && static_cast<std::size_t>(positives) < labels.size()
                         ? average_precision(fit.validation_scores, labels)
                         : nan;
  r.choice.model = TagModel::kTree;
  r.choice.tree_pr_auc = c.heldout_pr_auc;
  r.choice.linear_pr_auc = r.choice.blend_pr_auc = r.choice.tree_se = r.choice.linear_se = nan;
  r.choice.tree_wins = r.choice.linear_wins = nan;
  r.choice.reason = "tree: the only family trained";
  r.model = TagModel::kTree;
  r.heldout_pr_auc = c.heldout_pr_auc;
  r.components.push_back(c);
  score_on_validation(r, m.validation_y, fit.validation_scores);
  // The model first, then the record that vouches for it (train_model_dir()'s order).
  write_file_atomic(m.dir / c.model_file, fit.model_json);
  write_file_atomic(m.dir / record_file(r.index, false), record_json(r, m.fingerprint));
  m.records[fit.index] = r;
  return r;
}

std::vector<TagRecord> ModelDirWriter::finish(int threads, ThreadStrategy strategy) {
  Impl& m = *impl_;
  std::vector<TagRecord> result;
  std::vector<double> thresholds;
  for (std::size_t i = 0; i < m.records.size(); ++i) {
    if (!m.records[i]) {
      throw InvalidArgument("tag '" + m.data.tags[i] + "' is not trained: the model directory " +
                            m.dir.string() + " cannot be finished");
    }
    result.push_back(*m.records[i]);
    thresholds.push_back(m.records[i]->threshold);
  }
  write_file_atomic(m.dir / kThresholdsFile, format_thresholds_file(m.data.tags, thresholds));
  write_file_atomic(m.dir / kSchemaFile, m.data.schema.to_json());
  ManifestExtras extras{&m.entries, m.fingerprint, &m.tuning, strategy, threads, "", &m.trainer};
  write_manifest(m.dir, m.data, m.settings, extras, result);
  return result;
}

}  // namespace moodboost
