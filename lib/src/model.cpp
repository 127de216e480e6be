#include "moodboost/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "detail/json_util.hpp"
#include "moodboost/io.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/metrics_format.hpp"
#include "moodboost/version.hpp"

namespace moodboost {
namespace fs = std::filesystem;
using detail::JsonWriter;

namespace {

constexpr int kFormatVersion = 1;
constexpr const char* kManifest = "manifest.json";
constexpr const char* kRunFile = "run.json";
constexpr const char* kTuningFile = "tuning.json";
constexpr const char* kTrialsFile = "trials.tsv";
constexpr const char* kThresholdsFile = "thresholds.tsv";
constexpr const char* kSchemaFile = "schema.json";

// ---- small helpers -----------------------------------------------------------------------------

std::string index_name(std::size_t index) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%03zu", index);
  return buffer;
}

// A tag as a file-name part: letters, digits, '.', '_' and '-' kept, anything else '_'
// ("mood/theme---happy" -> "mood_theme---happy"). The index prefix keeps names unique.
std::string file_safe(std::string_view tag) {
  std::string out;
  for (char c : tag) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    out += keep ? c : '_';
  }
  return out.substr(0, 80);
}

std::string model_file(std::size_t index, const std::string& tag, bool refit) {
  return "models/" + index_name(index) + "-" + file_safe(tag) + (refit ? ".refit.json" : ".json");
}

std::string record_file(std::size_t index, bool refit) {
  return "records/" + index_name(index) + (refit ? ".refit.json" : ".train.json");
}

template <typename Bytes>
void fnv_update(std::uint64_t& hash, const Bytes* data, std::size_t count) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  const std::size_t size = count * sizeof(Bytes);
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
}

std::string hex64(std::uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

std::string params_text(const XgbParams& params) {
  std::string out;
  for (const auto& [key, value] : params) out += (out.empty() ? "" : ";") + key + "=" + value;
  return out;
}

std::string number_text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

// The arguments that decide what a run produces, as name -> value. Two runs with equal maps
// (and equal data) produce identical models, so a directory holding one may resume the other.
// Threads and the thread strategy are absent: they never change a model (tested).
std::map<std::string, std::string> run_arguments(const RunSettings& s) {
  std::map<std::string, std::string> args{
      {"params", params_text(s.boost.params)},
      {"rounds", std::to_string(s.boost.max_rounds)},
      {"early_stopping", std::to_string(s.boost.early_stopping)},
      {"eval_metric", s.boost.eval_metric},
      {"seed", std::to_string(s.boost.seed)},
      {"scale_pos_weight", to_string(s.boost.scale_pos_weight)},
      {"search_base", s.base_config.key()},
      {"trials", std::to_string(s.tune.trials)},
      {"budget_seconds", number_text(s.tune.budget_seconds)},
      {"halving_eta", std::to_string(s.tune.eta)},
      {"first_stage_tags", std::to_string(s.tune.first_stage_tags)},
      {"tune_per_tag", s.tune.per_tag ? "true" : "false"},
      {"tune_seed", std::to_string(s.tune.seed)},
      {"refit", to_string(s.refit)},
      {"device", to_string(s.engine.device)},
  };
  std::string fixed;
  for (const auto& name : s.tune.fixed_params) fixed += (fixed.empty() ? "" : ",") + name;
  args["fixed_params"] = fixed + (s.tune.fixed_scale_pos_weight ? ";scale_pos_weight" : "");
  return args;
}

std::map<std::string, std::string> data_fingerprint(const TrainingData& data) {
  std::uint64_t features = 0xcbf29ce484222325ull;
  fnv_update(features, data.train_x.data(), static_cast<std::size_t>(data.train_x.size()));
  fnv_update(features, data.validation_x.data(),
             static_cast<std::size_t>(data.validation_x.size()));
  fnv_update(features, data.features_json.data(), data.features_json.size());
  fnv_update(features, data.schema_json.data(), data.schema_json.size());
  std::uint64_t labels = 0xcbf29ce484222325ull;
  fnv_update(labels, data.train_y.data(), static_cast<std::size_t>(data.train_y.size()));
  fnv_update(labels, data.validation_y.data(), static_cast<std::size_t>(data.validation_y.size()));
  std::string tags;
  for (const auto& tag : data.tags) tags += tag + "\n";
  std::map<std::string, std::string> out{
      {"data.features", hex64(features) + " (" + std::to_string(data.train_x.rows()) + "+" +
                            std::to_string(data.validation_x.rows()) + " rows x " +
                            std::to_string(data.train_x.cols()) + " columns)"},
      {"data.labels", hex64(labels)},
      {"data.tags", fnv1a_hex(tags) + " (" + std::to_string(data.tags.size()) + " tags)"},
  };
  for (const auto& split : data.splits) out["data.split." + split.role] = split.hash;
  return out;
}

std::string fingerprint_of(const std::map<std::string, std::string>& entries) {
  std::string text;
  for (const auto& [key, value] : entries) text += key + "=" + value + "\n";
  return fnv1a_hex(text);
}

void write_string_map(JsonWriter& w, const std::map<std::string, std::string>& entries) {
  w.StartObject();
  for (const auto& [key, value] : entries) {
    w.Key(key.c_str());
    w.String(value.c_str());
  }
  w.EndObject();
}

std::map<std::string, std::string> read_string_map(const rapidjson::Value& object,
                                                   const fs::path& file, const char* where) {
  if (!object.IsObject()) throw ParseError(file, where, "expected an object");
  std::map<std::string, std::string> out;
  for (const auto& m : object.GetObject()) {
    if (!m.value.IsString()) {
      throw ParseError(file, std::string(where) + "/" + m.name.GetString(), "expected a string");
    }
    out[m.name.GetString()] = m.value.GetString();
  }
  return out;
}

void write_params(JsonWriter& w, const XgbParams& params) {
  w.StartObject();
  for (const auto& [key, value] : params) {
    w.Key(key.c_str());
    w.String(value.c_str());
  }
  w.EndObject();
}

// ---- per-tag records ---------------------------------------------------------------------------

// The results of a tag's train-only booster, as both its record and the manifest hold them.
void write_train_results(JsonWriter& w, const TagRecord& r) {
  w.Key("best_iteration");
  w.Int(r.best_iteration);
  w.Key("rounds_trained");
  w.Int(r.rounds_trained);
  w.Key("best_score");
  detail::write_double(w, r.best_score);
  w.Key("validation_roc_auc");
  detail::write_double(w, r.validation_roc_auc);
  w.Key("validation_pr_auc");
  detail::write_double(w, r.validation_pr_auc);
  w.Key("threshold");
  detail::write_double(w, r.threshold);
  w.Key("positives");
  w.Uint64(r.positives);
  w.Key("validation_positives");
  w.Uint64(r.validation_positives);
  w.Key("scale_pos_weight");
  w.Double(r.scale_pos_weight);
  w.Key("seconds");
  w.Double(r.seconds);
}

std::string record_json(const TagRecord& r, const std::string& fingerprint, bool refit) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("fingerprint");
  w.String(fingerprint.c_str());
  w.Key("index");
  w.Uint64(r.index);
  w.Key("tag");
  w.String(r.tag.c_str());
  w.Key("config");
  write_params(w, r.params);
  w.Key("scale_pos_weight_mode");
  w.String(r.scale_pos_weight_mode.c_str());
  if (!refit) {
    write_train_results(w, r);
    w.Key("model_file");
    w.String(r.model_file.c_str());
    w.Key("model_hash");
    w.String(r.model_hash.c_str());
  } else {
    w.Key("train_model_hash");
    w.String(r.model_hash.c_str());
    w.Key("refit_rounds");
    w.Int(r.refit_rounds);
    w.Key("refit_seconds");
    w.Double(r.refit_seconds);
    w.Key("refit_model_file");
    w.String(r.refit_model_file.c_str());
    w.Key("refit_model_hash");
    w.String(r.refit_model_hash.c_str());
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

XgbParams read_params(const rapidjson::Value& object, const fs::path& file, const char* where) {
  const auto entries = read_string_map(object, file, where);
  return XgbParams(entries.begin(), entries.end());
}

bool model_file_matches(const fs::path& dir, const std::string& relative, const std::string& hash) {
  std::error_code ec;
  if (relative.empty() || !fs::is_regular_file(dir / relative, ec)) return false;
  try {
    return fnv1a_hex(read_file(dir / relative, std::uintmax_t(1) << 31)) == hash;
  } catch (const IoError&) {
    return false;
  }
}

// A finished train-phase record of \p index, or nothing when absent, unreadable, from another
// run or configuration, or when its model file is missing or differs from the recorded hash
// (a crash between the two writes, or a damaged file): such a tag is trained again.
std::optional<TagRecord> load_train_record(const fs::path& dir, std::size_t index,
                                           const std::string& tag, const std::string& fingerprint,
                                           const XgbParams& config, const std::string& mode) {
  const fs::path file = dir / record_file(index, false);
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  try {
    const auto doc = detail::parse_json(read_file(file), file);
    if (detail::get_string(doc, "fingerprint", file) != fingerprint) return std::nullopt;
    TagRecord r;
    r.index = static_cast<std::size_t>(detail::get_int(doc, "index", file));
    r.tag = detail::get_string(doc, "tag", file);
    r.params = read_params(detail::member(doc, "config", file), file, "/config");
    r.scale_pos_weight_mode = detail::get_string(doc, "scale_pos_weight_mode", file);
    if (r.index != index || r.tag != tag || r.params != config || r.scale_pos_weight_mode != mode) {
      return std::nullopt;
    }
    r.best_iteration = static_cast<int>(detail::get_int(doc, "best_iteration", file));
    r.rounds_trained = static_cast<int>(detail::get_int(doc, "rounds_trained", file));
    r.best_score = detail::get_double(doc, "best_score", file);
    r.validation_roc_auc = detail::get_double(doc, "validation_roc_auc", file);
    r.validation_pr_auc = detail::get_double(doc, "validation_pr_auc", file);
    r.threshold = detail::get_double(doc, "threshold", file);
    r.positives = static_cast<std::size_t>(detail::get_int(doc, "positives", file));
    r.validation_positives =
        static_cast<std::size_t>(detail::get_int(doc, "validation_positives", file));
    r.scale_pos_weight = detail::get_double(doc, "scale_pos_weight", file);
    r.seconds = detail::get_double(doc, "seconds", file);
    r.model_file = detail::get_string(doc, "model_file", file);
    r.model_hash = detail::get_string(doc, "model_hash", file);
    if (!model_file_matches(dir, r.model_file, r.model_hash)) return std::nullopt;
    return r;
  } catch (const ParseError&) {
    return std::nullopt;
  } catch (const IoError&) {
    return std::nullopt;
  }
}

bool load_refit_record(const fs::path& dir, TagRecord& r, const std::string& fingerprint) {
  const fs::path file = dir / record_file(r.index, true);
  std::error_code ec;
  if (!fs::exists(file, ec)) return false;
  try {
    const auto doc = detail::parse_json(read_file(file), file);
    if (detail::get_string(doc, "fingerprint", file) != fingerprint ||
        detail::get_string(doc, "tag", file) != r.tag ||
        detail::get_string(doc, "train_model_hash", file) != r.model_hash) {
      return false;
    }
    TagRecord copy = r;
    copy.refit_rounds = static_cast<int>(detail::get_int(doc, "refit_rounds", file));
    copy.refit_seconds = detail::get_double(doc, "refit_seconds", file);
    copy.refit_model_file = detail::get_string(doc, "refit_model_file", file);
    copy.refit_model_hash = detail::get_string(doc, "refit_model_hash", file);
    if (!model_file_matches(dir, copy.refit_model_file, copy.refit_model_hash)) return false;
    r = copy;
    return true;
  } catch (const ParseError&) {
    return false;
  } catch (const IoError&) {
    return false;
  }
}

// ---- run.json: the resume check ----------------------------------------------------------------

// Temporary files of AtomicFile writes that a killed run left behind (".<name>.tmp-<random>");
// they were never renamed into place, so nothing refers to them.
void remove_stale_temporaries(const fs::path& dir) {
  for (const fs::path& sub : {dir, dir / "models", dir / "records"}) {
    std::error_code ec;
    if (!fs::is_directory(sub, ec)) continue;
    for (const auto& entry : fs::directory_iterator(sub, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos) {
        fs::remove(entry.path(), ec);
      }
    }
  }
}

void check_or_claim_dir(const fs::path& dir, const std::map<std::string, std::string>& entries,
                        bool restart, const RunHooks& hooks) {
  const fs::path file = dir / kRunFile;
  std::error_code ec;
  if (fs::exists(file, ec)) {
    const auto doc = detail::parse_json(read_file(file), file);
    const auto old = read_string_map(detail::member(doc, "arguments", file), file, "/arguments");
    if (old != entries) {
      std::vector<std::string> differ;
      for (const auto& [key, value] : entries) {
        const auto it = old.find(key);
        if (it == old.end() || it->second != value) differ.push_back(key);
      }
      for (const auto& [key, value] : old) {
        if (!entries.contains(key)) differ.push_back(key);
      }
      if (!restart) {
        std::string list;
        for (const auto& key : differ) list += (list.empty() ? "" : ", ") + key;
        throw InvalidArgument(dir.string() +
                              " holds a training run with other arguments or data "
                              "(differs in: " +
                              list +
                              "); give --restart to discard it, or "
                              "choose another --out directory");
      }
      if (hooks.message) hooks.message("restart: discarding the earlier run in " + dir.string());
      for (const char* name : {kManifest, kTuningFile, kTrialsFile, kThresholdsFile, kSchemaFile}) {
        fs::remove(dir / name, ec);
      }
      fs::remove_all(dir / "records", ec);
      fs::remove_all(dir / "models", ec);
    }
  } else if (fs::exists(dir / kManifest, ec) || fs::exists(dir / "records", ec)) {
    if (!restart) {
      throw InvalidArgument(dir.string() +
                            " holds model files but no run.json; give --restart "
                            "to discard them, or choose another --out directory");
    }
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("format_version");
  w.Int(kFormatVersion);
  w.Key("fingerprint");
  w.String(fingerprint_of(entries).c_str());
  w.Key("arguments");
  write_string_map(w, entries);
  w.EndObject();
  write_file_atomic(file, std::string(buffer.GetString(), buffer.GetSize()) + "\n");
}

// ---- trials.tsv and tuning.json ----------------------------------------------------------------

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

std::string trials_tsv(const std::vector<Trial>& trials) {
  std::string out =
      "trial\tstage\tconfig\tscale_pos_weight\tn_tags\ttags\tmax_rounds\tmean_rounds\t"
      "pr_auc_macro\tseconds\n";
  for (const Trial& t : trials) {
    char numbers[160];
    std::snprintf(numbers, sizeof(numbers), "%d\t%.1f\t%.17g\t%.3f", t.max_rounds, t.mean_rounds,
                  t.score, t.seconds);
    out += std::to_string(t.id) + "\t" + t.stage + "\t" + params_text(t.config.params) + "\t" +
           to_string(t.config.scale_pos_weight) + "\t" + std::to_string(t.tags.size()) + "\t" +
           join(t.tags, ",") + "\t" + numbers + "\n";
  }
  return out;
}

std::vector<std::string> split_fields(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto end = line.find(sep, start);
    out.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// Trials logged by an earlier run (its run.json matched ours). Per-tag scores are not logged, so
// only halving trials are reused; a damaged line ends the reuse there.
std::vector<Trial> read_trials(const fs::path& file) {
  std::vector<Trial> out;
  std::error_code ec;
  if (!fs::exists(file, ec)) return out;
  std::istringstream in(read_file(file));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto f = split_fields(line, '\t');
    if (f.size() != 10) break;
    Trial t;
    try {
      t.id = std::stoi(f[0]);
      t.stage = f[1];
      for (const auto& kv : f[2].empty() ? std::vector<std::string>{} : split_fields(f[2], ';')) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) throw std::invalid_argument(kv);
        t.config.params[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      t.config.scale_pos_weight = parse_scale_pos_weight(f[3]);
      t.tags = f[5].empty() ? std::vector<std::string>{} : split_fields(f[5], ',');
      t.max_rounds = std::stoi(f[6]);
      t.mean_rounds = std::stod(f[7]);
      t.score = std::stod(f[8]);
      t.seconds = std::stod(f[9]);
    } catch (const std::exception&) {
      break;
    }
    if (t.stage != "per-tag") out.push_back(std::move(t));
  }
  return out;
}

void write_config(JsonWriter& w, const TuneConfig& config) {
  w.StartObject();
  w.Key("params");
  write_params(w, config.params);
  w.Key("scale_pos_weight");
  w.String(to_string(config.scale_pos_weight).c_str());
  w.EndObject();
}

TuneConfig read_config(const rapidjson::Value& value, const fs::path& file,
                       const std::string& where) {
  TuneConfig config;
  config.params =
      read_params(detail::member(value, "params", file, where), file, (where + "/params").c_str());
  config.scale_pos_weight =
      parse_scale_pos_weight(detail::get_string(value, "scale_pos_weight", file, where));
  return config;
}

void write_tuning(const fs::path& file, const std::string& fingerprint, const TuneResult& result) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("fingerprint");
  w.String(fingerprint.c_str());
  w.Key("best");
  write_config(w, result.best);
  w.Key("best_score");
  detail::write_double(w, result.best_score);
  w.Key("trials");
  w.Uint64(result.trials.size());
  w.Key("per_tag");
  w.StartArray();
  for (const auto& config : result.per_tag) write_config(w, config);
  w.EndArray();
  w.EndObject();
  write_file_atomic(file, std::string(buffer.GetString(), buffer.GetSize()) + "\n");
}

std::optional<TuneResult> read_tuning(const fs::path& file, const std::string& fingerprint) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  try {
    const auto doc = detail::parse_json(read_file(file), file);
    if (detail::get_string(doc, "fingerprint", file) != fingerprint) return std::nullopt;
    TuneResult result;
    result.best = read_config(detail::member(doc, "best", file), file, "/best");
    result.best_score = detail::get_double(doc, "best_score", file);
    const auto& per_tag = detail::member(doc, "per_tag", file);
    if (!per_tag.IsArray()) throw ParseError(file, "/per_tag", "expected an array");
    for (rapidjson::SizeType i = 0; i < per_tag.Size(); ++i) {
      result.per_tag.push_back(read_config(per_tag[i], file, "/per_tag/" + std::to_string(i)));
    }
    return result;
  } catch (const ParseError&) {
    return std::nullopt;
  } catch (const InvalidArgument&) {
    return std::nullopt;
  }
}

// ---- metrics of a finished tag -----------------------------------------------------------------

void score_on_validation(TagRecord& r, const LabelMatrix& validation_y, const TagFit& fit) {
  const std::vector<std::uint8_t> labels = label_column(validation_y, fit.column);
  r.validation_positives =
      static_cast<std::size_t>(std::count(labels.begin(), labels.end(), std::uint8_t{1}));
  const bool both = r.validation_positives > 0 &&
                    r.validation_positives < static_cast<std::size_t>(labels.size());
  if (!both) {
    // Documented policy: ranking metrics are undefined; decisions fall back to score > 0.5.
    r.validation_roc_auc = r.validation_pr_auc = std::numeric_limits<double>::quiet_NaN();
    r.threshold = 0.5;
    return;
  }
  r.validation_roc_auc = roc_auc(fit.validation_scores, labels);
  r.validation_pr_auc = average_precision(fit.validation_scores, labels);
  // The reference decision script's rule (metrics module): F1-optimal, decisions score > t.
  r.threshold = best_f1_threshold(fit.validation_scores, labels);
}

LabelMatrix stack(const LabelMatrix& a, const LabelMatrix& b) {
  LabelMatrix out(a.rows() + b.rows(), a.cols());
  out << a, b;
  return out;
}

FeatureMatrix stack(const FeatureMatrix& a, const FeatureMatrix& b) {
  FeatureMatrix out(a.rows() + b.rows(), a.cols());
  out << a, b;
  return out;
}

void write_manifest(const fs::path& dir, const TrainingData& data, const RunSettings& settings,
                    const std::map<std::string, std::string>& entries,
                    const std::string& fingerprint, const TuneResult& tuning,
                    const std::vector<TagRecord>& records, ThreadStrategy strategy, int threads) {
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
  w.String(to_string(strategy).c_str());
  w.Key("threads");
  w.Int(threads);
  w.Key("command_line");
  w.StartArray();
  for (const auto& arg : settings.command_line) w.String(arg.c_str());
  w.EndArray();
  w.Key("fingerprint");
  w.String(fingerprint.c_str());
  w.Key("arguments");
  write_string_map(w, entries);
  w.Key("synthetic_features");
  w.Bool(data.synthetic);
  w.Key("features");
  w.RawValue(data.features_json.c_str(), data.features_json.size(), rapidjson::kObjectType);
  w.Key("schema_file");
  w.String(kSchemaFile);
  w.Key("schema_fnv1a64");
  w.String(fnv1a_hex(data.schema_json).c_str());
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
  w.Key("tune_per_tag");
  w.Bool(settings.tune.per_tag);
  w.Key("refit");
  w.String(to_string(settings.refit).c_str());
  w.EndObject();
  w.Key("final_params");
  XgbParams final_params = engine_params(settings.engine.device, 0);
  final_params.erase("nthread");
  final_params["seed"] = std::to_string(settings.boost.seed);
  if (settings.boost.eval_metric != "ap") final_params["eval_metric"] = settings.boost.eval_metric;
  for (const auto& [key, value] : settings.boost.params) final_params[key] = value;
  for (const auto& [key, value] : tuning.best.params) final_params[key] = value;
  write_params(w, final_params);
  w.Key("scale_pos_weight_mode");
  w.String(to_string(tuning.best.scale_pos_weight).c_str());
  w.Key("tuning");
  w.StartObject();
  w.Key("best");
  write_config(w, tuning.best);
  w.Key("best_score");
  detail::write_double(w, tuning.best_score);
  w.Key("per_tag");
  w.Bool(!tuning.per_tag.empty());
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
    w.Key("index");
    w.Uint64(r.index);
    w.Key("tag");
    w.String(r.tag.c_str());
    write_train_results(w, r);
    w.Key("config");
    write_params(w, r.params);
    w.Key("model");
    w.StartObject();
    w.Key("kind");
    w.String("train");
    w.Key("file");
    w.String(r.model_file.c_str());
    w.Key("fnv1a64");
    w.String(r.model_hash.c_str());
    w.EndObject();
    if (has_refit) {
      w.Key("refit_model");
      w.StartObject();
      w.Key("kind");
      w.String("train+validation");
      w.Key("file");
      w.String(r.refit_model_file.c_str());
      w.Key("fnv1a64");
      w.String(r.refit_model_hash.c_str());
      w.Key("rounds");
      w.Int(r.refit_rounds);
      w.Key("seconds");
      w.Double(r.refit_seconds);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  write_file_atomic(dir / kManifest, std::string(buffer.GetString(), buffer.GetSize()) + "\n");
}

}  // namespace

std::string fnv1a_hex(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  fnv_update(hash, bytes.data(), bytes.size());
  return hex64(hash);
}

int refit_rounds(int best_rounds, std::size_t train_rows, std::size_t validation_rows) {
  if (train_rows == 0) return std::max(1, best_rounds);
  const double scaled = static_cast<double>(best_rounds) *
                        static_cast<double>(train_rows + validation_rows) /
                        static_cast<double>(train_rows);
  return std::max(1, static_cast<int>(std::lround(scaled)));
}

Refit parse_refit(std::string_view text) {
  if (text == "none") return Refit::kNone;
  if (text == "train+validation") return Refit::kTrainValidation;
  throw InvalidArgument("refit '" + std::string(text) + "': expected none or train+validation");
}

std::string to_string(Refit refit) { return refit == Refit::kNone ? "none" : "train+validation"; }

ModelChoice parse_model_choice(std::string_view text) {
  if (text == "default") return ModelChoice::kDefault;
  if (text == "train") return ModelChoice::kTrain;
  if (text == "refit") return ModelChoice::kRefit;
  throw InvalidArgument("models '" + std::string(text) + "': expected default, train or refit");
}

std::vector<TagRecord> train_model_dir(const TrainingData& data, const RunSettings& settings,
                                       const fs::path& dir, const RunHooks& hooks) {
  const auto tag_count = static_cast<Eigen::Index>(data.tags.size());
  if (data.train_y.cols() != tag_count || data.validation_y.cols() != tag_count ||
      data.train_y.rows() != data.train_x.rows() ||
      data.validation_y.rows() != data.validation_x.rows()) {
    throw InvalidArgument(
        "training data shapes disagree: train " + std::to_string(data.train_x.rows()) + "x" +
        std::to_string(data.train_x.cols()) + " features, " + std::to_string(data.train_y.rows()) +
        "x" + std::to_string(data.train_y.cols()) + " labels; validation " +
        std::to_string(data.validation_x.rows()) + " rows, " +
        std::to_string(data.validation_y.rows()) + " label rows; " +
        std::to_string(data.tags.size()) + " tags");
  }
  auto say = [&](const std::string& text) {
    if (hooks.message) hooks.message(text);
  };

  std::map<std::string, std::string> entries = run_arguments(settings);
  entries.merge(data_fingerprint(data));
  const std::string fingerprint = fingerprint_of(entries);
  check_or_claim_dir(dir, entries, settings.restart, hooks);
  remove_stale_temporaries(dir);

  Trainer trainer(data.train_x, &data.validation_x, settings.engine);

  // 1. The search (reused from tuning.json when an earlier run finished it).
  TuneResult tuning;
  tuning.best = settings.base_config;
  tuning.best_score = std::numeric_limits<double>::quiet_NaN();
  const bool search = settings.tune.trials > 0 || settings.tune.budget_seconds > 0;
  if (auto done = read_tuning(dir / kTuningFile, fingerprint)) {
    tuning = *done;
    say("search: reusing the finished search in " + (dir / kTuningFile).string());
  } else if (search) {
    std::vector<Trial> logged = read_trials(dir / kTrialsFile);
    if (!logged.empty()) say("search: reusing " + std::to_string(logged.size()) + " logged trials");
    std::vector<Trial> log;
    std::mutex log_mutex;
    TuneHooks tune_hooks;
    tune_hooks.fit = hooks.fit;
    tune_hooks.find_done = [&](const Trial& planned) -> std::optional<Trial> {
      for (const Trial& t : logged) {
        if (t.id == planned.id && t.stage == planned.stage && t.tags == planned.tags &&
            t.max_rounds == planned.max_rounds && t.config.key() == planned.config.key()) {
          std::lock_guard lock(log_mutex);
          log.push_back(t);
          write_file_atomic(dir / kTrialsFile, trials_tsv(log));
          return t;
        }
      }
      return std::nullopt;
    };
    tune_hooks.on_trial = [&](const Trial& trial) {
      std::lock_guard lock(log_mutex);
      log.push_back(trial);
      write_file_atomic(dir / kTrialsFile, trials_tsv(log));
      if (hooks.trial_done) hooks.trial_done(trial);
    };
    tuning = tune(trainer, data.train_y, data.validation_y, data.tags, settings.boost,
                  settings.base_config, settings.tune, tune_hooks);
    tuning.trials = log;
    write_tuning(dir / kTuningFile, fingerprint, tuning);
  } else {
    write_tuning(dir / kTuningFile, fingerprint, tuning);
  }

  auto config_of = [&](std::size_t index) -> const TuneConfig& {
    return tuning.per_tag.empty() ? tuning.best : tuning.per_tag.at(index);
  };

  // 2. One booster per tag on the training split; finished tags of an earlier run are kept.
  std::vector<std::optional<TagRecord>> records(data.tags.size());
  std::vector<TagJob> jobs;
  for (std::size_t i = 0; i < data.tags.size(); ++i) {
    const TuneConfig& config = config_of(i);
    records[i] = load_train_record(dir, i, data.tags[i], fingerprint, config.params,
                                   to_string(config.scale_pos_weight));
    if (!records[i]) {
      jobs.push_back({i, data.tags[i], 0, config.params, config.scale_pos_weight});
    }
  }
  std::size_t done = data.tags.size() - jobs.size();
  if (done > 0) {
    say("resuming: " + std::to_string(done) + " of " + std::to_string(data.tags.size()) +
        " tags already trained in " + dir.string());
  }
  FitHooks fit_hooks = hooks.fit;
  fit_hooks.on_tag_done = [&](const TagFit& fit) {
    TagRecord r;
    r.index = fit.column;
    r.tag = fit.tag;
    r.best_iteration = fit.best_iteration;
    r.rounds_trained = fit.rounds_trained;
    r.best_score = fit.best_score;
    r.positives = fit.positives;
    r.scale_pos_weight = fit.scale_pos_weight;
    r.seconds = fit.seconds;
    r.params = config_of(fit.column).params;
    r.scale_pos_weight_mode = to_string(config_of(fit.column).scale_pos_weight);
    score_on_validation(r, data.validation_y, fit);
    r.model_file = model_file(fit.column, fit.tag, false);
    r.model_hash = fnv1a_hex(fit.model_json);
    // The model first, then the record that vouches for it: a crash in between leaves a model
    // without a record, which the next run trains again.
    write_file_atomic(dir / r.model_file, fit.model_json);
    write_file_atomic(dir / record_file(r.index, false), record_json(r, fingerprint, false));
    records[r.index] = r;
    ++done;
    if (hooks.tag_done) hooks.tag_done("train", done, data.tags.size(), r);
  };
  {
    BoostOptions options = settings.boost;
    (void)trainer.fit(data.train_y, &data.validation_y, jobs, options, fit_hooks);
  }
  std::vector<TagRecord> result;
  for (auto& r : records) result.push_back(*r);

  // 3. The refit on train + validation, with the documented number of rounds.
  if (settings.refit == Refit::kTrainValidation) {
    const auto train_rows = static_cast<std::size_t>(data.train_x.rows());
    const auto valid_rows = static_cast<std::size_t>(data.validation_x.rows());
    std::vector<TagJob> refit_jobs;
    for (TagRecord& r : result) {
      if (!load_refit_record(dir, r, fingerprint)) {
        const TuneConfig& config = config_of(r.index);
        refit_jobs.push_back({r.index, r.tag,
                              refit_rounds(r.best_iteration + 1, train_rows, valid_rows),
                              config.params, config.scale_pos_weight});
      }
    }
    if (!refit_jobs.empty()) {
      const FeatureMatrix all_x = stack(data.train_x, data.validation_x);
      const LabelMatrix all_y = stack(data.train_y, data.validation_y);
      Trainer refitter(all_x, nullptr, settings.engine);
      std::size_t refit_done = result.size() - refit_jobs.size();
      FitHooks refit_hooks = hooks.fit;
      refit_hooks.on_tag_done = [&](const TagFit& fit) {
        TagRecord& r = result[fit.column];
        r.refit_rounds = fit.rounds_trained;
        r.refit_seconds = fit.seconds;
        r.refit_model_file = model_file(fit.column, fit.tag, true);
        r.refit_model_hash = fnv1a_hex(fit.model_json);
        write_file_atomic(dir / r.refit_model_file, fit.model_json);
        write_file_atomic(dir / record_file(r.index, true), record_json(r, fingerprint, true));
        ++refit_done;
        if (hooks.tag_done) hooks.tag_done("refit", refit_done, result.size(), r);
      };
      (void)refitter.fit(all_y, nullptr, refit_jobs, settings.boost, refit_hooks);
    }
  }

  // 4. Thresholds and the manifest, last: a manifest means a complete model directory.
  std::vector<double> thresholds;
  for (const TagRecord& r : result) thresholds.push_back(r.threshold);
  write_file_atomic(dir / kThresholdsFile, format_thresholds_file(data.tags, thresholds));
  write_file_atomic(dir / kSchemaFile, data.schema_json);
  write_manifest(dir, data, settings, entries, fingerprint, tuning, result, trainer.strategy(),
                 trainer.threads());
  return result;
}

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
  if (format != kFormatVersion) {
    throw ParseError(
        file, "/format_version",
        "expected " + std::to_string(kFormatVersion) + ", found " + std::to_string(format));
  }
  features_json_ = [&] {
    const auto& features = detail::member(doc, "features", file);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    features.Accept(w);
    return std::string(buffer.GetString(), buffer.GetSize());
  }();
  schema_json_ = read_file(dir / kSchemaFile, std::uintmax_t(1) << 30);
  if (fnv1a_hex(schema_json_) != detail::get_string(doc, "schema_fnv1a64", file)) {
    throw DataError((dir / kSchemaFile).string() + ": the file differs from the one recorded in " +
                    file.string() + " (/schema_fnv1a64): it is damaged or from another run");
  }
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
  for (rapidjson::SizeType i = 0; i < tags.Size(); ++i) {
    const std::string where = "/tags/" + std::to_string(i);
    const auto& entry = tags[i];
    tags_.push_back(detail::get_string(entry, "tag", file, where));
    const double threshold = detail::get_double(entry, "threshold", file, where);
    thresholds_.push_back(std::isnan(threshold) ? 0.5 : threshold);
    const char* which = uses_refit_ ? "refit_model" : "model";
    const auto& model = detail::member(entry, which, file, where);
    const std::string model_where = where + "/" + which;
    const std::string relative = detail::get_string(model, "file", file, model_where);
    const std::string hash = detail::get_string(model, "fnv1a64", file, model_where);
    const std::string bytes = read_file(dir / relative, std::uintmax_t(1) << 31);
    if (fnv1a_hex(bytes) != hash) {
      throw DataError((dir / relative).string() + ": the file differs from the one recorded in " +
                      file.string() + " (" + model_where +
                      "/fnv1a64): it is damaged or from "
                      "another run; train again");
    }
    try {
      boosters_.emplace_back(bytes, threads);
      model_json_.push_back(bytes);
    } catch (const XgbError& e) {
      throw DataError((dir / relative).string() + ": XGBoost cannot load it: " + e.what());
    }
  }
}

ScoreMatrix LoadedModel::predict(const FeatureMatrix& features) const {
  return predict_tags(boosters_, features, threads_);
}

LabelMatrix LoadedModel::decide(const ScoreMatrix& scores) const {
  if (scores.cols() != static_cast<Eigen::Index>(thresholds_.size())) {
    throw InvalidArgument("scores have " + std::to_string(scores.cols()) + " columns, the model " +
                          std::to_string(thresholds_.size()) + " tags");
  }
  return apply_thresholds(scores, thresholds_);
}

}  // namespace moodboost
