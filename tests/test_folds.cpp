#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/folds.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

// Multi-label rows in groups of 1 to 9 rows; tag t is positive with probability 0.02 + 0.05 t
// (a rare tag first), and a group shares its tags half of the time (artists have a mood).
struct GroupedLabels {
  LabelMatrix labels;
  std::vector<std::string> groups;
};

GroupedLabels grouped_labels(int rows, int tags, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  GroupedLabels out{LabelMatrix::Zero(rows, tags), {}};
  int group = 0, left = 0;
  std::vector<int> group_tags(static_cast<std::size_t>(tags), 0);
  for (int r = 0; r < rows; ++r) {
    if (left == 0) {
      ++group;
      left = 1 + static_cast<int>(u(rng) * 9);
      for (int t = 0; t < tags; ++t) group_tags[t] = u(rng) < 0.02 + 0.05 * t ? 1 : 0;
    }
    --left;
    out.groups.push_back("artist_" + std::to_string(group));
    for (int t = 0; t < tags; ++t) {
      const bool shared = u(rng) < 0.5;
      out.labels(r, t) = shared ? group_tags[t] : (u(rng) < 0.02 + 0.05 * t ? 1 : 0);
    }
  }
  return out;
}

// positives[fold][tag]
std::vector<std::vector<int>> positives_per_fold(const LabelMatrix& labels,
                                                 const std::vector<int>& folds, int k) {
  std::vector<std::vector<int>> out(static_cast<std::size_t>(k),
                                    std::vector<int>(static_cast<std::size_t>(labels.cols()), 0));
  for (Eigen::Index r = 0; r < labels.rows(); ++r) {
    for (Eigen::Index t = 0; t < labels.cols(); ++t) {
      out[static_cast<std::size_t>(folds[static_cast<std::size_t>(r)])][t] += labels(r, t);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("folds: no artist falls in two folds, every fold holds rows", "[folds]") {
  const GroupedLabels data = grouped_labels(600, 6, 3);
  const std::vector<int> folds = grouped_stratified_folds(data.labels, data.groups, 5, 7);
  REQUIRE(folds.size() == 600);
  std::map<std::string, int> fold_of;
  std::vector<int> sizes(5, 0);
  for (std::size_t r = 0; r < folds.size(); ++r) {
    REQUIRE(folds[r] >= 0);
    REQUIRE(folds[r] < 5);
    ++sizes[static_cast<std::size_t>(folds[r])];
    const auto [it, added] = fold_of.try_emplace(data.groups[r], folds[r]);
    INFO("row " << r << " of " << data.groups[r]);
    CHECK(it->second == folds[r]);
  }
  for (int size : sizes) {
    CHECK(size > 600 / 5 - 30);  // groups of up to 9 rows: close to, not exactly, 120
    CHECK(size < 600 / 5 + 30);
  }
  // fold_rows partitions the rows.
  std::set<std::size_t> seen;
  for (int f = 0; f < 5; ++f) {
    const auto held = fold_rows(folds, f, true);
    const auto rest = fold_rows(folds, f, false);
    CHECK(held.size() + rest.size() == folds.size());
    for (std::size_t r : held) CHECK(seen.insert(r).second);
  }
  CHECK(seen.size() == folds.size());
}

TEST_CASE("folds: seeded, deterministic, and every tag's positives spread evenly", "[folds]") {
  const GroupedLabels data = grouped_labels(600, 6, 5);
  const std::vector<int> a = grouped_stratified_folds(data.labels, data.groups, 5, 1);
  CHECK(a == grouped_stratified_folds(data.labels, data.groups, 5, 1));
  CHECK(a != grouped_stratified_folds(data.labels, data.groups, 5, 2));

  // Compared with assigning whole artists to folds at random, the spread of every tag's
  // positives over the folds is no larger, and the rarest tag's is within 2 (groups are whole).
  const auto stratified = positives_per_fold(data.labels, a, 5);
  std::mt19937 rng(9);
  std::map<std::string, int> random_fold;
  std::vector<int> random(a.size());
  for (std::size_t r = 0; r < a.size(); ++r) {
    auto [it, added] = random_fold.try_emplace(data.groups[r], static_cast<int>(rng() % 5));
    random[r] = it->second;
  }
  const auto shuffled = positives_per_fold(data.labels, random, 5);
  auto spread = [](const std::vector<std::vector<int>>& counts, std::size_t tag) {
    int lo = counts[0][tag], hi = counts[0][tag];
    for (const auto& fold : counts) {
      lo = std::min(lo, fold[tag]);
      hi = std::max(hi, fold[tag]);
    }
    return hi - lo;
  };
  int total_stratified = 0, total_random = 0;
  for (std::size_t t = 0; t < 6; ++t) {
    INFO("tag " << t);
    total_stratified += spread(stratified, t);
    total_random += spread(shuffled, t);
  }
  CHECK(spread(stratified, 0) <= 2);
  CHECK(total_stratified < total_random);
}

TEST_CASE("folds: with one row per artist each tag's positives differ by at most one", "[folds]") {
  // Single-label rows, one per artist (like billboard-decades): exact stratification.
  LabelMatrix labels = LabelMatrix::Zero(103, 4);
  std::vector<std::string> groups;
  for (int r = 0; r < 103; ++r) {
    labels(r, r % 7 == 0 ? 0 : (r % 3 == 0 ? 1 : (r % 2 == 0 ? 2 : 3))) = 1;
    groups.push_back("artist_" + std::to_string(r));
  }
  const std::vector<int> folds = grouped_stratified_folds(labels, groups, 5, 0);
  const auto counts = positives_per_fold(labels, folds, 5);
  for (std::size_t t = 0; t < 4; ++t) {
    int lo = counts[0][t], hi = counts[0][t];
    for (const auto& fold : counts) {
      lo = std::min(lo, fold[t]);
      hi = std::max(hi, fold[t]);
    }
    INFO("tag " << t);
    CHECK(hi - lo <= 1);
  }
}

TEST_CASE("folds: too few artists, one fold or a wrong group count is a clear error", "[folds]") {
  LabelMatrix labels = LabelMatrix::Zero(6, 1);
  labels(0, 0) = 1;
  const std::vector<std::string> three = {"a", "a", "b", "b", "c", "c"};
  CHECK_THROWS_WITH(grouped_stratified_folds(labels, three, 5, 0),
                    Catch::Contains("5 cross-validation folds from 3 artists"));
  CHECK_THROWS_AS(grouped_stratified_folds(labels, three, 1, 0), InvalidArgument);
  const std::vector<std::string> short_groups = {"a", "b"};
  CHECK_THROWS_AS(grouped_stratified_folds(labels, short_groups, 2, 0), InvalidArgument);
  // Exactly as many artists as folds: one artist per fold.
  const std::vector<int> folds = grouped_stratified_folds(labels, three, 3, 0);
  CHECK(std::set<int>(folds.begin(), folds.end()).size() == 3);
}

TEST_CASE("folds: the real MTG-Jamendo training split keeps every artist in one fold",
          "[folds][shared]") {
  const fs::path dir = test::jamendo_dir();
  if (!test::require_shared(dir)) return;
  const Split train = read_split(dir / "splits/split-0/autotagging_moodtheme-train.tsv");
  const std::vector<std::string> tags = read_tag_list(dir / "tags/moodtheme_split.txt");
  const LabelMatrix labels = label_matrix(train, tags, UnknownTagPolicy::kError);
  std::vector<std::string> artists;
  for (const Track& track : train.tracks) artists.push_back(track.artist_id);
  const std::vector<int> folds = grouped_stratified_folds(labels, artists, 5, 0);
  std::map<std::string, int> fold_of;
  for (std::size_t r = 0; r < folds.size(); ++r) {
    const auto [it, added] = fold_of.try_emplace(artists[r], folds[r]);
    REQUIRE(it->second == folds[r]);
  }
  // Every tag has positives in every fold it can (split-0's rarest tag has 55 training tracks).
  const auto counts = positives_per_fold(labels, folds, 5);
  for (std::size_t t = 0; t < tags.size(); ++t) {
    for (int f = 0; f < 5; ++f) {
      INFO(tags[t] << " fold " << f);
      CHECK(counts[static_cast<std::size_t>(f)][t] > 0);
    }
  }
}
