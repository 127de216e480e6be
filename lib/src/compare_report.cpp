// The four renderings of a Comparison: Markdown, TSV, JSON and a self-contained HTML page.
// Every number comes from the Comparison (the metrics module and the bootstrap); nothing here
// computes a metric.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "detail/json_util.hpp"
#include "detail/report_json.hpp"
#include "detail/report_render.hpp"
#include "detail/svg_chart.hpp"
#include "moodboost/compare.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/io.hpp"
#include "moodboost/metrics_format.hpp"
#include "moodboost/version.hpp"

namespace moodboost {
namespace {

namespace fs = std::filesystem;
namespace report = detail::report;
namespace chart = detail::chart;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kDecimals = 4;  // Markdown and HTML: the precision the published figures have

// The ten official metric names in the reference order (named_metrics() of an evaluation with
// decisions), so that this file never spells a metric list of its own.
const std::vector<std::string>& official_metric_names() {
  static const std::vector<std::string> names = [] {
    Evaluation full;
    full.has_decisions = true;
    std::vector<std::string> out;
    for (const auto& m : named_metrics(full)) out.emplace_back(m.name);
    return out;
  }();
  return names;
}

// A system's value of an official metric; NaN when it has none (no decisions).
double metric_value(const Evaluation& evaluation, std::string_view name) {
  for (const auto& m : named_metrics(evaluation)) {
    if (m.name == name) return m.value;
  }
  return kNaN;
}

double published_value(const PublishedSystem& system, std::string_view name) {
  const auto value = system.overall_value(name);
  return value ? *value : kNaN;
}

std::string short_name(const std::string& name) {
  const std::size_t paren = name.find(" (");
  return paren == std::string::npos ? name : name.substr(0, paren);
}

// How the baseline's figures are called in labels.
std::string figures_word(const Comparison& c) {
  return c.baseline.published ? "published" : "given figures";
}

std::string pct_level(double confidence) { return fmt::format("{:g}%", confidence * 100); }

std::string position_text(IntervalPosition p) {
  switch (p) {
    case IntervalPosition::kBelow:
      return "below";
    case IntervalPosition::kInside:
      return "inside";
    case IntervalPosition::kAbove:
      return "above";
    case IntervalPosition::kUnknown:
      break;
  }
  return "unknown";
}

// The metric cell of a system: value, and for the macro AUCs the bootstrap interval.
std::string overall_cell(const Comparison& c, const SystemResult& s, const std::string& metric) {
  const double value = metric_value(s.evaluation, metric);
  const Interval* interval = metric == "ROC-AUC-macro"  ? &s.roc_auc_macro_interval
                             : metric == "PR-AUC-macro" ? &s.pr_auc_macro_interval
                                                        : nullptr;
  if (interval == nullptr || c.resamples == 0 || std::isnan(value)) {
    return report::fixed(value, kDecimals);
  }
  return fmt::format("{} {}", report::fixed(value, kDecimals),
                     report::interval_text(interval->low, interval->high, kDecimals));
}

std::string provenance_text(const Provenance& p) {
  if (!p.known) return "not recorded";
  return fmt::format("{} ({})", p.synthetic ? "synthetic data" : "real data", p.source);
}

// Plain-text paragraphs shared by the Markdown and HTML pages.
std::string setup_text(const Comparison& c) {
  std::string gt =
      c.groundtruth_file.empty() ? std::string("the ground truth") : c.groundtruth_file.string();
  std::string text = fmt::format(
      "Ground truth: {} ({} tracks x {} tags). Baseline: {} ({}{}).", gt, c.tracks, c.tags.size(),
      c.baseline.name, c.baseline.year.empty() ? "" : c.baseline.year + "; ", c.baseline.source);
  if (c.resamples > 0) {
    text += fmt::format(
        " Uncertainty: paired bootstrap over the test tracks, {} resamples, seed {}, {} "
        "percentile intervals.",
        c.resamples, c.seed, pct_level(c.confidence));
  } else {
    text += " No bootstrap was run (--bootstrap 0): no intervals.";
  }
  return text;
}

std::string method_text(const Comparison& c) {
  return fmt::format(
      "How the intervals are made: each resample draws {} test tracks with replacement; every "
      "system is scored on the same resample (paired), and the macro ROC-AUC and PR-AUC are the "
      "metrics module's, on the resampled rows. A tag with a single class in a resample is left "
      "out of that resample's macro means for every system ({} such tag-resamples here; {} "
      "resamples with no usable tag). Intervals are the central {} of the resampled values "
      "(percentiles, linear interpolation). Average precision on resampled tracks is biased "
      "upward for tags with few positives (a positive drawn twice ties with itself): the "
      "bootstrap means are in compare.json, and a bias above a quarter of an interval's "
      "half-width is flagged in the notes. Against published figures only our own interval is "
      "possible: the baseline's and the reference systems' predictions are not available, so no "
      "interval exists for them or for the difference to them; the reports show where the "
      "baseline's figure lies relative to our interval instead. Per-tag differences to the "
      "baseline within {} (half a unit of the published fourth decimal) count as ties.",
      c.tracks, c.single_class_tag_resamples, c.empty_resamples, pct_level(c.confidence),
      report::fixed(c.tie_tolerance, 5));
}

std::vector<std::string> overall_header(const Comparison& c) {
  std::vector<std::string> header = {"metric"};
  for (const auto& s : c.systems) header.push_back(s.name);
  header.push_back(fmt::format("{} (baseline)", short_name(c.baseline.name)));
  for (const auto& r : c.references) header.push_back(short_name(r.name));
  return header;
}

std::vector<std::vector<std::string>> overall_rows(const Comparison& c) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& metric : official_metric_names()) {
    std::vector<std::string> row = {metric};
    for (const auto& s : c.systems) row.push_back(overall_cell(c, s, metric));
    row.push_back(report::fixed(published_value(c.baseline, metric), kDecimals));
    for (const auto& r : c.references) {
      row.push_back(report::fixed(published_value(r, metric), kDecimals));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> winloss_header() {
  return {"system",      "PR-AUC won",   "PR-AUC lost",  "PR-AUC tied",
          "ROC-AUC won", "ROC-AUC lost", "ROC-AUC tied", "tags compared"};
}

std::vector<std::vector<std::string>> winloss_rows(const Comparison& c) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : c.systems) {
    const WinLoss& pr = s.pr_auc_vs_baseline;
    const WinLoss& roc = s.roc_auc_vs_baseline;
    rows.push_back({s.name, std::to_string(pr.won), std::to_string(pr.lost),
                    std::to_string(pr.tied), std::to_string(roc.won), std::to_string(roc.lost),
                    std::to_string(roc.tied), std::to_string(pr.compared)});
  }
  return rows;
}

// Where the published macro figures lie relative to each system's interval.
std::vector<std::string> position_sentences(const Comparison& c) {
  std::vector<std::string> out;
  if (c.resamples == 0) return out;
  for (const auto& s : c.systems) {
    const auto sentence = [&](const char* metric, IntervalPosition p) {
      if (p == IntervalPosition::kUnknown) return;
      out.push_back(fmt::format("The {} {} of the {} lies {} the {} interval of {}.", metric,
                                report::fixed(published_value(c.baseline, metric), kDecimals),
                                short_name(c.baseline.name),
                                p == IntervalPosition::kInside ? "inside" : position_text(p),
                                pct_level(c.confidence), s.name));
    };
    sentence("PR-AUC-macro", s.baseline_pr_auc_macro);
    sentence("ROC-AUC-macro", s.baseline_roc_auc_macro);
  }
  return out;
}

std::vector<std::string> pair_header(const Comparison& c) {
  return {"A",
          "B",
          "metric",
          "A - B",
          fmt::format("{} interval", pct_level(c.confidence)),
          "A better",
          "B better",
          "equal"};
}

// A, B and the metric are text; the rest numbers.
const std::vector<bool> kPairNumeric = {false, false, false, true, true, true, true, true};

std::vector<std::vector<std::string>> pair_rows(const Comparison& c) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : c.pairs) {
    const auto add = [&](const char* metric, double point, const PairedDifference& d) {
      rows.push_back(
          {c.systems[p.a].name, c.systems[p.b].name, metric, report::signed_fixed(point, kDecimals),
           report::interval_text(d.difference.low, d.difference.high, kDecimals),
           report::percent(d.a_wins), report::percent(d.b_wins), report::percent(d.ties)});
    };
    add("PR-AUC-macro", p.pr_auc_difference, p.pr_auc);
    add("ROC-AUC-macro", p.roc_auc_difference, p.roc_auc);
  }
  return rows;
}

std::vector<std::string> per_tag_header(const Comparison& c) {
  std::vector<std::string> header = {"tag", "positives"};
  for (const auto& s : c.systems) {
    if (!s.provenance.tag_models.empty()) header.push_back(fmt::format("{} model", s.name));
  }
  for (const auto& s : c.systems) {
    header.push_back(fmt::format("{} ROC-AUC", s.name));
    header.push_back(fmt::format("{} PR-AUC", s.name));
  }
  header.emplace_back("baseline ROC-AUC");
  header.emplace_back("baseline PR-AUC");
  for (const auto& s : c.systems) {
    header.push_back(fmt::format("{} - baseline ROC-AUC", s.name));
    header.push_back(fmt::format("{} - baseline PR-AUC", s.name));
  }
  return header;
}

// Per-tag cells as text (Markdown) with the class each cell gets in HTML.
std::vector<std::vector<report::HtmlCell>> per_tag_cells(const Comparison& c) {
  std::vector<std::vector<report::HtmlCell>> rows;
  const auto diff_class = [&](double d) -> std::string {
    if (std::isnan(d)) return "num";
    if (d > c.tie_tolerance) return "num win";
    if (d < -c.tie_tolerance) return "num loss";
    return "num";
  };
  for (std::size_t t = 0; t < c.tags.size(); ++t) {
    std::vector<report::HtmlCell> row;
    row.push_back({tag_display_name(c.tags[t]), "", c.tags[t]});
    row.push_back({std::to_string(c.positives[t]), "num", ""});
    for (const auto& s : c.systems) {
      if (s.provenance.tag_models.empty()) continue;
      const auto it = s.provenance.tag_models.find(c.tags[t]);
      row.push_back({it == s.provenance.tag_models.end() ? std::string("-") : it->second, "", ""});
    }
    for (const auto& s : c.systems) {
      row.push_back({report::fixed(s.evaluation.tags[t].values.roc_auc, kDecimals), "num", ""});
      row.push_back({report::fixed(s.evaluation.tags[t].values.pr_auc, kDecimals), "num", ""});
    }
    row.push_back({report::fixed(c.baseline_roc_auc[t], kDecimals), "num", ""});
    row.push_back({report::fixed(c.baseline_pr_auc[t], kDecimals), "num", ""});
    for (const auto& s : c.systems) {
      row.push_back({report::signed_fixed(s.roc_auc_difference[t], kDecimals),
                     diff_class(s.roc_auc_difference[t]), ""});
      row.push_back({report::signed_fixed(s.pr_auc_difference[t], kDecimals),
                     diff_class(s.pr_auc_difference[t]), ""});
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::vector<std::string>> texts_of(
    const std::vector<std::vector<report::HtmlCell>>& cells) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : cells) {
    std::vector<std::string> texts;
    for (const auto& cell : row) texts.push_back(cell.text);
    rows.push_back(std::move(texts));
  }
  return rows;
}

std::vector<bool> numeric_after_first(std::size_t columns) {
  std::vector<bool> numeric(columns, true);
  if (!numeric.empty()) numeric[0] = false;
  return numeric;
}

// --- JSON ---------------------------------------------------------------------------------------

using detail::JsonWriter;
using report::json_text;

void json_key_number(JsonWriter& w, std::string_view key, double value) {
  json_text(w, key);
  detail::write_double(w, value);
}

void json_interval(JsonWriter& w, std::string_view key, const Interval& interval) {
  json_text(w, key);
  if (std::isnan(interval.low) || std::isnan(interval.high)) {
    w.Null();
    return;
  }
  w.StartArray();
  w.Double(interval.low);
  w.Double(interval.high);
  w.EndArray();
}

void json_published(JsonWriter& w, const PublishedSystem& p) {
  w.StartObject();
  json_text(w, "id");
  json_text(w, p.id);
  json_text(w, "name");
  json_text(w, p.name);
  json_text(w, "year");
  json_text(w, p.year);
  json_text(w, "tracks");
  w.Uint64(p.tracks);
  json_text(w, "source");
  json_text(w, p.source);
  json_text(w, "overall");
  w.StartObject();
  for (const auto& metric : official_metric_names())
    json_key_number(w, metric, published_value(p, metric));
  w.EndObject();
  w.EndObject();
}

void json_winloss(JsonWriter& w, std::string_view key, const WinLoss& x) {
  json_text(w, key);
  w.StartObject();
  json_text(w, "won");
  w.Uint64(x.won);
  json_text(w, "lost");
  w.Uint64(x.lost);
  json_text(w, "tied");
  w.Uint64(x.tied);
  json_text(w, "compared");
  w.Uint64(x.compared);
  w.EndObject();
}

void json_pair_metric(JsonWriter& w, std::string_view key, double point,
                      const PairedDifference& d) {
  json_text(w, key);
  w.StartObject();
  json_key_number(w, "difference", point);
  json_interval(w, "interval", d.difference);
  json_key_number(w, "a_better", d.a_wins);
  json_key_number(w, "b_better", d.b_wins);
  json_key_number(w, "equal", d.ties);
  json_text(w, "resamples_used");
  w.Uint64(d.used);
  w.EndObject();
}

// --- HTML charts --------------------------------------------------------------------------------

// Tags sorted by the first system's PR-AUC difference to the baseline, largest gain first; tags
// without a baseline figure last.
std::vector<std::size_t> tags_by_difference(const Comparison& c) {
  std::vector<std::size_t> order(c.tags.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto& diff = c.systems.front().pr_auc_difference;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const double da = std::isnan(diff[a]) ? -std::numeric_limits<double>::infinity() : diff[a];
    const double db = std::isnan(diff[b]) ? -std::numeric_limits<double>::infinity() : diff[b];
    return da > db;
  });
  return order;
}

std::string per_tag_bars(const Comparison& c) {
  const std::vector<std::size_t> order = tags_by_difference(c);
  chart::BarChart bars;
  bars.title = fmt::format("PR-AUC per tag, sorted by {} - {} (largest gain first)",
                           c.systems.front().name, short_name(c.baseline.name));
  bars.x_label = "PR-AUC (average precision) on the test tracks";
  for (std::size_t s = 0; s < c.systems.size(); ++s) {
    bars.series.push_back({c.systems[s].name, chart::series_color(s), {}});
  }
  bars.series.push_back({fmt::format("{} ({})", short_name(c.baseline.name), figures_word(c)),
                         chart::kBaselineColor,
                         {}});
  for (std::size_t t : order) {
    bars.categories.push_back(tag_display_name(c.tags[t]));
    bars.annotations.push_back(report::signed_fixed(c.systems.front().pr_auc_difference[t], 3));
    for (std::size_t s = 0; s < c.systems.size(); ++s) {
      bars.series[s].values.push_back(c.systems[s].evaluation.tags[t].values.pr_auc);
    }
    bars.series.back().values.push_back(c.baseline_pr_auc[t]);
  }
  return chart::render(bars);
}

std::string scatter(const Comparison& c, bool pr_auc) {
  const char* metric = pr_auc ? "PR-AUC" : "ROC-AUC";
  chart::ScatterChart plot;
  plot.title = fmt::format("Per-tag {}: ours vs {}", metric, short_name(c.baseline.name));
  plot.x_label = fmt::format("{} {} ({})", short_name(c.baseline.name), metric, figures_word(c));
  plot.y_label = fmt::format("our {}", metric);
  plot.above_note = "above the diagonal: ours better";
  plot.below_note = "below: baseline better";
  for (std::size_t t = 0; t < c.tags.size(); ++t) {
    plot.labels.push_back(tag_display_name(c.tags[t]));
    plot.x.push_back(pr_auc ? c.baseline_pr_auc[t] : c.baseline_roc_auc[t]);
  }
  for (std::size_t s = 0; s < c.systems.size(); ++s) {
    chart::Series series{c.systems[s].name, chart::series_color(s), {}};
    for (const auto& tag : c.systems[s].evaluation.tags) {
      series.values.push_back(pr_auc ? tag.values.pr_auc : tag.values.roc_auc);
    }
    plot.series.push_back(std::move(series));
  }
  return chart::render(plot);
}

std::string interval_chart(const Comparison& c, const std::string& metric) {
  static constexpr const char* kReferenceColors[] = {"#5b6470", "#b45309", "#7c3aed", "#be123c",
                                                     "#0f766e"};
  chart::IntervalChart plot;
  plot.title = c.resamples > 0
                   ? fmt::format("{} with {} bootstrap intervals; published figures as lines",
                                 metric, pct_level(c.confidence))
                   : fmt::format("{}; published figures as lines", metric);
  plot.x_label = metric;
  for (std::size_t s = 0; s < c.systems.size(); ++s) {
    const SystemResult& r = c.systems[s];
    const Interval& i =
        metric == "PR-AUC-macro" ? r.pr_auc_macro_interval : r.roc_auc_macro_interval;
    plot.rows.push_back({r.name, chart::series_color(s), metric_value(r.evaluation, metric),
                         c.resamples > 0 ? i.low : kNaN, c.resamples > 0 ? i.high : kNaN});
  }
  std::vector<const PublishedSystem*> published = {&c.baseline};
  for (const auto& r : c.references) published.push_back(&r);
  std::size_t k = 0;
  for (const PublishedSystem* p : published) {
    const double value = published_value(*p, metric);
    if (std::isnan(value)) continue;
    plot.references.push_back(
        {short_name(p->name), kReferenceColors[k++ % std::size(kReferenceColors)], value});
  }
  return chart::render(plot);
}

}  // namespace

std::string compare_markdown(const Comparison& c) {
  std::string md = fmt::format("# {}\n\n", report::markdown_escape(c.title));
  // Caveats first, as one block quote: a reader must not miss them.
  std::vector<std::string> caveats;
  if (c.demonstration)
    caveats.emplace_back("**Synthetic data: a demonstration of the report, not a result.**");
  for (const auto& note : c.notes) caveats.push_back(report::markdown_escape(note));
  if (!caveats.empty()) md += fmt::format("> {}\n\n", fmt::join(caveats, "\n>\n> "));
  md += fmt::format("{}\n\n", report::markdown_escape(setup_text(c)));

  md += "## Overall\n\n";
  const auto header = overall_header(c);
  md += report::markdown_table(header, overall_rows(c), numeric_after_first(header.size()));
  md += '\n';
  if (c.resamples > 0) {
    md += fmt::format(
        "Brackets: {} bootstrap intervals of our systems. The published figures have none (no "
        "predictions behind them here).\n\n",
        pct_level(c.confidence));
  }
  for (const auto& sentence : position_sentences(c)) {
    md += fmt::format("- {}\n", report::markdown_escape(sentence));
  }
  if (!position_sentences(c).empty()) md += '\n';

  md += fmt::format("## Tags won and lost against the {}\n\n",
                    report::markdown_escape(short_name(c.baseline.name)));
  md += report::markdown_table(winloss_header(), winloss_rows(c), numeric_after_first(8));
  md += '\n';

  if (!c.pairs.empty()) {
    md += "## Systems against each other (paired bootstrap)\n\n";
    md += report::markdown_table(pair_header(c), pair_rows(c), kPairNumeric);
    md += '\n';
  }

  md += "## Per tag\n\n";
  const auto tag_header = per_tag_header(c);
  md += report::markdown_table(tag_header, texts_of(per_tag_cells(c)),
                               numeric_after_first(tag_header.size()));
  md += fmt::format("\n{}\n", report::markdown_escape(method_text(c)));
  return md;
}

std::string compare_tsv(const Comparison& c) {
  const auto value = [](double v) {
    return std::isnan(v) ? std::string() : fmt::format("{:.6f}", v);
  };
  std::string out = "tag\tpositives";
  for (const auto& s : c.systems) out += fmt::format("\t{0}.ROC-AUC\t{0}.PR-AUC", s.name);
  out += "\tbaseline.ROC-AUC\tbaseline.PR-AUC";
  for (const auto& s : c.systems)
    out += fmt::format("\t{0}-baseline.ROC-AUC\t{0}-baseline.PR-AUC", s.name);
  out += '\n';
  for (std::size_t t = 0; t < c.tags.size(); ++t) {
    out += fmt::format("{}\t{}", c.tags[t], c.positives[t]);
    for (const auto& s : c.systems) {
      out += fmt::format("\t{}\t{}", value(s.evaluation.tags[t].values.roc_auc),
                         value(s.evaluation.tags[t].values.pr_auc));
    }
    out += fmt::format("\t{}\t{}", value(c.baseline_roc_auc[t]), value(c.baseline_pr_auc[t]));
    for (const auto& s : c.systems) {
      out += fmt::format("\t{}\t{}", value(s.roc_auc_difference[t]), value(s.pr_auc_difference[t]));
    }
    out += '\n';
  }
  return out;
}

std::string compare_json(const Comparison& c) {
  report::JsonReport json("moodboost-compare");
  JsonWriter& w = json.writer();
  json_text(w, "title");
  json_text(w, c.title);
  json_text(w, "synthetic");
  w.Bool(c.synthetic);
  json_text(w, "demonstration");
  w.Bool(c.demonstration);
  json_text(w, "notes");
  w.StartArray();
  for (const auto& n : c.notes) json_text(w, n);
  w.EndArray();

  json_text(w, "groundtruth");
  w.StartObject();
  json_text(w, "file");
  json_text(w, c.groundtruth_file.string());
  json_text(w, "tracks");
  w.Uint64(c.tracks);
  json_text(w, "tags");
  w.Uint64(c.tags.size());
  json_text(w, "single_class_tags");
  w.StartArray();
  for (std::size_t t : c.excluded_tags) json_text(w, c.tags[t]);
  w.EndArray();
  w.EndObject();

  json_text(w, "bootstrap");
  w.StartObject();
  json_text(w, "resamples");
  w.Uint64(c.resamples);
  json_text(w, "seed");
  w.Uint64(c.seed);
  json_text(w, "confidence");
  w.Double(c.confidence);
  json_text(w, "single_class_tag_resamples");
  w.Uint64(c.single_class_tag_resamples);
  json_text(w, "empty_resamples");
  w.Uint64(c.empty_resamples);
  json_text(w, "method");
  json_text(w, method_text(c));
  w.EndObject();

  json_text(w, "baseline");
  json_published(w, c.baseline);
  json_text(w, "references");
  w.StartArray();
  for (const auto& r : c.references) json_published(w, r);
  w.EndArray();

  json_text(w, "systems");
  w.StartArray();
  for (const auto& s : c.systems) {
    w.StartObject();
    json_text(w, "name");
    json_text(w, s.name);
    json_text(w, "predictions");
    json_text(w, s.predictions_file.string());
    json_text(w, "decisions");
    if (s.decisions_file.empty()) {
      w.Null();
    } else {
      json_text(w, s.decisions_file.string());
    }
    json_text(w, "synthetic");
    w.Bool(s.provenance.synthetic);
    json_text(w, "provenance");
    json_text(w, provenance_text(s.provenance));
    json_text(w, "overall");
    w.StartObject();
    for (const auto& metric : official_metric_names()) {
      json_key_number(w, metric, metric_value(s.evaluation, metric));
    }
    w.EndObject();
    json_text(w, "intervals");
    w.StartObject();
    json_interval(w, "ROC-AUC-macro", s.roc_auc_macro_interval);
    json_interval(w, "PR-AUC-macro", s.pr_auc_macro_interval);
    w.EndObject();
    json_text(w, "bootstrap_means");
    w.StartObject();
    json_key_number(w, "ROC-AUC-macro", s.roc_auc_macro_bootstrap_mean);
    json_key_number(w, "PR-AUC-macro", s.pr_auc_macro_bootstrap_mean);
    w.EndObject();
    json_text(w, "vs_baseline");
    w.StartObject();
    json_winloss(w, "ROC-AUC", s.roc_auc_vs_baseline);
    json_winloss(w, "PR-AUC", s.pr_auc_vs_baseline);
    json_text(w, "published_ROC-AUC-macro_vs_interval");
    json_text(w, position_text(s.baseline_roc_auc_macro));
    json_text(w, "published_PR-AUC-macro_vs_interval");
    json_text(w, position_text(s.baseline_pr_auc_macro));
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();

  json_text(w, "pairs");
  w.StartArray();
  for (const auto& p : c.pairs) {
    w.StartObject();
    json_text(w, "a");
    json_text(w, c.systems[p.a].name);
    json_text(w, "b");
    json_text(w, c.systems[p.b].name);
    json_pair_metric(w, "ROC-AUC-macro", p.roc_auc_difference, p.roc_auc);
    json_pair_metric(w, "PR-AUC-macro", p.pr_auc_difference, p.pr_auc);
    w.EndObject();
  }
  w.EndArray();

  json_text(w, "tags");
  w.StartArray();
  for (std::size_t t = 0; t < c.tags.size(); ++t) {
    w.StartObject();
    json_text(w, "tag");
    json_text(w, c.tags[t]);
    json_text(w, "positives");
    w.Int64(c.positives[t]);
    json_text(w, "baseline");
    w.StartObject();
    json_key_number(w, "ROC-AUC", c.baseline_roc_auc[t]);
    json_key_number(w, "PR-AUC", c.baseline_pr_auc[t]);
    w.EndObject();
    json_text(w, "systems");
    w.StartObject();
    for (const auto& s : c.systems) {
      json_text(w, s.name);
      w.StartObject();
      json_key_number(w, "ROC-AUC", s.evaluation.tags[t].values.roc_auc);
      json_key_number(w, "PR-AUC", s.evaluation.tags[t].values.pr_auc);
      json_key_number(w, "ROC-AUC-difference", s.roc_auc_difference[t]);
      json_key_number(w, "PR-AUC-difference", s.pr_auc_difference[t]);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  return json.finish();
}

std::string compare_html(const Comparison& c) {
  report::HtmlPage page(c.title);
  if (c.demonstration) page.banner("Synthetic data: a demonstration of the report, not a result.");
  if (!c.notes.empty()) page.list(c.notes);
  page.paragraph(setup_text(c));

  page.heading("Overall", "overall");
  page.raw(report::figure(
      interval_chart(c, "PR-AUC-macro"),
      "PR-AUC-macro is the task's leaderboard metric. Dots: our systems, with their "
      "bootstrap intervals as whiskers. Dashed lines: published figures, which have no "
      "interval because their predictions are not available."));
  page.raw(report::figure(interval_chart(c, "ROC-AUC-macro"), "The same for ROC-AUC-macro."));
  const auto header = overall_header(c);
  page.raw(report::html_table(
      header, report::html_cells(overall_rows(c), numeric_after_first(header.size())),
      "The ten official metrics (brackets: bootstrap intervals)"));
  const auto sentences = position_sentences(c);
  if (!sentences.empty()) page.list(sentences);

  page.heading(fmt::format("Tags won and lost against the {}", short_name(c.baseline.name)),
               "won-lost");
  page.raw(report::html_table(winloss_header(),
                              report::html_cells(winloss_rows(c), numeric_after_first(8))));

  if (!c.pairs.empty()) {
    page.heading("Systems against each other (paired bootstrap)", "pairs");
    page.paragraph(
        "Both systems are scored on the same resamples of the test tracks. 'A better' is the share "
        "of resamples in which A's macro value is higher; an interval that excludes 0 means the "
        "difference is larger than the test set's sampling noise.");
    page.raw(report::html_table(pair_header(c), report::html_cells(pair_rows(c), kPairNumeric)));
  }

  page.heading("Per tag", "per-tag");
  page.raw(report::figure(
      per_tag_bars(c),
      "Each row is a tag; bars show each system's PR-AUC and the published baseline's. "
      "The number at the right is the first system's difference to the baseline; rows "
      "are sorted by it, largest gain first."));
  page.raw(report::figure(
      scatter(c, true),
      "One dot per tag and system. Dots above the dashed diagonal are tags where ours "
      "beats the published baseline."));
  page.raw(report::figure(scatter(c, false), "The same for ROC-AUC."));
  page.raw(report::html_table(per_tag_header(c), per_tag_cells(c),
                              "Per-tag figures (green: better than the baseline, red: worse)"));

  page.heading("Method", "method");
  page.paragraph(method_text(c));
  return page.render();
}

std::vector<fs::path> write_compare_reports(const Comparison& c, const fs::path& out_dir) {
  return report::write_report_files(out_dir, {{"compare.md", compare_markdown(c)},
                                              {"compare.tsv", compare_tsv(c)},
                                              {"compare.json", compare_json(c)},
                                              {"compare.html", compare_html(c)}});
}

}  // namespace moodboost
