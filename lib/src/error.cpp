#include "moodboost/error.hpp"

#include <utility>

namespace moodboost {
namespace {

std::string join_place(const std::filesystem::path& file, const std::string& place,
                       const std::string& message) {
  std::string out = file.string();
  if (!place.empty()) out += ": " + place;
  out += ": " + message;
  return out;
}

}  // namespace

IoError::IoError(std::filesystem::path path, const std::string& message)
    : Error(path.string() + ": " + message), path_(std::move(path)) {}

ParseError::ParseError(std::filesystem::path file, std::string place, const std::string& message)
    : Error(join_place(file, place, message)), file_(std::move(file)), place_(std::move(place)) {}

XgbError::XgbError(std::string call, const std::string& xgb_message)
    : Error(call + ": " + xgb_message), call_(std::move(call)) {}

}  // namespace moodboost
