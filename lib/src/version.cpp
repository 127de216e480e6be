#include "moodboost/version.hpp"

#include <xgboost/c_api.h>

#include <string_view>

#include "moodboost/error.hpp"
#include "moodboost_build_config.hpp"

namespace moodboost {

std::string version() { return MOODBOOST_VERSION_STRING; }

std::string xgboost_version() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::string xgboost_build_info() {
  const char* info = nullptr;
  if (XGBuildInfo(&info) != 0) throw XgbError("XGBuildInfo(&info)", XGBGetLastError());
  return info != nullptr ? std::string(info) : std::string("{}");
}

bool xgboost_has_cuda() {
  // XGBuildInfo() is a flat JSON object; "USE_CUDA":true appears only in CUDA builds.
  const std::string info = xgboost_build_info();
  const auto key = info.find("\"USE_CUDA\"");
  if (key == std::string::npos) return false;
  const auto colon = info.find(':', key);
  if (colon == std::string::npos) return false;
  const auto value = std::string_view(info).substr(colon + 1);
  const auto start = value.find_first_not_of(" \t\n");
  return start != std::string_view::npos && value.substr(start, 4) == "true";
}

}  // namespace moodboost
