#include "moodboost/reference.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <system_error>

#include "detail/lines.hpp"
#include "detail/reference_data.hpp"
#include "moodboost/error.hpp"
#include "moodboost/io.hpp"

namespace moodboost {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kNotPublished = "-";
constexpr std::size_t kSystemFixedColumns = 5;  // id, role, year, tracks, name

std::string line_place(std::size_t line) { return fmt::format("line {}", line); }

// A published AUC or precision/recall/F figure: a finite number in [0, 1].
double parse_figure(std::string_view field, std::string_view column, const fs::path& file,
                    std::size_t line) {
  double value = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size() ||
      !std::isfinite(value) || value < 0 || value > 1) {
    throw ParseError(file, line_place(line),
                     fmt::format("column {}: expected a number in [0, 1], found '{}'", column,
                                 field.substr(0, 40)));
  }
  return value;
}

std::size_t parse_count(std::string_view field, std::string_view column, const fs::path& file,
                        std::size_t line) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size()) {
    throw ParseError(
        file, line_place(line),
        fmt::format("column {}: expected a whole number, found '{}'", column, field.substr(0, 40)));
  }
  return value;
}

// Walks the non-comment rows of a tab-separated table: the first is the header.
class TableReader {
 public:
  TableReader(std::string_view text, const fs::path& file) : lines_(text), file_(file) {}
  // The header's fields; throws ParseError when the table has no line at all.
  void header(std::vector<std::string_view>& fields) {
    if (!next_row(fields)) throw ParseError(file_, "", "no header line (the file is empty)");
  }
  // The next row's fields, or false at the end.
  bool next_row(std::vector<std::string_view>& fields) {
    std::string_view line;
    while (lines_.next(line)) {
      if (!line.empty() && line.front() == '#') continue;
      detail::split_fields(line, '\t', fields);
      return true;
    }
    return false;
  }
  [[nodiscard]] std::size_t number() const noexcept { return lines_.number(); }

 private:
  detail::LineReader lines_;
  const fs::path& file_;
};

std::string joined(const std::vector<std::string_view>& fields) {
  return fmt::format("{}", fmt::join(fields, "<TAB>"));
}

void parse_systems(std::string_view text, const fs::path& file, ReferenceTable& table) {
  TableReader reader(text, file);
  std::vector<std::string_view> fields;
  reader.header(fields);
  static constexpr std::string_view kFixed[kSystemFixedColumns] = {"id", "role", "year", "tracks",
                                                                   "name"};
  if (fields.size() <= kSystemFixedColumns ||
      !std::equal(std::begin(kFixed), std::end(kFixed), fields.begin())) {
    throw ParseError(
        file, line_place(reader.number()),
        fmt::format("expected the header id<TAB>role<TAB>year<TAB>tracks<TAB>name<TAB><metric>..., "
                    "found '{}'",
                    joined(fields)));
  }
  const std::vector<std::string> metrics(fields.begin() + kSystemFixedColumns, fields.end());
  std::set<std::string> ids;
  while (reader.next_row(fields)) {
    if (fields.size() != kSystemFixedColumns + metrics.size()) {
      throw ParseError(file, line_place(reader.number()),
                       fmt::format("expected {} tab-separated columns, found {}",
                                   kSystemFixedColumns + metrics.size(), fields.size()));
    }
    PublishedSystem system;
    system.id = fields[0];
    system.role = fields[1];
    system.year = fields[2];
    system.tracks = parse_count(fields[3], "tracks", file, reader.number());
    system.name = fields[4];
    system.source = file.string();
    if (system.id.empty() || !ids.insert(system.id).second) {
      throw ParseError(
          file, line_place(reader.number()),
          fmt::format("system id '{}' is empty or appeared on an earlier line", system.id));
    }
    if (system.role != "baseline" && system.role != "reference") {
      throw ParseError(
          file, line_place(reader.number()),
          fmt::format("role: expected 'baseline' or 'reference', found '{}'", system.role));
    }
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      const std::string_view field = fields[kSystemFixedColumns + m];
      std::optional<double> value;
      if (field != kNotPublished) value = parse_figure(field, metrics[m], file, reader.number());
      system.overall.emplace_back(metrics[m], value);
    }
    table.systems.push_back(std::move(system));
  }
  if (table.systems.empty()) throw ParseError(file, "", "the table has a header but no system");
}

void parse_per_tag(std::string_view text, const fs::path& file, ReferenceTable& table) {
  TableReader reader(text, file);
  std::vector<std::string_view> fields;
  reader.header(fields);
  static constexpr std::string_view kHeader[] = {"system", "tag", "ROC-AUC", "PR-AUC"};
  if (!std::equal(fields.begin(), fields.end(), std::begin(kHeader), std::end(kHeader))) {
    throw ParseError(file, line_place(reader.number()),
                     fmt::format("expected the header system<TAB>tag<TAB>ROC-AUC<TAB>PR-AUC, found "
                                 "'{}'",
                                 joined(fields)));
  }
  std::set<std::pair<std::string, std::string>> seen;
  while (reader.next_row(fields)) {
    if (fields.size() != std::size(kHeader)) {
      throw ParseError(file, line_place(reader.number()),
                       fmt::format("expected 4 tab-separated columns, found {}", fields.size()));
    }
    auto it = std::find_if(table.systems.begin(), table.systems.end(),
                           [&](const PublishedSystem& s) { return s.id == fields[0]; });
    if (it == table.systems.end()) {
      throw ParseError(file, line_place(reader.number()),
                       fmt::format("system '{}' is not in the systems table", fields[0]));
    }
    if (fields[1].empty() || !seen.emplace(fields[0], fields[1]).second) {
      throw ParseError(
          file, line_place(reader.number()),
          fmt::format("tag '{}' of system '{}' is empty or appeared on an earlier line", fields[1],
                      fields[0]));
    }
    it->tags.emplace_back(fields[1]);
    it->roc_auc.push_back(parse_figure(fields[2], "ROC-AUC", file, reader.number()));
    it->pr_auc.push_back(parse_figure(fields[3], "PR-AUC", file, reader.number()));
  }
  for (auto& system : table.systems) {
    if (system.has_per_tag()) system.source += fmt::format(" + {}", file.string());
  }
}

}  // namespace

std::optional<double> PublishedSystem::overall_value(std::string_view metric) const {
  for (const auto& [metric_name, value] : overall) {
    if (metric_name == metric) return value;
  }
  return std::nullopt;
}

std::optional<std::size_t> PublishedSystem::find_tag(std::string_view tag) const {
  const auto it = std::find(tags.begin(), tags.end(), tag);
  if (it == tags.end()) return std::nullopt;
  return static_cast<std::size_t>(it - tags.begin());
}

const PublishedSystem* ReferenceTable::find(std::string_view id) const noexcept {
  for (const auto& system : systems) {
    if (system.id == id) return &system;
  }
  return nullptr;
}

std::string_view builtin_reference_systems_tsv() noexcept { return detail::kReferenceSystemsTsv; }
std::string_view builtin_reference_per_tag_tsv() noexcept { return detail::kReferencePerTagTsv; }

const ReferenceTable& builtin_references() {
  // Parsed on first use; the tables are checked by the tests, so a failure here is a build bug.
  static const ReferenceTable table = [] {
    ReferenceTable t = parse_reference_table(
        builtin_reference_systems_tsv(), "data/reference_systems.tsv (built in)",
        builtin_reference_per_tag_tsv(), "data/reference_per_tag.tsv (built in)");
    for (auto& system : t.systems) {
      system.source = "the organisers' published figures, moodboost built-in table (data/)";
      system.published = true;
    }
    return t;
  }();
  return table;
}

ReferenceTable parse_reference_table(std::string_view systems_tsv, const fs::path& systems_file,
                                     std::string_view per_tag_tsv, const fs::path& per_tag_file) {
  ReferenceTable table;
  parse_systems(systems_tsv, systems_file, table);
  parse_per_tag(per_tag_tsv, per_tag_file, table);
  return table;
}

PublishedSystem read_per_tag_figures(const fs::path& file, std::string id) {
  const std::string text = read_file(file);
  TableReader reader(text, file);
  std::vector<std::string_view> fields;
  reader.header(fields);
  const auto column = [&](std::string_view name) {
    const auto it = std::find(fields.begin(), fields.end(), name);
    if (it == fields.end()) {
      throw ParseError(file, line_place(reader.number()),
                       fmt::format("the header has no column '{}' (expected tag, ROC-AUC and "
                                   "PR-AUC among its tab-separated columns), found '{}'",
                                   name, joined(fields)));
    }
    return static_cast<std::size_t>(it - fields.begin());
  };
  const std::size_t tag_col = column("tag");
  const std::size_t roc_col = column("ROC-AUC");
  const std::size_t pr_col = column("PR-AUC");
  const std::size_t needed = std::max({tag_col, roc_col, pr_col}) + 1;

  PublishedSystem system;
  system.id = std::move(id);
  system.role = "baseline";
  system.name = fmt::format("per-tag figures from {}", file.filename().string());
  system.source = file.string();
  std::set<std::string, std::less<>> seen;
  while (reader.next_row(fields)) {
    if (fields.size() < needed) {
      throw ParseError(file, line_place(reader.number()),
                       fmt::format("expected at least {} tab-separated columns, found {}", needed,
                                   fields.size()));
    }
    const std::string_view tag = fields[tag_col];
    if (tag.empty() || !seen.emplace(tag).second) {
      throw ParseError(file, line_place(reader.number()),
                       fmt::format("tag '{}' is empty or appeared on an earlier line", tag));
    }
    system.tags.emplace_back(tag);
    system.roc_auc.push_back(parse_figure(fields[roc_col], "ROC-AUC", file, reader.number()));
    system.pr_auc.push_back(parse_figure(fields[pr_col], "PR-AUC", file, reader.number()));
  }
  if (system.tags.empty()) throw ParseError(file, "", "the file has a header but no tag row");
  const auto mean = [](const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return sum / static_cast<double>(v.size());
  };
  system.overall = {{"ROC-AUC-macro", mean(system.roc_auc)}, {"PR-AUC-macro", mean(system.pr_auc)}};
  return system;
}

}  // namespace moodboost
