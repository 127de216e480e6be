// The manifest: writing it (the last file of a complete model directory) and loading a model
// directory for prediction (LoadedModel).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "detail/fnv1a.hpp"
#include "detail/json_util.hpp"
#include "detail/model_dir.hpp"
#include "moodboost/io.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/version.hpp"

namespace moodboost {
namespace fs = std::filesystem;

namespace detail {

std::vector<std::string> column_names(const FeatureSchema& schema) {
  std::vector<std::string> names;
  for (const Column& column : schema.columns()) names.push_back(column.name);
  return names;
}

DataRecord data_record(const TrainingData& data) {
  return {data.tags, data.splits, data.features, data.schema, {}};
}

void write_manifest(const fs::path& dir, const DataRecord& data, const RunSettings& settings,
                    const ManifestExtras& extras, const std::vector<TagRecord>& records) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("format_version");
  w.Int(kFormatVersion);
  w.Key("moodboost_version");
  w.String(version().c_str());
  w.Key("xgboost_version");
  w.String(xgboost_version().c_str());
  w.Key("xgboost_build_info");
  const std::string build_info = xgboost_build_info();
  w.RawValue(build_info.c_str(), build_info.size(), rapidjson::kObjectType);
  w.Key("device");
  w.String(to_string(settings.engine.device).c_str());
  w.Key("thread_strategy");
  w.String(to_string(extras.strategy).c_str());
  w.Key("threads");
  w.Int(extras.threads);
  if (extras.out_of_core) {
    const OutOfCoreRecord& o = *extras.out_of_core;
    w.Key("out_of_core");
    w.StartObject();
    w.Key("used");
    w.Bool(o.used);
    w.Key("memory_limit");
    w.Uint64(o.memory_limit);
    w.Key("estimated_in_memory_bytes");
    w.Uint64(o.estimated_bytes);
    w.Key("batch_rows");
    w.Uint64(o.batch_rows);
    w.Key("batches");
    w.Uint64(o.batches);
    w.Key("rule");
    w.String(
        "out of core when rows x columns x 24 bytes (the measured in-memory peak per cell: the "
        "float matrix, XGBoost's copies and its gradient index) exceeds memory_limit: the training "
        "split is streamed from the "
        "feature cache in batches of batch_rows into an XGBoost external-memory matrix; tree "
        "family, validation split held out");
    w.EndObject();
  }
  if (extras.trainer != nullptr) {
    w.Key("trainer");
    detail::write_string_map(w, *extras.trainer);
  }
  w.Key("command_line");
  w.StartArray();
  for (const auto& arg : settings.command_line) w.String(arg.c_str());
  w.EndArray();
  w.Key("fingerprint");
  w.String(extras.fingerprint.c_str());
  w.Key("arguments");
  detail::write_string_map(w, *extras.entries);
  w.Key("synthetic_features");
  w.Bool(data.features.synthetic);
  w.Key("features");
  const std::string features_json = to_json(data.features);
  w.RawValue(features_json.c_str(), features_json.size(), rapidjson::kObjectType);
  w.Key("schema_file");
  w.String(kSchemaFile);
  w.Key("schema_fnv1a64");
  w.String(fnv1a_hex(data.schema.to_json()).c_str());
  w.Key("column_order");
  w.String("a model's columns are schema.json's columns, in that order");
  if (!extras.scaler_hash.empty()) {
    w.Key("scaler_file");
    w.String(kScalerFile);
    w.Key("scaler_fnv1a64");
    w.String(extras.scaler_hash.c_str());
  }
  w.Key("splits");
  w.StartArray();
  for (const auto& split : data.splits) {
    w.StartObject();
    w.Key("role");
    w.String(split.role.c_str());
    w.Key("file");
    w.String(split.file.string().c_str());
    w.Key("rows");
    w.Uint64(split.rows);
    w.Key("fnv1a64");
    w.String(split.hash.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.Key("options");
  w.StartObject();
  w.Key("max_rounds");
  w.Int(settings.boost.max_rounds);
  w.Key("early_stopping");
  w.Int(settings.boost.early_stopping);
  w.Key("eval_metric");
  w.String(settings.boost.eval_metric.c_str());
  w.Key("seed");
  w.Uint64(settings.boost.seed);
  w.Key("trials");
  w.Int(settings.tune.trials);
  w.Key("budget_minutes");
  w.Double(settings.tune.budget_seconds / 60.0);
  w.Key("portfolio");
  w.Bool(settings.tune.portfolio);
  w.Key("families");
  w.String(families_text(settings.tune.families).c_str());
  w.Key("tune_per_tag");
  w.Bool(settings.tune.per_tag);
  w.Key("refit");
  w.String(to_string(settings.refit).c_str());
  w.EndObject();
  w.Key("selection");
  w.StartObject();
  w.Key("heldout");
  w.String(settings.cv_folds > 0 ? "cross-validation" : "validation");
  w.Key("folds");
  w.Int(settings.cv_folds);
  w.Key("folds_grouped_by");
  w.String(settings.cv_folds > 0 ? "ARTIST_ID" : "");
  w.Key("rounds_rule");
  w.String(
      "early stopping on the held-out metric (the mean over the folds with cross-validation), "
      "patience and round cap scaled by max(1, 0.1 / eta); with cross-validation the final model "
      "is trained on the whole training split with the chosen number of rounds");
  w.Key("tag_model_rule");
  w.String(
      "the blend (mean of the tree and linear probabilities) unless one family's held-out "
      "average precision beats the blend's in at least 95% of 200 paired bootstrap resamples "
      "of the held-out rows");
  w.Key("decisions");
  w.String("score > threshold (strict), thresholds F1-optimal on the validation split");
  w.EndObject();
  w.Key("final_params");
  XgbParams final_params = engine_params(settings.engine.device, 0);
  final_params.erase("nthread");
  final_params["seed"] = std::to_string(settings.boost.seed);
  if (settings.boost.eval_metric != "ap") final_params["eval_metric"] = settings.boost.eval_metric;
  for (const auto& [key, value] : settings.boost.params) final_params[key] = value;
  const FamilyChoice* tree_choice = extras.tuning->find(Family::kTree);
  if (tree_choice != nullptr) {
    for (const auto& [key, value] : tree_choice->best.params) final_params[key] = value;
  }
  detail::write_string_map(w, final_params);
  w.Key("scale_pos_weight_mode");
  w.String(to_string(tree_choice != nullptr ? tree_choice->best.scale_pos_weight
                                            : settings.boost.scale_pos_weight)
               .c_str());
  w.Key("tuning");
  w.StartObject();
  w.Key("families");
  w.StartArray();
  for (const FamilyChoice& choice : extras.tuning->families) write_family_choice(w, choice);
  w.EndArray();
  w.Key("trials_file");
  w.String(kTrialsFile);
  w.EndObject();
  const bool has_refit = settings.refit == Refit::kTrainValidation;
  w.Key("refit");
  w.StartObject();
  w.Key("policy");
  w.String(to_string(settings.refit).c_str());
  w.Key("rounds_rule");
  w.String("round(kept_rounds * (train_rows + validation_rows) / train_rows)");
  w.Key("thresholds_from");
  w.String("the train-only models' validation predictions");
  w.EndObject();
  w.Key("default_models");
  w.String(has_refit ? "refit" : "train");
  w.Key("thresholds_file");
  w.String(kThresholdsFile);
  w.Key("tags");
  w.StartArray();
  for (const TagRecord& r : records) {
    w.StartObject();
    write_tag_results(w, r, has_refit);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  write_file_atomic(dir / kManifest, std::string(buffer.GetString(), buffer.GetSize()) + "\n");
}

}  // namespace detail

using namespace detail;

// ---- loading ---------------------------------------------------------------------------------

LoadedModel::~LoadedModel() = default;
LoadedModel::LoadedModel(LoadedModel&&) noexcept = default;
LoadedModel& LoadedModel::operator=(LoadedModel&&) noexcept = default;

LoadedModel::LoadedModel(const fs::path& dir, ModelChoice choice, int threads) : threads_(threads) {
  const fs::path file = dir / kManifest;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    throw IoError(file,
                  "no manifest: not a model directory, or its training has not finished "
                  "(run `moodboost train` again with the same arguments to resume it)");
  }
  const auto doc = detail::parse_json(read_file(file), file);
  const auto format = detail::get_int(doc, "format_version", file);
  // Version 1 (before the linear family): one tree model per tag, under "model".
  if (format != kFormatVersion && format != 1) {
    throw ParseError(
        file, "/format_version",
        "expected 1 or " + std::to_string(kFormatVersion) + ", found " + std::to_string(format));
  }
  features_ = [&] {
    const auto& features = detail::member(doc, "features", file);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    features.Accept(w);
    try {
      return feature_record_from_json(std::string_view(buffer.GetString(), buffer.GetSize()), file);
    } catch (const ParseError& e) {
      throw ParseError(file, "/features", e.what());
    }
  }();
  const std::string schema_json = read_file(dir / kSchemaFile, std::uintmax_t(1) << 30);
  if (fnv1a_hex(schema_json) != detail::get_string(doc, "schema_fnv1a64", file)) {
    throw DataError((dir / kSchemaFile).string() + ": the file differs from the one recorded in " +
                    file.string() + " (/schema_fnv1a64): it is damaged or from another run");
  }
  schema_ = FeatureSchema::from_json(schema_json, dir / kSchemaFile);
  const bool has_refit = detail::get_string(doc, "default_models", file) == "refit";
  if (choice == ModelChoice::kRefit && !has_refit) {
    throw InvalidArgument(dir.string() + " has no refit models (it was trained with --refit none)");
  }
  uses_refit_ = choice == ModelChoice::kRefit || (choice == ModelChoice::kDefault && has_refit);
  const auto& synthetic = detail::member(doc, "synthetic_features", file);
  if (!synthetic.IsBool()) throw ParseError(file, "/synthetic_features", "expected true or false");
  synthetic_features_ = synthetic.GetBool();
  const auto& tags = detail::member(doc, "tags", file);
  if (!tags.IsArray() || tags.Empty())
    throw ParseError(file, "/tags", "expected a non-empty array");
  const char* which = uses_refit_ ? "refit_model" : "model";
  // Reads, checks and loads one model file named by \p model (an object with file and fnv1a64).
  auto load = [&](const rapidjson::Value& entry, const std::string& where, std::size_t tag,
                  Family family, double weight) {
    const auto& model = detail::member(entry, which, file, where);
    const std::string model_where = where + "/" + which;
    const std::string relative = detail::get_string(model, "file", file, model_where);
    const std::string hash = detail::get_string(model, "fnv1a64", file, model_where);
    const std::string bytes = read_file(dir / relative, std::uintmax_t(1) << 31);
    if (fnv1a_hex(bytes) != hash) {
      throw DataError((dir / relative).string() + ": the file differs from the one recorded in " +
                      file.string() + " (" + model_where +
                      "/fnv1a64): it is damaged or from another run; train again");
    }
    BoosterGroup& group = family == Family::kLinear ? linears_ : trees_;
    try {
      group.boosters.emplace_back(bytes, threads);
    } catch (const XgbError& e) {
      throw DataError((dir / relative).string() + ": XGBoost cannot load it: " + e.what());
    }
    group.owner.push_back(tag);
    group.weight.push_back(weight);
    components_[tag].push_back({family, weight, bytes});
  };
  components_.resize(tags.Size());
  bool any_linear = false;
  for (rapidjson::SizeType i = 0; i < tags.Size(); ++i) {
    const std::string where = "/tags/" + std::to_string(i);
    const auto& entry = tags[i];
    tags_.push_back(detail::get_string(entry, "tag", file, where));
    const double threshold = detail::get_double(entry, "threshold", file, where);
    thresholds_.push_back(std::isnan(threshold) ? 0.5 : threshold);
    if (format == 1) {
      tag_models_.push_back(TagModel::kTree);
      load(entry, where, i, Family::kTree, 1.0);
      continue;
    }
    try {
      tag_models_.push_back(parse_tag_model(detail::get_string(entry, "tag_model", file, where)));
    } catch (const InvalidArgument& e) {
      throw ParseError(file, where + "/tag_model", e.what());
    }
    const auto& components = detail::member(entry, "components", file, where);
    if (!components.IsArray() || components.Empty()) {
      throw ParseError(file, where + "/components", "expected a non-empty array");
    }
    for (rapidjson::SizeType c = 0; c < components.Size(); ++c) {
      const std::string component_where = where + "/components/" + std::to_string(c);
      Family family = Family::kTree;
      try {
        family = parse_family(detail::get_string(components[c], "family", file, component_where));
      } catch (const InvalidArgument& e) {
        throw ParseError(file, component_where + "/family", e.what());
      }
      const double weight = detail::get_double(components[c], "weight", file, component_where);
      if (!std::isfinite(weight)) {
        throw ParseError(file, component_where + "/weight", "expected a finite number");
      }
      any_linear = any_linear || family == Family::kLinear;
      load(components[c], component_where, i, family, weight);
    }
  }
  if (any_linear) {
    const std::string text = read_file(dir / kScalerFile, std::uintmax_t(1) << 30);
    if (fnv1a_hex(text) != detail::get_string(doc, "scaler_fnv1a64", file)) {
      throw DataError((dir / kScalerFile).string() +
                      ": the file differs from the one recorded in " + file.string() +
                      " (/scaler_fnv1a64): it is damaged or from another run");
    }
    scaler_ = parse_scaler_tsv(text, column_names(schema_), dir / kScalerFile);
  }
}

ScoreMatrix LoadedModel::predict(const FeatureMatrix& features) const {
  ScoreMatrix scores = ScoreMatrix::Zero(features.rows(), static_cast<Eigen::Index>(tags_.size()));
  // Tree and linear boosters each predict from one shared XGBoost matrix; a linear model sees
  // missing values as the training means (what it was trained to expect). Trees first, as the
  // blend's validation scores were summed at training (the same doubles).
  for (const BoosterGroup* group : {&trees_, &linears_}) {
    if (group->boosters.empty()) continue;
    FeatureMatrix imputed;
    const bool impute = group == &linears_ && has_missing(features);
    if (impute) imputed = impute_means(features, *scaler_);
    const ScoreMatrix part = predict_tags(group->boosters, impute ? imputed : features, threads_);
    for (std::size_t j = 0; j < group->boosters.size(); ++j) {
      scores.col(static_cast<Eigen::Index>(group->owner[j])) +=
          group->weight[j] * part.col(static_cast<Eigen::Index>(j));
    }
  }
  return scores;
}

LabelMatrix LoadedModel::decide(const ScoreMatrix& scores) const {
  if (scores.cols() != static_cast<Eigen::Index>(thresholds_.size())) {
    throw InvalidArgument("scores have " + std::to_string(scores.cols()) + " columns, the model " +
                          std::to_string(thresholds_.size()) + " tags");
  }
  return apply_thresholds(scores, thresholds_);
}

}  // namespace moodboost
