// Helpers shared by the test files: where the reference data is, temporary directories,
// running the moodboost program, and skipping visibly when ../shared is absent.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace moodboost::test {

/// The project's source directory.
std::filesystem::path source_dir();
/// ../shared beside the project (or $MOODBOOST_SHARED_DIR).
std::filesystem::path shared_dir();
/// shared_dir()/data/mtg-jamendo.
std::filesystem::path jamendo_dir();
/// shared_dir()/data/acousticbrainz-samples.
std::filesystem::path samples_dir();
/// tests/data: the project's own small fixtures.
std::filesystem::path test_data_dir();

/// True when \p path exists; otherwise prints "MOODBOOST-SKIP: <why>" (ctest reports the test as
/// skipped) and returns false. Use as: `if (!require_shared(dir)) return;`
bool require_shared(const std::filesystem::path& path);

/// A fresh directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// Writes \p content to \p path (creating parent directories), byte for byte.
void write_text(const std::filesystem::path& path, const std::string& content);
/// Reads a whole file.
std::string read_text(const std::filesystem::path& path);

/// Result of running a command.
struct RunResult {
  int exit_code = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// Path of the built moodboost program.
std::filesystem::path cli_path();
/// Runs the moodboost program with \p args (no shell involved) and captures its output.
RunResult run_cli(const std::vector<std::string>& args);
/// Runs an arbitrary program with \p args and captures its output.
RunResult run_program(const std::filesystem::path& program, const std::vector<std::string>& args);

/// Debian's /usr/bin/python3 when it can import every module in \p modules (e.g. {"numpy"});
/// otherwise empty, after printing MOODBOOST-SKIP with the reason.
std::filesystem::path python_with(const std::vector<std::string>& modules);

}  // namespace moodboost::test
