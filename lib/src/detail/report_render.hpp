// The text side of every report (compare, importance, explain): escaping for HTML/SVG and
// Markdown, deterministic number formatting, Markdown tables and a self-contained HTML page
// (inline CSS, no script, no external font, image or link: a Content-Security-Policy forbids
// fetching anything). Output depends only on the input: no time stamps, no locale.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moodboost::detail::report {

/// \p text with invalid UTF-8 sequences replaced by U+FFFD and control characters other than
/// tab and newline replaced by a space.
std::string sanitize_utf8(std::string_view text);

/// Escapes for HTML/SVG text and attribute values (& < > " '), after sanitize_utf8().
std::string html_escape(std::string_view text);

/// Escapes Markdown inline syntax (\ ` * < > |, '_' except between letters or digits, a leading #,
/// and a ']' that could close a link) after sanitize_utf8(); newlines become spaces, so the text
/// stays in one table cell.
std::string markdown_escape(std::string_view text);

/// \p value with \p decimals decimals ("0.1234"); NaN gives \p missing.
std::string fixed(double value, int decimals, std::string_view missing = "n/a");

/// A signed difference with \p decimals decimals ("+0.0123", "-0.0040", "0.0000"); NaN gives
/// \p missing.
std::string signed_fixed(double value, int decimals, std::string_view missing = "n/a");

/// A share as a percentage with one decimal ("97.3%").
std::string percent(double share);

/// An interval as "[low, high]" with \p decimals decimals, or "n/a".
std::string interval_text(double low, double high, int decimals);

/// A Markdown table: header row, alignment row (numeric columns right-aligned) and one line per
/// row. Cells are escaped here. \p numeric has one flag per column (missing flags: left).
std::string markdown_table(const std::vector<std::string>& header,
                           const std::vector<std::vector<std::string>>& rows,
                           const std::vector<bool>& numeric = {});

/// One cell of an HTML table.
struct HtmlCell {
  std::string text;       ///< escaped on rendering
  std::string css_class;  ///< e.g. "num", "win", "loss" (trusted, not escaped); may be empty
  std::string title;      ///< tooltip (escaped); may be empty
};

/// An HTML table; every text is escaped.
std::string html_table(const std::vector<std::string>& header,
                       const std::vector<std::vector<HtmlCell>>& rows,
                       std::string_view caption = {});

/// Rows of plain text as HTML cells; column i gets class "num" when numeric[i] is true.
std::vector<std::vector<HtmlCell>> html_cells(const std::vector<std::vector<std::string>>& rows,
                                              const std::vector<bool>& numeric);

/// A chart (trusted SVG markup) in a <figure> with an escaped caption.
std::string figure(std::string_view svg, std::string_view caption);

/// Writes each (file name, content) pair into \p out_dir atomically, in order; returns the
/// paths written. Throws IoError.
std::vector<std::filesystem::path> write_report_files(
    const std::filesystem::path& out_dir,
    const std::vector<std::pair<std::string, std::string>>& files);

/// Builds one self-contained HTML page.
class HtmlPage {
 public:
  /// \p title becomes <title> and the <h1>.
  explicit HtmlPage(std::string title);
  /// A warning banner right under the title (e.g. "synthetic data").
  void banner(std::string_view text);
  /// A section heading (<h2>) with an id for in-page links.
  void heading(std::string_view text, std::string_view id);
  /// A paragraph of plain text (escaped).
  void paragraph(std::string_view text);
  /// A small-print note (escaped).
  void note(std::string_view text);
  /// A bulleted list of plain-text items (escaped).
  void list(const std::vector<std::string>& items);
  /// Trusted markup produced by this module (a table, an SVG chart), inserted as is.
  void raw(std::string_view markup);
  /// The whole page.
  [[nodiscard]] std::string render() const;

 private:
  std::string title_;
  std::string body_;
};

}  // namespace moodboost::detail::report
