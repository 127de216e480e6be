#include "detail/svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "detail/report_render.hpp"

namespace moodboost::detail::chart {
namespace {

using report::html_escape;

constexpr double kFontSize = 12;
constexpr double kCharWidth = 6.8;  // average width of a 12px sans-serif character, for layout
constexpr double kTitleHeight = 26;
constexpr double kLegendHeight = 22;

// Coordinates with one decimal; "-0.0" never appears.
std::string num(double value) {
  if (std::fabs(value) < 0.05) return "0.0";
  return fmt::format("{:.1f}", value);
}

double text_width(std::string_view text, double size = kFontSize) {
  return static_cast<double>(text.size()) * kCharWidth * size / kFontSize;
}

double widest(const std::vector<std::string>& texts) {
  double w = 0;
  for (const auto& t : texts) w = std::max(w, text_width(t));
  return w;
}

// Round axis steps (1, 2 or 5 times a power of ten) giving about \p target intervals.
double nice_step(double span, int target) {
  if (!(span > 0)) span = 1;
  const double raw = span / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalised = raw / magnitude;
  const double factor = normalised < 1.5 ? 1 : normalised < 3 ? 2 : normalised < 7 ? 5 : 10;
  return factor * magnitude;
}

struct Axis {
  double low = 0, high = 1, step = 0.1;
  [[nodiscard]] std::vector<double> ticks() const {
    std::vector<double> out;
    for (double k = std::ceil(low / step - 1e-9); k * step <= high + step * 1e-9; k += 1) {
      out.push_back(k * step);
    }
    return out;
  }
  [[nodiscard]] int decimals() const {
    return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  }
  [[nodiscard]] double fraction(double v) const { return (v - low) / (high - low); }
};

// An axis covering [low, high] with nice ends.
Axis nice_axis(double low, double high, int target = 6) {
  if (!(high > low)) high = low + 1;
  const double step = nice_step(high - low, target);
  return {std::floor(low / step + 1e-9) * step, std::ceil(high / step - 1e-9) * step, step};
}

// The finite extremes of \p values (lo, hi); NaN when there is none.
void extend(double& lo, double& hi, const std::vector<double>& values) {
  for (double v : values) {
    if (std::isnan(v)) continue;
    lo = std::isnan(lo) ? v : std::min(lo, v);
    hi = std::isnan(hi) ? v : std::max(hi, v);
  }
}

// Accumulates the elements of one <svg>.
class Svg {
 public:
  Svg(double width, double height, std::string_view title) : width_(width), height_(height) {
    body_ += fmt::format("<title>{}</title>\n", html_escape(title));
    text(width / 2, 18, title, "middle", 14, "font-weight=\"600\"");
  }
  void text(double x, double y, std::string_view content, std::string_view anchor = "start",
            double size = kFontSize, std::string_view extra = {}) {
    body_ += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\"{}{}>{}</text>\n", num(x),
        num(y), size, anchor, extra.empty() ? "" : " ", extra, html_escape(content));
  }
  void line(double x1, double y1, double x2, double y2, std::string_view stroke,
            double stroke_width = 1, std::string_view dash = {}) {
    body_ += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" "
        "stroke-width=\"{}\"{}/>\n",
        num(x1), num(y1), num(x2), num(y2), stroke, stroke_width,
        dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", dash));
  }
  void rect(double x, double y, double w, double h, std::string_view fill,
            std::string_view tooltip = {}, std::string_view extra = {}) {
    body_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}{}",
                         num(x), num(y), num(std::max(w, 0.0)), num(std::max(h, 0.0)), fill,
                         extra.empty() ? "" : " ", extra);
    close(tooltip, "rect");
  }
  void circle(double cx, double cy, double r, std::string_view fill,
              std::string_view tooltip = {}) {
    body_ += fmt::format(
        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" fill-opacity=\"0.85\" "
        "stroke=\"#ffffff\" stroke-width=\"0.6\"",
        num(cx), num(cy), r, fill);
    close(tooltip, "circle");
  }
  void raw(std::string_view markup) { body_ += markup; }
  // A row of legend entries (colour swatch + text) starting at (x, y).
  void legend(double x, double y, const std::vector<std::pair<std::string, std::string>>& items) {
    for (const auto& [label, color] : items) {
      rect(x, y - 9, 10, 10, color);
      text(x + 14, y, label);
      x += 14 + text_width(label) + 18;
    }
  }
  [[nodiscard]] std::string finish() const {
    return fmt::format(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{}\" "
        "height=\"{}\" viewBox=\"0 0 {} {}\">\n{}</svg>\n",
        num(width_), num(height_), num(width_), num(height_), body_);
  }

 private:
  void close(std::string_view tooltip, std::string_view element) {
    if (tooltip.empty()) {
      body_ += "/>\n";
    } else {
      body_ += fmt::format("><title>{}</title></{}>\n", html_escape(tooltip), element);
    }
  }
  double width_, height_;
  std::string body_;
};

// Vertical grid lines and tick labels of a horizontal axis spanning [x0, x0 + w] under a plot
// that spans [top, bottom], and the axis label.
void x_axis(Svg& svg, const Axis& axis, double x0, double w, double top, double bottom,
            std::string_view label) {
  for (double tick : axis.ticks()) {
    const double x = x0 + axis.fraction(tick) * w;
    svg.line(x, top, x, bottom, "#e3e6ea");
    svg.text(x, bottom + 15, report::fixed(tick, axis.decimals()), "middle", 11);
  }
  svg.line(x0, bottom, x0 + w, bottom, "#5b6470");
  svg.text(x0 + w / 2, bottom + 34, label, "middle");
}

}  // namespace

std::string series_color(std::size_t index) {
  static constexpr std::array<const char*, 7> kPalette = {
      "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000"};
  return kPalette[index % kPalette.size()];
}

std::string render(const BarChart& chart) {
  const std::size_t n_series = chart.series.size();
  const double bar_h = n_series <= 2 ? 8 : 6;
  const double row_h = static_cast<double>(n_series) * bar_h + 8;
  const double left = std::clamp(widest(chart.categories), 40.0, 320.0) + 14;
  const double right = chart.annotations.empty() ? 16 : widest(chart.annotations) + 18;
  const double width = 900;
  const double top = kTitleHeight + kLegendHeight + 10;
  const double plot_h = static_cast<double>(chart.categories.size()) * row_h;
  const double height = top + plot_h + 48;
  const double plot_w = width - left - right;

  double lo = 0, hi = std::nan("");
  for (const auto& s : chart.series) extend(lo, hi, s.values);
  if (chart.x_max > 0) hi = chart.x_max;
  const Axis axis = nice_axis(0, std::isnan(hi) || hi <= 0 ? 1 : hi);

  Svg svg(width, height, chart.title);
  if (n_series > 1) {  // one series needs no legend: the title says what the bars are
    std::vector<std::pair<std::string, std::string>> legend;
    for (const auto& s : chart.series) legend.emplace_back(s.name, s.color);
    svg.legend(left, kTitleHeight + 14, legend);
  }
  x_axis(svg, axis, left, plot_w, top, top + plot_h, chart.x_label);
  for (std::size_t c = 0; c < chart.categories.size(); ++c) {
    const double y0 = top + static_cast<double>(c) * row_h + 4;
    svg.text(left - 6, y0 + static_cast<double>(n_series) * bar_h / 2 + 4, chart.categories[c],
             "end");
    for (std::size_t s = 0; s < n_series; ++s) {
      const double value = c < chart.series[s].values.size() ? chart.series[s].values[c] : NAN;
      if (std::isnan(value)) continue;
      const double w = std::clamp(axis.fraction(value), 0.0, 1.0) * plot_w;
      svg.rect(left, y0 + static_cast<double>(s) * bar_h, w, bar_h - 1, chart.series[s].color,
               fmt::format("{} - {}: {}", chart.categories[c], chart.series[s].name,
                           report::fixed(value, 4)));
    }
    if (c < chart.annotations.size()) {
      svg.text(left + plot_w + 6, y0 + static_cast<double>(n_series) * bar_h / 2 + 4,
               chart.annotations[c], "start", 11);
    }
  }
  svg.line(left, top, left, top + plot_h, "#5b6470");
  return svg.finish();
}

std::string render(const ScatterChart& chart) {
  const double left = 64, right = 20, bottom = 52;
  const double top = kTitleHeight + kLegendHeight + 10;
  const double side = 460;
  const double width = left + side + right;
  const double height = top + side + bottom;

  double lo = std::nan(""), hi = std::nan("");
  extend(lo, hi, chart.x);
  for (const auto& s : chart.series) extend(lo, hi, s.values);
  if (std::isnan(lo)) lo = 0, hi = 1;
  // Start the axes at 0 unless every value is far from it (ROC-AUC lives in [0.5, 1]).
  if (lo < 0.4 * hi) lo = 0;
  const Axis axis = nice_axis(lo, hi, 5);
  const auto px = [&](double v) { return left + axis.fraction(v) * side; };
  const auto py = [&](double v) { return top + side - axis.fraction(v) * side; };

  Svg svg(width, height, chart.title);
  std::vector<std::pair<std::string, std::string>> legend;
  for (const auto& s : chart.series) legend.emplace_back(s.name, s.color);
  svg.legend(left, kTitleHeight + 14, legend);
  for (double tick : axis.ticks()) {
    svg.line(px(tick), top, px(tick), top + side, "#e3e6ea");
    svg.line(left, py(tick), left + side, py(tick), "#e3e6ea");
    svg.text(px(tick), top + side + 15, report::fixed(tick, axis.decimals()), "middle", 11);
    svg.text(left - 6, py(tick) + 4, report::fixed(tick, axis.decimals()), "end", 11);
  }
  svg.line(left, top + side, left + side, top + side, "#5b6470");
  svg.line(left, top, left, top + side, "#5b6470");
  svg.text(left + side / 2, top + side + 36, chart.x_label, "middle");
  svg.text(16, top + side / 2, chart.y_label, "middle", kFontSize,
           fmt::format("transform=\"rotate(-90 16 {})\"", num(top + side / 2)));
  svg.line(px(axis.low), py(axis.low), px(axis.high), py(axis.high), "#5b6470", 1, "5 4");
  if (!chart.above_note.empty()) {
    svg.text(left + 10, top + 18, chart.above_note, "start", 11, "fill-opacity=\"0.75\"");
  }
  if (!chart.below_note.empty()) {
    svg.text(left + side - 10, top + side - 10, chart.below_note, "end", 11,
             "fill-opacity=\"0.75\"");
  }
  for (const auto& s : chart.series) {
    for (std::size_t i = 0; i < chart.x.size() && i < s.values.size(); ++i) {
      if (std::isnan(chart.x[i]) || std::isnan(s.values[i])) continue;
      const std::string label = i < chart.labels.size() ? chart.labels[i] : std::string();
      svg.circle(px(chart.x[i]), py(s.values[i]), 3.6, s.color,
                 fmt::format("{} - {}: {} vs {}", label, s.name, report::fixed(s.values[i], 4),
                             report::fixed(chart.x[i], 4)));
    }
  }
  return svg.finish();
}

std::string render(const IntervalChart& chart) {
  std::vector<std::string> labels;
  std::vector<std::string> value_texts;
  for (const auto& row : chart.rows) {
    labels.push_back(row.label);
    value_texts.push_back(std::isnan(row.low)
                              ? report::fixed(row.point, 4)
                              : fmt::format("{} {}", report::fixed(row.point, 4),
                                            report::interval_text(row.low, row.high, 4)));
  }
  const double left = std::clamp(widest(labels), 40.0, 320.0) + 14;
  const double right = widest(value_texts) + 20;
  const double width = 900;
  const double top = kTitleHeight + 8;
  const double row_h = 26;
  const double plot_h = static_cast<double>(chart.rows.size()) * row_h + 8;
  const double legend_rows = static_cast<double>(chart.references.size());
  const double height = top + plot_h + 46 + legend_rows * 18;
  const double plot_w = width - left - right;

  double lo = std::nan(""), hi = std::nan("");
  for (const auto& row : chart.rows) extend(lo, hi, {row.point, row.low, row.high});
  for (const auto& ref : chart.references) extend(lo, hi, {ref.value});
  if (std::isnan(lo)) lo = 0, hi = 1;
  const double pad = (hi - lo) * 0.05 + 1e-3;
  const Axis axis = nice_axis(lo - pad, hi + pad, 6);
  const auto px = [&](double v) { return left + axis.fraction(v) * plot_w; };

  Svg svg(width, height, chart.title);
  x_axis(svg, axis, left, plot_w, top, top + plot_h, chart.x_label);
  for (std::size_t r = 0; r < chart.rows.size(); ++r) {
    const IntervalRow& row = chart.rows[r];
    const double y = top + 4 + static_cast<double>(r) * row_h + row_h / 2;
    svg.text(left - 6, y + 4, row.label, "end");
    if (!std::isnan(row.low) && !std::isnan(row.high)) {
      svg.line(px(row.low), y, px(row.high), y, row.color, 2);
      svg.line(px(row.low), y - 5, px(row.low), y + 5, row.color, 2);
      svg.line(px(row.high), y - 5, px(row.high), y + 5, row.color, 2);
    }
    svg.circle(px(row.point), y, 5, row.color, fmt::format("{}: {}", row.label, value_texts[r]));
    svg.text(left + plot_w + 8, y + 4, value_texts[r], "start", 11);
  }
  double legend_y = top + plot_h + 56;
  for (const auto& ref : chart.references) {
    svg.line(px(ref.value), top, px(ref.value), top + plot_h, ref.color, 1.5, "6 3");
    svg.line(left, legend_y - 4, left + 22, legend_y - 4, ref.color, 1.5, "6 3");
    svg.text(left + 28, legend_y, fmt::format("{} ({})", ref.label, report::fixed(ref.value, 4)));
    legend_y += 18;
  }
  return svg.finish();
}

namespace {

// White to dark blue (ColorBrewer "Blues" end points and middle) for a share in [0, 1].
std::string blues(double share) {
  struct Rgb {
    double r, g, b;
  };
  static constexpr Rgb kStops[] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
  share = std::clamp(share, 0.0, 1.0);
  const double position = share * 2;
  const auto k = static_cast<std::size_t>(std::min(position, 1.0));
  const double f = position - static_cast<double>(k);
  const Rgb& a = kStops[k];
  const Rgb& b = kStops[k + 1];
  const auto mix = [f](double x, double y) {
    return static_cast<int>(std::lround(x + (y - x) * f));
  };
  return fmt::format("#{:02x}{:02x}{:02x}", mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b));
}

}  // namespace

std::string render(const Heatmap& chart) {
  const std::size_t rows = chart.row_labels.size();
  const std::size_t cols = chart.col_labels.size();
  const double left = std::clamp(widest(chart.row_labels), 40.0, 260.0) + 12;
  const double cell_w =
      std::clamp(720.0 / static_cast<double>(std::max<std::size_t>(cols, 1)), 14.0, 44.0);
  const double cell_h = 14;
  // Column labels are slanted at 45 degrees: they need about 0.72 of their length upwards.
  const double label_room = std::min(widest(chart.col_labels), 240.0) * 0.72 + 12;
  const double top = kTitleHeight + label_room;
  const double plot_w = cell_w * static_cast<double>(cols);
  const double width = std::max(left + plot_w + label_room * 0.8 + 20, 480.0);
  const double height = top + cell_h * static_cast<double>(rows) + 64;

  double lo = 0, hi = std::nan("");
  extend(lo, hi, chart.values);
  const double scale = std::isnan(hi) || hi <= 0 ? 1 : hi;

  Svg svg(width, height, chart.title);
  for (std::size_t c = 0; c < cols; ++c) {
    const double x = left + (static_cast<double>(c) + 0.5) * cell_w;
    svg.text(x, top - 6, chart.col_labels[c], "start", 11,
             fmt::format("transform=\"rotate(-45 {} {})\"", num(x), num(top - 6)));
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const double y = top + static_cast<double>(r) * cell_h;
    svg.text(left - 6, y + cell_h - 3, chart.row_labels[r], "end", 11);
    for (std::size_t c = 0; c < cols; ++c) {
      const std::size_t i = r * cols + c;
      const double v = i < chart.values.size() ? chart.values[i] : std::nan("");
      svg.rect(left + static_cast<double>(c) * cell_w, y, cell_w - 1, cell_h - 1,
               std::isnan(v) ? "#e5e7eb" : blues(v / scale),
               fmt::format("{} - {}: {}", chart.row_labels[r], chart.col_labels[c],
                           report::fixed(v, 4)));
    }
  }
  // Legend: the colour ramp from 0 to the largest value.
  const double ly = top + cell_h * static_cast<double>(rows) + 22;
  // The gradient's id must be unique in the page: derive it from the title (FNV-1a), so that
  // two heatmaps on one page do not share it and the output stays deterministic.
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char ch : chart.title)
    hash = (hash ^ static_cast<unsigned char>(ch)) * 0x100000001b3ull;
  const std::string gradient = fmt::format("moodboost-blues-{:016x}", hash);
  svg.raw(fmt::format(
      "<defs><linearGradient id=\"{}\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">"
      "<stop offset=\"0\" stop-color=\"#f7fbff\"/><stop offset=\"0.5\" stop-color=\"#6baed6\"/>"
      "<stop offset=\"1\" stop-color=\"#08306b\"/></linearGradient></defs>\n",
      gradient));
  svg.rect(left, ly, 200, 12, fmt::format("url(#{})", gradient), {},
           "stroke=\"#9aa1ab\" stroke-width=\"0.5\"");
  svg.text(left, ly + 26, "0", "middle", 11);
  svg.text(left + 200, ly + 26, report::fixed(scale, 4), "middle", 11);
  svg.text(left + 214, ly + 10, chart.value_label, "start", 11);
  return svg.finish();
}

}  // namespace moodboost::detail::chart
