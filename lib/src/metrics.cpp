#include "moodboost/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <string>

#include "moodboost/error.hpp"

// How the reference computes each metric (scikit-learn 1.2.1, numpy 1.24), and therefore how this
// file does, step by step, so that results are bit-identical and not merely close:
//
// _binary_clf_curve: sort scores descending; at each distinct score (the last index of each run of
// ties) take the cumulative true positives tps and false positives fps.
// roc_auc_score: roc_curve(drop_intermediate=True) keeps the first and last points and each point
// where the second difference of fps or tps is nonzero (drops collinear points), prepends (0, 0),
// divides by the totals (fpr = fps / N, tpr = tps / P) and integrates with np.trapz:
// sum of (fpr[j+1] - fpr[j]) * (tpr[j+1] + tpr[j]) / 2.0.
// average_precision_score: precision_recall_curve gives p = tps / (tps + fps) and r = tps / P,
// reversed (ascending thresholds) with (P=1, R=0) appended; the value is
// -sum(diff(R) * P[:-1]).
// calculate_decisions.py: F = nan_to_num(2 * P * R / (P + R)) over the same reversed arrays and
// the threshold at np.argmax(F): the first maximum, i.e. the lowest threshold.
// precision_recall_fscore_support: P = tp / (tp + fp), R = tp / (tp + fn) with 0 for a zero
// denominator, F = 2 * P * R / (P + R) with the denominator set to 1 when it is 0.
// Every sum and mean goes through numpy's add.reduce, reproduced by numpy_sum().

namespace moodboost {
namespace {

constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;

// A key whose unsigned order is the numeric order of the (finite) score. -0.0 and 0.0 get the
// same key, because numpy's sort and np.diff treat them as one distinct score.
inline std::uint64_t score_key(double score) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(score + 0.0);  // -0.0 + 0.0 == +0.0
  return (bits & kSignBit) != 0 ? ~bits : bits | kSignBit;
}

inline double key_score(std::uint64_t key) noexcept {
  return std::bit_cast<double>((key & kSignBit) != 0 ? key & ~kSignBit : ~key);
}

// Sorts keys ascending. LSD radix sort, one byte per pass, skipping bytes that every key shares
// (scores in [0, 1] share their top bits). For the micro metrics of a 4231 x 56 matrix this sorts
// ~230k keys in about a millisecond, several times faster than std::sort (bench_metrics).
void sort_keys(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& scratch) {
  const std::size_t n = keys.size();
  constexpr std::size_t kRadixMin = 256;  // below this std::sort wins
  if (n < kRadixMin) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  std::array<std::array<std::uint32_t, 256>, 8> counts{};
  for (const std::uint64_t k : keys) {
    for (std::size_t b = 0; b < 8; ++b) ++counts[b][(k >> (8 * b)) & 0xff];
  }
  scratch.resize(n);
  std::uint64_t* src = keys.data();
  std::uint64_t* dst = scratch.data();
  for (std::size_t b = 0; b < 8; ++b) {
    auto& count = counts[b];
    if (count[(src[0] >> (8 * b)) & 0xff] == n) continue;  // every key has this byte
    std::array<std::uint32_t, 256> offset;
    std::uint32_t running = 0;
    for (std::size_t d = 0; d < 256; ++d) {
      offset[d] = running;
      running += count[d];
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t k = src[i];
      dst[offset[(k >> (8 * b)) & 0xff]++] = k;
    }
    std::swap(src, dst);
  }
  if (src != keys.data()) keys.swap(scratch);
}

// numpy's pairwise summation of a contiguous float64 block (numpy/core/src/umath/loops_utils.h:
// blocks under 8 summed in order, up to 128 with 8 interleaved accumulators, larger ones split
// in two at a multiple of 8).
double pairwise_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double res = 0.0;
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    std::array<double, 8> r;
    for (std::size_t j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

// np.add.reduce of a contiguous float64 array: the identity plus the pairwise sum of each
// buffer-sized chunk (numpy's default buffer is 8192 elements), in order.
double numpy_sum(const std::vector<double>& values) {
  constexpr std::size_t kNumpyBufferSize = 8192;
  double res = 0.0;
  for (std::size_t start = 0; start < values.size(); start += kNumpyBufferSize) {
    res += pairwise_sum(values.data() + start, std::min(kNumpyBufferSize, values.size() - start));
  }
  return res;
}

// np.mean: the sum, then one division by the count.
double numpy_mean(const std::vector<double>& values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  return numpy_sum(values) / static_cast<double>(values.size());
}

// The ranking of one binary problem: at each distinct score, descending, the cumulative
// counts of positives (tps) and negatives (fps) scoring at least that much.
struct Curve {
  std::vector<double> thresholds;
  std::vector<std::int64_t> tps;
  std::vector<std::int64_t> fps;
  [[nodiscard]] std::size_t size() const { return thresholds.size(); }
  [[nodiscard]] std::int64_t positives() const { return tps.empty() ? 0 : tps.back(); }
  [[nodiscard]] std::int64_t negatives() const { return fps.empty() ? 0 : fps.back(); }
};

// Reusable buffers, so that evaluating 56 tags allocates once.
struct Workspace {
  std::vector<std::uint64_t> pos;  // keys of the positives' scores
  std::vector<std::uint64_t> neg;  // keys of the negatives' scores
  std::vector<std::uint64_t> scratch;
  Curve curve;
  std::vector<double> terms;
};

// Sorts ws.pos and ws.neg and merges them, from the highest score down, into ws.curve.
void build_curve(Workspace& ws) {
  sort_keys(ws.pos, ws.scratch);
  sort_keys(ws.neg, ws.scratch);
  Curve& c = ws.curve;
  c.thresholds.clear();
  c.tps.clear();
  c.fps.clear();
  auto i = static_cast<std::ptrdiff_t>(ws.pos.size()) - 1;
  auto j = static_cast<std::ptrdiff_t>(ws.neg.size()) - 1;
  std::int64_t tp = 0, fp = 0;
  while (i >= 0 || j >= 0) {
    std::uint64_t key = 0;
    if (i >= 0) key = ws.pos[static_cast<std::size_t>(i)];
    if (j >= 0) key = std::max(key, ws.neg[static_cast<std::size_t>(j)]);
    while (i >= 0 && ws.pos[static_cast<std::size_t>(i)] == key) ++tp, --i;
    while (j >= 0 && ws.neg[static_cast<std::size_t>(j)] == key) ++fp, --j;
    c.thresholds.push_back(key_score(key));
    c.tps.push_back(tp);
    c.fps.push_back(fp);
  }
}

// sklearn roc_auc_score from the curve (see the top of the file). Needs both classes.
double roc_auc_of(const Curve& c, std::vector<double>& terms) {
  const std::size_t m = c.size();
  const auto n_neg = static_cast<double>(c.negatives());
  const auto n_pos = static_cast<double>(c.positives());
  terms.clear();
  double prev_fpr = 0.0, prev_tpr = 0.0;  // the prepended (0, 0)
  for (std::size_t i = 0; i < m; ++i) {
    // roc_curve(drop_intermediate=True): keep ends and points where the curve bends.
    const bool keep = m <= 2 || i == 0 || i + 1 == m ||
                      c.fps[i + 1] - 2 * c.fps[i] + c.fps[i - 1] != 0 ||
                      c.tps[i + 1] - 2 * c.tps[i] + c.tps[i - 1] != 0;
    if (!keep) continue;
    const double fpr = static_cast<double>(c.fps[i]) / n_neg;
    const double tpr = static_cast<double>(c.tps[i]) / n_pos;
    terms.push_back((fpr - prev_fpr) * (tpr + prev_tpr) / 2.0);  // np.trapz
    prev_fpr = fpr;
    prev_tpr = tpr;
  }
  return numpy_sum(terms);
}

// Precision and recall at curve point i, as precision_recall_curve computes them (recall is 1
// everywhere when there is no positive).
inline double curve_precision(const Curve& c, std::size_t i) {
  return static_cast<double>(c.tps[i]) / static_cast<double>(c.tps[i] + c.fps[i]);
}
inline double curve_recall(const Curve& c, std::size_t i) {
  return c.positives() == 0 ? 1.0
                            : static_cast<double>(c.tps[i]) / static_cast<double>(c.positives());
}

// sklearn average_precision_score from the curve: -sum(diff(R) * P[:-1]) over the reversed
// (ascending-threshold) arrays, i.e. terms in order i = m-1 .. 0.
double average_precision_of(const Curve& c, std::vector<double>& terms) {
  terms.clear();
  for (std::size_t i = c.size(); i-- > 0;) {
    const double next_recall = i > 0 ? curve_recall(c, i - 1) : 0.0;
    terms.push_back((next_recall - curve_recall(c, i)) * curve_precision(c, i));
  }
  return -numpy_sum(terms);
}

// calculate_decisions.py: argmax of nan_to_num(2PR/(P+R)) over ascending thresholds; the first
// (lowest) threshold wins ties. The appended (P=1, R=0) point has F = 0 and never wins.
double best_threshold_of(const Curve& c) {
  double best_f = -1.0;
  std::size_t best = 0;
  for (std::size_t i = c.size(); i-- > 0;) {
    const double p = curve_precision(c, i);
    const double r = curve_recall(c, i);
    double f = (2.0 * p * r) / (p + r);
    if (std::isnan(f)) f = 0.0;
    if (f > best_f) {
      best_f = f;
      best = i;
    }
  }
  return c.thresholds[best];
}

[[noreturn]] void throw_not_finite(const std::string& matrix, std::size_t row, std::size_t col,
                                   double value) {
  throw DataError(
      fmt::format("{} row {}, column {}: score {} is not finite (the reference "
                  "evaluation refuses NaN and infinity too)",
                  matrix, row, col, value));
}

// Fills ws.pos/ws.neg from one binary problem given as spans.
void gather(std::span<const double> scores, std::span<const std::uint8_t> labels, Workspace& ws) {
  if (scores.size() != labels.size()) {
    throw DataError(fmt::format("{} scores but {} labels", scores.size(), labels.size()));
  }
  ws.pos.clear();
  ws.neg.clear();
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      throw DataError(fmt::format("score {} at index {} is not finite", scores[i], i));
    }
    (labels[i] != 0 ? ws.pos : ws.neg).push_back(score_key(scores[i]));
  }
}

// Fills ws.pos/ws.neg from column \p col of a matrix pair, checking scores.
void gather_column(const Eigen::Ref<const LabelMatrix>& groundtruth,
                   const Eigen::Ref<const ScoreMatrix>& predictions, Eigen::Index col,
                   const std::string& predictions_name, Workspace& ws) {
  ws.pos.clear();
  ws.neg.clear();
  for (Eigen::Index r = 0; r < predictions.rows(); ++r) {
    const double x = predictions(r, col);
    if (!std::isfinite(x)) {
      throw_not_finite(predictions_name, static_cast<std::size_t>(r), static_cast<std::size_t>(col),
                       x);
    }
    (groundtruth(r, col) != 0 ? ws.pos : ws.neg).push_back(score_key(x));
  }
}

std::string shape_text(Eigen::Index rows, Eigen::Index cols) {
  return fmt::format("({}, {})", rows, cols);
}

void check_shape(const std::string& name, Eigen::Index rows, Eigen::Index cols,
                 const std::string& gt_name, Eigen::Index gt_rows, Eigen::Index gt_cols) {
  if (rows == gt_rows && cols == gt_cols) return;
  throw DataError(fmt::format("{} matrix dimensions {} don't match the {} {}", name,
                              shape_text(rows, cols), gt_name, shape_text(gt_rows, gt_cols)));
}

std::string tag_label(const EvaluateOptions& options, std::size_t col) {
  if (col < options.tag_names.size())
    return fmt::format("column {} ({})", col, options.tag_names[col]);
  return fmt::format("column {}", col);
}

Evaluation evaluate_impl(const Eigen::Ref<const LabelMatrix>& groundtruth,
                         const Eigen::Ref<const ScoreMatrix>& predictions,
                         const Eigen::Ref<const LabelMatrix>* decisions,
                         const EvaluateOptions& options) {
  const Eigen::Index rows = groundtruth.rows(), cols = groundtruth.cols();
  check_shape(options.predictions_name, predictions.rows(), predictions.cols(),
              options.groundtruth_name, rows, cols);
  if (decisions != nullptr) {
    check_shape(options.decisions_name, decisions->rows(), decisions->cols(),
                options.groundtruth_name, rows, cols);
  }
  if (cols == 0) throw DataError(options.groundtruth_name + " has no columns (no tags)");

  const double nan = std::numeric_limits<double>::quiet_NaN();
  Evaluation ev;
  ev.has_decisions = decisions != nullptr;
  ev.tags.resize(static_cast<std::size_t>(cols));
  Workspace ws;
  std::vector<std::uint64_t> micro_pos, micro_neg;
  const auto total_positives = static_cast<std::size_t>((groundtruth.array() != 0).count());
  micro_pos.reserve(total_positives);
  micro_neg.reserve(static_cast<std::size_t>(rows * cols) - total_positives);
  std::vector<double> roc_values, ap_values, p_values, r_values, f_values;
  ConfusionCounts micro_counts;

  for (Eigen::Index c = 0; c < cols; ++c) {
    const auto col = static_cast<std::size_t>(c);
    TagEvaluation& tag = ev.tags[col];
    gather_column(groundtruth, predictions, c, options.predictions_name, ws);
    micro_pos.insert(micro_pos.end(), ws.pos.begin(), ws.pos.end());
    micro_neg.insert(micro_neg.end(), ws.neg.begin(), ws.neg.end());
    tag.positives = static_cast<std::int64_t>(ws.pos.size());

    if (ws.pos.empty() || ws.neg.empty()) {
      if (options.single_class_tags == SingleClassTagPolicy::Throw) {
        throw DataError(fmt::format(
            "{} {} has no {} (all {} tracks are {}): ROC-AUC is undefined for it, and the "
            "reference evaluation stops here too (\"Only one class present in y_true\")",
            options.groundtruth_name, tag_label(options, col),
            ws.pos.empty() ? "positive" : "negative", rows, ws.pos.empty() ? "0" : "1"));
      }
      tag.values.roc_auc = nan;
      tag.values.pr_auc = nan;
      ev.excluded_tags.push_back(col);
    } else {
      build_curve(ws);
      tag.values.roc_auc = roc_auc_of(ws.curve, ws.terms);
      tag.values.pr_auc = average_precision_of(ws.curve, ws.terms);
      roc_values.push_back(tag.values.roc_auc);
      ap_values.push_back(tag.values.pr_auc);
    }

    if (decisions != nullptr) {
      ConfusionCounts& n = tag.counts;
      for (Eigen::Index r = 0; r < rows; ++r) {
        const bool truth = groundtruth(r, c) != 0;
        const bool decided = (*decisions)(r, c) != 0;
        n.tp += truth && decided;
        n.fp += !truth && decided;
        n.fn += truth && !decided;
      }
      const PrecisionRecallF prf = precision_recall_f(n);
      tag.values.precision = prf.precision;
      tag.values.recall = prf.recall;
      tag.values.f_score = prf.f_score;
      p_values.push_back(prf.precision);
      r_values.push_back(prf.recall);
      f_values.push_back(prf.f_score);
      micro_counts.tp += n.tp;
      micro_counts.fp += n.fp;
      micro_counts.fn += n.fn;
    } else {
      tag.values.precision = tag.values.recall = tag.values.f_score = nan;
    }
  }

  ev.macro.roc_auc = numpy_mean(roc_values);
  ev.macro.pr_auc = numpy_mean(ap_values);
  if (micro_pos.empty() || micro_neg.empty()) {
    if (options.single_class_tags == SingleClassTagPolicy::Throw) {
      throw DataError(options.groundtruth_name + " has only one class: ROC-AUC is undefined");
    }
    ev.micro.roc_auc = ev.micro.pr_auc = nan;
  } else {
    ws.pos.swap(micro_pos);
    ws.neg.swap(micro_neg);
    build_curve(ws);
    ev.micro.roc_auc = roc_auc_of(ws.curve, ws.terms);
    ev.micro.pr_auc = average_precision_of(ws.curve, ws.terms);
  }
  if (decisions != nullptr) {
    ev.macro.precision = numpy_mean(p_values);
    ev.macro.recall = numpy_mean(r_values);
    ev.macro.f_score = numpy_mean(f_values);
    const PrecisionRecallF micro = precision_recall_f(micro_counts);
    ev.micro.precision = micro.precision;
    ev.micro.recall = micro.recall;
    ev.micro.f_score = micro.f_score;
  } else {
    ev.macro.precision = ev.macro.recall = ev.macro.f_score = nan;
    ev.micro.precision = ev.micro.recall = ev.micro.f_score = nan;
  }
  return ev;
}

}  // namespace

double roc_auc(std::span<const double> scores, std::span<const std::uint8_t> labels) {
  Workspace ws;
  gather(scores, labels, ws);
  if (ws.pos.empty() || ws.neg.empty()) {
    throw DataError("only one class present in the labels: ROC-AUC is undefined");
  }
  build_curve(ws);
  return roc_auc_of(ws.curve, ws.terms);
}

double average_precision(std::span<const double> scores, std::span<const std::uint8_t> labels) {
  Workspace ws;
  gather(scores, labels, ws);
  if (ws.pos.empty()) throw DataError("no positive label: average precision is undefined");
  build_curve(ws);
  return average_precision_of(ws.curve, ws.terms);
}

double best_f1_threshold(std::span<const double> scores, std::span<const std::uint8_t> labels) {
  Workspace ws;
  gather(scores, labels, ws);
  if (scores.empty()) throw DataError("no scores: no threshold can be chosen");
  build_curve(ws);
  return best_threshold_of(ws.curve);
}

PrecisionRecallF precision_recall_f(const ConfusionCounts& counts) noexcept {
  // sklearn _prf_divide: a zero denominator gives 0 (zero_division="warn" behaves as 0).
  const auto divide = [](std::int64_t num, std::int64_t den) {
    return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
  };
  PrecisionRecallF out;
  out.precision = divide(counts.tp, counts.tp + counts.fp);
  out.recall = divide(counts.tp, counts.tp + counts.fn);
  double denom = out.precision + out.recall;  // beta^2 * P + R with beta = 1
  if (denom == 0.0) denom = 1.0;
  out.f_score = 2.0 * out.precision * out.recall / denom;
  return out;
}

Evaluation evaluate(const Eigen::Ref<const LabelMatrix>& groundtruth,
                    const Eigen::Ref<const ScoreMatrix>& predictions,
                    const EvaluateOptions& options) {
  return evaluate_impl(groundtruth, predictions, nullptr, options);
}

Evaluation evaluate(const Eigen::Ref<const LabelMatrix>& groundtruth,
                    const Eigen::Ref<const ScoreMatrix>& predictions,
                    const Eigen::Ref<const LabelMatrix>& decisions,
                    const EvaluateOptions& options) {
  return evaluate_impl(groundtruth, predictions, &decisions, options);
}

std::vector<double> fit_thresholds(const Eigen::Ref<const LabelMatrix>& groundtruth,
                                   const Eigen::Ref<const ScoreMatrix>& predictions) {
  check_shape("predictions", predictions.rows(), predictions.cols(), "ground truth",
              groundtruth.rows(), groundtruth.cols());
  if (groundtruth.rows() == 0) throw DataError("no rows: no threshold can be chosen");
  std::vector<double> thresholds(static_cast<std::size_t>(groundtruth.cols()));
  Workspace ws;
  for (Eigen::Index c = 0; c < groundtruth.cols(); ++c) {
    gather_column(groundtruth, predictions, c, "predictions", ws);
    build_curve(ws);
    thresholds[static_cast<std::size_t>(c)] = best_threshold_of(ws.curve);
  }
  return thresholds;
}

LabelMatrix apply_thresholds(const Eigen::Ref<const ScoreMatrix>& predictions,
                             std::span<const double> thresholds) {
  if (thresholds.size() != static_cast<std::size_t>(predictions.cols())) {
    throw DataError(fmt::format("{} thresholds for {} columns of predictions", thresholds.size(),
                                predictions.cols()));
  }
  LabelMatrix decisions(predictions.rows(), predictions.cols());
  for (Eigen::Index r = 0; r < predictions.rows(); ++r) {
    for (Eigen::Index c = 0; c < predictions.cols(); ++c) {
      // Strict >, as calculate_decisions.py: the threshold score itself is not a positive.
      decisions(r, c) = predictions(r, c) > thresholds[static_cast<std::size_t>(c)] ? 1 : 0;
    }
  }
  return decisions;
}

Decisions decide(const Eigen::Ref<const LabelMatrix>& groundtruth,
                 const Eigen::Ref<const ScoreMatrix>& predictions) {
  Decisions out;
  out.thresholds = fit_thresholds(groundtruth, predictions);
  out.decisions = apply_thresholds(predictions, out.thresholds);
  return out;
}

}  // namespace moodboost
