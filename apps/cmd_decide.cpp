// `moodboost decide`: per-tag decision thresholds that maximise F1, as the official MediaEval
// calculate_decisions.py (same arguments, printed lines and thresholds file).
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "matrix_args.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/io.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/metrics_format.hpp"
#include "moodboost/npy.hpp"
#include "validators.hpp"

namespace moodboost::app {
namespace {

struct DecideArgs {
  MatrixArgs matrices;
  std::string thresholds;
  std::string tags;
  std::string decisions;
};

int run_decide(const DecideArgs& args) {
  check_outputs({{"THRESHOLDS_OUT", args.thresholds}, {"--decision-file", args.decisions}},
                {{"GROUNDTRUTH", args.matrices.groundtruth},
                 {"PREDICTIONS", args.matrices.predictions},
                 {"TAGS", args.tags}});
  const LabelMatrix groundtruth = args.matrices.read_groundtruth();
  const ScoreMatrix predictions = args.matrices.read_predictions();
  const std::vector<std::string> tags = read_tag_list(args.tags);
  if (predictions.rows() != groundtruth.rows() || predictions.cols() != groundtruth.cols()) {
    throw DataError(
        fmt::format("{}: prediction matrix dimensions ({}, {}) don't match the ground "
                    "truth {} ({}, {})",
                    args.matrices.predictions, predictions.rows(), predictions.cols(),
                    args.matrices.groundtruth, groundtruth.rows(), groundtruth.cols()));
  }
  if (tags.size() != static_cast<std::size_t>(groundtruth.cols())) {
    throw DataError(fmt::format("number of tags in {} ({}) doesn't match the matrices ({})",
                                args.tags, tags.size(), groundtruth.cols()));
  }
  const Decisions decided = decide(groundtruth, predictions);
  fmt::print("{}", format_thresholds_display(tags, decided.thresholds));
  write_file_atomic(args.thresholds, format_thresholds_file(tags, decided.thresholds));
  if (!args.decisions.empty()) write_label_matrix(args.decisions, decided.decisions);
  return kExitOk;
}

const RegisterCommand kDecide{
    {"decide",
     "Choose per-tag thresholds that maximise F1 and make decisions, as the official MediaEval "
     "calculate_decisions.py",
     30, [](CLI::App& sub) -> CommandRunner {
       auto args = std::make_shared<DecideArgs>();
       args->matrices.add_to(sub);
       sub.add_option("THRESHOLDS_OUT", args->thresholds,
                      "Write the thresholds here: tag<TAB>threshold lines in tag order")
           ->required();
       sub.add_option("TAGS", args->tags, "Tag list, one per line, in matrix column order")
           ->required()
           ->check(CLI::ExistingFile);
       sub.add_option("--decision-file", args->decisions,
                      "Also write the decisions (predictions > threshold) as a bool NPY file");
       sub.footer(
           "A tag's threshold is the distinct score with the best F1 along its precision-recall "
           "curve (the lowest on ties); decisions are score > threshold (strict), as in "
           "calculate_decisions.py.");
       return [args] { return run_decide(*args); };
     }}};

}  // namespace
}  // namespace moodboost::app
