// The model directory's file formats: file names, per-tag records (written after a tag's models,
// read back to resume), trials.tsv and tuning.json.
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

namespace moodboost::detail {
namespace fs = std::filesystem;

// ---- names and texts ---------------------------------------------------------------------------

namespace {

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

}  // namespace

std::string model_file(std::size_t index, const std::string& tag, Family family, bool refit) {
  return "models/" + index_name(index) + "-" + file_safe(tag) +
         (family == Family::kLinear ? ".linear" : "") + (refit ? ".refit.json" : ".json");
}

std::string record_file(std::size_t index, bool refit) {
  return "records/" + index_name(index) + (refit ? ".refit.json" : ".train.json");
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

std::string families_text(const std::vector<Family>& families) {
  std::string out;
  for (Family f : families) out += (out.empty() ? "" : ",") + to_string(f);
  return out;
}

// The arguments that decide what a run produces, as name -> value. Two runs with equal maps
// (and equal data) produce identical models, so a directory holding one may resume the other.
// Threads and the thread strategy are absent: they never change a model (tested).
// ---- per-tag records ---------------------------------------------------------------------------

namespace {

void write_choice(JsonWriter& w, const TagModelChoice& c) {
  w.StartObject();
  w.Key("tree_pr_auc");
  write_double(w, c.tree_pr_auc);
  w.Key("linear_pr_auc");
  write_double(w, c.linear_pr_auc);
  w.Key("blend_pr_auc");
  write_double(w, c.blend_pr_auc);
  w.Key("tree_se");
  write_double(w, c.tree_se);
  w.Key("linear_se");
  write_double(w, c.linear_se);
  w.Key("tree_wins");
  write_double(w, c.tree_wins);
  w.Key("linear_wins");
  write_double(w, c.linear_wins);
  w.Key("reason");
  w.String(c.reason.c_str());
  w.EndObject();
}

TagModelChoice read_choice(const rapidjson::Value& v, const fs::path& file,
                           const std::string& where) {
  TagModelChoice c;
  c.tree_pr_auc = get_double(v, "tree_pr_auc", file, where);
  c.linear_pr_auc = get_double(v, "linear_pr_auc", file, where);
  c.blend_pr_auc = get_double(v, "blend_pr_auc", file, where);
  c.tree_se = get_double(v, "tree_se", file, where);
  c.linear_se = get_double(v, "linear_se", file, where);
  c.tree_wins = get_double(v, "tree_wins", file, where);
  c.linear_wins = get_double(v, "linear_wins", file, where);
  c.reason = get_string(v, "reason", file, where);
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
  write_string_map(w, c.params);
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
  write_double(w, c.best_score);
  w.Key("heldout_pr_auc");
  write_double(w, c.heldout_pr_auc);
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
  c.family = parse_family(get_string(v, "family", file, where));
  c.weight = get_double(v, "weight", file, where);
  c.params = string_map(member(v, "config", file, where), file, (where + "/config").c_str());
  c.scale_pos_weight_mode = get_string(v, "scale_pos_weight_mode", file, where);
  c.scale_pos_weight = get_double(v, "scale_pos_weight", file, where);
  c.base_score = get_double(v, "base_score", file, where);
  c.best_iteration = static_cast<int>(get_int(v, "best_iteration", file, where));
  c.rounds_trained = static_cast<int>(get_int(v, "rounds_trained", file, where));
  c.best_score = get_double(v, "best_score", file, where);
  c.heldout_pr_auc = get_double(v, "heldout_pr_auc", file, where);
  c.seconds = get_double(v, "seconds", file, where);
  const auto& model = member(v, "model", file, where);
  c.model_file = get_string(model, "file", file, where + "/model");
  c.model_hash = get_string(model, "fnv1a64", file, where + "/model");
  return c;
}

}  // namespace

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
  write_double(w, r.heldout_pr_auc);
  w.Key("validation_roc_auc");
  write_double(w, r.validation_roc_auc);
  w.Key("validation_pr_auc");
  write_double(w, r.validation_pr_auc);
  w.Key("threshold");
  write_double(w, r.threshold);
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

namespace {

bool model_file_matches(const fs::path& dir, const std::string& relative, const std::string& hash) {
  std::error_code ec;
  if (relative.empty() || !fs::is_regular_file(dir / relative, ec)) return false;
  try {
    return fnv1a_hex(read_file(dir / relative, std::uintmax_t(1) << 31)) == hash;
  } catch (const IoError&) {
    return false;
  }
}

}  // namespace

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
    const auto doc = parse_json(read_file(file), file);
    if (get_string(doc, "fingerprint", file) != fingerprint) return std::nullopt;
    TagRecord r;
    r.index = static_cast<std::size_t>(get_int(doc, "index", file));
    r.tag = get_string(doc, "tag", file);
    if (r.index != index || r.tag != tag) return std::nullopt;
    r.model = parse_tag_model(get_string(doc, "tag_model", file));
    r.choice = read_choice(member(doc, "choice", file), file, "/choice");
    r.choice.model = r.model;
    r.folds = static_cast<int>(get_int(doc, "folds", file));
    r.heldout_pr_auc = get_double(doc, "heldout_pr_auc", file);
    r.validation_roc_auc = get_double(doc, "validation_roc_auc", file);
    r.validation_pr_auc = get_double(doc, "validation_pr_auc", file);
    r.threshold = get_double(doc, "threshold", file);
    r.positives = static_cast<std::size_t>(get_int(doc, "positives", file));
    r.validation_positives = static_cast<std::size_t>(get_int(doc, "validation_positives", file));
    r.seconds = get_double(doc, "seconds", file);
    const auto& components = member(doc, "components", file);
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
    const auto doc = parse_json(read_file(file), file);
    if (get_string(doc, "fingerprint", file) != fingerprint ||
        get_string(doc, "tag", file) != r.tag) {
      return false;
    }
    const auto& components = member(doc, "components", file);
    if (!components.IsArray() || components.Size() != r.components.size()) return false;
    TagRecord copy = r;
    for (rapidjson::SizeType i = 0; i < components.Size(); ++i) {
      const std::string where = "/components/" + std::to_string(i);
      ComponentRecord& c = copy.components[i];
      if (get_string(components[i], "family", file, where) != to_string(c.family) ||
          get_string(components[i], "train_model_hash", file, where) != c.model_hash) {
        return false;
      }
      c.refit_rounds = static_cast<int>(get_int(components[i], "refit_rounds", file, where));
      c.refit_seconds = get_double(components[i], "refit_seconds", file, where);
      c.refit_model_file = get_string(components[i], "refit_model_file", file, where);
      c.refit_model_hash = get_string(components[i], "refit_model_hash", file, where);
      if (!model_file_matches(dir, c.refit_model_file, c.refit_model_hash)) return false;
      copy.refit_seconds += c.refit_seconds;
    }
    r = copy;
    return true;
  } catch (const Error&) {
    return false;
  }
}

// ---- trials.tsv and tuning.json ----------------------------------------------------------------

namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

}  // namespace

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

namespace {

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

}  // namespace

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

namespace {

void write_config(JsonWriter& w, const TuneConfig& config) {
  w.StartObject();
  w.Key("family");
  w.String(to_string(config.family).c_str());
  w.Key("params");
  write_string_map(w, config.params);
  w.Key("scale_pos_weight");
  w.String(to_string(config.scale_pos_weight).c_str());
  w.EndObject();
}

TuneConfig read_config(const rapidjson::Value& value, const fs::path& file,
                       const std::string& where) {
  TuneConfig config;
  config.family = parse_family(get_string(value, "family", file, where));
  config.params =
      string_map(member(value, "params", file, where), file, (where + "/params").c_str());
  config.scale_pos_weight =
      parse_scale_pos_weight(get_string(value, "scale_pos_weight", file, where));
  return config;
}

}  // namespace

void write_family_choice(JsonWriter& w, const FamilyChoice& choice) {
  w.StartObject();
  w.Key("family");
  w.String(to_string(choice.best.family).c_str());
  w.Key("best");
  write_config(w, choice.best);
  w.Key("best_score");
  write_double(w, choice.best_score);
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
    const auto doc = parse_json(read_file(file), file);
    if (get_string(doc, "fingerprint", file) != fingerprint) return std::nullopt;
    TuneResult result;
    const auto& families = member(doc, "families", file);
    if (!families.IsArray()) throw ParseError(file, "/families", "expected an array");
    for (rapidjson::SizeType f = 0; f < families.Size(); ++f) {
      const std::string where = "/families/" + std::to_string(f);
      FamilyChoice choice;
      choice.best = read_config(member(families[f], "best", file, where), file, where + "/best");
      choice.best_score = get_double(families[f], "best_score", file, where);
      const auto& per_tag = member(families[f], "per_tag", file, where);
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

}  // namespace moodboost::detail
