// `moodboost train`: one XGBoost booster per tag into a model directory (resumable).
#include <memory>

#include "command.hpp"
#include "split_options.hpp"
#include "train_common.hpp"

namespace moodboost::app {
namespace {

const RegisterCommand kTrain{
    {"train",
     "Train one booster per tag on the training split, tuned and early-stopped on the validation "
     "split (the test split is never read)",
     30, [](CLI::App& sub) -> CommandRunner {
       auto splits = std::make_shared<SplitOptions>();
       auto options = std::make_shared<TrainCliOptions>();
       add_split_options(sub, *splits);
       add_train_options(sub, *options);
       return [splits, options, &sub] {
         // Only the train and validation files are resolved and opened: --test is ignored.
         const SplitFiles files = resolve_split_files(*splits, {.train = true, .validation = true});
         return run_train(*options, files, splits->tags, splits->unknown_tags,
                          command_line_of("train", sub));
       };
     }}};

}  // namespace
}  // namespace moodboost::app
