// load -> train -> predict -> evaluate with the installed library.
// Usage: consumer DATA_DIR OUT_DIR   (DATA_DIR as `moodboost synth` writes it)
#include <cstdio>
#include <filesystem>
#include <moodboost/pipeline.hpp>

int main(int argc, char** argv) try {
  namespace mb = moodboost;
  if (argc != 3) return std::fprintf(stderr, "usage: consumer DATA_DIR OUT_DIR\n"), 2;
  const std::filesystem::path data = argv[1], out = argv[2];
  mb::TrainingInputs inputs;
  inputs.features = data / "features";
  inputs.splits = mb::find_split_files(data / "splits");
  inputs.tags = data / "tags.txt";
  const mb::TrainingData training = mb::load_training_data(inputs);

  mb::TrainOptions options;  // the CLI's options; a quick run here
  options.family = "tree";
  options.cv = "0";
  options.rounds = 20;
  mb::RunSettings settings = mb::make_run_settings(options, mb::Device::kCpu);
  std::printf("%s\n", mb::resolve_selection(settings, options, training.train_x.rows()).c_str());
  mb::train_model_dir(training, settings, out / "model");

  const mb::LoadedModel model(out / "model", mb::ModelChoice::kDefault);
  const mb::SplitPrediction test =
      mb::predict_split(model, out / "model", inputs.features, inputs.splits.test, {}, true,
                        mb::UnknownTagPolicy::kError);
  mb::write_split_prediction(test, model.tags(), out / "test");
  std::printf("test ROC-AUC-macro %.4f, PR-AUC-macro %.4f\n", test.evaluation->macro.roc_auc,
              test.evaluation->macro.pr_auc);
  return test.evaluation->macro.roc_auc > 0.5 ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "consumer: %s\n", e.what());
  return 1;
}
