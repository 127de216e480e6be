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

// \p base with \p params applied, except the keys in \p fixed.
TuneConfig with_params(const TuneConfig& base, const XgbParams& params,
                       const std::set<std::string>& fixed) {
  TuneConfig config = base;
  for (const auto& [name, value] : params) {
    if (!fixed.contains(name)) config.params[name] = value;
  }
  return config;
}

int max_bin_of(const TuneConfig& config) {
  const auto it = config.params.find("max_bin");
  return it == config.params.end() ? 256 : std::atoi(it->second.c_str());
}

// One configuration through the stages of its family's halving.
struct Candidate {
  int id = 0;
  TuneConfig config;
  double score = 0.0;
  double seconds = 0.0;              // of its last trial
  std::size_t stage = 0;             // of its last trial
  std::vector<std::size_t> columns;  // the tags of its last trial
  std::vector<double> tag_scores;    // their held-out average precision (parallel to columns)
};

// Best first; ties: the lower id (the base, then the portfolio, wins them).
void rank(std::vector<Candidate>& list) {
  std::stable_sort(list.begin(), list.end(), [](const Candidate& a, const Candidate& b) {
    const double sa = std::isnan(a.score) ? -1.0 : a.score;
    const double sb = std::isnan(b.score) ? -1.0 : b.score;
    if (sa != sb) return sa > sb;
    return a.id < b.id;
  });
}

// One run of tune(): the plan (which tags each stage uses, how many configurations fit the
// budget), running a stage, and choosing each family's winner.
class Search {
 public:
  Search(Trainer& trainer, const LabelMatrix& train_labels, const LabelMatrix& validation_labels,
         const std::vector<std::string>& tags, const BoostOptions& base, const TuneOptions& options,
         const TuneHooks& hooks)
      : trainer_(trainer),
        train_labels_(train_labels),
        validation_labels_(validation_labels),
        tags_(tags),
        base_(base),
        options_(options),
        hooks_(hooks),
        start_(Clock::now()) {
    pool_ = usable_tags();
    if (pool_.empty()) {
      throw DataError(trainer_.folds() > 0
                          ? "no tag has both positive and negative training tracks: nothing to "
                            "tune on"
                          : "no tag has both positive and negative validation tracks: nothing "
                            "to tune on");
    }
    // A seeded order of the usable tags; stage s uses its first n_s tags (nested subsets).
    std::mt19937_64 shuffle_rng(options_.seed ^ 0x5eedull);
    std::shuffle(pool_.begin(), pool_.end(), shuffle_rng);
  }

  [[nodiscard]] std::vector<Trial>& trials() { return trials_; }
  [[nodiscard]] bool budgeted() const { return options_.budget_seconds > 0; }
  // The search may spend half of the budget; the rest is for the final training.
  [[nodiscard]] double search_budget() const { return options_.budget_seconds / 2.0; }
  [[nodiscard]] double elapsed() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
  }
  [[nodiscard]] bool out_of_time() const { return budgeted() && elapsed() >= search_budget(); }

  // The tags of stage \p stage: the first n of the seeded order, n growing by eta per stage;
  // every tag from the start when there are at most twice the first stage's number.
  [[nodiscard]] std::vector<std::size_t> stage_tags(std::size_t stage) const {
    std::size_t count = std::max<std::size_t>(2, options_.first_stage_tags);
    if (pool_.size() <= 2 * count) count = pool_.size();
    for (std::size_t s = 0; s < stage; ++s) count *= static_cast<std::size_t>(options_.eta);
    count = std::min(count, pool_.size());
    return {pool_.begin(), pool_.begin() + static_cast<std::ptrdiff_t>(count)};
  }
  [[nodiscard]] std::size_t pool_size() const { return pool_.size(); }

  // Trains \p config on \p columns (or takes the logged trial of an interrupted run).
  Candidate run(const TuneConfig& config, int id, std::size_t stage, const std::string& name,
                const std::vector<std::size_t>& columns) {
    Trial trial;
    trial.id = id;
    trial.stage = name;
    trial.config = config;
    trial.max_rounds = base_.max_rounds;
    for (std::size_t c : columns) trial.tags.push_back(tags_.at(c));
    std::optional<Trial> done = hooks_.find_done ? hooks_.find_done(trial) : std::nullopt;
    if (done) {
      trial = *done;
    } else {
      const auto trial_start = Clock::now();
      BoostOptions options = base_;
      XgbParams& params = config.family == Family::kLinear ? options.linear_params : options.params;
      for (const auto& [key, value] : config.params) params[key] = value;
      options.scale_pos_weight = config.scale_pos_weight;
      std::vector<TagJob> jobs;
      for (std::size_t c : columns) {
        TagJob job;
        job.column = c;
        job.tag = tags_.at(c);
        job.family = config.family;
        job.keep_model = false;
        jobs.push_back(std::move(job));
      }
      const std::vector<TagFit> fits =
          trainer_.fit(train_labels_, &validation_labels_, jobs, options, hooks_.fit);
      double rounds = 0.0;
      for (const TagFit& fit : fits) {
        trial.tag_scores.push_back(fit.heldout_pr_auc);
        rounds += fit.best_iteration + 1;
      }
      trial.mean_rounds = rounds / static_cast<double>(fits.size());
      trial.score = heldout_pr_auc_macro(fits);
      trial.seconds = std::chrono::duration<double>(Clock::now() - trial_start).count();
      if (hooks_.on_trial) hooks_.on_trial(trial);
    }
    trials_.push_back(trial);
    return {id, config, trial.score, trial.seconds, stage, columns, trial.tag_scores};
  }

  // Later stages for one family: keep the best 1/eta, train them on eta times the tags, until one
  // is left, a stage would not add tags, or (budgeted) the next stage does not fit.
  void halve(std::vector<Candidate>& candidates) {
    rank(candidates);
    const auto eta = static_cast<std::size_t>(options_.eta);
    std::size_t stage = 1;
    while (candidates.size() > 1) {
      const std::vector<std::size_t> columns = stage_tags(stage);
      // A stage that adds no tag would only repeat the last one: its ranking is final.
      if (columns.size() <= candidates.front().columns.size()) break;
      const std::size_t keep = (candidates.size() + eta - 1) / eta;
      if (budgeted()) {
        double expected = 0.0;
        for (std::size_t i = 0; i < keep; ++i) {
          expected += candidates[i].seconds * static_cast<double>(columns.size()) /
                      static_cast<double>(candidates[i].columns.size());
        }
        if (elapsed() + expected > search_budget()) break;
      }
      candidates.resize(keep);
      std::vector<Candidate> next;
      for (const Candidate& c : candidates) {
        next.push_back(run(c.config, c.id, stage, "halving-" + std::to_string(stage), columns));
      }
      candidates = std::move(next);
      rank(candidates);
      ++stage;
    }
  }

  // The family's winner and, when asked (or free), a configuration per tag.
  // \p reserved seconds of the budget are spoken for (another family's final training);
  // \p final_cost receives the chosen configuration's expected final training time.
  FamilyChoice choose(std::vector<Candidate> candidates, bool per_tag, double reserved,
                      double& final_cost) {
    rank(candidates);
    FamilyChoice choice;
    std::size_t chosen = 0;
    auto full_cost = [&](const Candidate& c) {
      return c.seconds * static_cast<double>(tags_.size()) /
             static_cast<double>(std::max<std::size_t>(1, c.columns.size()));
    };
    if (budgeted()) {
      // The best configuration whose final training (its last trial's time scaled to every tag)
      // fits in what is left of the budget; the base configuration (id 0 or the first of the
      // linear grid), whose cost the defaults were chosen for, always qualifies.
      const double left = options_.budget_seconds - elapsed() - reserved;
      for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (candidates[i].id == 0 || candidates[i].id == kFirstLinear ||
            full_cost(candidates[i]) <= left) {
          chosen = i;
          break;
        }
      }
    }
    final_cost = full_cost(candidates[chosen]);
    choice.best = candidates[chosen].config;
    choice.best_score = candidates[chosen].score;
    if (!per_tag) return choice;

    // Finalists: the best (at most eta) of the last stage. Their scores on every usable tag come
    // from that stage when it covered every tag, else from a "per-tag" stage.
    const std::size_t count = std::min(static_cast<std::size_t>(options_.eta), candidates.size());
    std::vector<Candidate> finalists(candidates.begin(),
                                     candidates.begin() + static_cast<std::ptrdiff_t>(count));
    for (Candidate& c : finalists) {
      if (c.columns.size() < pool_.size()) {
        std::vector<std::size_t> all = pool_;
        std::sort(all.begin(), all.end());
        c = run(c.config, c.id, c.stage, "per-tag", all);
      }
    }
    // Each tag keeps the finalist with its best held-out average precision (ties: the earlier
    // finalist).
    choice.per_tag.assign(tags_.size(), choice.best);
    std::vector<double> best_score(tags_.size(), -1.0);
    for (const Candidate& c : finalists) {
      for (std::size_t i = 0; i < c.columns.size() && i < c.tag_scores.size(); ++i) {
        const double score = std::isnan(c.tag_scores[i]) ? -1.0 : c.tag_scores[i];
        if (score > best_score[c.columns[i]]) {
          best_score[c.columns[i]] = score;
          choice.per_tag[c.columns[i]] = c.config;
        }
      }
    }
    return choice;
  }

 private:
  std::vector<std::size_t> usable_tags() const {
    std::vector<std::size_t> out;
    const bool cross_validate = trainer_.folds() > 0;
    for (Eigen::Index c = 0; c < train_labels_.cols(); ++c) {
      const auto train_pos = train_labels_.col(c).cast<Eigen::Index>().sum();
      bool usable = train_pos > 0;
      if (cross_validate) {
        usable = usable && train_pos < train_labels_.rows();
      } else {
        const auto valid_pos = validation_labels_.col(c).cast<Eigen::Index>().sum();
        usable = usable && valid_pos > 0 && valid_pos < validation_labels_.rows();
      }
      if (usable) out.push_back(static_cast<std::size_t>(c));
    }
    return out;
  }

  Trainer& trainer_;
  const LabelMatrix& train_labels_;
  const LabelMatrix& validation_labels_;
  const std::vector<std::string>& tags_;
  const BoostOptions& base_;
  const TuneOptions& options_;
  const TuneHooks& hooks_;
  Clock::time_point start_;
  std::vector<std::size_t> pool_;
  std::vector<Trial> trials_;
};

}  // namespace

std::string TuneConfig::key() const {
  std::string out = "family=" + to_string(family) + ";";
  for (const auto& [name, value] : params) out += name + "=" + value + ";";
  return out + "scale_pos_weight=" + to_string(scale_pos_weight);
}

const FamilyChoice* TuneResult::find(Family family) const {
  for (const FamilyChoice& choice : families) {
    if (choice.best.family == family) return &choice;
  }
  return nullptr;
}

std::vector<TuneConfig> portfolio_configs(const TuneConfig& base, const TuneOptions& options) {
  const std::set<std::string>& fixed = options.fixed_params;
  std::vector<TuneConfig> out{base};
  out.push_back(with_params(base,
                            {{"max_depth", "2"},
                             {"eta", "0.05"},
                             {"colsample_bytree", "0.3"},
                             {"subsample", "0.8"},
                             {"min_child_weight", "3"},
                             {"reg_lambda", "1"},
                             {"max_bin", "32"}},
                            fixed));
  out.push_back(with_params(base,
                            {{"max_depth", "3"},
                             {"eta", "0.03"},
                             {"colsample_bytree", "0.1"},
                             {"subsample", "0.7"},
                             {"min_child_weight", "5"},
                             {"reg_lambda", "10"},
                             {"max_bin", "32"}},
                            fixed));
  out.push_back(with_params(base,
                            {{"max_depth", "1"},
                             {"eta", "0.05"},
                             {"colsample_bytree", "0.3"},
                             {"subsample", "0.8"},
                             {"min_child_weight", "3"},
                             {"reg_lambda", "1"},
                             {"max_bin", "32"}},
                            fixed));
  return out;
}

std::vector<TuneConfig> linear_grid(const TuneConfig& base, const TuneOptions& options) {
  const bool search = options.trials > 0 || options.budget_seconds > 0;
  std::vector<TuneConfig> out;
  auto add = [&](const char* lambda, const char* alpha) {
    TuneConfig config = with_params(base, {{"reg_lambda", lambda}, {"reg_alpha", alpha}},
                                    options.fixed_linear_params);
    const bool seen = std::any_of(out.begin(), out.end(),
                                  [&](const TuneConfig& c) { return c.key() == config.key(); });
    if (!seen) out.push_back(std::move(config));
  };
  for (const char* lambda : {"0.03", "0.1", "0.3", "1", "3", "10"}) add(lambda, "0");
  if (search) {
    for (const char* lambda : {"0.1", "0.3", "1"}) add(lambda, "0.001");
  }
  return out;
}

TuneConfig draw_config(const TuneConfig& base, const TuneOptions& options, int id) {
  if (id == 0) return base;
  ConfigRandom random(options.seed, id);
  // Every dimension is drawn whether or not it is fixed, so that fixing one parameter leaves the
  // others' values unchanged.
  const int depth = random.choice({1, 2, 3, 4, 5, 6, 8});
  const double eta = random.log_uniform(0.01, 0.3);
  const double min_child_weight = random.log_uniform(0.5, 50.0);
  const double subsample = 0.5 + 0.5 * random.uniform();
  const double colsample = random.log_uniform(0.05, 1.0);
  const double lambda = random.log_uniform(0.3, 100.0);
  const bool with_alpha = random.uniform() < 0.5;
  const double alpha = random.log_uniform(0.01, 10.0);
  const int bins = random.choice({16, 32, 64, 128, 256});
  const ScalePosWeight mode =
      random.choice({ScalePosWeight::kNone, ScalePosWeight::kSqrt, ScalePosWeight::kRatio});
  const XgbParams drawn{
      {"max_depth", std::to_string(depth)},
      {"eta", short_number(eta)},
      {"min_child_weight", short_number(min_child_weight)},
      {"subsample", short_number(subsample)},
      {"colsample_bytree", short_number(colsample)},
      {"reg_lambda", short_number(lambda)},
      {"reg_alpha", with_alpha ? short_number(alpha) : std::string("0")},
      {"max_bin", std::to_string(bins)},
  };
  TuneConfig config = with_params(base, drawn, options.fixed_params);
  if (!options.fixed_scale_pos_weight) config.scale_pos_weight = mode;
  return config;
}

double heldout_pr_auc_macro(const std::vector<TagFit>& fits) {
  double sum = 0.0;
  int count = 0;
  for (const TagFit& fit : fits) {
    if (std::isnan(fit.heldout_pr_auc)) continue;
    sum += fit.heldout_pr_auc;
    ++count;
  }
  return count > 0 ? sum / count : std::numeric_limits<double>::quiet_NaN();
}

TuneResult tune(Trainer& trainer, const LabelMatrix& train_labels,
                const LabelMatrix& validation_labels, const std::vector<std::string>& tags,
                const BoostOptions& base, const std::vector<TuneConfig>& bases,
                const TuneOptions& options, const TuneHooks& hooks) {
  auto base_of = [&](Family family) -> const TuneConfig& {
    for (const TuneConfig& config : bases) {
      if (config.family == family) return config;
    }
    throw InvalidArgument("tune: no base configuration for the " + to_string(family) + " family");
  };
  TuneResult result;
  const bool search = options.trials > 0 || options.budget_seconds > 0;
  if (!search && !options.portfolio) {
    for (Family family : options.families) {
      result.families.push_back({base_of(family), std::numeric_limits<double>::quiet_NaN(), {}});
    }
    return result;
  }
  if (options.eta < 2) throw InvalidArgument("the halving factor must be at least 2");

  Search s(trainer, train_labels, validation_labels, tags, base, options, hooks);
  const std::vector<std::size_t> first_tags = s.stage_tags(0);
  const bool trees = std::find(options.families.begin(), options.families.end(), Family::kTree) !=
                     options.families.end();
  const bool linear = std::find(options.families.begin(), options.families.end(),
                                Family::kLinear) != options.families.end();
  std::vector<Candidate> tree_candidates, linear_candidates;

  // Stage 0. The tree base first: its cost sizes a budgeted search. Each family's first
  // candidate always runs, so that every family has a winner.
  std::vector<std::pair<int, TuneConfig>> tree_plan;
  if (trees) {
    const std::vector<TuneConfig> portfolio = portfolio_configs(base_of(Family::kTree), options);
    tree_candidates.push_back(s.run(portfolio[0], 0, 0, "halving-0", first_tags));
    for (int id = 1; id < static_cast<int>(portfolio.size()); ++id) {
      tree_plan.emplace_back(id, portfolio[static_cast<std::size_t>(id)]);
    }
    std::size_t random = search ? static_cast<std::size_t>(std::max(options.trials, 0)) : 0;
    if (search && s.budgeted()) {
      // Successive halving spends about the same time on every stage (1/eta of the
      // configurations on eta times the tags), so n configurations over S stages cost about
      // S * n * (the first trial's time).
      const double per_trial = std::max(tree_candidates[0].seconds, 1e-3);
      const auto eta = static_cast<std::size_t>(options.eta);
      std::size_t n = 1;
      for (std::size_t candidate_n = 2; candidate_n <= 10000; ++candidate_n) {
        std::size_t stages = 1;
        for (std::size_t left = candidate_n; left > 1; left = (left + eta - 1) / eta) ++stages;
        if (static_cast<double>(stages - 1) * static_cast<double>(candidate_n) * per_trial >
            s.search_budget()) {
          break;
        }
        n = candidate_n;
      }
      const std::size_t by_budget = n > portfolio.size() ? n - portfolio.size() : 0;
      random = options.trials > 0 ? std::min(random, by_budget) : by_budget;
    }
    // Random configurations are ordered by max_bin so that each worker's gradient index is
    // rebuilt as few times as possible (XGBoost rebuilds it when max_bin changes).
    std::vector<std::pair<int, TuneConfig>> drawn;
    for (std::size_t i = 0; i < random; ++i) {
      const int id = kFirstRandomTree + static_cast<int>(i);
      drawn.emplace_back(id, draw_config(base_of(Family::kTree), options, id));
    }
    std::stable_sort(drawn.begin(), drawn.end(), [](const auto& a, const auto& b) {
      return max_bin_of(a.second) < max_bin_of(b.second);
    });
    tree_plan.insert(tree_plan.end(), drawn.begin(), drawn.end());
  }
  if (linear) {
    std::vector<TuneConfig> grid = linear_grid(base_of(Family::kLinear), options);
    // The linear base first (it always runs), then the rest of the grid.
    const TuneConfig& linear_base = base_of(Family::kLinear);
    std::stable_partition(grid.begin(), grid.end(),
                          [&](const TuneConfig& c) { return c.key() == linear_base.key(); });
    if (grid.empty() || grid.front().key() != linear_base.key())
      grid.insert(grid.begin(), linear_base);
    for (std::size_t i = 0; i < grid.size(); ++i) {
      if (i > 0 && s.out_of_time()) break;
      linear_candidates.push_back(
          s.run(grid[i], kFirstLinear + static_cast<int>(i), 0, "halving-0", first_tags));
    }
  }
  for (const auto& [id, config] : tree_plan) {
    if (s.out_of_time()) break;
    tree_candidates.push_back(s.run(config, id, 0, "halving-0", first_tags));
  }

  if (trees) s.halve(tree_candidates);
  if (linear) s.halve(linear_candidates);
  // The linear family first: its (usually cheap) final training is reserved out of what the
  // trees' winner may cost.
  double linear_cost = 0.0;
  if (linear) {
    // The linear family keeps a configuration per tag whenever its last stage ran every tag
    // (its regularisation suits a tag's prevalence); that costs nothing more.
    const bool all_tags =
        !linear_candidates.empty() && linear_candidates.front().columns.size() == s.pool_size();
    result.families.push_back(
        s.choose(linear_candidates, options.per_tag || all_tags, 0.0, linear_cost));
  }
  if (trees) {
    double tree_cost = 0.0;
    result.families.push_back(s.choose(tree_candidates, options.per_tag, linear_cost, tree_cost));
  }
  // Families in the order asked for.
  std::vector<FamilyChoice> ordered;
  for (Family family : options.families) {
    for (const FamilyChoice& choice : result.families) {
      if (choice.best.family == family) ordered.push_back(choice);
    }
  }
  result.families = std::move(ordered);
  result.trials = std::move(s.trials());
  return result;
}

}  // namespace moodboost
