// `moodboost baseline`: the two published MediaEval naive baselines for the test split.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "command.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/npy.hpp"
#include "moodboost/pipeline.hpp"
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
  const NaiveBaseline baseline = args.kind == "popular"
                                     ? popular_baseline(train, set.tags, set.test.tracks.size())
                                     : random_baseline(train, set.test.tracks.size());
  fmt::print("{}\n", baseline.description);
  const std::filesystem::path out = args.out_dir;
  write_score_matrix(out / "predictions.npy", baseline.predictions);
  write_label_matrix(out / "decisions.npy", baseline.decisions);
  fmt::print("wrote {} and {} ({} x {})\n", (out / "predictions.npy").string(),
             (out / "decisions.npy").string(), baseline.predictions.rows(),
             baseline.predictions.cols());
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
