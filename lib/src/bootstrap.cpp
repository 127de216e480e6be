#include "moodboost/bootstrap.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>

#include "detail/first_error.hpp"
#include "detail/threads.hpp"
#include "moodboost/error.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace moodboost {
namespace {

// Row indices are stored as 32-bit values.
constexpr std::size_t kMaxRows = std::numeric_limits<std::uint32_t>::max() / 2;

// splitmix64 (Steele, Lea, Flood 2014): a small generator with a fixed, portable output, unlike
// the standard distributions, so a seed gives the same resamples with every standard library.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t state) : state_(state) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, range) without bias (Lemire 2019, "Fast random integer generation in an
  // interval": multiply-shift with rejection of the short first bucket).
  std::uint64_t bounded(std::uint64_t range) {
    __extension__ using U128 = unsigned __int128;
    U128 m = static_cast<U128>(next()) * range;
    auto low = static_cast<std::uint64_t>(m);
    if (low < range) {
      const std::uint64_t threshold = (0 - range) % range;
      while (low < threshold) {
        m = static_cast<U128>(next()) * range;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

 private:
  std::uint64_t state_;
};

// The stream of resample b: its own generator, seeded from (seed, b) through one splitmix64
// step, so resamples are independent of the order (and thread) in which they are drawn.
void fill_counts(std::span<std::uint32_t> counts, std::uint64_t seed, std::size_t resample) {
  std::fill(counts.begin(), counts.end(), 0u);
  SplitMix64 seeder(seed ^ (0xD1B54A32D192ED03ull * (static_cast<std::uint64_t>(resample) + 1)));
  SplitMix64 rng(seeder.next());
  const std::uint64_t rows = counts.size();
  for (std::uint64_t i = 0; i < rows; ++i) ++counts[rng.bounded(rows)];
}

// One (system, tag) column, presorted once. Rows are in descending score order. A "mixed group"
// is a group of tied scores holding at least one positive row of the full ground truth; only
// those need per-row care. Between them lie runs of negative rows, of which a resample only needs
// the total count. After the last mixed group nothing matters, so the order is cut there.
struct MixedGroup {
  std::uint32_t begin;  // first position in `order`
  std::uint32_t mid;    // [begin, mid) are the group's positive rows, [mid, end) its negatives
  std::uint32_t end;
};

struct SortedColumn {
  std::vector<std::uint32_t> order;  // rows up to the end of the last mixed group
  std::vector<MixedGroup> groups;
};

// Sum of counts[order[i]] for i in [begin, end): how many draws of the resample landed on these
// rows. Four accumulators break the dependency chain of this, the hot loop.
std::uint64_t draws_on(const std::uint32_t* order, std::uint32_t begin, std::uint32_t end,
                       const std::uint32_t* counts) {
  std::uint32_t a = 0, b = 0, c = 0, d = 0;
  std::uint32_t i = begin;
  for (; i + 4 <= end; i += 4) {
    a += counts[order[i]];
    b += counts[order[i + 1]];
    c += counts[order[i + 2]];
    d += counts[order[i + 3]];
  }
  for (; i < end; ++i) a += counts[order[i]];
  return std::uint64_t{a} + b + c + d;
}

// ROC-AUC and PR-AUC of one column on a resample given by per-row counts (a row drawn k times
// counts k times, exactly as in the resampled matrix), with \p positives and \p negatives drawn
// for the tag (both > 0). For a group of tied scores, its positives pair with every negative below
// at weight 1 and with its own negatives at weight 1/2 (sklearn's trapezoidal ROC-AUC), and it
// adds one step to the average precision: (its positives / P) x precision at its threshold. The
// pair count is an integer, so the ROC-AUC is exact up to the final division.
struct TagAucs {
  double roc_auc = 0;
  double pr_auc = 0;
};

TagAucs resampled_aucs(const SortedColumn& column, const std::uint32_t* counts,
                       std::uint64_t positives, std::uint64_t negatives) {
  const std::uint32_t* order = column.order.data();
  std::uint64_t negatives_above = 0, tp = 0, twice_pairs = 0;
  double ap_sum = 0;
  std::uint32_t cursor = 0;
  for (const MixedGroup& g : column.groups) {
    negatives_above += draws_on(order, cursor, g.begin, counts);
    const std::uint64_t group_tp = draws_on(order, g.begin, g.mid, counts);
    const std::uint64_t group_fp = draws_on(order, g.mid, g.end, counts);
    if (group_tp != 0) {
      const std::uint64_t below = negatives - negatives_above - group_fp;
      twice_pairs += group_tp * (2 * below + group_fp);
      tp += group_tp;
      ap_sum += static_cast<double>(group_tp) * static_cast<double>(tp) /
                static_cast<double>(tp + negatives_above + group_fp);
    }
    negatives_above += group_fp;
    cursor = g.end;
  }
  TagAucs out;
  out.roc_auc = static_cast<double>(twice_pairs) /
                (2.0 * static_cast<double>(positives) * static_cast<double>(negatives));
  out.pr_auc = ap_sum / static_cast<double>(positives);
  return out;
}

// Sorts column t of one system (descending score) and finds its mixed groups.
SortedColumn sort_column(const Eigen::Ref<const LabelMatrix>& groundtruth,
                         const ScoreMatrix& scores, Eigen::Index t) {
  const auto rows = static_cast<std::uint32_t>(groundtruth.rows());
  std::vector<std::uint32_t> order(rows);
  std::iota(order.begin(), order.end(), 0u);
  const auto score = [&](std::uint32_t r) { return scores(static_cast<Eigen::Index>(r), t); };
  const auto positive = [&](std::uint32_t r) {
    return groundtruth(static_cast<Eigen::Index>(r), t) != 0;
  };
  // Within a tie group, positives first: the group's two halves are then contiguous.
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (score(a) != score(b)) return score(a) > score(b);
    if (positive(a) != positive(b)) return positive(a);
    return a < b;
  });
  SortedColumn column;
  for (std::uint32_t begin = 0; begin < rows;) {
    std::uint32_t end = begin + 1;
    while (end < rows && score(order[end]) == score(order[begin])) ++end;
    std::uint32_t mid = begin;
    while (mid < end && positive(order[mid])) ++mid;
    if (mid > begin) column.groups.push_back({begin, mid, end});
    begin = end;
  }
  const std::uint32_t used = column.groups.empty() ? 0 : column.groups.back().end;
  order.resize(used);
  column.order = std::move(order);
  return column;
}

// Presorts every (system, tag) column once: columns[s * tags + t].
std::vector<SortedColumn> presort(const Eigen::Ref<const LabelMatrix>& groundtruth,
                                  std::span<const ScoreMatrix* const> systems, int threads) {
  const std::size_t tags = static_cast<std::size_t>(groundtruth.cols());
  const std::size_t n_columns = systems.size() * tags;
  std::vector<SortedColumn> columns(n_columns);
  detail::FirstError errors;
#pragma omp parallel for num_threads(threads) schedule(dynamic)
  for (std::size_t c = 0; c < n_columns; ++c) {
    try {
      columns[c] =
          sort_column(groundtruth, *systems[c / tags], static_cast<Eigen::Index>(c % tags));
    } catch (...) {
      errors.capture(c);
    }
  }
  errors.rethrow_if_any();
  return columns;
}

// The positive rows of each tag: a resample's positives are the draws landing on them.
std::vector<std::vector<std::uint32_t>> positive_rows(
    const Eigen::Ref<const LabelMatrix>& groundtruth) {
  std::vector<std::vector<std::uint32_t>> out(static_cast<std::size_t>(groundtruth.cols()));
  for (Eigen::Index r = 0; r < groundtruth.rows(); ++r) {
    for (Eigen::Index t = 0; t < groundtruth.cols(); ++t) {
      if (groundtruth(r, t) != 0) {
        out[static_cast<std::size_t>(t)].push_back(static_cast<std::uint32_t>(r));
      }
    }
  }
  return out;
}

void check_inputs(const Eigen::Ref<const LabelMatrix>& groundtruth,
                  std::span<const ScoreMatrix* const> systems, const BootstrapOptions& options) {
  if (systems.empty()) throw InvalidArgument("paired_bootstrap: no system to resample");
  if (options.resamples == 0) throw InvalidArgument("paired_bootstrap: resamples must be >= 1");
  if (groundtruth.rows() == 0 || groundtruth.cols() == 0) {
    throw DataError(fmt::format("paired_bootstrap: the ground truth is empty ({} x {})",
                                groundtruth.rows(), groundtruth.cols()));
  }
  if (static_cast<std::size_t>(groundtruth.rows()) > kMaxRows) {
    throw DataError(fmt::format("paired_bootstrap: {} tracks, more than the {} supported",
                                groundtruth.rows(), kMaxRows));
  }
  for (std::size_t s = 0; s < systems.size(); ++s) {
    const ScoreMatrix& scores = *systems[s];
    if (scores.rows() != groundtruth.rows() || scores.cols() != groundtruth.cols()) {
      throw DataError(fmt::format(
          "paired_bootstrap: system {} has a ({}, {}) score matrix, the ground truth is ({}, {})",
          s, scores.rows(), scores.cols(), groundtruth.rows(), groundtruth.cols()));
    }
    for (Eigen::Index r = 0; r < scores.rows(); ++r) {
      for (Eigen::Index c = 0; c < scores.cols(); ++c) {
        if (!std::isfinite(scores(r, c))) {
          throw DataError(fmt::format(
              "paired_bootstrap: system {}: score at row {}, column {} is not finite ({})", s, r, c,
              scores(r, c)));
        }
      }
    }
  }
}

int resolve_threads(int threads) { return detail::usable_threads(threads); }

}  // namespace

std::vector<std::uint32_t> bootstrap_counts(std::size_t rows, std::uint64_t seed,
                                            std::size_t resample) {
  std::vector<std::uint32_t> counts(rows);
  fill_counts(counts, seed, resample);
  return counts;
}

BootstrapResult paired_bootstrap(const Eigen::Ref<const LabelMatrix>& groundtruth,
                                 std::span<const ScoreMatrix* const> systems,
                                 const BootstrapOptions& options) {
  check_inputs(groundtruth, systems, options);
  const int threads = resolve_threads(options.threads);
  const std::size_t rows = static_cast<std::size_t>(groundtruth.rows());
  const std::size_t tags = static_cast<std::size_t>(groundtruth.cols());
  const std::size_t n_systems = systems.size();
  const std::vector<SortedColumn> columns = presort(groundtruth, systems, threads);
  const std::vector<std::vector<std::uint32_t>> positives_of = positive_rows(groundtruth);

  BootstrapResult result;
  result.resamples = options.resamples;
  result.seed = options.seed;
  result.tracks = rows;
  result.roc_auc_macro.assign(n_systems, std::vector<double>(options.resamples));
  result.pr_auc_macro.assign(n_systems, std::vector<double>(options.resamples));
  std::vector<std::size_t> single_class(options.resamples, 0);

  std::atomic<std::size_t> done{0};
  detail::FirstError errors;
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::uint32_t> counts(rows);
    std::vector<double> roc_sum(n_systems), pr_sum(n_systems);
#pragma omp for schedule(dynamic, 8)
    for (std::size_t b = 0; b < options.resamples; ++b) {
      try {
        fill_counts(counts, options.seed, b);
        std::fill(roc_sum.begin(), roc_sum.end(), 0.0);
        std::fill(pr_sum.begin(), pr_sum.end(), 0.0);
        std::size_t used_tags = 0;
        for (std::size_t t = 0; t < tags; ++t) {
          const auto& rows_t = positives_of[t];
          const std::uint64_t positives =
              draws_on(rows_t.data(), 0, static_cast<std::uint32_t>(rows_t.size()), counts.data());
          const std::uint64_t negatives = rows - positives;
          // Whether both classes were drawn depends on the ground truth and the resample only:
          // the same for every system, which keeps them paired.
          if (positives == 0 || negatives == 0) {
            ++single_class[b];
            continue;
          }
          ++used_tags;
          for (std::size_t s = 0; s < n_systems; ++s) {
            const TagAucs aucs =
                resampled_aucs(columns[s * tags + t], counts.data(), positives, negatives);
            roc_sum[s] += aucs.roc_auc;
            pr_sum[s] += aucs.pr_auc;
          }
        }
        const double nan = std::numeric_limits<double>::quiet_NaN();
        for (std::size_t s = 0; s < n_systems; ++s) {
          const double n = static_cast<double>(used_tags);
          result.roc_auc_macro[s][b] = used_tags == 0 ? nan : roc_sum[s] / n;
          result.pr_auc_macro[s][b] = used_tags == 0 ? nan : pr_sum[s] / n;
        }
        const std::size_t finished = ++done;
        if (options.progress) options.progress(finished, options.resamples);
      } catch (...) {
        errors.capture(b);
      }
    }
  }
  errors.rethrow_if_any();
  for (std::size_t b = 0; b < options.resamples; ++b) {
    result.single_class_tag_resamples += single_class[b];
    if (single_class[b] == tags) ++result.empty_resamples;
  }
  return result;
}

Interval percentile_interval(std::span<const double> samples, double confidence) {
  if (!(confidence > 0 && confidence < 1)) {
    throw InvalidArgument(
        fmt::format("percentile_interval: confidence must be in (0, 1), got {}", confidence));
  }
  std::vector<double> sorted;
  sorted.reserve(samples.size());
  for (double x : samples) {
    if (!std::isnan(x)) sorted.push_back(x);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (sorted.empty()) return {nan, nan};
  std::sort(sorted.begin(), sorted.end());
  // numpy.percentile's default ("linear"): position q * (n - 1), interpolated between neighbours.
  const auto percentile = [&](double q) {
    const double position = q * static_cast<double>(sorted.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, sorted.size() - 1);
    const double fraction = position - static_cast<double>(below);
    return sorted[below] + (sorted[above] - sorted[below]) * fraction;
  };
  const double tail = (1 - confidence) / 2;
  return {percentile(tail), percentile(1 - tail)};
}

PairedDifference paired_difference(std::span<const double> a, std::span<const double> b,
                                   double confidence) {
  if (a.size() != b.size()) {
    throw InvalidArgument(fmt::format(
        "paired_difference: {} and {} resamples: the samples must be paired", a.size(), b.size()));
  }
  std::vector<double> differences;
  differences.reserve(a.size());
  PairedDifference out;
  std::size_t a_wins = 0, b_wins = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) continue;
    differences.push_back(a[i] - b[i]);
    if (a[i] > b[i]) ++a_wins;
    if (b[i] > a[i]) ++b_wins;
  }
  out.used = differences.size();
  out.difference = percentile_interval(differences, confidence);
  if (out.used > 0) {
    const double n = static_cast<double>(out.used);
    out.a_wins = static_cast<double>(a_wins) / n;
    out.b_wins = static_cast<double>(b_wins) / n;
    out.ties = static_cast<double>(out.used - a_wins - b_wins) / n;
  }
  return out;
}

}  // namespace moodboost
