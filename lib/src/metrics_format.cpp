#include "moodboost/metrics_format.hpp"

#include <fmt/format.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cmath>

#include "detail/json_util.hpp"
#include "moodboost/error.hpp"

namespace moodboost {
namespace {

void check_sizes(std::span<const std::string> tags, std::span<const double> thresholds) {
  if (tags.size() != thresholds.size()) {
    throw DataError(fmt::format("{} tags but {} thresholds", tags.size(), thresholds.size()));
  }
}

// Python's csv module with QUOTE_MINIMAL (pandas to_csv): quote a field holding the delimiter,
// the quote character or a line break, doubling inner quotes.
std::string csv_field(const std::string& field) {
  if (field.find_first_of("\t\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

template <typename Writer>
void write_number(Writer& w, double value) {
  if (std::isnan(value)) {
    w.Null();
  } else {
    w.Double(value);
  }
}

}  // namespace

std::vector<NamedMetric> named_metrics(const Evaluation& ev) {
  std::vector<NamedMetric> out;
  // evaluate.py fills its results dict in this order: per average, the AUCs then P/R/F.
  const auto add = [&](const MetricValues& v, bool macro) {
    out.push_back({macro ? "ROC-AUC-macro" : "ROC-AUC-micro", v.roc_auc});
    out.push_back({macro ? "PR-AUC-macro" : "PR-AUC-micro", v.pr_auc});
    if (!ev.has_decisions) return;
    out.push_back({macro ? "precision-macro" : "precision-micro", v.precision});
    out.push_back({macro ? "recall-macro" : "recall-micro", v.recall});
    out.push_back({macro ? "F-score-macro" : "F-score-micro", v.f_score});
  };
  add(ev.macro, true);
  add(ev.micro, false);
  return out;
}

std::string format_results_file(const Evaluation& ev) {
  // pandas to_csv(sep='\t', header=None, float_format='%.6f'); NaN becomes na_rep = "".
  std::string out;
  for (const auto& [name, value] : named_metrics(ev)) {
    out +=
        std::isnan(value) ? fmt::format("{}\t\n", name) : fmt::format("{}\t{:.6f}\n", name, value);
  }
  return out;
}

std::string format_results_display(const Evaluation& ev) {
  std::string out;
  for (const auto& [name, value] : named_metrics(ev)) {
    out += fmt::format("{:20}\t{:6f}\n", name, value);
  }
  return out;
}

namespace {

// format_results_json()'s members, into an open object.
void write_evaluation(rapidjson::PrettyWriter<rapidjson::StringBuffer>& w, const Evaluation& ev,
                      std::span<const std::string> tag_names) {
  w.Key("metrics");
  w.StartObject();
  for (const auto& [name, value] : named_metrics(ev)) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    write_number(w, value);
  }
  w.EndObject();
  w.Key("tags");
  w.StartArray();
  for (std::size_t i = 0; i < ev.tags.size(); ++i) {
    const TagEvaluation& tag = ev.tags[i];
    w.StartObject();
    w.Key("index");
    w.Uint64(i);
    if (i < tag_names.size()) {
      w.Key("tag");
      w.String(tag_names[i].c_str(), static_cast<rapidjson::SizeType>(tag_names[i].size()));
    }
    w.Key("positives");
    w.Int64(tag.positives);
    w.Key("ROC-AUC");
    write_number(w, tag.values.roc_auc);
    w.Key("PR-AUC");
    write_number(w, tag.values.pr_auc);
    if (ev.has_decisions) {
      w.Key("precision");
      write_number(w, tag.values.precision);
      w.Key("recall");
      write_number(w, tag.values.recall);
      w.Key("F-score");
      write_number(w, tag.values.f_score);
      w.Key("tp");
      w.Int64(tag.counts.tp);
      w.Key("fp");
      w.Int64(tag.counts.fp);
      w.Key("fn");
      w.Int64(tag.counts.fn);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("excluded_tags");
  w.StartArray();
  for (const std::size_t i : ev.excluded_tags) w.Uint64(i);
  w.EndArray();
}

}  // namespace

std::string format_results_json(const Evaluation& ev, std::span<const std::string> tag_names) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  write_evaluation(w, ev, tag_names);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

std::string format_results_json(const ResultsProvenance& provenance, const Evaluation* evaluation,
                                std::span<const std::string> tag_names) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("synthetic");
  w.Bool(provenance.synthetic);
  w.Key("model_dir");
  w.String(provenance.model_dir.string().c_str());
  w.Key("split");
  w.String(provenance.split.string().c_str());
  w.Key("tag_models");
  w.StartObject();
  for (const auto& [tag, model] : provenance.tag_models) {
    w.Key(tag.c_str(), static_cast<rapidjson::SizeType>(tag.size()));
    w.String(model.c_str(), static_cast<rapidjson::SizeType>(model.size()));
  }
  w.EndObject();
  if (evaluation != nullptr) write_evaluation(w, *evaluation, tag_names);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

std::optional<ResultsProvenance> parse_results_provenance(std::string_view text,
                                                          const std::filesystem::path& file) {
  const rapidjson::Document doc = detail::parse_json(text, file);
  if (!doc.HasMember("synthetic")) return std::nullopt;
  ResultsProvenance p;
  p.synthetic = detail::get_bool(doc, "synthetic", file);
  if (doc.HasMember("model_dir")) p.model_dir = detail::get_string(doc, "model_dir", file);
  if (doc.HasMember("split")) p.split = detail::get_string(doc, "split", file);
  if (doc.HasMember("tag_models")) {
    const auto& models = doc["tag_models"];
    if (!models.IsObject()) throw ParseError(file, "/tag_models", "expected an object");
    for (const auto& m : models.GetObject()) {
      const std::string tag(m.name.GetString(), m.name.GetStringLength());
      p.tag_models.emplace_back(tag, detail::string_value(m.value, file, "/tag_models/" + tag));
    }
  }
  return p;
}

std::string python_float_repr(double value) {
  // fmt's shortest round-trip form uses Python's rules (exponent below 1e-4 and from 1e16, at
  // least two exponent digits) but prints integral values without ".0", which repr adds.
  std::string out = fmt::format("{}", value);
  if (out.find_first_of(".en") == std::string::npos) out += ".0";
  return out;
}

std::string format_thresholds_file(std::span<const std::string> tags,
                                   std::span<const double> thresholds) {
  check_sizes(tags, thresholds);
  std::string out;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    // pandas writes float64 without float_format via str(), i.e. repr(); NaN as "".
    const std::string value = std::isnan(thresholds[i]) ? "" : python_float_repr(thresholds[i]);
    out += fmt::format("{}\t{}\n", csv_field(tags[i]), value);
  }
  return out;
}

std::string format_thresholds_display(std::span<const std::string> tags,
                                      std::span<const double> thresholds) {
  check_sizes(tags, thresholds);
  std::string out;
  for (std::size_t i = 0; i < tags.size(); ++i)
    out += fmt::format("{}\t{:6f}\n", tags[i], thresholds[i]);
  return out;
}

}  // namespace moodboost
