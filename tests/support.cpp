#include "support.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace moodboost::test {
namespace fs = std::filesystem;

fs::path source_dir() { return MOODBOOST_SOURCE_DIR; }

fs::path shared_dir() {
  if (const char* env = std::getenv("MOODBOOST_SHARED_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return MOODBOOST_SHARED_DIR;
}

fs::path jamendo_dir() { return shared_dir() / "data" / "mtg-jamendo"; }
fs::path samples_dir() { return shared_dir() / "data" / "acousticbrainz-samples"; }
fs::path test_data_dir() { return MOODBOOST_TEST_DATA_DIR; }

bool require_shared(const fs::path& path) {
  if (fs::exists(path)) return true;
  std::cout << "MOODBOOST-SKIP: " << path.string()
            << " not found (the shared reference data sits beside the project in CI; a clone "
               "without it skips this test)\n";
  std::cerr << "MOODBOOST-SKIP: " << path.string() << " not found\n";
  return false;
}

TempDir::TempDir() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const fs::path base = fs::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate = base / ("moodboost-test-" + std::to_string(rng()));
    if (fs::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_text(const fs::path& path, const std::string& content) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path cli_path() {
#ifdef MOODBOOST_CLI
  return MOODBOOST_CLI;
#else
  throw std::runtime_error("the moodboost program is not built (MOODBOOST_BUILD_APPS=OFF)");
#endif
}

namespace {

std::string drain(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

RunResult run_program(const fs::path& program, const std::vector<std::string>& args) {
  // stdout and stderr go to temporary files, so that neither pipe can fill up and block.
  TempDir tmp;
  const fs::path out_path = tmp / "stdout", err_path = tmp / "stderr";
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out_fd < 0 || err_fd < 0) ::_exit(127);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    std::vector<char*> argv;
    std::string prog = program.string();
    argv.push_back(prog.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(prog.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  RunResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  const int out_fd = ::open(out_path.c_str(), O_RDONLY);
  const int err_fd = ::open(err_path.c_str(), O_RDONLY);
  if (out_fd >= 0) {
    result.out = drain(out_fd);
    ::close(out_fd);
  }
  if (err_fd >= 0) {
    result.err = drain(err_fd);
    ::close(err_fd);
  }
  return result;
}

RunResult run_cli(const std::vector<std::string>& args) { return run_program(cli_path(), args); }

fs::path python_with(const std::vector<std::string>& modules) {
  const fs::path python = "/usr/bin/python3";
  if (!fs::exists(python)) {
    std::cout << "MOODBOOST-SKIP: /usr/bin/python3 not found\n";
    return {};
  }
  std::string code = "import sys\n";
  for (const auto& m : modules) code += "import " + m + "\n";
  const RunResult r = run_program(python, {"-c", code});
  if (r.exit_code != 0) {
    std::cout << "MOODBOOST-SKIP: /usr/bin/python3 cannot import the modules this test needs: "
              << r.err << "\n";
    return {};
  }
  return python;
}

}  // namespace moodboost::test
