// `moodboost version`: versions and build facts, for bug reports and manifests.
#include <fmt/format.h>

#include "command.hpp"
#include "moodboost/version.hpp"

namespace moodboost::app {
namespace {

const RegisterCommand kVersion{
    {"version", "Print moodboost's and XGBoost's versions and XGBoost's build info", 1000,
     [](CLI::App& /*sub*/) -> CommandRunner {
       return [] {
         fmt::print("moodboost {}\nXGBoost {}{}\nXGBoost build info: {}\n", version(),
                    xgboost_version(), xgboost_has_cuda() ? " (CUDA)" : " (CPU only)",
                    xgboost_build_info());
         return kExitOk;
       };
     }}};

}  // namespace
}  // namespace moodboost::app
