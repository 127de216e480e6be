// `moodboost run`: train, predict the test split, evaluate; one command, one output directory.
#include <fmt/format.h>

#include <memory>

#include "command.hpp"
#include "split_options.hpp"
#include "train_common.hpp"

namespace moodboost::app {
namespace {

const RegisterCommand kRun{
    {"run", "Train (into OUT/model), predict the test split and evaluate it (into OUT/test)", 45,
     [](CLI::App& sub) -> CommandRunner {
       auto splits = std::make_shared<SplitOptions>();
       auto options = std::make_shared<TrainCliOptions>();
       add_split_options(sub, *splits);
       add_train_options(sub, *options);
       sub.get_option("--out")->description(
           "Output directory: OUT/model (the model directory) and OUT/test (predictions, "
           "decisions, results)");
       return [splits, options, &sub] {
         const SplitFiles files =
             resolve_split_files(*splits, {.train = true, .validation = true, .test = true});
         TrainCliOptions train = *options;
         const std::filesystem::path out = options->out;
         train.out = out / "model";
         // Training gets the train and validation files only; the test split is read after it.
         SplitFiles training_files = files;
         training_files.test.clear();
         const int code = run_train(train, training_files, splits->tags, splits->unknown_tags,
                                    command_line_of("run", sub));
         if (code != kExitOk) return code;
         std::fprintf(stderr, "predicting the test split %s\n", files.test.string().c_str());
         return run_predict(train.out, options->features, files.test, out / "test",
                            ModelChoice::kDefault, options->loader, true, splits->unknown_tags);
       };
     }}};

}  // namespace
}  // namespace moodboost::app
