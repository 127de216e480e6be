// Helpers shared by the libFuzzer harnesses: invariant checks that abort (so that libFuzzer
// records the input as a crash), a per-process scratch file for the readers that take a path,
// and the check that every error names its file.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "moodboost/error.hpp"

namespace moodboost::fuzz {

/// Reports a broken invariant and aborts: libFuzzer saves the input as crash-<sha1>.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "moodboost fuzz: invariant broken: %s\n", what.c_str());
  std::abort();
}

/// Aborts with \p what unless \p condition holds.
inline void check(bool condition, const std::string& what) {
  if (!condition) fail(what);
}

/// A file that the readers taking a path can read the input from: in /dev/shm when it exists
/// (no disk I/O per execution), else the temp directory; one per process (libFuzzer -jobs/-fork
/// run several). \p name distinguishes the files of one harness.
inline std::filesystem::path scratch_path(const std::string& name) {
  static const std::filesystem::path dir = [] {
    std::error_code ec;
    const std::filesystem::path shm = "/dev/shm";
    return std::filesystem::is_directory(shm, ec) && ::access(shm.c_str(), W_OK) == 0
               ? shm
               : std::filesystem::temp_directory_path();
  }();
  return dir / ("moodboost-fuzz-" + std::to_string(::getpid()) + "-" + name);
}

/// Writes \p bytes to \p path (truncating). Aborts when it cannot: that is the harness's fault.
inline void write_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fail("cannot write the scratch file " + path.string());
}

/// Reads a whole file (the fixture). Aborts when it cannot.
inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Every ParseError names its file first: "<file>: <place>: <message>".
inline void check_names_file(const ParseError& e, const std::filesystem::path& file) {
  check(e.file() == file, "ParseError names " + e.file().string() + " instead of " + file.string());
  const std::string prefix = file.string() + ": ";
  check(std::string_view(e.what()).starts_with(prefix),
        std::string("ParseError message does not start with the file: ") + e.what());
  check(std::string_view(e.what()).size() > prefix.size() + e.place().size(),
        std::string("ParseError without a message: ") + e.what());
}

/// Runs \p body; a moodboost::Error is passed to \p on_error (which may check it), anything else
/// escaping (std::bad_alloc, std::out_of_range, ...) is a bug: abort.
template <typename Body, typename OnError>
void guarded(const char* what, Body body, OnError on_error) {
  try {
    body();
  } catch (const Error& e) {
    on_error(e);
  } catch (const std::exception& e) {
    fail(std::string(what) + ": a non-moodboost exception escaped: " + e.what());
  }
}

}  // namespace moodboost::fuzz
