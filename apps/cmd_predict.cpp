// `moodboost predict`: a model directory's scores and decisions for one split (the MediaEval
// submission format), and its evaluation when the split has labels.
#include <memory>

#include "command.hpp"
#include "split_options.hpp"
#include "train_common.hpp"

namespace moodboost::app {
namespace {

struct PredictOptions {
  std::filesystem::path model;
  std::filesystem::path features;
  std::filesystem::path split;
  std::filesystem::path out_dir;
  std::string models = "default";
  FeatureCliOptions loader;
  bool no_evaluate = false;
  UnknownTagPolicy unknown_tags = UnknownTagPolicy::kError;
};

const RegisterCommand kPredict{
    {"predict",
     "Write predictions.npy (float64) and decisions.npy (bool) for a split, rows in split order "
     "and columns in tag order, plus results.tsv/results.json",
     40, [](CLI::App& sub) -> CommandRunner {
       auto o = std::make_shared<PredictOptions>();
       sub.add_option("--model", o->model, "Model directory written by `moodboost train`")
           ->required();
       sub.add_option("--features", o->features, "Directory of the feature files")->required();
       sub.add_option("--split", o->split, "Split TSV whose tracks to predict")->required();
       sub.add_option("--out-dir", o->out_dir, "Output directory")->required();
       sub.add_option("--models", o->models,
                      "default (the refit models when the run made them), train or refit")
           ->check(CLI::IsMember({"default", "train", "refit"}))
           ->capture_default_str();
       add_feature_options(sub, o->loader, /*column_selection=*/false, /*with_execution=*/true);
       sub.add_flag("--no-evaluate", o->no_evaluate, "Do not write results.tsv/results.json");
       add_unknown_tags_option(sub, o->unknown_tags,
                               "A split tag that is not one of the model's tags: error "
                               "(default), or ignore (the evaluation leaves that label out)");
       return [o] {
         return run_predict(o->model, o->features, o->split, o->out_dir,
                            parse_model_choice(o->models), o->loader, !o->no_evaluate,
                            o->unknown_tags);
       };
     }}};

}  // namespace
}  // namespace moodboost::app
