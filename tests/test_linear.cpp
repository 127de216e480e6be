#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "moodboost/blend.hpp"
#include "moodboost/error.hpp"
#include "moodboost/linear.hpp"
#include "moodboost/metrics.hpp"

using namespace moodboost;

namespace {
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
}

TEST_CASE("linear: the scaler is the mean and population sd of the finite training values",
          "[linear]") {
  FeatureMatrix x(4, 4);
  // col 0: 1, 2, 3, NaN -> mean 2, sd sqrt(2/3); col 1: constant; col 2: 1e6 +- 1 (spread below
  // 1e-4 of the mean: ignored); col 3: all missing.
  x << 1, 5, 1e6f - 64, kNaN,  //
      2, 5, 1e6f + 64, kNaN,   //
      3, 5, 1e6f - 64, kNaN,   //
      kNaN, 5, 1e6f + 64, kNaN;
  const ColumnScaler s = fit_column_scaler(x);
  REQUIRE(s.size() == 4);
  CHECK(s.mean[0] == 2.0);
  CHECK(s.sd[0] == Approx(std::sqrt(2.0 / 3.0)).epsilon(1e-15));
  CHECK(s.mean[1] == 5.0);
  CHECK(s.sd[1] == 0.0);
  CHECK(s.mean[2] == 1e6);
  CHECK(s.sd[2] == 0.0);  // 64 / 1e6 < 1e-4
  CHECK(s.mean[3] == 0.0);
  CHECK(s.sd[3] == 0.0);

  const FeatureMatrix z = standardize(x, s);
  CHECK(z(0, 0) == static_cast<float>(-1.0 / std::sqrt(2.0 / 3.0)));
  CHECK(z(1, 0) == 0.f);
  CHECK(z(3, 0) == 0.f);  // missing -> the mean -> 0
  for (Eigen::Index r = 0; r < 4; ++r) {
    CHECK(z(r, 1) == 0.f);
    CHECK(z(r, 2) == 0.f);
    CHECK(z(r, 3) == 0.f);
  }
  const FeatureMatrix imputed = impute_means(x, s);
  CHECK(imputed(3, 0) == 2.f);
  CHECK(imputed(0, 3) == 0.f);
  CHECK(imputed(0, 2) == x(0, 2));
  CHECK(has_missing(x));
  CHECK_FALSE(has_missing(imputed));
  CHECK_THROWS_AS(standardize(FeatureMatrix(2, 3), s), InvalidArgument);
}

TEST_CASE("linear: scaler.tsv round-trips and names the line of a bad value", "[linear]") {
  ColumnScaler s;
  s.mean = {0.1, -2.5e-20, 3};
  s.sd = {1.0 / 3.0, 0, 7e12};
  const std::vector<std::string> names = {"a.mean", "b.var", "c.max"};
  const std::string text = scaler_tsv(s, names);
  CHECK(text.rfind("column\tmean\tsd\na.mean\t0.1\t0.3333333333333333\n", 0) == 0);
  const ColumnScaler back = parse_scaler_tsv(text, names, "scaler.tsv");
  CHECK(back.mean == s.mean);
  CHECK(back.sd == s.sd);

  CHECK_THROWS_WITH(
      parse_scaler_tsv("column\tmean\tsd\na.mean\t0.1\tx\n", names, "scaler.tsv"),
      Catch::Contains("scaler.tsv") && Catch::Contains("line 2") && Catch::Contains("'x'"));
  CHECK_THROWS_WITH(parse_scaler_tsv("column\tmean\tsd\nz.mean\t0.1\t1\n", names, "scaler.tsv"),
                    Catch::Contains("expected column 'a.mean'"));
  CHECK_THROWS_WITH(parse_scaler_tsv("column\tmean\tsd\na.mean\t0.1\t1\n", names, "scaler.tsv"),
                    Catch::Contains("expected 3 columns, found 1"));
  CHECK_THROWS_AS(parse_scaler_tsv("", names, "scaler.tsv"), ParseError);
}

TEST_CASE("blend: the blend is kept unless a family wins 95% of the resamples", "[blend]") {
  // 400 rows, 40 positives. The trees rank every positive first (by a small margin); the linear
  // model is noise, which the blend inherits.
  std::vector<std::uint8_t> labels(400, 0);
  std::vector<double> perfect(400), noise(400);
  for (std::size_t i = 0; i < 400; ++i) {
    labels[i] = i % 10 == 0 ? 1 : 0;
    perfect[i] = labels[i] ? 0.55 : 0.45 - 0.001 * static_cast<double>(i % 7);
    noise[i] = 0.5 + 0.5 * std::sin(static_cast<double>(i) * 12.9898);
  }
  const TagModelChoice trees = choose_tag_model(perfect, noise, labels, 200, 1);
  CHECK(trees.model == TagModel::kTree);
  CHECK(trees.tree_pr_auc == 1.0);
  CHECK(trees.tree_wins >= kFamilyWinShare);
  CHECK(trees.blend_pr_auc == average_precision(blend_scores(perfect, noise), labels));
  CHECK_THAT(trees.reason, Catch::StartsWith("tree:"));
  // The mirror image.
  CHECK(choose_tag_model(noise, perfect, labels, 200, 1).model == TagModel::kLinear);

  // Two models that differ by noise only: neither beats the blend reliably.
  std::vector<double> a(400), b(400);
  for (std::size_t i = 0; i < 400; ++i) {
    const double signal = labels[i] ? 0.6 : 0.4;
    a[i] = signal + 0.3 * std::sin(static_cast<double>(i) * 3.1);
    b[i] = signal + 0.3 * std::sin(static_cast<double>(i) * 7.7 + 1.0);
  }
  const TagModelChoice close = choose_tag_model(a, b, labels, 200, 1);
  CHECK(close.model == TagModel::kBlend);
  CHECK(close.tree_wins < kFamilyWinShare);
  CHECK(close.linear_wins < kFamilyWinShare);

  // A single class: nothing to choose on, the blend stays.
  const std::vector<std::uint8_t> none(400, 0);
  const TagModelChoice empty = choose_tag_model(a, b, none, 200, 1);
  CHECK(empty.model == TagModel::kBlend);
  CHECK(std::isnan(empty.tree_pr_auc));
  CHECK_THROWS_AS(choose_tag_model(a, std::vector<double>(3), labels, 200, 1), InvalidArgument);

  CHECK(blend_scores(std::vector<double>{0.2, 1.0}, std::vector<double>{0.4, 0.0}) ==
        std::vector<double>{0.5 * 0.2 + 0.5 * 0.4, 0.5});
  CHECK(parse_tag_model("blend") == TagModel::kBlend);
  CHECK_THROWS_AS(parse_tag_model("forest"), InvalidArgument);
}
