#include <catch2/catch.hpp>
#include <filesystem>

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

TEST_CASE("ParseError: the message names file, place and problem", "[io]") {
  const ParseError e("features/48/948.json", "/lowlevel/mfcc/cov/3",
                     "expected 13 numbers, found 12");
  CHECK(std::string(e.what()) ==
        "features/48/948.json: /lowlevel/mfcc/cov/3: expected 13 numbers, found 12");
  CHECK(e.place() == "/lowlevel/mfcc/cov/3");
}
