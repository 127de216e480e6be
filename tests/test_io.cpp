#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "detail/file_buffer.hpp"
#include "moodboost/error.hpp"
#include "moodboost/io.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

std::size_t count_entries(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("write_file_atomic: the file appears whole and no temporary file is left", "[io]") {
  test::TempDir dir;
  const fs::path out = dir / "sub" / "out.txt";
  write_file_atomic(out, "hello\n");
  CHECK(test::read_text(out) == "hello\n");
  write_file_atomic(out, "replaced");
  CHECK(test::read_text(out) == "replaced");
  CHECK(count_entries(dir.path() / "sub") == 1);
}

TEST_CASE("AtomicFile: an uncommitted file leaves the old output untouched", "[io]") {
  test::TempDir dir;
  const fs::path out = dir / "model.json";
  write_file_atomic(out, "old");
  {
    AtomicFile file(out);
    file.write("new but never committed");
  }
  CHECK(test::read_text(out) == "old");
  CHECK(count_entries(dir.path()) == 1);
}

TEST_CASE("AtomicFile: large writes bypass the buffer and arrive intact", "[io]") {
  test::TempDir dir;
  std::string big(3u << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096)
    big[i] = static_cast<char>('a' + (i / 4096) % 26);
  AtomicFile file(dir / "big.bin");
  file.write("head");
  file.write(big.data(), big.size());
  file.commit();
  CHECK(test::read_text(dir / "big.bin") == "head" + big);
}

TEST_CASE("read_file: refuses a file over the size limit and names it", "[io]") {
  test::TempDir dir;
  test::write_text(dir / "f.json", std::string(100, ' '));
  CHECK(read_file(dir / "f.json", 100).size() == 100);
  REQUIRE_THROWS_AS(read_file(dir / "f.json", 99), IoError);
  REQUIRE_THROWS_WITH(read_file(dir / "f.json", 99),
                      Catch::Contains("f.json") && Catch::Contains("over the 99-byte limit"));
  REQUIRE_THROWS_WITH(read_file(dir / "missing.json"),
                      Catch::Contains("missing.json") && Catch::Contains("cannot open"));
}

TEST_CASE("ReadableFile: the one open-and-check of every input file", "[io]") {
  test::TempDir dir;
  test::write_text(dir / "sub/a.json", "hello");
  const detail::Directory features(dir.path());
  const std::string a = (dir / "sub/a.json").string();
  {
    const detail::ReadableFile file(&features, "sub/a.json", 5, "");
    REQUIRE(file.is_open());
    CHECK(file.size() == 5);
    CHECK(file.stamp().size == 5);
    struct stat st {};
    REQUIRE(::stat(a.c_str(), &st) == 0);
    CHECK(file.stamp().inode == static_cast<std::uint64_t>(st.st_ino));
    std::string bytes(file.size(), '\0');
    CHECK(file.read_into(bytes.data()) == 5);
    CHECK(bytes == "hello");
  }
  // Relative to the working directory when no directory is given (read_file()'s way).
  CHECK(detail::ReadableFile(nullptr, a.c_str(), 5, "").size() == 5);
  // Missing: not open when that is allowed, else an error naming the file under the directory.
  CHECK_FALSE(detail::ReadableFile(&features, "sub/b.json", 5, "", true).is_open());
  CHECK_FALSE(detail::ReadableFile(&features, "sub/a.json/x", 5, "", true).is_open());  // ENOTDIR
  CHECK_THROWS_MATCHES(detail::ReadableFile(&features, "sub/b.json", 5, ""), IoError,
                       Catch::Matchers::Message((dir / "sub/b.json").string() +
                                                ": cannot open: No such file or directory"));
  // Over the limit: the caller's note follows the limit.
  CHECK_THROWS_MATCHES(
      detail::ReadableFile(&features, "sub/a.json", 4, " (raise it with --x)"), IoError,
      Catch::Matchers::Message(a + ": file is 5 bytes, over the 4-byte limit (raise it with --x)"));
  // Not a regular file, even when it exists and missing files are allowed.
  CHECK_THROWS_MATCHES(
      detail::ReadableFile(&features, "sub", 5, "", true), IoError,
      Catch::Matchers::Message((dir / "sub").string() + ": is a directory, not a regular file"));
}

TEST_CASE("ParseError: the message names file, place and problem", "[io]") {
  const ParseError e("features/48/948.json", "/lowlevel/mfcc/cov/3",
                     "expected 13 numbers, found 12");
  CHECK(std::string(e.what()) ==
        "features/48/948.json: /lowlevel/mfcc/cov/3: expected 13 numbers, found 12");
  CHECK(e.place() == "/lowlevel/mfcc/cov/3");
}
