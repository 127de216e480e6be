/// \file error.hpp
/// The one exception hierarchy of moodboost. The library throws; only apps/ prints.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace moodboost {

/// Base of every error moodboost throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A file could not be opened, read, written or renamed. what(): "<path>: <message>".
class IoError : public Error {
 public:
  /// \param path the file concerned; \param message what failed (e.g. from std::strerror).
  IoError(std::filesystem::path path, const std::string& message);
  /// The file concerned.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// Malformed input. what(): "<file>: <place>: <message>", e.g.
/// "features/48/948.json: /lowlevel/mfcc/cov/3: expected 13 numbers, found 12" or
/// "train.tsv: line 12: expected at least 6 tab-separated columns, found 4".
class ParseError : public Error {
 public:
  /// \param file the input; \param place line ("line 12"), JSON pointer or byte offset;
  /// \param message what was expected and what was found.
  ParseError(std::filesystem::path file, std::string place, const std::string& message);
  /// The malformed file.
  [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }
  /// Where in the file: "line 12", "/lowlevel/mfcc/cov/3", "byte 4096", or empty.
  [[nodiscard]] const std::string& place() const noexcept { return place_; }

 private:
  std::filesystem::path file_;
  std::string place_;
};

/// Inputs that are individually well-formed but inconsistent or unusable together
/// (shape mismatch, a tag without positives where a metric needs one, ...).
class DataError : public Error {
 public:
  using Error::Error;
};

/// A caller passed an invalid option or argument.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// An XGBoost C API call failed. what(): "<call>: <XGBGetLastError()>".
class XgbError : public Error {
 public:
  /// \param call the C API call as written; \param xgb_message XGBGetLastError() at the time.
  XgbError(std::string call, const std::string& xgb_message);
  /// The failed call, e.g. "XGBoosterUpdateOneIter(booster, iter, dtrain)".
  [[nodiscard]] const std::string& call() const noexcept { return call_; }

 private:
  std::string call_;
};

}  // namespace moodboost
