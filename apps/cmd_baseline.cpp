// `moodboost baseline`: the two published MediaEval naive baselines for the test split.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "command.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/npy.hpp"
#include "split_options.hpp"

namespace moodboost::app {
namespace {

struct BaselineArgs {
  std::string kind;
  std::string out_dir;
  SplitOptions splits;
};

int run_baseline(const BaselineArgs& args) {
  const SplitSet set = load_split_set(args.splits, {.train = true, .test = true});
  const LabelMatrix train = set.labels(set.train);
  const Eigen::Index rows = static_cast<Eigen::Index>(set.test.tracks.size());
  const Eigen::Index cols = static_cast<Eigen::Index>(set.tags.size());
  const Eigen::VectorXd counts = train.cast<double>().colwise().sum().transpose();

  ScoreMatrix predictions(rows, cols);
  LabelMatrix decisions = LabelMatrix::Zero(rows, cols);
  if (args.kind == "popular") {
    // The most frequent training tag is True for every track; the first in vocabulary order on
    // a tie (as numpy.argmax).
    Eigen::Index best = 0;
    counts.maxCoeff(&best);
    decisions.col(best).setOnes();
    predictions = decisions.cast<double>();
    fmt::print("popular baseline: {} ({} of {} training tracks) for all {} test tracks\n",
               set.tags[static_cast<std::size_t>(best)], counts(best), train.rows(), rows);
  } else {
    // Every test track gets the training-split tag frequencies; no tag is decided.
    const Eigen::RowVectorXd frequencies = counts.transpose() / static_cast<double>(train.rows());
    predictions.rowwise() = frequencies;
    fmt::print(
        "random baseline: training tag frequencies ({} tracks) as scores for all {} test "
        "tracks, no decisions\n",
        train.rows(), rows);
  }
  const std::filesystem::path out = args.out_dir;
  write_score_matrix(out / "predictions.npy", predictions);
  write_label_matrix(out / "decisions.npy", decisions);
  fmt::print("wrote {} and {} ({} x {})\n", (out / "predictions.npy").string(),
             (out / "decisions.npy").string(), rows, cols);
  return kExitOk;
}

const RegisterCommand kBaseline{
    {"baseline",
     "Write the published naive baselines (popular, random) for the test split as MediaEval "
     "predictions.npy and decisions.npy",
     40, [](CLI::App& sub) -> CommandRunner {
       auto args = std::make_shared<BaselineArgs>();
       sub.add_option("KIND", args->kind,
                      "popular: the most frequent training tag is True for every test track "
                      "(predictions = decisions); random: every test track gets the training tag "
                      "frequencies as scores, decisions all False")
           ->required()
           ->check(CLI::IsMember({"popular", "random"}));
       sub.add_option("--out-dir", args->out_dir,
                      "Directory for predictions.npy (float64) and decisions.npy (bool)")
           ->required();
       add_split_options(sub, args->splits);
       return [args] { return run_baseline(*args); };
     }}};

}  // namespace
}  // namespace moodboost::app
