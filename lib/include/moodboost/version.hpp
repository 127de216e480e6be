/// \file version.hpp
/// Versions of moodboost and of the XGBoost it is linked against.
#pragma once

#include <string>

namespace moodboost {

/// moodboost's own version, "MAJOR.MINOR.PATCH".
std::string version();

/// The linked XGBoost's version, "MAJOR.MINOR.PATCH" (from XGBoostVersion()).
std::string xgboost_version();

/// XGBuildInfo() of the linked XGBoost, as its JSON text.
std::string xgboost_build_info();

/// True when the linked XGBoost was built with CUDA (XGBuildInfo() "USE_CUDA").
bool xgboost_has_cuda();

}  // namespace moodboost
