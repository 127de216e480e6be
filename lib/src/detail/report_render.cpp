#include "detail/report_render.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

#include "moodboost/io.hpp"
#include "moodboost/version.hpp"

namespace moodboost::detail::report {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid (overlong
// forms, surrogates and code points above U+10FFFF are invalid, as RFC 3629 says).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

constexpr std::string_view kStyle = R"css(
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0; background: #f6f7f9; color: #1d232b; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 1.6em; margin: 0.2em 0 0.4em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #d9dde3; padding-bottom: 4px; }
p, li { max-width: 80ch; }
.banner { background: #fff3cd; border: 1px solid #e0b84c; border-left: 6px solid #d39b00;
          padding: 10px 14px; margin: 12px 0 18px; font-weight: 600; }
.note { color: #56606c; font-size: 0.9em; }
.table-wrap { overflow-x: auto; margin: 10px 0 16px; }
table { border-collapse: collapse; font-size: 0.9em; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { border: 1px solid #d9dde3; padding: 3px 8px; vertical-align: top; white-space: nowrap; }
th { background: #eef1f5; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.win { background: #e4f4e7; }
td.loss { background: #fbe6e6; }
figure { margin: 12px 0 24px; }
figcaption { color: #56606c; font-size: 0.9em; max-width: 80ch; }
svg.chart { display: block; max-width: 100%; height: auto; background: #fff; }
svg.chart text { font-family: system-ui, "DejaVu Sans", sans-serif; fill: #1d232b; }
)css";

// A ']' followed by '(', '[' or ':' could close a link or image ("[x](url)", "[x][ref]",
// "[x]: url"); a lone "[0.1, 0.2]" cannot, and stays readable unescaped.
bool closes_link(std::string_view text, std::size_t i) {
  return i + 1 < text.size() && std::string_view("([:").find(text[i + 1]) != std::string_view::npos;
}

// An '_' between two letters or digits ("spectral_centroid") can neither open nor close
// emphasis in CommonMark, so it stays unescaped and the Markdown source stays readable.
bool intraword(std::string_view text, std::size_t i) {
  const auto alnum = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; };
  return i > 0 && i + 1 < text.size() && alnum(text[i - 1]) && alnum(text[i + 1]);
}

}  // namespace

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (length == 1) {
      const char c = text[i];
      const bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
      out += (control && c != '\t' && c != '\n') ? ' ' : c;
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

std::string html_escape(std::string_view text) {
  const std::string clean = sanitize_utf8(text);
  std::string out;
  out.reserve(clean.size());
  for (const char c : clean) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string markdown_escape(std::string_view text) {
  const std::string clean = sanitize_utf8(text);
  std::string out;
  out.reserve(clean.size());
  for (std::size_t i = 0; i < clean.size(); ++i) {
    const char c = clean[i];
    if (c == '\n' || c == '\t') {
      out += ' ';
    } else if (std::string_view("\\`*<>|").find(c) != std::string_view::npos ||
               (i == 0 && c == '#') || (c == ']' && closes_link(clean, i)) ||
               (c == '_' && !intraword(clean, i))) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string fixed(double value, int decimals, std::string_view missing) {
  if (std::isnan(value)) return std::string(missing);
  // Never print "-0.0000": a value that rounds to zero is zero.
  std::string text = fmt::format("{:.{}f}", value, decimals);
  if (text.front() == '-' && text.find_first_not_of("-0.") == std::string::npos) {
    return text.substr(1);
  }
  return text;
}

std::string signed_fixed(double value, int decimals, std::string_view missing) {
  if (std::isnan(value)) return std::string(missing);
  const std::string text = fixed(value, decimals);
  const bool positive = text.front() != '-' && text.find_first_not_of("0.") != std::string::npos;
  return positive ? "+" + text : text;
}

std::string percent(double share) {
  if (std::isnan(share)) return "n/a";
  return fmt::format("{:.1f}%", share * 100);
}

std::string interval_text(double low, double high, int decimals) {
  if (std::isnan(low) || std::isnan(high)) return "n/a";
  return fmt::format("[{}, {}]", fixed(low, decimals), fixed(high, decimals));
}

std::string markdown_table(const std::vector<std::string>& header,
                           const std::vector<std::vector<std::string>>& rows,
                           const std::vector<bool>& numeric) {
  const auto is_numeric = [&](std::size_t c) { return c < numeric.size() && numeric[c]; };
  std::string out = "|";
  for (const auto& cell : header) out += fmt::format(" {} |", markdown_escape(cell));
  out += "\n|";
  for (std::size_t c = 0; c < header.size(); ++c) out += is_numeric(c) ? "---:|" : "---|";
  out += '\n';
  for (const auto& row : rows) {
    out += '|';
    for (const auto& cell : row) out += fmt::format(" {} |", markdown_escape(cell));
    out += '\n';
  }
  return out;
}

std::string html_table(const std::vector<std::string>& header,
                       const std::vector<std::vector<HtmlCell>>& rows, std::string_view caption) {
  std::string out = "<div class=\"table-wrap\"><table>\n";
  if (!caption.empty()) out += fmt::format("<caption>{}</caption>\n", html_escape(caption));
  out += "<thead><tr>";
  for (const auto& cell : header) out += fmt::format("<th>{}</th>", html_escape(cell));
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const auto& cell : row) {
      out += "<td";
      if (!cell.css_class.empty()) out += fmt::format(" class=\"{}\"", cell.css_class);
      if (!cell.title.empty()) out += fmt::format(" title=\"{}\"", html_escape(cell.title));
      out += fmt::format(">{}</td>", html_escape(cell.text));
    }
    out += "</tr>\n";
  }
  out += "</tbody></table></div>\n";
  return out;
}

std::vector<std::vector<HtmlCell>> html_cells(const std::vector<std::vector<std::string>>& rows,
                                              const std::vector<bool>& numeric) {
  std::vector<std::vector<HtmlCell>> out;
  for (const auto& row : rows) {
    std::vector<HtmlCell> cells;
    for (std::size_t i = 0; i < row.size(); ++i) {
      cells.push_back({row[i], i < numeric.size() && numeric[i] ? "num" : "", ""});
    }
    out.push_back(std::move(cells));
  }
  return out;
}

std::string figure(std::string_view svg, std::string_view caption) {
  return fmt::format("<figure>\n{}<figcaption>{}</figcaption>\n</figure>\n", svg,
                     html_escape(caption));
}

std::vector<std::filesystem::path> write_report_files(
    const std::filesystem::path& out_dir,
    const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::filesystem::path> written;
  for (const auto& [name, content] : files) {
    write_file_atomic(out_dir / name, content);
    written.push_back(out_dir / name);
  }
  return written;
}

HtmlPage::HtmlPage(std::string title) : title_(std::move(title)) {}

void HtmlPage::banner(std::string_view text) {
  body_ += fmt::format("<div class=\"banner\" role=\"note\">{}</div>\n", html_escape(text));
}

void HtmlPage::heading(std::string_view text, std::string_view id) {
  body_ += fmt::format("<h2 id=\"{}\">{}</h2>\n", html_escape(id), html_escape(text));
}

void HtmlPage::paragraph(std::string_view text) {
  body_ += fmt::format("<p>{}</p>\n", html_escape(text));
}

void HtmlPage::note(std::string_view text) {
  body_ += fmt::format("<p class=\"note\">{}</p>\n", html_escape(text));
}

void HtmlPage::list(const std::vector<std::string>& items) {
  body_ += "<ul>\n";
  for (const auto& item : items) body_ += fmt::format("<li>{}</li>\n", html_escape(item));
  body_ += "</ul>\n";
}

void HtmlPage::raw(std::string_view markup) { body_ += markup; }

std::string HtmlPage::render() const {
  // The policy forbids every fetch (scripts, fonts, images, frames, connections): the page is
  // one file and works offline; inline CSS is all it uses.
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"moodboost {}\">\n<title>{}</title>\n<style>{}</style>\n"
      "</head>\n<body>\n<main>\n<h1>{}</h1>\n{}<p class=\"note\">Written by moodboost {}.</p>\n"
      "</main>\n</body>\n</html>\n",
      html_escape(version()), html_escape(title_), kStyle, html_escape(title_), body_,
      html_escape(version()));
}

}  // namespace moodboost::detail::report
