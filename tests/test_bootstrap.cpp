// The paired bootstrap: every resample's macro values equal the metrics module's on the resampled
// matrices, results are deterministic whatever the thread count, and intervals behave.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "moodboost/bootstrap.hpp"
#include "moodboost/error.hpp"
#include "moodboost/metrics.hpp"

using namespace moodboost;

namespace {

// rows x tags labels with a given prevalence per tag, and scores that are informative for
// \p signal > 0; scores are rounded to one decimal so that ties occur.
struct Fixture {
  LabelMatrix truth;
  ScoreMatrix good, weak;
};

Fixture make_fixture(Eigen::Index rows, std::uint64_t seed) {
  const std::vector<double> prevalence = {0.3, 0.1, 0.05, 0.5, 0.02, 0.2};
  const auto tags = static_cast<Eigen::Index>(prevalence.size());
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Fixture f{LabelMatrix(rows, tags), ScoreMatrix(rows, tags), ScoreMatrix(rows, tags)};
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (Eigen::Index t = 0; t < tags; ++t) {
      const bool positive = u(rng) < prevalence[static_cast<std::size_t>(t)];
      f.truth(r, t) = positive ? 1 : 0;
      f.good(r, t) = std::round((0.6 * u(rng) + (positive ? 0.4 : 0.0)) * 10) / 10;
      f.weak(r, t) = std::round((0.9 * u(rng) + (positive ? 0.1 : 0.0)) * 10) / 10;
    }
  }
  // Every tag needs both classes in the full data.
  for (Eigen::Index t = 0; t < tags; ++t) {
    f.truth(0, t) = 1;
    f.truth(1, t) = 0;
  }
  return f;
}

// The rows of \p m repeated as \p counts says.
template <typename Matrix>
Matrix expand(const Matrix& m, const std::vector<std::uint32_t>& counts) {
  const auto total = std::accumulate(counts.begin(), counts.end(), Eigen::Index{0});
  Matrix out(total, m.cols());
  Eigen::Index next = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    for (std::uint32_t k = 0; k < counts[r]; ++k)
      out.row(next++) = m.row(static_cast<Eigen::Index>(r));
  }
  return out;
}

}  // namespace

TEST_CASE("bootstrap: each resample's macro AUCs equal the metrics module on the resampled rows",
          "[bootstrap]") {
  const Fixture f = make_fixture(60, 7);
  const ScoreMatrix* systems[] = {&f.good, &f.weak};
  BootstrapOptions options;
  options.resamples = 40;
  options.seed = 11;
  const BootstrapResult result = paired_bootstrap(f.truth, systems, options);
  REQUIRE(result.roc_auc_macro.size() == 2);
  REQUIRE(result.pr_auc_macro[1].size() == 40);
  CHECK(result.tracks == 60);

  EvaluateOptions exclude;
  exclude.single_class_tags = SingleClassTagPolicy::kExclude;
  std::size_t single_class = 0;
  for (std::size_t b = 0; b < options.resamples; ++b) {
    const auto counts = bootstrap_counts(60, options.seed, b);
    CHECK(std::accumulate(counts.begin(), counts.end(), std::size_t{0}) == 60);
    const LabelMatrix truth = expand(f.truth, counts);
    for (std::size_t s = 0; s < 2; ++s) {
      const Evaluation e = evaluate(truth, expand(*systems[s], counts), exclude);
      INFO("resample " << b << ", system " << s);
      CHECK(result.roc_auc_macro[s][b] == Approx(e.macro.roc_auc).margin(1e-12));
      CHECK(result.pr_auc_macro[s][b] == Approx(e.macro.pr_auc).margin(1e-12));
      if (s == 0) single_class += e.excluded_tags.size();
    }
  }
  // With 60 tracks the 2% tag often has no positive in a resample: the policy is exercised.
  CHECK(single_class > 0);
  CHECK(result.single_class_tag_resamples == single_class);
  CHECK(result.empty_resamples == 0);
}

TEST_CASE("bootstrap: results depend on the seed only, not on the thread count", "[bootstrap]") {
  const Fixture f = make_fixture(300, 3);
  const ScoreMatrix* systems[] = {&f.good, &f.weak};
  BootstrapOptions options;
  options.resamples = 64;
  options.seed = 42;
  options.threads = 1;
  const BootstrapResult one = paired_bootstrap(f.truth, systems, options);
  options.threads = 3;
  const BootstrapResult three = paired_bootstrap(f.truth, systems, options);
  CHECK(one.roc_auc_macro == three.roc_auc_macro);
  CHECK(one.pr_auc_macro == three.pr_auc_macro);
  options.seed = 43;
  const BootstrapResult other = paired_bootstrap(f.truth, systems, options);
  CHECK(other.pr_auc_macro != one.pr_auc_macro);
  CHECK(bootstrap_counts(300, 42, 5) == bootstrap_counts(300, 42, 5));
  CHECK(bootstrap_counts(300, 42, 5) != bootstrap_counts(300, 42, 6));
}

TEST_CASE("bootstrap: intervals contain the point estimate; identical systems never differ",
          "[bootstrap]") {
  const Fixture f = make_fixture(400, 5);
  const ScoreMatrix copy = f.good;
  const ScoreMatrix* systems[] = {&f.good, &copy, &f.weak};
  BootstrapOptions options;
  options.resamples = 200;
  const BootstrapResult result = paired_bootstrap(f.truth, systems, options);

  const Evaluation good = evaluate(f.truth, f.good);
  const Interval roc = percentile_interval(result.roc_auc_macro[0], 0.95);
  const Interval pr = percentile_interval(result.pr_auc_macro[0], 0.95);
  CHECK(roc.low < good.macro.roc_auc);
  CHECK(good.macro.roc_auc < roc.high);
  CHECK(pr.low < good.macro.pr_auc);
  CHECK(good.macro.pr_auc < pr.high);
  CHECK(roc.high - roc.low < 0.2);

  const PairedDifference same =
      paired_difference(result.pr_auc_macro[0], result.pr_auc_macro[1], 0.95);
  CHECK(same.difference.low == 0.0);
  CHECK(same.difference.high == 0.0);
  CHECK(same.a_wins == 0.0);
  CHECK(same.b_wins == 0.0);
  CHECK(same.ties == 1.0);
  CHECK(same.used == 200);

  // The informative system beats the weak one in (nearly) every resample.
  const PairedDifference better =
      paired_difference(result.roc_auc_macro[0], result.roc_auc_macro[2], 0.95);
  CHECK(better.difference.low > 0);
  CHECK(better.a_wins > 0.95);
  CHECK(better.a_wins + better.b_wins + better.ties == Approx(1.0));
}

TEST_CASE("bootstrap: percentile intervals interpolate as numpy.percentile", "[bootstrap]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> samples = {5, nan, 1, 4, 2, 3};
  // numpy.percentile([1, 2, 3, 4, 5], [25, 75]) = [2, 4]; [5, 95] = [1.2, 4.8].
  const Interval half = percentile_interval(samples, 0.5);
  CHECK(half.low == 2.0);
  CHECK(half.high == 4.0);
  const Interval ninety = percentile_interval(samples, 0.9);
  CHECK(ninety.low == Approx(1.2).margin(1e-15));
  CHECK(ninety.high == Approx(4.8).margin(1e-15));
  CHECK(std::isnan(percentile_interval(std::vector<double>{nan}, 0.95).low));
  CHECK_THROWS_AS(percentile_interval(samples, 1.0), InvalidArgument);
  const std::vector<double> one = {1.0}, two = {1.0, 2.0};
  CHECK_THROWS_AS(paired_difference(one, two, 0.95), InvalidArgument);
}

TEST_CASE("bootstrap: bad inputs are refused with a clear message", "[bootstrap]") {
  const Fixture f = make_fixture(20, 1);
  BootstrapOptions options;
  CHECK_THROWS_AS(paired_bootstrap(f.truth, {}, options), InvalidArgument);
  ScoreMatrix narrow = f.good.leftCols(3);
  const ScoreMatrix* wrong[] = {&narrow};
  CHECK_THROWS_WITH(paired_bootstrap(f.truth, wrong, options),
                    Catch::Matchers::Contains("system 0 has a (20, 3) score matrix"));
  ScoreMatrix bad = f.good;
  bad(4, 2) = std::numeric_limits<double>::infinity();
  const ScoreMatrix* infinite[] = {&bad};
  CHECK_THROWS_WITH(paired_bootstrap(f.truth, infinite, options),
                    Catch::Matchers::Contains("row 4, column 2 is not finite"));
  options.resamples = 0;
  const ScoreMatrix* fine[] = {&f.good};
  CHECK_THROWS_AS(paired_bootstrap(f.truth, fine, options), InvalidArgument);
}
