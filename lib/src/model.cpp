#include "moodboost/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "detail/enum_names.hpp"
#include "detail/json_util.hpp"
#include "moodboost/feature_schema.hpp"
#include "moodboost/folds.hpp"
#include "moodboost/io.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/metrics_format.hpp"
#include "moodboost/version.hpp"

namespace moodboost {
namespace fs = std::filesystem;
using detail::JsonWriter;

namespace {

constexpr int kFormatVersion = 2;
constexpr const char* kManifest = "manifest.json";
constexpr const char* kRunFile = "run.json";
constexpr const char* kTuningFile = "tuning.json";
constexpr const char* kTrialsFile = "trials.tsv";
constexpr const char* kThresholdsFile = "thresholds.tsv";
constexpr const char* kSchemaFile = "schema.json";
constexpr const char* kScalerFile = "scaler.tsv";

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

std::string model_file(std::size_t index, const std::string& tag, Family family, bool refit) {
  return "models/" + index_name(index) + "-" + file_safe(tag) +
         (family == Family::kLinear ? ".linear" : "") + (refit ? ".refit.json" : ".json");
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
std::string families_text(const std::vector<Family>& families) {
  std::string out;
  for (Family f : families) out += (out.empty() ? "" : ",") + to_string(f);
  return out;
}

// The arguments that decide what a run produces, as name -> value. Two runs with equal maps
// (and equal data) produce identical models, so a directory holding one may resume the other.
// Threads and the thread strategy are absent: they never change a model (tested).
std::map<std::string, std::string> run_arguments(const RunSettings& s) {
  std::map<std::string, std::string> args{
      {"params", params_text(s.boost.params)},
      {"linear_params", params_text(s.boost.linear_params)},
      {"rounds", std::to_string(s.boost.max_rounds)},
      {"early_stopping", std::to_string(s.boost.early_stopping)},
      {"eval_metric", s.boost.eval_metric},
      {"seed", std::to_string(s.boost.seed)},
      {"scale_pos_weight", to_string(s.boost.scale_pos_weight)},
      {"search_base", s.base_config.key()},
      {"search_linear_base", s.linear_base_config.key()},
      {"trials", std::to_string(s.tune.trials)},
      {"budget_seconds", number_text(s.tune.budget_seconds)},
      {"portfolio", s.tune.portfolio ? "true" : "false"},
      {"families", families_text(s.tune.families)},
      {"halving_eta", std::to_string(s.tune.eta)},
      {"first_stage_tags", std::to_string(s.tune.first_stage_tags)},
      {"tune_per_tag", s.tune.per_tag ? "true" : "false"},
      {"tune_seed", std::to_string(s.tune.seed)},
      {"cv_folds", std::to_string(s.cv_folds)},
      {"refit", to_string(s.refit)},
      {"device", to_string(s.engine.device)},
  };
  std::string fixed;
  for (const auto& name : s.tune.fixed_params) fixed += (fixed.empty() ? "" : ",") + name;
  for (const auto& name : s.tune.fixed_linear_params) {
    fixed += (fixed.empty() ? "linear:" : ",linear:") + name;
  }
  args["fixed_params"] = fixed + (s.tune.fixed_scale_pos_weight ? ";scale_pos_weight" : "");
  return args;
}

std::map<std::string, std::string> data_fingerprint(const TrainingData& data) {
  std::uint64_t features = 0xcbf29ce484222325ull;
  fnv_update(features, data.train_x.data(), static_cast<std::size_t>(data.train_x.size()));
  fnv_update(features, data.validation_x.data(),
             static_cast<std::size_t>(data.validation_x.size()));
  const std::string features_json = to_json(data.features);
  const std::string schema_json = data.schema.to_json();
  fnv_update(features, features_json.data(), features_json.size());
  fnv_update(features, schema_json.data(), schema_json.size());
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
  if (!data.train_groups.empty()) {
    std::string groups;
    for (const auto& group : data.train_groups) groups += group + "\n";
    out["data.groups"] = fnv1a_hex(groups);
  }
  return out;
}

std::string fingerprint_of(const std::map<std::string, std::string>& entries) {
  std::string text;
  for (const auto& [key, value] : entries) text += key + "=" + value + "\n";
  return fnv1a_hex(text);
}

// ---- per-tag records ---------------------------------------------------------------------------

void write_choice(JsonWriter& w, const TagModelChoice& c) {
  w.StartObject();
  w.Key("tree_pr_auc");
  detail::write_double(w, c.tree_pr_auc);
  w.Key("linear_pr_auc");
  detail::write_double(w, c.linear_pr_auc);
  w.Key("blend_pr_auc");
  detail::write_double(w, c.blend_pr_auc);
  w.Key("tree_se");
  detail::write_double(w, c.tree_se);
  w.Key("linear_se");
  detail::write_double(w, c.linear_se);
  w.Key("tree_wins");
  detail::write_double(w, c.tree_wins);
  w.Key("linear_wins");
  detail::write_double(w, c.linear_wins);
  w.Key("reason");
  w.String(c.reason.c_str());
  w.EndObject();
}

TagModelChoice read_choice(const rapidjson::Value& v, const fs::path& file,
                           const std::string& where) {
  TagModelChoice c;
  c.tree_pr_auc = detail::get_double(v, "tree_pr_auc", file, where);
  c.linear_pr_auc = detail::get_double(v, "linear_pr_auc", file, where);
  c.blend_pr_auc = detail::get_double(v, "blend_pr_auc", file, where);
  c.tree_se = detail::get_double(v, "tree_se", file, where);
  c.linear_se = detail::get_double(v, "linear_se", file, where);
  c.tree_wins = detail::get_double(v, "tree_wins", file, where);
  c.linear_wins = detail::get_double(v, "linear_wins", file, where);
  c.reason = detail::get_string(v, "reason", file, where);
  return c;
}

// A component as the record and the manifest hold it (the model file under "model").
void write_component(JsonWriter& w, const ComponentRecord& c, bool with_refit) {
  w.StartObject();
  w.Key("family");
  w.String(to_string(c.family).c_str());
  w.Key("weight");
  w.Double(c.weight);
  w.Key("config");
  detail::write_string_map(w, c.params);
  w.Key("scale_pos_weight_mode");
  w.String(c.scale_pos_weight_mode.c_str());
  w.Key("scale_pos_weight");
  w.Double(c.scale_pos_weight);
  w.Key("base_score");
  w.Double(c.base_score);
  w.Key("best_iteration");
  w.Int(c.best_iteration);
  w.Key("rounds_trained");
  w.Int(c.rounds_trained);
  w.Key("best_score");
  detail::write_double(w, c.best_score);
  w.Key("heldout_pr_auc");
  detail::write_double(w, c.heldout_pr_auc);
  w.Key("seconds");
  w.Double(c.seconds);
  w.Key("model");
  w.StartObject();
  w.Key("kind");
  w.String("train");
  w.Key("file");
  w.String(c.model_file.c_str());
  w.Key("fnv1a64");
  w.String(c.model_hash.c_str());
  w.EndObject();
  if (with_refit) {
    w.Key("refit_model");
    w.StartObject();
    w.Key("kind");
    w.String("train+validation");
    w.Key("file");
    w.String(c.refit_model_file.c_str());
    w.Key("fnv1a64");
    w.String(c.refit_model_hash.c_str());
    w.Key("rounds");
    w.Int(c.refit_rounds);
    w.Key("seconds");
    w.Double(c.refit_seconds);
    w.EndObject();
  }
  w.EndObject();
}

ComponentRecord read_component(const rapidjson::Value& v, const fs::path& file,
                               const std::string& where) {
  ComponentRecord c;
  c.family = parse_family(detail::get_string(v, "family", file, where));
  c.weight = detail::get_double(v, "weight", file, where);
  c.params = detail::string_map(detail::member(v, "config", file, where), file,
                                (where + "/config").c_str());
  c.scale_pos_weight_mode = detail::get_string(v, "scale_pos_weight_mode", file, where);
  c.scale_pos_weight = detail::get_double(v, "scale_pos_weight", file, where);
  c.base_score = detail::get_double(v, "base_score", file, where);
  c.best_iteration = static_cast<int>(detail::get_int(v, "best_iteration", file, where));
  c.rounds_trained = static_cast<int>(detail::get_int(v, "rounds_trained", file, where));
  c.best_score = detail::get_double(v, "best_score", file, where);
  c.heldout_pr_auc = detail::get_double(v, "heldout_pr_auc", file, where);
  c.seconds = detail::get_double(v, "seconds", file, where);
  const auto& model = detail::member(v, "model", file, where);
  c.model_file = detail::get_string(model, "file", file, where + "/model");
  c.model_hash = detail::get_string(model, "fnv1a64", file, where + "/model");
  return c;
}

// The results of a tag's train-only model, as both its record and the manifest hold them.
void write_tag_results(JsonWriter& w, const TagRecord& r, bool with_refit) {
  w.Key("index");
  w.Uint64(r.index);
  w.Key("tag");
  w.String(r.tag.c_str());
  w.Key("tag_model");
  w.String(to_string(r.model).c_str());
  w.Key("choice");
  write_choice(w, r.choice);
  w.Key("folds");
  w.Int(r.folds);
  w.Key("heldout_pr_auc");
  detail::write_double(w, r.heldout_pr_auc);
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
  w.Key("seconds");
  w.Double(r.seconds);
  w.Key("components");
  w.StartArray();
  for (const ComponentRecord& c : r.components) write_component(w, c, with_refit);
  w.EndArray();
}

std::string record_json(const TagRecord& r, const std::string& fingerprint) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("fingerprint");
  w.String(fingerprint.c_str());
  write_tag_results(w, r, false);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
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

// The configuration each family in play uses for one tag.
using TagConfigs = std::vector<TuneConfig>;

// A finished train-phase record of \p index, or nothing when absent, unreadable, from another
// run or configuration, or when a model file is missing or differs from the recorded hash (a
// crash between the writes, or a damaged file): such a tag is trained again.
std::optional<TagRecord> load_train_record(const fs::path& dir, std::size_t index,
                                           const std::string& tag, const std::string& fingerprint,
                                           const TagConfigs& configs) {
  const fs::path file = dir / record_file(index, false);
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  try {
    const auto doc = detail::parse_json(read_file(file), file);
    if (detail::get_string(doc, "fingerprint", file) != fingerprint) return std::nullopt;
    TagRecord r;
    r.index = static_cast<std::size_t>(detail::get_int(doc, "index", file));
    r.tag = detail::get_string(doc, "tag", file);
    if (r.index != index || r.tag != tag) return std::nullopt;
    r.model = parse_tag_model(detail::get_string(doc, "tag_model", file));
    r.choice = read_choice(detail::member(doc, "choice", file), file, "/choice");
    r.choice.model = r.model;
    r.folds = static_cast<int>(detail::get_int(doc, "folds", file));
    r.heldout_pr_auc = detail::get_double(doc, "heldout_pr_auc", file);
    r.validation_roc_auc = detail::get_double(doc, "validation_roc_auc", file);
    r.validation_pr_auc = detail::get_double(doc, "validation_pr_auc", file);
    r.threshold = detail::get_double(doc, "threshold", file);
    r.positives = static_cast<std::size_t>(detail::get_int(doc, "positives", file));
    r.validation_positives =
        static_cast<std::size_t>(detail::get_int(doc, "validation_positives", file));
    r.seconds = detail::get_double(doc, "seconds", file);
    const auto& components = detail::member(doc, "components", file);
    if (!components.IsArray() || components.Empty()) return std::nullopt;
    for (rapidjson::SizeType i = 0; i < components.Size(); ++i) {
      ComponentRecord c = read_component(components[i], file, "/components/" + std::to_string(i));
      const auto expected = std::find_if(configs.begin(), configs.end(),
                                         [&](const TuneConfig& t) { return t.family == c.family; });
      if (expected == configs.end() || expected->params != c.params ||
          to_string(expected->scale_pos_weight) != c.scale_pos_weight_mode ||
          !model_file_matches(dir, c.model_file, c.model_hash)) {
        return std::nullopt;
      }
      r.components.push_back(std::move(c));
    }
    return r;
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::string refit_record_json(const TagRecord& r, const std::string& fingerprint) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("fingerprint");
  w.String(fingerprint.c_str());
  w.Key("index");
  w.Uint64(r.index);
  w.Key("tag");
  w.String(r.tag.c_str());
  w.Key("components");
  w.StartArray();
  for (const ComponentRecord& c : r.components) {
    w.StartObject();
    w.Key("family");
    w.String(to_string(c.family).c_str());
    w.Key("train_model_hash");
    w.String(c.model_hash.c_str());
    w.Key("refit_rounds");
    w.Int(c.refit_rounds);
    w.Key("refit_seconds");
    w.Double(c.refit_seconds);
    w.Key("refit_model_file");
    w.String(c.refit_model_file.c_str());
    w.Key("refit_model_hash");
    w.String(c.refit_model_hash.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

// Completes \p r's components with a finished refit record, when there is a valid one.
bool load_refit_record(const fs::path& dir, TagRecord& r, const std::string& fingerprint) {
  const fs::path file = dir / record_file(r.index, true);
  std::error_code ec;
  if (!fs::exists(file, ec)) return false;
  try {
    const auto doc = detail::parse_json(read_file(file), file);
    if (detail::get_string(doc, "fingerprint", file) != fingerprint ||
        detail::get_string(doc, "tag", file) != r.tag) {
      return false;
    }
    const auto& components = detail::member(doc, "components", file);
    if (!components.IsArray() || components.Size() != r.components.size()) return false;
    TagRecord copy = r;
    for (rapidjson::SizeType i = 0; i < components.Size(); ++i) {
      const std::string where = "/components/" + std::to_string(i);
      ComponentRecord& c = copy.components[i];
      if (detail::get_string(components[i], "family", file, where) != to_string(c.family) ||
          detail::get_string(components[i], "train_model_hash", file, where) != c.model_hash) {
        return false;
      }
      c.refit_rounds =
          static_cast<int>(detail::get_int(components[i], "refit_rounds", file, where));
      c.refit_seconds = detail::get_double(components[i], "refit_seconds", file, where);
      c.refit_model_file = detail::get_string(components[i], "refit_model_file", file, where);
      c.refit_model_hash = detail::get_string(components[i], "refit_model_hash", file, where);
      if (!model_file_matches(dir, c.refit_model_file, c.refit_model_hash)) return false;
      copy.refit_seconds += c.refit_seconds;
    }
    r = copy;
    return true;
  } catch (const Error&) {
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
    const auto old = detail::string_map(detail::member(doc, "arguments", file), file, "/arguments");
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
  detail::write_string_map(w, entries);
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
      "trial\tstage\tfamily\tconfig\tscale_pos_weight\tn_tags\ttags\tmax_rounds\tmean_rounds\t"
      "pr_auc_macro\ttag_pr_auc\tseconds\n";
  for (const Trial& t : trials) {
    std::vector<std::string> tag_scores;
    for (double v : t.tag_scores) tag_scores.push_back(number_text(v));
    char numbers[160];
    std::snprintf(numbers, sizeof(numbers), "%d\t%.1f\t%.17g", t.max_rounds, t.mean_rounds,
                  t.score);
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.3f", t.seconds);
    out += std::to_string(t.id) + "\t" + t.stage + "\t" + to_string(t.config.family) + "\t" +
           params_text(t.config.params) + "\t" + to_string(t.config.scale_pos_weight) + "\t" +
           std::to_string(t.tags.size()) + "\t" + join(t.tags, ",") + "\t" + numbers + "\t" +
           join(tag_scores, ",") + "\t" + seconds + "\n";
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

// Trials logged by an earlier run (its run.json matched ours); a damaged line ends the reuse
// there.
std::vector<Trial> read_trials(const fs::path& file) {
  std::vector<Trial> out;
  std::error_code ec;
  if (!fs::exists(file, ec)) return out;
  std::istringstream in(read_file(file));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto f = split_fields(line, '\t');
    if (f.size() != 12) break;
    Trial t;
    try {
      t.id = std::stoi(f[0]);
      t.stage = f[1];
      t.config.family = parse_family(f[2]);
      for (const auto& kv : f[3].empty() ? std::vector<std::string>{} : split_fields(f[3], ';')) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) throw std::invalid_argument(kv);
        t.config.params[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      t.config.scale_pos_weight = parse_scale_pos_weight(f[4]);
      t.tags = f[6].empty() ? std::vector<std::string>{} : split_fields(f[6], ',');
      t.max_rounds = std::stoi(f[7]);
      t.mean_rounds = std::stod(f[8]);
      t.score = std::stod(f[9]);
      for (const auto& v : f[10].empty() ? std::vector<std::string>{} : split_fields(f[10], ',')) {
        t.tag_scores.push_back(std::stod(v));
      }
      t.seconds = std::stod(f[11]);
    } catch (const std::exception&) {
      break;
    }
    if (t.tag_scores.size() != t.tags.size()) break;
    out.push_back(std::move(t));
  }
  return out;
}

void write_config(JsonWriter& w, const TuneConfig& config) {
  w.StartObject();
  w.Key("family");
  w.String(to_string(config.family).c_str());
  w.Key("params");
  detail::write_string_map(w, config.params);
  w.Key("scale_pos_weight");
  w.String(to_string(config.scale_pos_weight).c_str());
  w.EndObject();
}

TuneConfig read_config(const rapidjson::Value& value, const fs::path& file,
                       const std::string& where) {
  TuneConfig config;
  config.family = parse_family(detail::get_string(value, "family", file, where));
  config.params = detail::string_map(detail::member(value, "params", file, where), file,
                                     (where + "/params").c_str());
  config.scale_pos_weight =
      parse_scale_pos_weight(detail::get_string(value, "scale_pos_weight", file, where));
  return config;
}

void write_family_choice(JsonWriter& w, const FamilyChoice& choice) {
  w.StartObject();
  w.Key("family");
  w.String(to_string(choice.best.family).c_str());
  w.Key("best");
  write_config(w, choice.best);
  w.Key("best_score");
  detail::write_double(w, choice.best_score);
  w.Key("per_tag");
  w.StartArray();
  for (const auto& config : choice.per_tag) write_config(w, config);
  w.EndArray();
  w.EndObject();
}

void write_tuning(const fs::path& file, const std::string& fingerprint, const TuneResult& result) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("fingerprint");
  w.String(fingerprint.c_str());
  w.Key("trials");
  w.Uint64(result.trials.size());
  w.Key("families");
  w.StartArray();
  for (const FamilyChoice& choice : result.families) write_family_choice(w, choice);
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
    const auto& families = detail::member(doc, "families", file);
    if (!families.IsArray()) throw ParseError(file, "/families", "expected an array");
    for (rapidjson::SizeType f = 0; f < families.Size(); ++f) {
      const std::string where = "/families/" + std::to_string(f);
      FamilyChoice choice;
      choice.best =
          read_config(detail::member(families[f], "best", file, where), file, where + "/best");
      choice.best_score = detail::get_double(families[f], "best_score", file, where);
      const auto& per_tag = detail::member(families[f], "per_tag", file, where);
      if (!per_tag.IsArray()) throw ParseError(file, where + "/per_tag", "expected an array");
      for (rapidjson::SizeType i = 0; i < per_tag.Size(); ++i) {
        choice.per_tag.push_back(
            read_config(per_tag[i], file, where + "/per_tag/" + std::to_string(i)));
      }
      result.families.push_back(std::move(choice));
    }
    return result;
  } catch (const Error&) {
    return std::nullopt;
  }
}

// ---- finishing a tag ---------------------------------------------------------------------------

// Fits the validation metrics and the threshold of \p r from \p scores (its model's validation
// predictions).
void score_on_validation(TagRecord& r, const LabelMatrix& validation_y,
                         const std::vector<double>& scores) {
  const std::vector<std::uint8_t> labels = label_column(validation_y, r.index);
  r.validation_positives =
      static_cast<std::size_t>(std::count(labels.begin(), labels.end(), std::uint8_t{1}));
  const bool both = r.validation_positives > 0 &&
                    r.validation_positives < static_cast<std::size_t>(labels.size());
  if (!both || scores.size() != labels.size()) {
    // Documented policy: ranking metrics are undefined; decisions fall back to score > 0.5.
    r.validation_roc_auc = r.validation_pr_auc = std::numeric_limits<double>::quiet_NaN();
    r.threshold = 0.5;
    return;
  }
  r.validation_roc_auc = roc_auc(scores, labels);
  r.validation_pr_auc = average_precision(scores, labels);
  // The reference decision script's rule (metrics module): F1-optimal, decisions score > t.
  r.threshold = best_f1_threshold(scores, labels);
}

ComponentRecord component_of(const TagFit& fit, const TuneConfig& config) {
  ComponentRecord c;
  c.family = fit.family;
  c.params = config.params;
  c.scale_pos_weight_mode = to_string(config.scale_pos_weight);
  c.scale_pos_weight = fit.scale_pos_weight;
  c.base_score = fit.base_score;
  c.best_iteration = fit.best_iteration;
  c.rounds_trained = fit.rounds_trained;
  c.best_score = fit.best_score;
  c.heldout_pr_auc = fit.heldout_pr_auc;
  c.seconds = fit.seconds;
  c.model_file = model_file(fit.column, fit.tag, fit.family, false);
  c.model_hash = fnv1a_hex(fit.model_json);
  return c;
}

// A tag's record from its fits (one per family in play, in the run's family order): which
// model it uses (blend.hpp's rule when both families were trained), its components, its
// validation results and threshold.
TagRecord finish_tag(const std::vector<TagFit>& fits, const TagConfigs& configs,
                     const TrainingData& data, std::uint64_t seed) {
  const TagFit& first = fits.front();
  TagRecord r;
  r.index = first.column;
  r.tag = first.tag;
  r.folds = first.folds;
  r.positives = first.positives;
  const TagFit* tree = nullptr;
  const TagFit* linear = nullptr;
  for (const TagFit& fit : fits) {
    (fit.family == Family::kTree ? tree : linear) = &fit;
    r.seconds += fit.seconds;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (tree != nullptr && linear != nullptr) {
    const std::vector<std::uint8_t> labels =
        label_column(first.folds > 0 ? data.train_y : data.validation_y, first.column);
    r.choice = choose_tag_model(tree->heldout_scores, linear->heldout_scores, labels, 200,
                                seed ^ (0xb1e4dull + first.column));
  } else {
    r.choice.model = tree != nullptr ? TagModel::kTree : TagModel::kLinear;
    r.choice.tree_pr_auc = tree != nullptr ? tree->heldout_pr_auc : nan;
    r.choice.linear_pr_auc = linear != nullptr ? linear->heldout_pr_auc : nan;
    r.choice.blend_pr_auc = r.choice.tree_se = r.choice.linear_se = nan;
    r.choice.tree_wins = r.choice.linear_wins = nan;
    r.choice.reason = to_string(r.choice.model) + ": the only family trained";
  }
  r.model = r.choice.model;
  auto config_of = [&](Family family) -> const TuneConfig& {
    return *std::find_if(configs.begin(), configs.end(),
                         [&](const TuneConfig& c) { return c.family == family; });
  };
  std::vector<double> scores;
  switch (r.model) {
    case TagModel::kTree:
      r.components.push_back(component_of(*tree, config_of(Family::kTree)));
      r.heldout_pr_auc = tree->heldout_pr_auc;
      scores = tree->validation_scores;
      break;
    case TagModel::kLinear:
      r.components.push_back(component_of(*linear, config_of(Family::kLinear)));
      r.heldout_pr_auc = linear->heldout_pr_auc;
      scores = linear->validation_scores;
      break;
    case TagModel::kBlend:
      r.components.push_back(component_of(*tree, config_of(Family::kTree)));
      r.components.push_back(component_of(*linear, config_of(Family::kLinear)));
      for (ComponentRecord& c : r.components) c.weight = kBlendWeight;
      r.heldout_pr_auc = r.choice.blend_pr_auc;
      scores = blend_scores(tree->validation_scores, linear->validation_scores);
      break;
  }
  score_on_validation(r, data.validation_y, scores);
  return r;
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

std::vector<std::string> column_names(const FeatureSchema& schema) {
  std::vector<std::string> names;
  for (const Column& column : schema.columns()) names.push_back(column.name);
  return names;
}

struct ManifestExtras {
  const std::map<std::string, std::string>* entries;
  std::string fingerprint;
  const TuneResult* tuning;
  ThreadStrategy strategy;
  int threads;
  std::string scaler_hash;  // empty without linear models
};

void write_manifest(const fs::path& dir, const TrainingData& data, const RunSettings& settings,
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

int auto_cv_folds(std::size_t train_rows) {
  return train_rows <= kCrossValidateRows ? kAutoFolds : 0;
}

namespace {
constexpr detail::EnumName<Refit> kRefitNames[] = {{Refit::kNone, "none"},
                                                   {Refit::kTrainValidation, "train+validation"}};
constexpr detail::EnumName<ModelChoice> kModelChoiceNames[] = {{ModelChoice::kDefault, "default"},
                                                               {ModelChoice::kTrain, "train"},
                                                               {ModelChoice::kRefit, "refit"}};
}  // namespace

Refit parse_refit(std::string_view text) { return detail::parse_name(kRefitNames, text, "refit"); }
std::string to_string(Refit refit) { return detail::name_of(kRefitNames, refit); }
ModelChoice parse_model_choice(std::string_view text) {
  return detail::parse_name(kModelChoiceNames, text, "models");
}

const ComponentRecord* TagRecord::component(Family family) const {
  for (const ComponentRecord& c : components) {
    if (c.family == family) return &c;
  }
  return nullptr;
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
  if (settings.tune.families.empty()) throw InvalidArgument("no model family to train");
  if (settings.cv_folds > 0 &&
      data.train_groups.size() != static_cast<std::size_t>(data.train_x.rows())) {
    throw InvalidArgument("cross-validation needs the ARTIST_ID of every training row (" +
                          std::to_string(data.train_groups.size()) + " for " +
                          std::to_string(data.train_x.rows()) + " rows)");
  }
  auto say = [&](const std::string& text) {
    if (hooks.message) hooks.message(text);
  };

  std::map<std::string, std::string> entries = run_arguments(settings);
  entries.merge(data_fingerprint(data));
  const std::string fingerprint = fingerprint_of(entries);
  // The folds before anything is written: too few artists for the folds is an argument error.
  std::vector<int> folds;
  if (settings.cv_folds > 0) {
    folds = grouped_stratified_folds(data.train_y, data.train_groups, settings.cv_folds,
                                     settings.tune.seed);
  }
  check_or_claim_dir(dir, entries, settings.restart, hooks);
  remove_stale_temporaries(dir);

  Trainer trainer(data.train_x, &data.validation_x, settings.engine, folds);

  // 1. The search (reused from tuning.json when an earlier run finished it).
  std::vector<TuneConfig> bases{settings.base_config, settings.linear_base_config};
  bases[0].family = Family::kTree;
  bases[1].family = Family::kLinear;
  TuneResult tuning;
  if (auto done = read_tuning(dir / kTuningFile, fingerprint)) {
    tuning = *done;
    say("search: reusing the finished search in " + (dir / kTuningFile).string());
  } else {
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
    tuning = tune(trainer, data.train_y, data.validation_y, data.tags, settings.boost, bases,
                  settings.tune, tune_hooks);
    tuning.trials = log;
    write_tuning(dir / kTuningFile, fingerprint, tuning);
  }
  if (tuning.families.size() != settings.tune.families.size()) {
    throw DataError((dir / kTuningFile).string() + ": holds " +
                    std::to_string(tuning.families.size()) + " families, the run " +
                    std::to_string(settings.tune.families.size()));
  }
  auto configs_of = [&](std::size_t index) {
    TagConfigs configs;
    for (const FamilyChoice& choice : tuning.families) configs.push_back(choice.config(index));
    return configs;
  };

  // 2. Every family in play for every tag on the training split (its rounds from the held-out
  // data), then the tag's model; finished tags of an earlier run are kept.
  const std::size_t families = tuning.families.size();
  std::vector<std::optional<TagRecord>> records(data.tags.size());
  std::vector<TagJob> jobs;
  for (std::size_t i = 0; i < data.tags.size(); ++i) {
    const TagConfigs configs = configs_of(i);
    records[i] = load_train_record(dir, i, data.tags[i], fingerprint, configs);
    if (records[i]) continue;
    for (const TuneConfig& config : configs) {
      TagJob job;
      job.column = i;
      job.tag = data.tags[i];
      job.family = config.family;
      job.params = config.params;
      job.scale_pos_weight = config.scale_pos_weight;
      jobs.push_back(std::move(job));
    }
  }
  std::size_t done = data.tags.size() - jobs.size() / families;
  if (done > 0) {
    say("resuming: " + std::to_string(done) + " of " + std::to_string(data.tags.size()) +
        " tags already trained in " + dir.string());
  }
  std::map<std::size_t, std::vector<TagFit>> pending;  // fits of tags not complete yet
  FitHooks fit_hooks = hooks.fit;
  fit_hooks.on_tag_done = [&](const TagFit& fit) {
    std::vector<TagFit>& fits = pending[fit.column];
    fits.push_back(fit);
    if (fits.size() < families) return;
    // The run's family order, whatever order the fits finished in.
    std::vector<TagFit> ordered;
    for (const FamilyChoice& choice : tuning.families) {
      for (const TagFit& f : fits) {
        if (f.family == choice.best.family) ordered.push_back(f);
      }
    }
    pending.erase(fit.column);
    const TagRecord r = finish_tag(ordered, configs_of(fit.column), data, settings.boost.seed);
    // The models first, then the record that vouches for them: a crash in between leaves
    // models without a record, which the next run trains again.
    for (const ComponentRecord& c : r.components) {
      const auto used = std::find_if(ordered.begin(), ordered.end(),
                                     [&](const TagFit& f) { return f.family == c.family; });
      write_file_atomic(dir / c.model_file, used->model_json);
    }
    write_file_atomic(dir / record_file(r.index, false), record_json(r, fingerprint));
    records[r.index] = r;
    ++done;
    if (hooks.tag_done) hooks.tag_done("train", done, data.tags.size(), r);
  };
  (void)trainer.fit(data.train_y, &data.validation_y, jobs, settings.boost, fit_hooks);
  std::vector<TagRecord> result;
  for (auto& r : records) result.push_back(*r);

  // 3. The refit on train + validation of every model a tag uses, with the documented number of
  // rounds.
  if (settings.refit == Refit::kTrainValidation) {
    const auto train_rows = static_cast<std::size_t>(data.train_x.rows());
    const auto valid_rows = static_cast<std::size_t>(data.validation_x.rows());
    std::vector<TagJob> refit_jobs;
    std::map<std::size_t, std::size_t> waiting;  // tag -> components still to refit
    for (TagRecord& r : result) {
      if (load_refit_record(dir, r, fingerprint)) continue;
      for (const ComponentRecord& c : r.components) {
        TagJob job;
        job.column = r.index;
        job.tag = r.tag;
        job.family = c.family;
        job.rounds = refit_rounds(c.best_iteration + 1, train_rows, valid_rows);
        job.params = c.params;
        job.scale_pos_weight = parse_scale_pos_weight(c.scale_pos_weight_mode);
        refit_jobs.push_back(std::move(job));
      }
      waiting[r.index] = r.components.size();
    }
    if (!refit_jobs.empty()) {
      const FeatureMatrix all_x = stack(data.train_x, data.validation_x);
      const LabelMatrix all_y = stack(data.train_y, data.validation_y);
      // The training split's scaler, so that one scaler.tsv serves every linear model.
      Trainer refitter(all_x, nullptr, settings.engine, {}, trainer.scaler());
      std::size_t refit_done = result.size() - waiting.size();
      std::map<std::size_t, std::vector<TagFit>> refits;
      FitHooks refit_hooks = hooks.fit;
      refit_hooks.on_tag_done = [&](const TagFit& fit) {
        std::vector<TagFit>& fits = refits[fit.column];
        fits.push_back(fit);
        if (fits.size() < waiting.at(fit.column)) return;
        TagRecord& r = result[fit.column];
        r.refit_seconds = 0;
        for (ComponentRecord& c : r.components) {
          const auto f = std::find_if(fits.begin(), fits.end(),
                                      [&](const TagFit& x) { return x.family == c.family; });
          c.refit_rounds = f->rounds_trained;
          c.refit_seconds = f->seconds;
          c.refit_model_file = model_file(r.index, r.tag, c.family, true);
          c.refit_model_hash = fnv1a_hex(f->model_json);
          write_file_atomic(dir / c.refit_model_file, f->model_json);
          r.refit_seconds += f->seconds;
        }
        write_file_atomic(dir / record_file(r.index, true), refit_record_json(r, fingerprint));
        refits.erase(fit.column);
        ++refit_done;
        if (hooks.tag_done) hooks.tag_done("refit", refit_done, result.size(), r);
      };
      (void)refitter.fit(all_y, nullptr, refit_jobs, settings.boost, refit_hooks);
    }
  }

  // 4. Thresholds, the schema, the scaler and the manifest, last: a manifest means a complete
  // model directory.
  std::vector<double> thresholds;
  bool any_linear = false;
  for (const TagRecord& r : result) {
    thresholds.push_back(r.threshold);
    any_linear = any_linear || r.component(Family::kLinear) != nullptr;
  }
  write_file_atomic(dir / kThresholdsFile, format_thresholds_file(data.tags, thresholds));
  write_file_atomic(dir / kSchemaFile, data.schema.to_json());
  ManifestExtras extras{&entries, fingerprint, &tuning, trainer.strategy(), trainer.threads(), ""};
  if (any_linear) {
    const std::string scaler = scaler_tsv(trainer.scaler(), column_names(data.schema));
    write_file_atomic(dir / kScalerFile, scaler);
    extras.scaler_hash = fnv1a_hex(scaler);
  }
  write_manifest(dir, data, settings, extras, result);
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
