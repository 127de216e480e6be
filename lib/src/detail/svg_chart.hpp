// Inline SVG charts for the HTML reports: grouped horizontal bars, a scatter plot with the
// diagonal, an interval (forest) plot with reference lines, and a heatmap. Each chart is one
// <svg class="chart" role="img"> element with a <title>, axis labels and a legend; every text is
// escaped; coordinates are printed with one decimal, so the same input gives the same bytes.
#pragma once

#include <string>
#include <vector>

namespace moodboost::detail::chart {

/// The colour of series \p index in every chart (the Okabe-Ito colour-blind-safe palette).
std::string series_color(std::size_t index);
/// The colour of a published baseline or reference (grey).
inline constexpr const char* kBaselineColor = "#8a8f98";

/// One series of values, one per category or point. NaN = missing (not drawn).
struct Series {
  std::string name;            ///< legend text
  std::string color;           ///< CSS colour
  std::vector<double> values;  ///< one per category
};

/// Horizontal grouped bars: one row per category, one bar per series.
struct BarChart {
  std::string title;                     ///< shown above the chart and as <title>
  std::string x_label;                   ///< axis label under the x axis
  std::vector<std::string> categories;   ///< row labels, top to bottom
  std::vector<std::string> annotations;  ///< optional text right of each row (e.g. "+0.031")
  std::vector<Series> series;            ///< bars per row, top to bottom
  double x_max = 0;                      ///< axis end; 0 = from the data
};
/// Renders \p chart as an <svg> element.
std::string render(const BarChart& chart);

/// A scatter plot of y against x with the diagonal y = x (equal axes).
struct ScatterChart {
  std::string title;                ///< shown above the chart and as <title>
  std::string x_label;              ///< e.g. "VGG-ish PR-AUC (published)"
  std::string y_label;              ///< e.g. "boosters PR-AUC"
  std::vector<std::string> labels;  ///< one per point (tooltips)
  std::vector<double> x;            ///< one per point, shared by every series
  std::vector<Series> series;       ///< y values; one marker colour per series
  std::string above_note;           ///< text in the upper-left triangle (e.g. "ours better")
  std::string below_note;           ///< text in the lower-right triangle
};
/// Renders \p chart as an <svg> element.
std::string render(const ScatterChart& chart);

/// One row of an interval plot.
struct IntervalRow {
  std::string label;  ///< row label
  std::string color;  ///< marker colour
  double point = 0;   ///< the estimate
  double low = 0;     ///< interval low end (NaN: no interval)
  double high = 0;    ///< interval high end (NaN: no interval)
};
/// A vertical reference line.
struct ReferenceLine {
  std::string label;  ///< legend text
  std::string color;  ///< line colour
  double value = 0;   ///< position on the x axis
};
/// Points with horizontal whiskers, and vertical reference lines.
struct IntervalChart {
  std::string title;                      ///< shown above the chart and as <title>
  std::string x_label;                    ///< axis label
  std::vector<IntervalRow> rows;          ///< top to bottom
  std::vector<ReferenceLine> references;  ///< drawn across all rows, listed in the legend
};
/// Renders \p chart as an <svg> element.
std::string render(const IntervalChart& chart);

/// A matrix of values as coloured cells (white = 0 to dark blue = the largest value).
struct Heatmap {
  std::string title;                    ///< shown above the chart and as <title>
  std::string value_label;              ///< what a cell's colour means (legend)
  std::vector<std::string> row_labels;  ///< left labels
  std::vector<std::string> col_labels;  ///< top labels (drawn slanted)
  std::vector<double> values;           ///< row-major, rows x cols; NaN = no value (grey)
};
/// Renders \p chart as an <svg> element.
std::string render(const Heatmap& chart);

}  // namespace moodboost::detail::chart
