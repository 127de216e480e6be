#include "moodboost/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "moodboost/error.hpp"
#include "moodboost/io.hpp"
#include "moodboost/metrics_format.hpp"

namespace moodboost {
namespace {

namespace fs = std::filesystem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kMaxNameLength = 40;

// A results.json is small; anything much larger is not one.
constexpr std::uintmax_t kMaxResultsJsonBytes = 64u * 1024u * 1024u;

WinLoss tally(const std::vector<double>& differences, double tolerance) {
  WinLoss out;
  for (double d : differences) {
    if (std::isnan(d)) continue;
    ++out.compared;
    if (d > tolerance) {
      ++out.won;
    } else if (d < -tolerance) {
      ++out.lost;
    } else {
      ++out.tied;
    }
  }
  return out;
}

double finite_mean(const std::vector<double>& values) {
  double sum = 0;
  std::size_t n = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    sum += v;
    ++n;
  }
  return n == 0 ? kNaN : sum / static_cast<double>(n);
}

IntervalPosition position_of(std::optional<double> published, const Interval& interval) {
  if (!published || std::isnan(interval.low) || std::isnan(interval.high)) {
    return IntervalPosition::kUnknown;
  }
  if (*published < interval.low) return IntervalPosition::kBelow;
  if (*published > interval.high) return IntervalPosition::kAbove;
  return IntervalPosition::kInside;
}

// "VGG-ish CNN baseline (mel-spectrograms)" -> "VGG-ish CNN baseline": the name without its
// parenthesised detail, for titles.
std::string short_name(const std::string& name) {
  const std::size_t paren = name.find(" (");
  return paren == std::string::npos ? name : name.substr(0, paren);
}

std::string join_names(const std::vector<std::string>& names, std::size_t limit = 12) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > limit) out += fmt::format(", ... ({} in all)", names.size());
  return out;
}

std::vector<std::string> build_notes(const Comparison& c) {
  std::vector<std::string> notes;
  std::vector<std::string> synthetic, unknown;
  for (const auto& s : c.systems) {
    if (s.provenance.synthetic) {
      synthetic.push_back(fmt::format("{} ({})", s.name, s.provenance.source));
    } else if (!s.provenance.known) {
      unknown.push_back(s.name);
    }
  }
  if (!synthetic.empty() && c.demonstration) {
    notes.push_back(fmt::format(
        "Synthetic data: the predictions of {} come from moodboost's synthetic dataset "
        "(generated features and labels shaped like MTG-Jamendo, not real music). {} real "
        "results on the MTG-Jamendo test split. Setting them side by side demonstrates this "
        "report; it is not a result and says nothing about how the boosters do on real music.",
        join_names(synthetic),
        c.baseline.published
            ? fmt::format("The {} and reference figures are", short_name(c.baseline.name))
            : std::string("The reference figures are")));
  } else if (!synthetic.empty()) {
    notes.push_back(
        fmt::format("Synthetic data: the predictions of {} come from moodboost's synthetic dataset "
                    "(generated features and labels, not real music).",
                    join_names(synthetic)));
  }
  if (!unknown.empty()) {
    notes.push_back(fmt::format(
        "Where the predictions of {} come from is not recorded (no results.json with a "
        "\"synthetic\" field beside them): check that they are real test-set predictions before "
        "citing this comparison.",
        join_names(unknown)));
  }
  for (const auto& s : c.systems) {
    const auto flag = [&](const char* metric, double point, double mean, const Interval& i) {
      // Flag a bias above a quarter of the interval's half-width (far above the Monte Carlo
      // noise of the mean of 1000 resamples, about a hundredth of it), or a point estimate
      // outside the interval. A constant predictor's degenerate interval is neither.
      if (std::isnan(i.low) || std::isnan(mean)) return;
      const bool outside = point < i.low || point > i.high;
      if (!outside && std::fabs(mean - point) <= (i.high - i.low) / 8) return;
      notes.push_back(fmt::format(
          "The bootstrap of the {} of {} is biased: point estimate {:.4f}, bootstrap mean {:.4f}, "
          "interval [{:.4f}, {:.4f}]. Resampling tracks favours tags with few positives (a "
          "positive drawn twice ties with itself and raises the average precision), so the "
          "interval is shifted; read it with care. The paired differences between systems are "
          "less affected.",
          metric, s.name, point, mean, i.low, i.high));
    };
    flag("PR-AUC-macro", s.evaluation.macro.pr_auc, s.pr_auc_macro_bootstrap_mean,
         s.pr_auc_macro_interval);
    flag("ROC-AUC-macro", s.evaluation.macro.roc_auc, s.roc_auc_macro_bootstrap_mean,
         s.roc_auc_macro_interval);
  }
  if (c.baseline.tracks != 0 && c.baseline.tracks != c.tracks) {
    notes.push_back(
        fmt::format("The {} figures were measured on {} test tracks; this ground truth has {}: the "
                    "comparison is not like for like.",
                    short_name(c.baseline.name), c.baseline.tracks, c.tracks));
  }
  if (!c.tags_without_baseline.empty()) {
    notes.push_back(fmt::format(
        "{} of {} tags have no {} figure and are left out of the tags won and lost: {}.",
        c.tags_without_baseline.size(), c.tags.size(), short_name(c.baseline.name),
        join_names(c.tags_without_baseline)));
  }
  if (!c.excluded_tags.empty()) {
    std::vector<std::string> names;
    for (std::size_t t : c.excluded_tags) names.push_back(c.tags[t]);
    notes.push_back(fmt::format(
        "{} tags have a single class in the ground truth (no positive or no negative track): "
        "their AUCs are undefined and they are left out of the macro AUCs (the official "
        "evaluation would stop): {}.",
        names.size(), join_names(names)));
  }
  return notes;
}

std::string build_title(const Comparison& c) {
  std::vector<std::string> names;
  for (const auto& s : c.systems) names.push_back(s.name);
  const std::string what =
      fmt::format("{} vs {}", join_names(names, 4), short_name(c.baseline.name));
  if (c.demonstration) {
    return fmt::format("SYNTHETIC DATA: {} (a demonstration of the report, not a result)", what);
  }
  if (c.synthetic) return fmt::format("SYNTHETIC DATA: {}", what);
  return fmt::format("moodboost comparison: {}", what);
}

}  // namespace

Provenance read_provenance(const fs::path& predictions_file) {
  const fs::path results = predictions_file.parent_path() / "results.json";
  Provenance out;
  std::error_code ec;
  if (!fs::exists(results, ec)) return out;
  const auto recorded = parse_results_provenance(read_file(results, kMaxResultsJsonBytes), results);
  if (!recorded) return out;
  out.known = true;
  out.synthetic = recorded->synthetic;
  out.source =
      fmt::format("{} says \"synthetic\": {}", results.string(), out.synthetic ? "true" : "false");
  for (const auto& [tag, model] : recorded->tag_models) out.tag_models[tag] = model;
  return out;
}

void check_system_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    throw InvalidArgument(
        fmt::format("system name '{}': expected 1 to {} characters", name, kMaxNameLength));
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '+';
    if (!ok) {
      throw InvalidArgument(fmt::format(
          "system name '{}': only letters, digits, '_', '-' and '+' are allowed (it names "
          "compare.tsv columns)",
          name));
    }
  }
  if (name == "baseline") {
    throw InvalidArgument("system name 'baseline' is reserved for the published baseline");
  }
}

Comparison compare_systems(const Eigen::Ref<const LabelMatrix>& groundtruth,
                           const std::vector<std::string>& tags,
                           const std::vector<SystemPredictions>& systems,
                           const PublishedSystem& baseline,
                           const std::vector<PublishedSystem>& references,
                           const CompareOptions& options) {
  if (systems.empty()) throw InvalidArgument("compare: no system to compare");
  std::set<std::string> names;
  for (const auto& s : systems) {
    check_system_name(s.name);
    if (!names.insert(s.name).second) {
      throw InvalidArgument(fmt::format("system name '{}' is given twice", s.name));
    }
  }
  if (!baseline.has_per_tag()) {
    throw InvalidArgument(fmt::format("baseline '{}' has no per-tag figures", baseline.id));
  }
  if (tags.size() != static_cast<std::size_t>(groundtruth.cols())) {
    throw DataError(fmt::format("{} tags in the tag list, but the ground truth has {} columns",
                                tags.size(), groundtruth.cols()));
  }

  Comparison c;
  c.groundtruth_file = options.groundtruth_file;
  c.tracks = static_cast<std::size_t>(groundtruth.rows());
  c.tags = tags;
  c.baseline = baseline;
  c.references = references;
  c.resamples = options.resamples;
  c.seed = options.seed;
  c.confidence = options.confidence;
  c.tie_tolerance = options.tie_tolerance;

  EvaluateOptions evaluate_options;
  evaluate_options.single_class_tags = SingleClassTagPolicy::kExclude;
  evaluate_options.groundtruth_name =
      options.groundtruth_file.empty() ? "ground truth" : options.groundtruth_file.string();
  evaluate_options.tag_names = tags;
  for (const auto& s : systems) {
    SystemResult r;
    r.name = s.name;
    r.predictions_file = s.predictions_file;
    r.decisions_file = s.decisions ? s.decisions_file : fs::path();
    r.provenance = s.provenance;
    evaluate_options.predictions_name = fmt::format("predictions of {}", s.name);
    evaluate_options.decisions_name = fmt::format("decisions of {}", s.name);
    r.evaluation = s.decisions
                       ? evaluate(groundtruth, s.predictions, *s.decisions, evaluate_options)
                       : evaluate(groundtruth, s.predictions, evaluate_options);
    c.synthetic = c.synthetic || s.provenance.synthetic;
    c.systems.push_back(std::move(r));
  }
  // Synthetic predictions set against real, published figures demonstrate the report only.
  c.demonstration =
      c.synthetic &&
      (baseline.published || std::any_of(references.begin(), references.end(),
                                         [](const PublishedSystem& r) { return r.published; }));
  for (const auto& t : c.systems.front().evaluation.tags) c.positives.push_back(t.positives);
  c.excluded_tags = c.systems.front().evaluation.excluded_tags;

  // The baseline's figures, matched to our tags by name.
  c.baseline_roc_auc.assign(tags.size(), kNaN);
  c.baseline_pr_auc.assign(tags.size(), kNaN);
  for (std::size_t t = 0; t < tags.size(); ++t) {
    if (const auto row = baseline.find_tag(tags[t])) {
      c.baseline_roc_auc[t] = baseline.roc_auc[*row];
      c.baseline_pr_auc[t] = baseline.pr_auc[*row];
    } else {
      c.tags_without_baseline.push_back(tags[t]);
    }
  }
  if (c.tags_without_baseline.size() == tags.size()) {
    throw DataError(fmt::format(
        "none of the {} tags has a figure in baseline '{}' (its tags look like '{}', ours like "
        "'{}'): for another vocabulary give --baseline FILE.tsv (columns tag, ROC-AUC, PR-AUC), "
        "e.g. chance level: ROC-AUC 0.5 and PR-AUC the tag's test prevalence",
        tags.size(), baseline.id, baseline.tags.front(), tags.front()));
  }
  for (auto& r : c.systems) {
    r.roc_auc_difference.resize(tags.size());
    r.pr_auc_difference.resize(tags.size());
    for (std::size_t t = 0; t < tags.size(); ++t) {
      r.roc_auc_difference[t] = r.evaluation.tags[t].values.roc_auc - c.baseline_roc_auc[t];
      r.pr_auc_difference[t] = r.evaluation.tags[t].values.pr_auc - c.baseline_pr_auc[t];
    }
    r.roc_auc_vs_baseline = tally(r.roc_auc_difference, options.tie_tolerance);
    r.pr_auc_vs_baseline = tally(r.pr_auc_difference, options.tie_tolerance);
    r.roc_auc_macro_interval = r.pr_auc_macro_interval = {kNaN, kNaN};
    r.roc_auc_macro_bootstrap_mean = r.pr_auc_macro_bootstrap_mean = kNaN;
  }

  std::optional<BootstrapResult> bootstrap;
  if (options.resamples > 0) {
    std::vector<const ScoreMatrix*> inputs;
    for (const auto& s : systems) inputs.push_back(&s.predictions);
    BootstrapOptions bootstrap_options;
    bootstrap_options.resamples = options.resamples;
    bootstrap_options.seed = options.seed;
    bootstrap_options.threads = options.threads;
    bootstrap_options.progress = options.progress;
    bootstrap = paired_bootstrap(groundtruth, inputs, bootstrap_options);
    c.single_class_tag_resamples = bootstrap->single_class_tag_resamples;
    c.empty_resamples = bootstrap->empty_resamples;
    for (std::size_t s = 0; s < c.systems.size(); ++s) {
      SystemResult& r = c.systems[s];
      r.roc_auc_macro_interval =
          percentile_interval(bootstrap->roc_auc_macro[s], options.confidence);
      r.pr_auc_macro_interval = percentile_interval(bootstrap->pr_auc_macro[s], options.confidence);
      r.roc_auc_macro_bootstrap_mean = finite_mean(bootstrap->roc_auc_macro[s]);
      r.pr_auc_macro_bootstrap_mean = finite_mean(bootstrap->pr_auc_macro[s]);
      r.baseline_roc_auc_macro =
          position_of(baseline.overall_value("ROC-AUC-macro"), r.roc_auc_macro_interval);
      r.baseline_pr_auc_macro =
          position_of(baseline.overall_value("PR-AUC-macro"), r.pr_auc_macro_interval);
    }
  }
  for (std::size_t a = 0; a < c.systems.size(); ++a) {
    for (std::size_t b = a + 1; b < c.systems.size(); ++b) {
      PairResult pair;
      pair.a = a;
      pair.b = b;
      pair.roc_auc_difference =
          c.systems[a].evaluation.macro.roc_auc - c.systems[b].evaluation.macro.roc_auc;
      pair.pr_auc_difference =
          c.systems[a].evaluation.macro.pr_auc - c.systems[b].evaluation.macro.pr_auc;
      if (bootstrap) {
        pair.roc_auc = paired_difference(bootstrap->roc_auc_macro[a], bootstrap->roc_auc_macro[b],
                                         options.confidence);
        pair.pr_auc = paired_difference(bootstrap->pr_auc_macro[a], bootstrap->pr_auc_macro[b],
                                        options.confidence);
      } else {
        pair.roc_auc.difference = pair.pr_auc.difference = {kNaN, kNaN};
        pair.roc_auc.a_wins = pair.roc_auc.b_wins = pair.roc_auc.ties = kNaN;
        pair.pr_auc.a_wins = pair.pr_auc.b_wins = pair.pr_auc.ties = kNaN;
      }
      c.pairs.push_back(pair);
    }
  }
  c.notes = build_notes(c);
  c.title = build_title(c);
  return c;
}

}  // namespace moodboost
