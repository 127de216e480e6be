#include "moodboost/tune.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "moodboost/metrics.hpp"

namespace moodboost {
namespace {

using Clock = std::chrono::steady_clock;

// Three significant digits: readable in trials.tsv and exactly reproducible from it.
std::string short_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3g", value);
  return buffer;
}

// A stream of uniform numbers in [0, 1) for configuration \p id, independent of every other id,
// so that configuration 7 is the same whatever the budget or the number drawn before it.
class ConfigRandom {
 public:
  ConfigRandom(std::uint64_t seed, int id) : rng_(make_rng(seed, id)) {}
  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }
  double log_uniform(double lo, double hi) {
    return std::exp(std::log(lo) + uniform() * (std::log(hi) - std::log(lo)));
  }
  template <typename T>
  T choice(std::initializer_list<T> values) {
    const auto index =
        std::min(values.size() - 1, static_cast<std::size_t>(uniform() * values.size()));
    return *(values.begin() + index);
  }

 private:
  static std::mt19937_64 make_rng(std::uint64_t seed, int id) {
    std::seed_seq sequence{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                           static_cast<std::uint32_t>(id), 0x7475u};
    return std::mt19937_64(sequence);
  }
  std::mt19937_64 rng_;
};

std::vector<std::size_t> usable_tags(const LabelMatrix& validation_labels,
                                     const LabelMatrix& train_labels) {
  std::vector<std::size_t> out;
  for (Eigen::Index c = 0; c < validation_labels.cols(); ++c) {
    const auto valid_pos = validation_labels.col(c).cast<Eigen::Index>().sum();
    const auto train_pos = train_labels.col(c).cast<Eigen::Index>().sum();
    if (valid_pos > 0 && valid_pos < validation_labels.rows() && train_pos > 0) {
      out.push_back(static_cast<std::size_t>(c));
    }
  }
  return out;
}

}  // namespace

std::string TuneConfig::key() const {
  std::string out;
  for (const auto& [name, value] : params) out += name + "=" + value + ";";
  return out + "scale_pos_weight=" + to_string(scale_pos_weight);
}

TuneConfig draw_config(const TuneConfig& base, const TuneOptions& options, int id) {
  if (id == 0) return base;
  ConfigRandom random(options.seed, id);
  TuneConfig config = base;
  // Every dimension is drawn whether or not it is fixed, so that fixing one parameter leaves the
  // others' values unchanged.
  const XgbParams drawn{
      {"max_depth", std::to_string(random.choice({3, 4, 5, 6, 8}))},
      {"eta", short_number(random.log_uniform(0.02, 0.3))},
      {"min_child_weight", short_number(random.log_uniform(0.5, 20.0))},
      {"subsample", short_number(0.5 + 0.5 * random.uniform())},
      {"colsample_bytree", short_number(0.2 + 0.8 * random.uniform())},
      {"reg_lambda", short_number(random.log_uniform(0.3, 30.0))},
      {"max_bin", std::to_string(random.choice({32, 64, 128, 256}))},
  };
  const ScalePosWeight mode =
      random.choice({ScalePosWeight::kNone, ScalePosWeight::kSqrt, ScalePosWeight::kRatio});
  for (const auto& [name, value] : drawn) {
    if (!options.fixed_params.contains(name)) config.params[name] = value;
  }
  if (!options.fixed_scale_pos_weight) config.scale_pos_weight = mode;
  return config;
}

double pr_auc_macro(const LabelMatrix& labels, const std::vector<TagFit>& fits) {
  if (fits.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0.0;
  for (const TagFit& fit : fits) {
    sum += average_precision(fit.validation_scores, label_column(labels, fit.column));
  }
  return sum / static_cast<double>(fits.size());
}

TuneResult tune(Trainer& trainer, const LabelMatrix& train_labels,
                const LabelMatrix& validation_labels, const std::vector<std::string>& tags,
                const BoostOptions& base, const TuneConfig& base_config, const TuneOptions& options,
                const TuneHooks& hooks) {
  TuneResult result;
  result.best = base_config;
  result.best_score = std::numeric_limits<double>::quiet_NaN();
  if (options.trials <= 0 && options.budget_seconds <= 0) return result;
  if (options.eta < 2) throw InvalidArgument("the halving factor must be at least 2");

  // A seeded order of the usable tags; stage s uses its first n_s tags (nested subsets).
  std::vector<std::size_t> pool = usable_tags(validation_labels, train_labels);
  if (pool.empty()) {
    throw DataError("no tag has both positive and negative validation tracks: nothing to tune on");
  }
  std::mt19937_64 shuffle_rng(options.seed ^ 0x5eedull);
  std::shuffle(pool.begin(), pool.end(), shuffle_rng);

  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  const bool budgeted = options.budget_seconds > 0;
  // The budget covers the search and the final training of every tag: the search may spend
  // half of it; the other half (and whatever the search left) is for the final training.
  const double search_budget = options.budget_seconds / 2.0;
  auto out_of_time = [&] { return budgeted && elapsed() >= search_budget; };

  auto run_trial = [&](const TuneConfig& config, int id, const std::string& stage,
                       const std::vector<std::size_t>& columns) -> Trial {
    Trial trial;
    trial.id = id;
    trial.stage = stage;
    trial.config = config;
    trial.max_rounds = base.max_rounds;
    for (std::size_t c : columns) trial.tags.push_back(tags.at(c));
    if (hooks.find_done) {
      if (auto done = hooks.find_done(trial)) {
        result.trials.push_back(*done);
        return *done;
      }
    }
    const auto trial_start = Clock::now();
    BoostOptions options_for_trial = base;
    for (const auto& [name, value] : config.params) options_for_trial.params[name] = value;
    options_for_trial.scale_pos_weight = config.scale_pos_weight;
    std::vector<TagJob> jobs;
    for (std::size_t c : columns) jobs.push_back({c, tags.at(c), 0, {}, {}});
    const std::vector<TagFit> fits =
        trainer.fit(train_labels, &validation_labels, jobs, options_for_trial, hooks.fit);
    double rounds = 0.0;
    for (const TagFit& fit : fits) {
      trial.tag_scores.push_back(
          average_precision(fit.validation_scores, label_column(validation_labels, fit.column)));
      rounds += fit.best_iteration + 1;
    }
    trial.mean_rounds = rounds / static_cast<double>(fits.size());
    trial.score = std::accumulate(trial.tag_scores.begin(), trial.tag_scores.end(), 0.0) /
                  static_cast<double>(trial.tag_scores.size());
    trial.seconds = std::chrono::duration<double>(Clock::now() - trial_start).count();
    if (hooks.on_trial) hooks.on_trial(trial);
    result.trials.push_back(trial);
    return trial;
  };

  const std::size_t eta = static_cast<std::size_t>(options.eta);
  auto stage_tags = [&](std::size_t stage) {
    std::size_t count = std::max<std::size_t>(2, options.first_stage_tags);
    for (std::size_t s = 0; s < stage; ++s) count *= eta;
    count = std::min(count, pool.size());
    return std::vector<std::size_t>(pool.begin(),
                                    pool.begin() + static_cast<std::ptrdiff_t>(count));
  };

  // Stage 0: configuration 0 (the base) first; its cost sizes a budgeted search.
  struct Candidate {
    int id;
    TuneConfig config;
    double score;
    double seconds;    // of its last trial
    std::size_t tags;  // in its last trial
  };
  std::vector<Candidate> candidates;
  const std::vector<std::size_t> first_tags = stage_tags(0);
  const Trial first = run_trial(draw_config(base_config, options, 0), 0, "halving-0", first_tags);
  candidates.push_back({0, first.config, first.score, first.seconds, first.tags.size()});

  std::size_t planned = static_cast<std::size_t>(std::max(options.trials, 1));
  if (budgeted) {
    // Successive halving spends about the same time on every stage (1/eta of the configurations
    // on eta times the tags), so n configurations over S stages cost about S * n * first.seconds.
    const double per_trial = std::max(first.seconds, 1e-3);
    std::size_t n = 1;
    for (std::size_t candidate_n = 2; candidate_n <= 10000; ++candidate_n) {
      std::size_t stages = 1;
      for (std::size_t left = candidate_n; left > 1; left = (left + eta - 1) / eta) ++stages;
      if (static_cast<double>(stages - 1) * static_cast<double>(candidate_n) * per_trial >
          search_budget) {
        break;
      }
      n = candidate_n;
    }
    planned = options.trials > 0 ? std::min(planned, n) : n;
  }

  // Stage 0 trials are ordered by max_bin so that each worker's gradient index is rebuilt as
  // few times as possible (XGBoost keeps one per matrix and rebuilds it when max_bin changes).
  std::vector<std::pair<int, TuneConfig>> stage0;
  for (int id = 1; id < static_cast<int>(planned); ++id) {
    stage0.emplace_back(id, draw_config(base_config, options, id));
  }
  auto bins = [&](const TuneConfig& config) {
    const auto it = config.params.find("max_bin");
    return it == config.params.end() ? 256 : std::atoi(it->second.c_str());
  };
  std::stable_sort(stage0.begin(), stage0.end(),
                   [&](const auto& a, const auto& b) { return bins(a.second) < bins(b.second); });
  for (const auto& [id, config] : stage0) {
    if (out_of_time()) break;
    const Trial trial = run_trial(config, id, "halving-0", first_tags);
    candidates.push_back({id, config, trial.score, trial.seconds, trial.tags.size()});
  }

  // Later stages: keep the best 1/eta (ties: the lower id), train them on eta times the tags.
  auto rank = [](std::vector<Candidate>& list) {
    std::stable_sort(list.begin(), list.end(), [](const Candidate& a, const Candidate& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.id < b.id;
    });
  };
  rank(candidates);
  std::size_t stage = 1;
  // With per_tag, the finalists: the best (at most eta) of the last stage that ran.
  auto top = [&](const std::vector<Candidate>& list) {
    return std::vector<Candidate>(
        list.begin(), list.begin() + static_cast<std::ptrdiff_t>(std::min(eta, list.size())));
  };
  std::vector<Candidate> finalists = top(candidates);
  while (candidates.size() > 1) {
    finalists = top(candidates);
    const std::size_t keep = (candidates.size() + eta - 1) / eta;
    if (keep == 1) break;
    candidates.resize(keep);
    const std::vector<std::size_t> columns = stage_tags(stage);
    if (budgeted) {
      // A stage is started only when its expected cost (each survivor's last trial, scaled to
      // the new number of tags) fits in what is left of the budget; otherwise the previous
      // stage's ranking stands.
      double expected = 0.0;
      for (const Candidate& c : candidates) {
        expected += c.seconds * static_cast<double>(columns.size()) / static_cast<double>(c.tags);
      }
      if (elapsed() + expected > search_budget) break;
    }
    std::vector<Candidate> next;
    for (const Candidate& c : candidates) {
      const Trial trial = run_trial(c.config, c.id, "halving-" + std::to_string(stage), columns);
      next.push_back({c.id, c.config, trial.score, trial.seconds, trial.tags.size()});
    }
    candidates = std::move(next);
    rank(candidates);
    ++stage;
  }
  // The best configuration whose final training (its last trial's time scaled to every tag)
  // fits in what is left of the budget; the base configuration (moodboost's defaults, whose
  // cost was chosen for the main job) always qualifies, so an expensive winner of a few tags
  // cannot push the whole run past its budget, and a cheap loser is never preferred to it.
  std::size_t chosen = 0;
  if (budgeted) {
    auto full_cost = [&](const Candidate& c) {
      return c.seconds * static_cast<double>(tags.size()) / static_cast<double>(c.tags);
    };
    const double left = options.budget_seconds - elapsed();
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (candidates[i].id == 0 || full_cost(candidates[i]) <= left) {
        chosen = i;
        break;
      }
    }
  }
  result.best = candidates[chosen].config;
  result.best_score = candidates[chosen].score;

  if (options.per_tag) {
    // The finalists (the last stage's configurations, at most eta) on every usable tag; each
    // tag keeps the one with its best validation average precision (ties: the earlier finalist).
    std::vector<std::size_t> all = pool;
    std::sort(all.begin(), all.end());
    result.per_tag.assign(tags.size(), result.best);
    std::vector<double> best_tag_score(tags.size(), -1.0);
    for (const Candidate& c : finalists) {
      const Trial trial = run_trial(c.config, c.id, "per-tag", all);
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (trial.tag_scores[i] > best_tag_score[all[i]]) {
          best_tag_score[all[i]] = trial.tag_scores[i];
          result.per_tag[all[i]] = c.config;
        }
      }
    }
  }
  return result;
}

}  // namespace moodboost
