#include "moodboost/folds.hpp"

#include <algorithm>
#include <numeric>
#include <tuple>
#include <unordered_map>

#include "detail/synth_random.hpp"
#include "moodboost/error.hpp"

namespace moodboost {
namespace {

struct Group {
  std::size_t rows = 0;
  std::vector<std::size_t> positives;  // per tag
  int fold = -1;
  std::uint64_t order = 0;  // seeded random rank, the last tie-break
};

}  // namespace

std::vector<int> grouped_stratified_folds(const LabelMatrix& labels,
                                          std::span<const std::string> groups, int folds,
                                          std::uint64_t seed) {
  const auto rows = static_cast<std::size_t>(labels.rows());
  const auto tags = static_cast<std::size_t>(labels.cols());
  if (folds < 2) {
    throw InvalidArgument("cross-validation needs at least 2 folds, got " + std::to_string(folds));
  }
  if (groups.size() != rows) {
    throw InvalidArgument("fold assignment: " + std::to_string(groups.size()) + " group ids for " +
                          std::to_string(rows) + " rows");
  }
  // Groups in order of first appearance.
  std::unordered_map<std::string_view, std::size_t> index;
  std::vector<std::size_t> group_of(rows);
  std::vector<Group> all;
  for (std::size_t r = 0; r < rows; ++r) {
    auto [it, added] = index.try_emplace(groups[r], all.size());
    if (added) {
      Group g;
      g.positives.assign(tags, 0);
      g.order = detail::mix64(seed, detail::hash_text(groups[r]));
      all.push_back(std::move(g));
    }
    Group& g = all[it->second];
    group_of[r] = it->second;
    ++g.rows;
    for (std::size_t t = 0; t < tags; ++t) {
      g.positives[t] += labels(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(t)) != 0;
    }
  }
  const auto k = static_cast<std::size_t>(folds);
  if (all.size() < k) {
    throw InvalidArgument("cannot make " + std::to_string(folds) + " cross-validation folds from " +
                          std::to_string(all.size()) +
                          " artists (rows sharing an ARTIST_ID stay in one fold): use fewer folds");
  }

  // What each fold still wants: its share of every tag's positives and of the rows.
  std::vector<std::vector<double>> wanted(k, std::vector<double>(tags, 0.0));
  std::vector<double> wanted_rows(k, static_cast<double>(rows) / static_cast<double>(k));
  std::vector<std::size_t> left(tags, 0);  // unplaced positives per tag
  for (const Group& g : all) {
    for (std::size_t t = 0; t < tags; ++t) left[t] += g.positives[t];
  }
  for (std::size_t t = 0; t < tags; ++t) {
    for (auto& w : wanted) w[t] = static_cast<double>(left[t]) / static_cast<double>(k);
  }
  // Equal wants are broken by a seeded order of the folds, so that fold 0 is not always first.
  std::vector<std::uint64_t> fold_order(k);
  for (std::size_t f = 0; f < k; ++f) fold_order[f] = detail::mix64(seed ^ 0xf01du, f);

  auto place = [&](Group& g, std::size_t fold) {
    g.fold = static_cast<int>(fold);
    wanted_rows[fold] -= static_cast<double>(g.rows);
    for (std::size_t t = 0; t < tags; ++t) {
      wanted[fold][t] -= static_cast<double>(g.positives[t]);
      left[t] -= g.positives[t];
    }
  };
  auto by_rank = [](const Group* a, const Group* b, std::size_t a_key, std::size_t b_key) {
    if (a_key != b_key) return a_key > b_key;
    if (a->rows != b->rows) return a->rows > b->rows;
    return a->order < b->order;
  };

  while (true) {
    // The tag with the fewest positives still to place (ties: the lower column).
    std::size_t tag = tags;
    for (std::size_t t = 0; t < tags; ++t) {
      if (left[t] > 0 && (tag == tags || left[t] < left[tag])) tag = t;
    }
    if (tag == tags) break;
    std::vector<Group*> holders;
    for (Group& g : all) {
      if (g.fold < 0 && g.positives[tag] > 0) holders.push_back(&g);
    }
    std::sort(holders.begin(), holders.end(), [&](const Group* a, const Group* b) {
      return by_rank(a, b, a->positives[tag], b->positives[tag]);
    });
    for (Group* g : holders) {
      std::size_t best = 0;
      for (std::size_t f = 1; f < k; ++f) {
        const auto key = [&](std::size_t x) {
          return std::tuple(wanted[x][tag], wanted_rows[x], fold_order[x]);
        };
        if (key(f) > key(best)) best = f;
      }
      place(*g, best);
    }
  }
  // Groups without any positive: largest first, each to the fold that wants the most rows.
  std::vector<Group*> rest;
  for (Group& g : all) {
    if (g.fold < 0) rest.push_back(&g);
  }
  std::sort(rest.begin(), rest.end(),
            [&](const Group* a, const Group* b) { return by_rank(a, b, 0, 0); });
  for (Group* g : rest) {
    std::size_t best = 0;
    for (std::size_t f = 1; f < k; ++f) {
      if (std::tie(wanted_rows[f], fold_order[f]) > std::tie(wanted_rows[best], fold_order[best])) {
        best = f;
      }
    }
    place(*g, best);
  }

  // Every fold must hold rows. The greedy rule could in principle starve one; since there are at
  // least as many groups as folds, a fold with two or more groups then gives up its smallest.
  for (std::size_t f = 0; f < k; ++f) {
    std::vector<std::size_t> members(k, 0);
    for (const Group& g : all) ++members[static_cast<std::size_t>(g.fold)];
    if (members[f] != 0) continue;
    const auto donor =
        static_cast<int>(std::max_element(members.begin(), members.end()) - members.begin());
    Group* smallest = nullptr;
    for (Group& g : all) {
      if (g.fold == donor && (smallest == nullptr || g.rows < smallest->rows)) smallest = &g;
    }
    smallest->fold = static_cast<int>(f);
  }
  std::vector<int> out(rows);
  for (std::size_t r = 0; r < rows; ++r) out[r] = all[group_of[r]].fold;
  return out;
}

std::vector<std::size_t> fold_rows(std::span<const int> folds, int fold, bool held_out) {
  std::vector<std::size_t> out;
  for (std::size_t r = 0; r < folds.size(); ++r) {
    if ((folds[r] == fold) == held_out) out.push_back(r);
  }
  return out;
}

}  // namespace moodboost
