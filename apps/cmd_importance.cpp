// `moodboost importance`: which descriptors carry each tag, from XGBoost's feature scores of a
// model directory's boosters; writes importance.md/.tsv/.json/.html.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "command.hpp"
#include "moodboost/importance.hpp"
#include "validators.hpp"

namespace moodboost::app {
namespace {

struct ImportanceArgs {
  std::string model;
  std::string out_dir;
  std::string type = "gain";
  std::size_t top = 20;
};

int run_importance(const ImportanceArgs& args) {
  const ImportanceReport report =
      model_importance(args.model, parse_importance_type(args.type), args.top);
  const auto files = write_importance_reports(report, args.out_dir);
  fmt::print("{}\n", report.title);
  const auto ranking = report.global_ranking();
  for (std::size_t i = 0; i < ranking.size() && i < 5; ++i) {
    fmt::print("  {}. {} ({:.4f} of a tag's {}, mean over tags)\n", i + 1,
               report.columns[ranking[i]].name, report.global[ranking[i]], args.type);
  }
  if (!report.groups.empty()) {
    fmt::print("  top family: {} ({:.4f}); {} of {} columns never used in a split\n",
               report.groups.front(), report.group_global.front(), report.unused_columns,
               report.columns.size());
  }
  for (const auto& file : files) fmt::print("wrote {}\n", file.string());
  fmt::print("open {} in a browser\n", files.back().string());
  return kExitOk;
}

const RegisterCommand kImportance{
    {"importance",
     "Feature importance of a model's boosters per tag and overall, by column, descriptor family "
     "and statistic (Markdown, TSV, JSON, HTML)",
     70, [](CLI::App& sub) -> CommandRunner {
       auto args = std::make_shared<ImportanceArgs>();
       sub.add_option("--model", args->model, "Model directory written by `moodboost train`")
           ->required()
           ->check(CLI::ExistingDirectory);
       sub.add_option("--out-dir", args->out_dir,
                      "Directory for importance.md, importance.tsv, importance.json, "
                      "importance.html")
           ->required();
       sub.add_option("--type", args->type, "XGBoost importance type")
           ->check(CLI::IsMember({"gain", "total_gain", "weight", "cover", "total_cover"}))
           ->capture_default_str();
       sub.add_option("--top", args->top, "Columns listed per tag and overall")
           ->check(whole_number(1, 100000))
           ->capture_default_str();
       return [args] { return run_importance(*args); };
     }}};

}  // namespace
}  // namespace moodboost::app
