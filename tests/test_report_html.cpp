// The HTML reports in a real browser: Debian's headless Chromium takes a screenshot of each page
// (a PNG of the requested size that is not blank), the SVG charts render with a non-zero size,
// and the page logs nothing to the console (no error, no blocked resource, no uncaught exception).
// Skipped visibly (MOODBOOST-SKIP) where Chromium is not installed.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "moodboost/compare.hpp"
#include "moodboost/importance.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace moodboost;

namespace {

constexpr int kWindowWidth = 1200;
constexpr int kWindowHeight = 2400;

// $MOODBOOST_CHROMIUM, else Debian's chromium.
fs::path find_chromium() {
  if (const char* env = std::getenv("MOODBOOST_CHROMIUM"); env != nullptr && *env != '\0') {
    return env;
  }
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (fs::exists(candidate)) return candidate;
  }
  return {};
}

bool require_chromium(const fs::path& chromium) {
  if (!chromium.empty()) return true;
  std::cout << "MOODBOOST-SKIP: chromium not found (install Debian's chromium package, as "
               "scripts/install-deps.sh --test does, or set MOODBOOST_CHROMIUM)\n";
  return false;
}

// Runs headless Chromium on \p page with a fresh profile, under a time limit, as root-safe as the
// CI container needs (--no-sandbox), without any network activity of its own.
test::RunResult run_chromium(const fs::path& chromium, const fs::path& work,
                             const std::string& profile, const std::vector<std::string>& extra,
                             const fs::path& page) {
  std::vector<std::string> args = {"60",
                                   chromium.string(),
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--user-data-dir=" + (work / profile).string(),
                                   "--enable-logging=stderr",
                                   "--v=0"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("file://" + fs::absolute(page).string());
  return test::run_program("/usr/bin/timeout", args);
}

// Console messages of the page: Chromium logs every console call, uncaught exception and
// Content-Security-Policy violation as "INFO:CONSOLE..." lines on stderr.
std::vector<std::string> console_lines(const std::string& err) {
  std::vector<std::string> lines;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos) {
      lines.push_back(line);
    }
  }
  return lines;
}

std::uint32_t big_endian(const std::string& bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

// One rendered chart: its on-screen size and how many shapes and texts it holds.
struct ChartBox {
  double width = 0;
  double height = 0;
  int elements = 0;
};

// Appended to a copy of the page (whose Content-Security-Policy, which forbids scripts, is
// removed from the copy only): writes each chart's bounding box into the DOM for --dump-dom.
constexpr const char* kMeasureScript = R"(<script>
(() => {
  const boxes = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const r = svg.getBoundingClientRect();
    const n = svg.querySelectorAll('rect, circle, line, text').length;
    boxes.push(r.width.toFixed(1) + 'x' + r.height.toFixed(1) + 'x' + n);
  }
  const out = document.createElement('pre');
  out.id = 'moodboost-measure';
  out.textContent = 'MEASURE[' + boxes.join(' ') + ']';
  document.body.appendChild(out);
})();
</script>)";

std::vector<ChartBox> parse_measure(const std::string& dom) {
  // The element the script added (the script's own source text also contains "MEASURE[").
  const std::string start = "<pre id=\"moodboost-measure\">MEASURE[";
  const std::size_t begin = dom.find(start);
  REQUIRE(begin != std::string::npos);
  const std::size_t end = dom.find("]</pre>", begin);
  REQUIRE(end != std::string::npos);
  std::vector<ChartBox> boxes;
  std::istringstream in(dom.substr(begin + start.size(), end - begin - start.size()));
  std::string item;
  while (in >> item) {
    // "<width>x<height>x<elements>"
    INFO("measured: " << item);
    ChartBox box;
    char x1 = 0, x2 = 0;
    std::istringstream fields(item);
    REQUIRE(static_cast<bool>(fields >> box.width >> x1 >> box.height >> x2 >> box.elements));
    REQUIRE(x1 == 'x');
    REQUIRE(x2 == 'x');
    boxes.push_back(box);
  }
  return boxes;
}

// \p html without its Content-Security-Policy <meta> element (which forbids scripts).
std::string without_policy(std::string html) {
  const std::size_t at = html.find("<meta http-equiv=\"Content-Security-Policy\"");
  REQUIRE(at != std::string::npos);
  html.erase(at, html.find('>', at) + 1 - at);
  return html;
}

// The whole browser check of one page.
void check_page_in_chromium(const fs::path& chromium, const fs::path& page,
                            std::size_t expected_charts) {
  test::TempDir work;
  // 1. The page as written: a screenshot, and nothing on the console.
  const fs::path shot = work / "shot.png";
  const auto run = run_chromium(
      chromium, work.path(), "profile-shot",
      {"--hide-scrollbars", "--screenshot=" + shot.string(),
       "--window-size=" + std::to_string(kWindowWidth) + "," + std::to_string(kWindowHeight)},
      page);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(console_lines(run.err).empty());
  REQUIRE(fs::exists(shot));
  const std::string png = test::read_text(shot);
  REQUIRE(png.size() > 33);
  CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  CHECK(png.compare(12, 4, "IHDR") == 0);
  CHECK(big_endian(png, 16) == kWindowWidth);
  CHECK(big_endian(png, 20) == kWindowHeight);
  // A blank page of this size compresses to a few kilobytes; charts, tables and text need far
  // more.
  CHECK(png.size() > 40000);

  // 2. A copy with a measuring script: every chart is laid out with a real size.
  std::string html = without_policy(test::read_text(page));
  const std::size_t body_end = html.rfind("</body>");
  REQUIRE(body_end != std::string::npos);
  html.insert(body_end, kMeasureScript);
  const fs::path measured = work / "measured.html";
  test::write_text(measured, html);
  const auto dump = run_chromium(chromium, work.path(), "profile-dom", {"--dump-dom"}, measured);
  INFO(dump.err);
  REQUIRE(dump.exit_code == 0);
  CHECK(console_lines(dump.err).empty());
  const auto boxes = parse_measure(dump.out);
  CHECK(boxes.size() == expected_charts);
  for (const auto& b : boxes) {
    INFO(b.width << " x " << b.height << ", " << b.elements << " elements");
    CHECK(b.width > 200);
    CHECK(b.height > 100);
    CHECK(b.elements > 10);
  }
}

}  // namespace

TEST_CASE("report HTML: compare.html renders in headless Chromium without console errors",
          "[report][chromium]") {
  const fs::path chromium = find_chromium();
  if (!require_chromium(chromium)) return;

  // Two systems on generated data against a generated baseline (the browser check does not
  // depend on the numbers), labelled synthetic so that the banner is rendered too.
  const std::vector<std::string> tags = {"mood/theme---calm", "mood/theme---dark",
                                         "mood/theme---<b>&bold</b>", "mood/theme---epic"};
  const Eigen::Index rows = 300, cols = 4;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  LabelMatrix truth(rows, cols);
  ScoreMatrix a(rows, cols), b(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (Eigen::Index c = 0; c < cols; ++c) {
      truth(r, c) = u(rng) < 0.1 ? 1 : 0;
      a(r, c) = u(rng) + 0.4 * truth(r, c);
      b(r, c) = u(rng) + 0.2 * truth(r, c);
    }
  }
  std::vector<SystemPredictions> systems(2);
  systems[0] = {"boost", a, std::nullopt, "a.npy", "", {true, true, "--synthetic", {}}};
  systems[1] = {"other", b, std::nullopt, "b.npy", "", {true, true, "--synthetic", {}}};
  PublishedSystem baseline;
  baseline.id = "paper";
  baseline.name = "Paper CNN";
  baseline.published = true;
  baseline.tags = tags;
  baseline.roc_auc = {0.6, 0.7, 0.65, 0.8};
  baseline.pr_auc = {0.15, 0.2, 0.12, 0.3};
  baseline.overall = {{"ROC-AUC-macro", 0.69}, {"PR-AUC-macro", 0.19}};
  PublishedSystem reference;
  reference.id = "best";
  reference.name = "best run";
  reference.overall = {{"PR-AUC-macro", 0.25}};
  CompareOptions options;
  options.resamples = 100;
  const Comparison comparison =
      compare_systems(truth, tags, systems, baseline, {reference}, options);

  test::TempDir dir;
  const auto files = write_compare_reports(comparison, dir.path());
  check_page_in_chromium(chromium, dir / "compare.html", 5);
}

TEST_CASE("report HTML: importance.html renders in headless Chromium without console errors",
          "[report][chromium]") {
  const fs::path chromium = find_chromium();
  if (!require_chromium(chromium)) return;
  // 30 columns in 6 families and 3 statistics, 8 tags with random scores (some never used).
  const char* families[] = {"mfcc", "hpcp", "bpm_histogram_*", "spectral_centroid", "<odd>&", "x"};
  const char* statistics[] = {"mean", "var", ""};
  std::vector<Column> columns;
  for (int c = 0; c < 30; ++c) {
    Column col;
    col.section = c % 2 ? "lowlevel" : "tonal";
    col.group = col.section + "." + families[c % 6];
    col.statistic = statistics[c % 3];
    col.name = col.group + "." + (col.statistic.empty() ? "value" : col.statistic) + "." +
               std::to_string(c);
    columns.push_back(col);
  }
  std::vector<std::string> tags;
  for (int t = 0; t < 8; ++t) tags.push_back("mood/theme---tag" + std::to_string(t));
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(0, 1);
  Eigen::MatrixXd scores(8, 30);
  for (Eigen::Index t = 0; t < 8; ++t) {
    for (Eigen::Index c = 0; c < 30; ++c) scores(t, c) = c % 7 == 3 ? 0.0 : u(rng) * u(rng);
  }
  ImportanceReport report = summarize_importance(tags, columns, scores, ImportanceType::kGain, 12);
  report.model_dir = "model";
  report.synthetic = true;
  test::TempDir dir;
  write_importance_reports(report, dir.path());
  check_page_in_chromium(chromium, dir / "importance.html", 4);
}

TEST_CASE("report HTML: the browser check sees blocked resources and script errors",
          "[report][chromium]") {
  const fs::path chromium = find_chromium();
  if (!require_chromium(chromium)) return;
  // What the check must catch: a page that tries to fetch something (blocked by the policy every
  // report carries) and a page whose script fails.
  test::TempDir work;
  test::write_text(work / "fetch.html",
                   "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" "
                   "content=\"default-src 'none'\"><title>t</title></head><body>"
                   "<img src=\"http://127.0.0.1:9/x.png\" alt=\"\"></body></html>");
  const auto fetch = run_chromium(chromium, work.path(), "p1", {"--dump-dom"}, work / "fetch.html");
  CHECK(fetch.exit_code == 0);
  CHECK(console_lines(fetch.err).size() == 1);
  test::write_text(work / "throw.html",
                   "<!DOCTYPE html><html><head><title>t</title></head><body>"
                   "<script>missing_function();</script></body></html>");
  const auto thrown =
      run_chromium(chromium, work.path(), "p2", {"--dump-dom"}, work / "throw.html");
  REQUIRE(console_lines(thrown.err).size() == 1);
  CHECK(console_lines(thrown.err)[0].find("Uncaught ReferenceError") != std::string::npos);
}
