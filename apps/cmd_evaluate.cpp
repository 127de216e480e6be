// `moodboost evaluate`: the official MediaEval evaluation (evaluate.py), same arguments, same
// printed lines, byte-identical results file; --format json adds per-tag values.
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

namespace moodboost::app {
namespace {

struct EvaluateArgs {
  MatrixArgs matrices;
  std::string decisions;
  std::string results;
  std::string format = "text";
  std::string tags;
  bool exclude_single_class = false;
};

int run_evaluate(const EvaluateArgs& args) {
  const LabelMatrix groundtruth = args.matrices.read_groundtruth();
  const ScoreMatrix predictions = args.matrices.read_predictions();
  EvaluateOptions options;
  options.groundtruth_name = args.matrices.groundtruth;
  options.predictions_name = args.matrices.predictions;
  options.decisions_name = args.decisions;
  if (args.exclude_single_class) options.single_class_tags = SingleClassTagPolicy::kExclude;
  if (!args.tags.empty()) {
    options.tag_names = read_tag_list(args.tags);
    if (options.tag_names.size() != static_cast<std::size_t>(groundtruth.cols())) {
      throw DataError(fmt::format("{} lists {} tags but {} has {} columns", args.tags,
                                  options.tag_names.size(), args.matrices.groundtruth,
                                  groundtruth.cols()));
    }
  }

  const Evaluation evaluation =
      args.decisions.empty()
          ? evaluate(groundtruth, predictions, options)
          : evaluate(groundtruth, predictions, read_label_matrix(args.decisions), options);

  if (args.format == "json") {
    fmt::print("{}", format_results_json(evaluation, options.tag_names));
  } else {
    fmt::print("{}", format_results_display(evaluation));
  }
  if (!evaluation.excluded_tags.empty()) {
    fmt::print(stderr,
               "moodboost evaluate: note: {} single-class tag(s) left out of the macro AUCs "
               "(columns {})\n",
               evaluation.excluded_tags.size(), fmt::join(evaluation.excluded_tags, ", "));
  }
  if (!args.results.empty()) write_file_atomic(args.results, format_results_file(evaluation));
  return kExitOk;
}

const RegisterCommand kEvaluate{
    {"evaluate",
     "Score predictions (and decisions) against a ground truth, as the official MediaEval "
     "evaluate.py",
     20, [](CLI::App& sub) -> CommandRunner {
       auto args = std::make_shared<EvaluateArgs>();
       args->matrices.add_to(sub);
       sub.add_option("-d,--decision-file,--decision_file", args->decisions,
                      "NPY file with binary decisions (bool): adds precision, recall and F-score")
           ->check(CLI::ExistingFile);
       sub.add_option("-o,--output-file", args->results,
                      "Write the metrics here as name<TAB>value lines (six decimals), exactly as "
                      "evaluate.py does");
       sub.add_option("--format", args->format,
                      "What to print: text (evaluate.py's lines) or json (with per-tag values)")
           ->check(CLI::IsMember({"text", "json"}));
       sub.add_option("--tags", args->tags,
                      "Tag list (one per line, column order) to name the tags in --format json")
           ->check(CLI::ExistingFile);
       sub.add_flag("--exclude-single-class-tags", args->exclude_single_class,
                    "Leave a tag with no positive (or no negative) out of the macro AUCs, with "
                    "NaN AUCs, instead of stopping with an error as evaluate.py does");
       return [args] { return run_evaluate(*args); };
     }}};

}  // namespace
}  // namespace moodboost::app
