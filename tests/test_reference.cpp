// The published reference figures: the built-in tables equal data/, every number equals the
// organisers' files in ../shared, and malformed tables give clear errors.
#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "moodboost/error.hpp"
#include "moodboost/reference.hpp"
#include "report_test_util.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace moodboost;
using moodboost::test::number;
using moodboost::test::read_text;
using moodboost::test::tsv_rows;

namespace {

fs::path baselines_dir() { return test::shared_dir() / "data" / "mediaeval2020-baselines"; }

// "| system | year | PR-AUC | ROC-AUC |" rows of the shared README, by system name.
std::map<std::string, std::vector<std::string>> readme_table(const std::string& text) {
  std::map<std::string, std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::size_t start = 1;
    for (std::size_t bar = line.find('|', start); bar != std::string::npos;
         bar = line.find('|', start)) {
      std::string cell = line.substr(start, bar - start);
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
      start = bar + 1;
    }
    if (cells.size() == 4) rows[cells[0]] = cells;
  }
  return rows;
}

}  // namespace

TEST_CASE("reference: the built-in tables are data/ byte for byte", "[reference]") {
  CHECK(builtin_reference_systems_tsv() ==
        read_text(test::source_dir() / "data" / "reference_systems.tsv"));
  CHECK(builtin_reference_per_tag_tsv() ==
        read_text(test::source_dir() / "data" / "reference_per_tag.tsv"));
  const ReferenceTable& table = builtin_references();
  REQUIRE(table.systems.size() == 4);
  const PublishedSystem* vggish = table.find("vggish");
  REQUIRE(vggish != nullptr);
  CHECK(vggish->role == "baseline");
  CHECK(vggish->tracks == 4231);
  CHECK(vggish->tags.size() == 56);
  CHECK(vggish->overall_value("PR-AUC-macro") == 0.107734);
  CHECK_FALSE(vggish->overall_value("ROC-AUC-micro").has_value());
  CHECK(table.find("best-2020")->overall_value("PR-AUC-macro") == 0.1610);
  CHECK_FALSE(table.find("best-2020")->overall_value("ROC-AUC-macro").has_value());
  CHECK(table.find("nonesuch") == nullptr);
}

TEST_CASE("reference: the VGG-ish figures equal the organisers' files", "[reference][shared]") {
  if (!test::require_shared(baselines_dir())) return;
  const PublishedSystem& vggish = *builtin_references().find("vggish");

  const auto per_tag = tsv_rows(read_text(baselines_dir() / "vggish_per_tag.tsv"));
  REQUIRE(per_tag.front() == std::vector<std::string>{"tag", "ROC-AUC", "PR-AUC"});
  REQUIRE(per_tag.size() - 1 == vggish.tags.size());
  for (std::size_t i = 1; i < per_tag.size(); ++i) {
    INFO(per_tag[i][0]);
    CHECK(vggish.tags[i - 1] == per_tag[i][0]);
    CHECK(vggish.roc_auc[i - 1] == number(per_tag[i][1]));
    CHECK(vggish.pr_auc[i - 1] == number(per_tag[i][2]));
  }
  // The per-tag rows follow the vocabulary's order.
  const auto vocabulary = tsv_rows(read_text(test::jamendo_dir() / "tags" / "moodtheme_split.txt"));
  REQUIRE(vocabulary.size() == vggish.tags.size());
  for (std::size_t i = 0; i < vocabulary.size(); ++i) CHECK(vocabulary[i][0] == vggish.tags[i]);

  // Overall: every published metric equal; the ones the organisers left out are "-" here.
  const auto overall = tsv_rows(read_text(baselines_dir() / "vggish_overall.tsv"));
  std::map<std::string, double> published;
  for (const auto& row : overall) published[row.at(0)] = number(row.at(1));
  CHECK(published.size() == 8);
  REQUIRE(vggish.overall.size() == 10);
  for (const auto& [metric, value] : vggish.overall) {
    INFO(metric);
    const auto it = published.find(metric);
    if (it == published.end()) {
      CHECK_FALSE(value.has_value());
    } else {
      REQUIRE(value.has_value());
      CHECK(*value == it->second);
    }
  }
}

TEST_CASE("reference: the reference lines equal the shared README and popular results",
          "[reference][shared]") {
  if (!test::require_shared(baselines_dir())) return;
  const ReferenceTable& table = builtin_references();

  // The popularity baseline: all ten lines of the official results file.
  const auto popular =
      tsv_rows(read_text(test::jamendo_dir() / "mediaeval" / "baseline_popular_results.tsv"));
  const PublishedSystem& popularity = *table.find("popularity");
  REQUIRE(popular.size() == popularity.overall.size());
  for (std::size_t i = 0; i < popular.size(); ++i) {
    INFO(popular[i][0]);
    CHECK(popularity.overall[i].first == popular[i][0]);
    REQUIRE(popularity.overall[i].second.has_value());
    CHECK(*popularity.overall[i].second == number(popular[i][1]));
  }

  // The README's table (four decimals): each figure equals ours, rounded to four decimals; "n/a"
  // is unpublished here too.
  const auto readme = readme_table(read_text(baselines_dir() / "README.md"));
  const std::map<std::string, std::string> ids = {
      {"popularity baseline", "popularity"},
      {"VGG-ish baseline", "vggish"},
      {"best 2019 run (frequency-aware CNN ensemble)", "best-2019"},
      {"best 2020 run (ensemble, extra data)", "best-2020"}};
  for (const auto& [readme_name, id] : ids) {
    INFO(readme_name);
    REQUIRE(readme.count(readme_name) == 1);
    const auto& row = readme.at(readme_name);
    const PublishedSystem& system = *table.find(id);
    const std::pair<std::string, std::string> cells[] = {{"PR-AUC-macro", row[2]},
                                                         {"ROC-AUC-macro", row[3]}};
    for (const auto& [metric, cell] : cells) {
      INFO(metric);
      const auto value = system.overall_value(metric);
      if (cell == "n/a") {
        CHECK_FALSE(value.has_value());
      } else {
        REQUIRE(value.has_value());
        CHECK(std::round(*value * 10000) == std::round(number(cell) * 10000));
      }
    }
  }
}

TEST_CASE("reference: malformed tables name the file and line", "[reference]") {
  const std::string systems =
      "# comment\nid\trole\tyear\ttracks\tname\tPR-AUC-macro\nx\tbaseline\t2020\t10\tX\t0.5\n";
  const std::string per_tag = "system\ttag\tROC-AUC\tPR-AUC\nx\ta\t0.6\t0.1\n";
  const ReferenceTable ok = parse_reference_table(systems, "s.tsv", per_tag, "p.tsv");
  REQUIRE(ok.systems.size() == 1);
  CHECK(ok.systems[0].pr_auc == std::vector<double>{0.1});
  CHECK(ok.systems[0].overall_value("PR-AUC-macro") == 0.5);

  const auto fails = [](const std::string& s, const std::string& p, const std::string& needle) {
    INFO(s << "\n---\n" << p);
    CHECK_THROWS_WITH(parse_reference_table(s, "s.tsv", p, "p.tsv"),
                      Catch::Matchers::Contains(needle));
  };
  fails("id\trole\tyear\ttracks\tname\tPR-AUC-macro\nx\tbaseline\t2020\t10\tX\t1.5\n", per_tag,
        "s.tsv: line 2: column PR-AUC-macro: expected a number in [0, 1], found '1.5'");
  fails("id\trole\tyear\ttracks\tname\tPR-AUC-macro\nx\tbaseline\t2020\t10\tX\n", per_tag,
        "s.tsv: line 2: expected 6 tab-separated columns, found 5");
  fails("id\trole\tyear\ttracks\tname\tPR-AUC-macro\nx\tbaseline\t2020\tmany\tX\t0.1\n", per_tag,
        "s.tsv: line 2: column tracks: expected a whole number, found 'many'");
  fails("id\trole\tyear\ttracks\tname\tPR-AUC-macro\nx\tother\t2020\t10\tX\t0.1\n", per_tag,
        "role: expected 'baseline' or 'reference', found 'other'");
  fails(systems + "x\tbaseline\t2020\t10\tX\t0.5\n", per_tag, "s.tsv: line 4: system id 'x'");
  fails("name\tid\n", per_tag, "s.tsv: line 1: expected the header");
  fails(systems, "system\ttag\tROC-AUC\tPR-AUC\ny\ta\t0.6\t0.1\n",
        "p.tsv: line 2: system 'y' is not in the systems table");
  fails(systems, per_tag + "x\ta\t0.6\t0.1\n", "p.tsv: line 3: tag 'a' of system 'x'");
  fails(systems, "system\ttag\tROC-AUC\tPR-AUC\nx\ta\tnan\t0.1\n",
        "p.tsv: line 2: column ROC-AUC: expected a number in [0, 1], found 'nan'");
}

TEST_CASE("reference: --baseline FILE reads per-tag figures in any column order", "[reference]") {
  test::TempDir dir;
  const fs::path file = dir / "mine.tsv";
  test::write_text(file,
                   "# my run\r\nPR-AUC\tnote\ttag\tROC-AUC\r\n0.2\tx\ta\t0.7\r\n0.4\t\tb\t0.9\r\n");
  const PublishedSystem system = read_per_tag_figures(file, "mine");
  CHECK(system.id == "mine");
  CHECK(system.tags == std::vector<std::string>{"a", "b"});
  CHECK(system.roc_auc == std::vector<double>{0.7, 0.9});
  CHECK(system.pr_auc == std::vector<double>{0.2, 0.4});
  CHECK(system.overall_value("PR-AUC-macro") == Approx(0.3).epsilon(1e-15));
  CHECK(system.overall_value("ROC-AUC-macro") == Approx(0.8).epsilon(1e-15));
  CHECK(system.find_tag("b") == 1u);

  test::write_text(file, "tag\tPR-AUC\na\t0.1\n");
  CHECK_THROWS_WITH(read_per_tag_figures(file, "x"),
                    Catch::Matchers::Contains("line 1: the header has no column 'ROC-AUC'"));
  test::write_text(file, "tag\tROC-AUC\tPR-AUC\na\t0.5\n");
  CHECK_THROWS_WITH(read_per_tag_figures(file, "x"),
                    Catch::Matchers::Contains("line 2: expected at least 3 tab-separated columns"));
  test::write_text(file, "tag\tROC-AUC\tPR-AUC\n");
  CHECK_THROWS_WITH(read_per_tag_figures(file, "x"), Catch::Matchers::Contains("no tag row"));
  CHECK_THROWS_AS(read_per_tag_figures(dir / "missing.tsv", "x"), IoError);
}
