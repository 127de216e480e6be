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

// How many keys have each value of each byte: the counting pass of the radix sort, filled while
// the keys are gathered so that the sort does not read them an extra time.
struct KeyHistogram {
  std::array<std::array<std::uint32_t, 256>, 8> counts{};

  void add(std::uint64_t key) noexcept {
    for (std::size_t b = 0; b < 8; ++b) ++counts[b][(key >> (8 * b)) & 0xff];
  }
  void merge(const KeyHistogram& other) noexcept {
    for (std::size_t b = 0; b < 8; ++b) {
      for (std::size_t d = 0; d < 256; ++d) counts[b][d] += other.counts[b][d];
    }
  }
  void clear() noexcept { counts = {}; }
};

// Sorts keys ascending, in place, given their histogram. LSD radix sort, one byte per pass,
// skipping the bytes that every key shares (scores in [0, 1] share their top bits). \p scratch
// holds at least keys.size() elements. For the micro problem of a 4231 x 56 matrix this is
// several times faster than std::sort (bench_metrics).
void radix_sort(std::span<std::uint64_t> keys, std::span<std::uint64_t> scratch,
                const KeyHistogram& histogram) {
  const std::size_t n = keys.size();
  constexpr std::size_t kRadixMin = 256;  // below this std::sort wins
  if (n < kRadixMin) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  std::uint64_t* src = keys.data();
  std::uint64_t* dst = scratch.data();
  for (std::size_t b = 0; b < 8; ++b) {
    const auto& count = histogram.counts[b];
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
  if (src != keys.data()) std::copy(src, src + n, keys.data());
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
double numpy_sum(std::span<const double> values) {
  constexpr std::size_t kNumpyBufferSize = 8192;
  double res = 0.0;
  for (std::size_t start = 0; start < values.size(); start += kNumpyBufferSize) {
    res += pairwise_sum(values.data() + start, std::min(kNumpyBufferSize, values.size() - start));
  }
  return res;
}

// np.mean: the sum, then one division by the count.
double numpy_mean(std::span<const double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  return numpy_sum(values) / static_cast<double>(values.size());
}

// Walks the ranking of one binary problem: for each distinct score, from the highest down, calls
// visit(key, tp, fp) with the numbers of positives and negatives scoring at least that much
// (sklearn's _binary_clf_curve). \p pos and \p neg are the sorted keys of each class.
template <typename Visit>
void walk_curve(std::span<const std::uint64_t> pos, std::span<const std::uint64_t> neg,
                Visit&& visit) {
  std::size_t i = pos.size(), j = neg.size();
  std::int64_t tp = 0, fp = 0;
  while (i > 0 || j > 0) {
    std::uint64_t key = 0;
    if (i > 0) key = pos[i - 1];
    if (j > 0) key = std::max(key, neg[j - 1]);
    while (i > 0 && pos[i - 1] == key) ++tp, --i;
    while (j > 0 && neg[j - 1] == key) ++fp, --j;
    visit(key, tp, fp);
  }
}

// ROC-AUC and PR-AUC from the curve points, in one pass (see the top of the file). Needs at least
// one positive and one negative.
class AucAccumulator {
 public:
  AucAccumulator(std::size_t positives, std::size_t negatives, std::vector<double>& roc_terms,
                 std::vector<double>& ap_terms)
      : n_pos_(static_cast<double>(positives)),
        n_neg_(static_cast<double>(negatives)),
        roc_terms_(roc_terms),
        ap_terms_(ap_terms) {
    roc_terms_.clear();
    // AP sums from the lowest threshold up, the reverse of the walk: fill from the end.
    ap_terms_.resize(positives + negatives);
    ap_next_ = ap_terms_.size();
  }

  void operator()(std::uint64_t /*key*/, std::int64_t tp, std::int64_t fp) {
    const double recall = static_cast<double>(tp) / n_pos_;  // also the ROC curve's tpr
    const double precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
    ap_terms_[--ap_next_] = (previous_recall_ - recall) * precision;
    previous_recall_ = recall;

    // roc_curve(drop_intermediate=True) keeps the first and last points and every point where
    // the second difference of fps or tps is nonzero; older_/newer_ are the two points before.
    const Point point{tp, fp, recall};
    if (points_ == 0) {
      add_roc_point(point);
    } else if (points_ >= 2 && (point.fp - 2 * newer_.fp + older_.fp != 0 ||
                                point.tp - 2 * newer_.tp + older_.tp != 0)) {
      add_roc_point(newer_);
    }
    older_ = newer_;
    newer_ = point;
    ++points_;
  }

  // Call once, after the walk.
  double roc_auc() {
    if (points_ >= 2) add_roc_point(newer_);
    return numpy_sum(roc_terms_);
  }
  double average_precision() const {
    return -numpy_sum(std::span<const double>(ap_terms_).subspan(ap_next_));
  }

 private:
  struct Point {
    std::int64_t tp = 0, fp = 0;
    double tpr = 0;
  };
  void add_roc_point(const Point& p) {
    const double fpr = static_cast<double>(p.fp) / n_neg_;
    roc_terms_.push_back((fpr - previous_fpr_) * (p.tpr + previous_tpr_) / 2.0);  // np.trapz
    previous_fpr_ = fpr;
    previous_tpr_ = p.tpr;
  }

  double n_pos_, n_neg_;
  std::vector<double>& roc_terms_;
  std::vector<double>& ap_terms_;
  std::size_t ap_next_ = 0;
  double previous_recall_ = 0.0;
  double previous_fpr_ = 0.0, previous_tpr_ = 0.0;  // the prepended (0, 0)
  Point older_, newer_;
  std::size_t points_ = 0;
};

// calculate_decisions.py: the argmax of nan_to_num(2PR/(P+R)) over ascending thresholds, the
// first (lowest) threshold on ties; walking descending, the last maximum. With no positive,
// precision_recall_curve sets recall to 1 everywhere. The appended (P=1, R=0) point has F = 0 and
// never wins.
class ThresholdAccumulator {
 public:
  explicit ThresholdAccumulator(std::size_t positives)
      : positives_(static_cast<double>(positives)) {}

  void operator()(std::uint64_t key, std::int64_t tp, std::int64_t fp) {
    const double p = static_cast<double>(tp) / static_cast<double>(tp + fp);
    const double r = positives_ == 0 ? 1.0 : static_cast<double>(tp) / positives_;
    double f = (2.0 * p * r) / (p + r);
    if (std::isnan(f)) f = 0.0;
    if (f >= best_f_) {
      best_f_ = f;
      best_key_ = key;
    }
  }
  [[nodiscard]] double threshold() const { return key_score(best_key_); }

 private:
  double positives_;
  double best_f_ = -1.0;
  std::uint64_t best_key_ = 0;
};

// The keys of one binary problem split by class, with their histograms.
struct ClassKeys {
  std::vector<std::uint64_t> pos, neg, scratch;
  KeyHistogram pos_histogram, neg_histogram;

  void sort() {
    scratch.resize(std::max(pos.size(), neg.size()));
    radix_sort(pos, scratch, pos_histogram);
    radix_sort(neg, scratch, neg_histogram);
  }
};

ClassKeys gather(std::span<const double> scores, std::span<const std::uint8_t> labels) {
  if (scores.size() != labels.size()) {
    throw DataError(fmt::format("{} scores but {} labels", scores.size(), labels.size()));
  }
  ClassKeys keys;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      throw DataError(fmt::format("score {} at index {} is not finite", scores[i], i));
    }
    const std::uint64_t key = score_key(scores[i]);
    if (labels[i] != 0) {
      keys.pos.push_back(key);
      keys.pos_histogram.add(key);
    } else {
      keys.neg.push_back(key);
      keys.neg_histogram.add(key);
    }
  }
  keys.sort();
  return keys;
}

[[noreturn]] void throw_not_finite(const std::string& matrix, Eigen::Index row, Eigen::Index col,
                                   double value) {
  throw DataError(
      fmt::format("{} row {}, column {}: score {} is not finite (the reference "
                  "evaluation refuses NaN and infinity too)",
                  matrix, row, col, value));
}

// Writes the keys of column \p col's scores to \p pos (positives) and \p neg, adding them to the
// histograms, and returns how many of each.
std::pair<std::size_t, std::size_t> gather_column(const Eigen::Ref<const LabelMatrix>& groundtruth,
                                                  const Eigen::Ref<const ScoreMatrix>& predictions,
                                                  Eigen::Index col,
                                                  const std::string& predictions_name,
                                                  std::uint64_t* pos, std::uint64_t* neg,
                                                  KeyHistogram& pos_histogram,
                                                  KeyHistogram& neg_histogram) {
  std::size_t n_pos = 0, n_neg = 0;
  for (Eigen::Index r = 0; r < predictions.rows(); ++r) {
    const double x = predictions(r, col);
    if (!std::isfinite(x)) throw_not_finite(predictions_name, r, col, x);
    const std::uint64_t key = score_key(x);
    if (groundtruth(r, col) != 0) {
      pos[n_pos++] = key;
      pos_histogram.add(key);
    } else {
      neg[n_neg++] = key;
      neg_histogram.add(key);
    }
  }
  return {n_pos, n_neg};
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
  const auto total = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
  if (total > std::numeric_limits<std::uint32_t>::max()) {
    throw DataError(fmt::format("{} has {} entries, more than the 2^32 the metrics support",
                                options.groundtruth_name, total));
  }

  const double nan = std::numeric_limits<double>::quiet_NaN();
  Evaluation ev;
  ev.has_decisions = decisions != nullptr;
  ev.tags.resize(static_cast<std::size_t>(cols));

  // Every column's keys go straight into the micro problem's arrays; each column's segment is
  // sorted in place for its own metrics, and the micro sort reuses the columns' histograms.
  const auto total_pos = static_cast<std::size_t>((groundtruth.array() != 0).count());
  std::vector<std::uint64_t> micro_pos(total_pos), micro_neg(total - total_pos);
  std::vector<std::uint64_t> scratch(std::max(total_pos, total - total_pos));
  KeyHistogram micro_pos_histogram, micro_neg_histogram, pos_histogram, neg_histogram;
  std::vector<double> roc_terms, ap_terms;
  std::vector<double> roc_values, ap_values, p_values, r_values, f_values;
  ConfusionCounts micro_counts;
  std::size_t pos_start = 0, neg_start = 0;

  for (Eigen::Index c = 0; c < cols; ++c) {
    const auto col = static_cast<std::size_t>(c);
    TagEvaluation& tag = ev.tags[col];
    pos_histogram.clear();
    neg_histogram.clear();
    const std::span<std::uint64_t> pos(micro_pos.data() + pos_start, micro_pos.size() - pos_start);
    const std::span<std::uint64_t> neg(micro_neg.data() + neg_start, micro_neg.size() - neg_start);
    const auto [n_pos, n_neg] = gather_column(groundtruth, predictions, c, options.predictions_name,
                                              pos.data(), neg.data(), pos_histogram, neg_histogram);
    pos_start += n_pos;
    neg_start += n_neg;
    micro_pos_histogram.merge(pos_histogram);
    micro_neg_histogram.merge(neg_histogram);
    tag.positives = static_cast<std::int64_t>(n_pos);

    if (n_pos == 0 || n_neg == 0) {
      if (options.single_class_tags == SingleClassTagPolicy::kThrow) {
        throw DataError(fmt::format(
            "{} {} has no {} (all {} tracks are {}): ROC-AUC is undefined for it, and the "
            "reference evaluation stops here too (\"Only one class present in y_true\")",
            options.groundtruth_name, tag_label(options, col), n_pos == 0 ? "positive" : "negative",
            rows, n_pos == 0 ? "0" : "1"));
      }
      tag.values.roc_auc = tag.values.pr_auc = nan;
      ev.excluded_tags.push_back(col);
    } else {
      radix_sort(pos.first(n_pos), scratch, pos_histogram);
      radix_sort(neg.first(n_neg), scratch, neg_histogram);
      AucAccumulator auc(n_pos, n_neg, roc_terms, ap_terms);
      walk_curve(pos.first(n_pos), neg.first(n_neg), auc);
      tag.values.roc_auc = auc.roc_auc();
      tag.values.pr_auc = auc.average_precision();
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
    if (options.single_class_tags == SingleClassTagPolicy::kThrow) {
      throw DataError(options.groundtruth_name + " has only one class: ROC-AUC is undefined");
    }
    ev.micro.roc_auc = ev.micro.pr_auc = nan;
  } else {
    radix_sort(micro_pos, scratch, micro_pos_histogram);
    radix_sort(micro_neg, scratch, micro_neg_histogram);
    AucAccumulator auc(micro_pos.size(), micro_neg.size(), roc_terms, ap_terms);
    walk_curve(micro_pos, micro_neg, auc);
    ev.micro.roc_auc = auc.roc_auc();
    ev.micro.pr_auc = auc.average_precision();
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
  const ClassKeys keys = gather(scores, labels);
  if (keys.pos.empty() || keys.neg.empty()) {
    throw DataError("only one class present in the labels: ROC-AUC is undefined");
  }
  std::vector<double> roc_terms, ap_terms;
  AucAccumulator auc(keys.pos.size(), keys.neg.size(), roc_terms, ap_terms);
  walk_curve(keys.pos, keys.neg, auc);
  return auc.roc_auc();
}

double average_precision(std::span<const double> scores, std::span<const std::uint8_t> labels) {
  const ClassKeys keys = gather(scores, labels);
  if (keys.pos.empty()) throw DataError("no positive label: average precision is undefined");
  std::vector<double> roc_terms, ap_terms;
  AucAccumulator auc(keys.pos.size(), keys.neg.size(), roc_terms, ap_terms);
  walk_curve(keys.pos, keys.neg, auc);
  return auc.average_precision();
}

double best_f1_threshold(std::span<const double> scores, std::span<const std::uint8_t> labels) {
  if (scores.empty()) throw DataError("no scores: no threshold can be chosen");
  const ClassKeys keys = gather(scores, labels);
  ThresholdAccumulator best(keys.pos.size());
  walk_curve(keys.pos, keys.neg, best);
  return best.threshold();
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
  const auto rows = static_cast<std::size_t>(groundtruth.rows());
  std::vector<std::uint64_t> pos(rows), neg(rows), scratch(rows);
  KeyHistogram pos_histogram, neg_histogram;
  for (Eigen::Index c = 0; c < groundtruth.cols(); ++c) {
    pos_histogram.clear();
    neg_histogram.clear();
    const auto [n_pos, n_neg] = gather_column(groundtruth, predictions, c, "predictions",
                                              pos.data(), neg.data(), pos_histogram, neg_histogram);
    const std::span<std::uint64_t> pos_keys(pos.data(), n_pos), neg_keys(neg.data(), n_neg);
    radix_sort(pos_keys, scratch, pos_histogram);
    radix_sort(neg_keys, scratch, neg_histogram);
    ThresholdAccumulator best(n_pos);
    walk_curve(pos_keys, neg_keys, best);
    thresholds[static_cast<std::size_t>(c)] = best.threshold();
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
