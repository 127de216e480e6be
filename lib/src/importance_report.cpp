// Renderings of an ImportanceReport (Markdown, TSV, JSON, HTML) and of a TrackExplanation (text,
// JSON). Every number comes from the report; nothing here computes an importance.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "detail/json_util.hpp"
#include "detail/report_json.hpp"
#include "detail/report_render.hpp"
#include "detail/svg_chart.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/importance.hpp"
#include "moodboost/io.hpp"
#include "moodboost/version.hpp"

namespace moodboost {
namespace {

namespace fs = std::filesystem;
namespace report = detail::report;
namespace chart = detail::chart;
using detail::JsonWriter;
using report::json_text;

constexpr std::size_t kHeatmapGroups = 40;  // more families than this make an unreadable heatmap

std::string synthetic_note() {
  return "Synthetic data: this model was trained on moodboost's synthetic dataset (generated "
         "features and labels, not real music). The importances describe what the generator "
         "planted, not which descriptors carry moods in real music.";
}

// "3 tree, 1 linear, 2 blend" (nothing when the report did not come from a model directory).
std::string model_counts(const ImportanceReport& r) {
  std::size_t tree = 0, linear = 0, blend = 0;
  for (const auto& m : r.tag_models) {
    tree += m == "tree";
    linear += m == "linear";
    blend += m == "blend";
  }
  return fmt::format("{} tree, {} linear, {} blend", tree, linear, blend);
}

std::string setup_text(const ImportanceReport& r) {
  const std::string models =
      r.tag_models.empty()
          ? std::string()
          : fmt::format(" Tags: {} (the model of each tag is in its row).", model_counts(r));
  return fmt::format(
      "Model: {} ({} tags, {} models).{} Importance: XGBoost's feature scores ({}) for trees; "
      "|coefficient| x the column's training standard deviation for a linear model (its "
      "coefficient on the standardised column); a blend's shares are the mean of its two models' "
      "shares. Each tag's scores are normalised to shares that sum to 1; a column's global "
      "importance is its mean share over the {} tags with at least one split or coefficient. {} "
      "of {} columns are never used (listed with 0 in importance.tsv).",
      r.model_dir.string(), r.tags.size(), r.refit ? "refit (train + validation)" : "train-only",
      models, to_string(r.type), r.tags.size() - r.tags_without_splits.size(), r.unused_columns,
      r.columns.size());
}

// "mood/theme---x (blend)"
std::string tag_label(const ImportanceReport& r, std::size_t t) {
  const std::string name = tag_display_name(r.tags[t]);
  return t < r.tag_models.size() ? fmt::format("{} ({})", name, r.tag_models[t]) : name;
}

std::size_t top_count(const ImportanceReport& r) { return std::min(r.top_k, r.columns.size()); }

std::vector<std::vector<std::string>> global_rows(const ImportanceReport& r) {
  std::vector<std::vector<std::string>> rows;
  const auto ranking = r.global_ranking();
  for (std::size_t i = 0; i < top_count(r); ++i) {
    const std::size_t c = ranking[i];
    rows.push_back({std::to_string(i + 1), r.columns[c].name, column_family(r.columns[c]),
                    report::fixed(r.global[c], 4), std::to_string(r.tags_using[c])});
  }
  return rows;
}

std::vector<std::vector<std::string>> grouping_rows(const std::vector<std::string>& keys,
                                                    const std::vector<double>& totals,
                                                    const std::vector<std::size_t>& counts) {
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    rows.push_back({keys[i], report::fixed(totals[i], 4), std::to_string(counts[i])});
  }
  return rows;
}

// Per tag: its top columns ("name (share)"), the top family and its share.
std::vector<std::vector<std::string>> per_tag_rows(const ImportanceReport& r, std::size_t top) {
  std::vector<std::vector<std::string>> rows;
  for (std::size_t t = 0; t < r.tags.size(); ++t) {
    std::vector<std::string> row = {tag_label(r, t)};
    const auto ranking = r.tag_ranking(t);
    for (std::size_t i = 0; i < top; ++i) {
      const std::size_t c = ranking[i];
      const double share = r.shares(static_cast<Eigen::Index>(t), static_cast<Eigen::Index>(c));
      row.push_back(share > 0 ? fmt::format("{} ({})", r.columns[c].name, report::fixed(share, 3))
                              : std::string("-"));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> per_tag_header(std::size_t top) {
  std::vector<std::string> header = {"tag"};
  for (std::size_t i = 0; i < top; ++i) header.push_back(fmt::format("#{}", i + 1));
  return header;
}

std::string bars(const std::string& title, const std::string& x_label,
                 const std::vector<std::string>& labels, const std::vector<double>& values,
                 const std::string& series) {
  chart::BarChart c;
  c.title = title;
  c.x_label = x_label;
  c.categories = labels;
  c.series.push_back({series, chart::series_color(0), values});
  for (double v : values) c.annotations.push_back(report::fixed(v, 3));
  return chart::render(c);
}

const std::vector<bool> kGlobalNumeric = {true, false, false, true, true};
const std::vector<bool> kGroupingNumeric = {false, true, true};

}  // namespace

std::string importance_markdown(const ImportanceReport& r) {
  std::string md = fmt::format("# {}\n\n", report::markdown_escape(r.title));
  if (r.synthetic) md += fmt::format("> **{}**\n\n", report::markdown_escape(synthetic_note()));
  if (!r.tags_without_splits.empty()) {
    std::vector<std::string> names;
    for (std::size_t t : r.tags_without_splits) names.push_back(r.tags[t]);
    md += fmt::format("> {} tags have boosters without any split (no importance): {}.\n\n",
                      names.size(),
                      report::markdown_escape(fmt::format("{}", fmt::join(names, ", "))));
  }
  md += report::markdown_escape(setup_text(r)) + "\n\n";
  md += fmt::format("## Top {} columns over all tags\n\n", top_count(r));
  md += report::markdown_table({"rank", "column", "family", "mean share", "tags using"},
                               global_rows(r), kGlobalNumeric);
  md += "\n## By descriptor family\n\n";
  md += report::markdown_table({"family", "share", "columns"},
                               grouping_rows(r.groups, r.group_global, r.group_columns),
                               kGroupingNumeric);
  md += "\n## By statistic\n\n";
  md += report::markdown_table({"statistic", "share", "columns"},
                               grouping_rows(r.statistics, r.statistic_global, r.statistic_columns),
                               kGroupingNumeric);
  const std::size_t per_tag = std::min<std::size_t>(5, top_count(r));
  md += fmt::format("\n## Per tag: the {} most important columns (share of the tag's {})\n\n",
                    per_tag, to_string(r.type));
  md += report::markdown_table(per_tag_header(per_tag), per_tag_rows(r, per_tag));
  return md;
}

std::string importance_tsv(const ImportanceReport& r) {
  std::string out = "rank\tcolumn\tgroup\tstatistic\tglobal_share\ttags_using";
  for (const auto& tag : r.tags) out += "\t" + tag;
  out += '\n';
  const auto ranking = r.global_ranking();
  for (std::size_t i = 0; i < ranking.size(); ++i) {
    const std::size_t c = ranking[i];
    const Column& col = r.columns[c];
    out += fmt::format("{}\t{}\t{}\t{}\t{}\t{}", i + 1, col.name, column_family(col),
                       column_statistic(col), r.global[c], r.tags_using[c]);
    for (Eigen::Index t = 0; t < r.shares.rows(); ++t) {
      out += fmt::format("\t{}", r.shares(t, static_cast<Eigen::Index>(c)));
    }
    out += '\n';
  }
  return out;
}

std::string importance_json(const ImportanceReport& r) {
  report::JsonReport json("moodboost-importance");
  JsonWriter& w = json.writer();
  json_text(w, "title");
  json_text(w, r.title);
  json_text(w, "model");
  json_text(w, r.model_dir.string());
  json_text(w, "importance_type");
  json_text(w, to_string(r.type));
  json_text(w, "synthetic");
  w.Bool(r.synthetic);
  json_text(w, "refit_models");
  w.Bool(r.refit);
  json_text(w, "columns");
  w.Uint64(r.columns.size());
  json_text(w, "unused_columns");
  w.Uint64(r.unused_columns);
  json_text(w, "tags_without_splits");
  w.StartArray();
  for (std::size_t t : r.tags_without_splits) json_text(w, r.tags[t]);
  w.EndArray();

  json_text(w, "global");
  w.StartArray();
  const auto ranking = r.global_ranking();
  for (std::size_t i = 0; i < top_count(r); ++i) {
    const std::size_t c = ranking[i];
    w.StartObject();
    json_text(w, "column");
    json_text(w, r.columns[c].name);
    json_text(w, "group");
    json_text(w, column_family(r.columns[c]));
    json_text(w, "share");
    w.Double(r.global[c]);
    json_text(w, "tags_using");
    w.Uint64(r.tags_using[c]);
    w.EndObject();
  }
  w.EndArray();
  const auto grouping = [&](const char* key, const std::vector<std::string>& names,
                            const std::vector<double>& totals,
                            const std::vector<std::size_t>& counts) {
    json_text(w, key);
    w.StartArray();
    for (std::size_t i = 0; i < names.size(); ++i) {
      w.StartObject();
      json_text(w, "name");
      json_text(w, names[i]);
      json_text(w, "share");
      w.Double(totals[i]);
      json_text(w, "columns");
      w.Uint64(counts[i]);
      w.EndObject();
    }
    w.EndArray();
  };
  grouping("families", r.groups, r.group_global, r.group_columns);
  grouping("statistics", r.statistics, r.statistic_global, r.statistic_columns);

  json_text(w, "tags");
  w.StartArray();
  for (std::size_t t = 0; t < r.tags.size(); ++t) {
    const auto row = static_cast<Eigen::Index>(t);
    w.StartObject();
    json_text(w, "tag");
    json_text(w, r.tags[t]);
    if (t < r.tag_models.size()) {
      json_text(w, "model");
      json_text(w, r.tag_models[t]);
    }
    json_text(w, "total_score");
    w.Double(r.scores.row(row).sum());
    json_text(w, "top");
    w.StartArray();
    const auto tag_ranking = r.tag_ranking(t);
    for (std::size_t i = 0; i < top_count(r); ++i) {
      const auto c = static_cast<Eigen::Index>(tag_ranking[i]);
      if (r.scores(row, c) <= 0) break;
      w.StartObject();
      json_text(w, "column");
      json_text(w, r.columns[tag_ranking[i]].name);
      json_text(w, "score");
      w.Double(r.scores(row, c));
      json_text(w, "share");
      w.Double(r.shares(row, c));
      w.EndObject();
    }
    w.EndArray();
    json_text(w, "families");
    w.StartObject();
    for (std::size_t g = 0; g < r.groups.size(); ++g) {
      json_text(w, r.groups[g]);
      w.Double(r.group_shares(row, static_cast<Eigen::Index>(g)));
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  return json.finish();
}

std::string importance_html(const ImportanceReport& r) {
  report::HtmlPage page(r.title);
  if (r.synthetic) page.banner(synthetic_note());
  page.paragraph(setup_text(r));

  const auto ranking = r.global_ranking();
  std::vector<std::string> labels;
  std::vector<double> values;
  for (std::size_t i = 0; i < top_count(r); ++i) {
    labels.push_back(r.columns[ranking[i]].name);
    values.push_back(r.global[ranking[i]]);
  }
  page.heading(fmt::format("Top {} columns over all tags", top_count(r)), "columns");
  page.raw(
      report::figure(bars(fmt::format("Mean share of the tags' {} per column", to_string(r.type)),
                          "mean share over tags", labels, values, "column"),
                     "A column's share of a tag's importance, averaged over the tags."));
  page.raw(report::html_table({"rank", "column", "family", "mean share", "tags using"},
                              report::html_cells(global_rows(r), kGlobalNumeric)));

  page.heading("By descriptor family and by statistic", "families");
  page.raw(
      report::figure(bars("Share per descriptor family", "sum of the family's mean shares",
                          r.groups, r.group_global, "family"),
                     "Families are the loader's column groups: a descriptor (lowlevel.mfcc) or a "
                     "bundle of related ones (rhythm.bpm_histogram_*)."));
  page.raw(report::figure(
      bars("Share per statistic", "sum of the statistic's mean shares", r.statistics,
           r.statistic_global, "statistic"),
      "Statistics over the track's frames (mean, var, dmean = mean of the derivative, "
      "...); \"(value)\" is a descriptor with a single value."));

  page.heading("Tags x families", "heatmap");
  chart::Heatmap heat;
  heat.title = "Share of each tag's importance per family";
  heat.value_label = "share of the tag's importance";
  const std::size_t groups = std::min(r.groups.size(), kHeatmapGroups);
  heat.col_labels.assign(r.groups.begin(), r.groups.begin() + static_cast<std::ptrdiff_t>(groups));
  for (std::size_t t = 0; t < r.tags.size(); ++t) {
    heat.row_labels.push_back(tag_label(r, t));
    for (std::size_t g = 0; g < groups; ++g) {
      heat.values.push_back(
          r.group_shares(static_cast<Eigen::Index>(t), static_cast<Eigen::Index>(g)));
    }
  }
  page.raw(
      report::figure(chart::render(heat),
                     groups < r.groups.size()
                         ? fmt::format("Rows: tags; columns: the {} most important of {} families.",
                                       groups, r.groups.size())
                         : std::string("Rows: tags; columns: families, most important first.")));

  const std::size_t per_tag = std::min<std::size_t>(5, top_count(r));
  page.heading("Per tag", "per-tag");
  std::vector<bool> numeric(per_tag + 1, false);
  page.raw(report::html_table(
      per_tag_header(per_tag), report::html_cells(per_tag_rows(r, per_tag), numeric),
      fmt::format("The {} most important columns of each tag (share)", per_tag)));
  return page.render();
}

std::vector<fs::path> write_importance_reports(const ImportanceReport& r, const fs::path& out_dir) {
  return report::write_report_files(out_dir, {{"importance.md", importance_markdown(r)},
                                              {"importance.tsv", importance_tsv(r)},
                                              {"importance.json", importance_json(r)},
                                              {"importance.html", importance_html(r)}});
}

std::string explanation_text(const TrackExplanation& x, std::size_t top_k) {
  std::string out =
      fmt::format("{}: why the model tagged it (SHAP contributions, in log-odds)\n", x.track_id);
  if (x.synthetic) {
    out +=
        "SYNTHETIC DATA: the model was trained on moodboost's synthetic dataset; this explains "
        "the generator's planted signal, not real music.\n";
  }
  std::size_t last_tag = x.tags.size();
  for (const TagExplanation& e : x.explained) {
    double features = 0;
    for (double c : e.contributions) features += c;
    const char* family = e.family == Family::kLinear ? "linear model" : "trees";
    if (e.model != TagModel::kBlend) {
      out += fmt::format(
          "\n{}: probability {:.4f}, threshold {:.4f}: {} ({})\n  log-odds {:+.4f} = base {:+.4f} "
          "+ "
          "descriptors {:+.4f}\n",
          x.tags[e.tag], e.probability, e.threshold, e.tagged ? "TAGGED" : "not tagged", family,
          e.margin, e.bias, features);
    } else {
      if (e.tag != last_tag) {
        out += fmt::format(
            "\n{}: probability {:.4f}, threshold {:.4f}: {} (blend: the mean of the trees' and "
            "the linear model's probabilities)\n",
            x.tags[e.tag], e.tag_probability, e.threshold, e.tagged ? "TAGGED" : "not tagged");
      }
      out += fmt::format(
          "  {} (weight {}): probability {:.4f}, log-odds {:+.4f} = base {:+.4f} + descriptors "
          "{:+.4f}\n",
          family, e.weight, e.probability, e.margin, e.bias, features);
    }
    last_tag = e.tag;
    for (std::size_t g = 0; g < e.groups.size() && g < top_k; ++g) {
      const double value = e.group_contributions[g];
      if (value == 0) break;
      // The family's own columns, strongest first.
      std::vector<std::pair<double, std::size_t>> members;
      for (std::size_t c = 0; c < x.columns.size(); ++c) {
        if (e.contributions[c] != 0 && column_family(x.columns[c]) == e.groups[g]) {
          members.emplace_back(-std::fabs(e.contributions[c]), c);
        }
      }
      std::sort(members.begin(), members.end());
      std::string detail;
      for (std::size_t i = 0; i < members.size() && i < 3; ++i) {
        detail += fmt::format("{}{} {:+.4f}", i ? ", " : "", x.columns[members[i].second].name,
                              e.contributions[members[i].second]);
      }
      out += fmt::format("  {:>8} {:+.4f}  {}  ({})\n", value > 0 ? "raises" : "lowers", value,
                         e.groups[g], detail);
    }
  }
  return out;
}

std::string explanation_json(const TrackExplanation& x) {
  report::JsonReport json("moodboost-explain");
  JsonWriter& w = json.writer();
  json_text(w, "track");
  json_text(w, x.track_id);
  json_text(w, "synthetic");
  w.Bool(x.synthetic);
  json_text(w, "units");
  json_text(w,
            "log-odds (XGBoost margin) of each model; bias + sum of contributions = margin; a "
            "linear model's contributions are coefficient x (value - training mean)");
  json_text(w, "tags");
  w.StartArray();
  for (const TagExplanation& e : x.explained) {
    w.StartObject();
    json_text(w, "tag");
    json_text(w, x.tags[e.tag]);
    json_text(w, "tag_model");
    json_text(w, to_string(e.model));
    json_text(w, "family");
    json_text(w, to_string(e.family));
    json_text(w, "weight");
    w.Double(e.weight);
    json_text(w, "tag_probability");
    w.Double(e.tag_probability);
    json_text(w, "probability");
    w.Double(e.probability);
    json_text(w, "threshold");
    w.Double(e.threshold);
    json_text(w, "tagged");
    w.Bool(e.tagged);
    json_text(w, "margin");
    w.Double(e.margin);
    json_text(w, "bias");
    w.Double(e.bias);
    json_text(w, "families");
    w.StartArray();
    for (std::size_t g = 0; g < e.groups.size(); ++g) {
      w.StartObject();
      json_text(w, "family");
      json_text(w, e.groups[g]);
      json_text(w, "contribution");
      w.Double(e.group_contributions[g]);
      w.EndObject();
    }
    w.EndArray();
    json_text(w, "columns");
    w.StartObject();
    for (std::size_t c = 0; c < x.columns.size(); ++c) {
      if (e.contributions[c] == 0) continue;
      json_text(w, x.columns[c].name);
      w.Double(e.contributions[c]);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  return json.finish();
}

}  // namespace moodboost
