// moodboost: git-style front end over the library. Only this layer prints and picks exit codes.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "moodboost/error.hpp"
#include "moodboost/version.hpp"

namespace moodboost::app {
namespace {

std::vector<CommandSpec>& registry() {
  static std::vector<CommandSpec> commands;
  return commands;
}

}  // namespace

RegisterCommand::RegisterCommand(CommandSpec spec) { registry().push_back(std::move(spec)); }

}  // namespace moodboost::app

int main(int argc, char** argv) {
  using namespace moodboost;
  using namespace moodboost::app;

  CLI::App app{
      "moodboost: gradient-boosted music mood/theme auto-tagging on Essentia "
      "music-extractor (AcousticBrainz JSON) features, scored exactly as the MediaEval "
      "Emotion and Theme Recognition task."};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] {
    return fmt::format("moodboost {} (XGBoost {}{})", version(), xgboost_version(),
                       xgboost_has_cuda() ? ", CUDA" : "");
  });

  auto specs = registry();
  std::stable_sort(specs.begin(), specs.end(),
                   [](const CommandSpec& a, const CommandSpec& b) { return a.order < b.order; });
  std::map<const CLI::App*, CommandRunner> runners;
  for (const auto& spec : specs) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    runners[sub] = spec.setup(*sub);
  }

  // An unknown command is named as such (CLI11 would say "A subcommand is required").
  if (argc > 1 && argv[1][0] != '-') {
    const std::string wanted = argv[1];
    std::string known;
    bool found = false;
    for (const auto& spec : specs) {
      found = found || spec.name == wanted;
      known += (known.empty() ? "" : ", ") + spec.name;
    }
    if (!found) {
      std::fprintf(stderr,
                   "moodboost: unknown command '%s'; the commands are: %s (moodboost --help)\n",
                   wanted.c_str(), known.c_str());
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0 through CLI11; every other parse error is a usage error.
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  const CLI::App* chosen = app.get_subcommands().front();
  try {
    return runners.at(chosen)();
  } catch (const InvalidArgument& e) {
    std::fprintf(stderr, "moodboost %s: error: %s\n", chosen->get_name().c_str(), e.what());
    return kExitUsage;
  } catch (const Error& e) {
    std::fprintf(stderr, "moodboost %s: error: %s\n", chosen->get_name().c_str(), e.what());
    return kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moodboost %s: internal error: %s\n", chosen->get_name().c_str(),
                 e.what());
    return kExitError;
  }
}
