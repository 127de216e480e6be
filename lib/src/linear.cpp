#include "moodboost/linear.hpp"

#include <charconv>
#include <cmath>

#include "detail/lines.hpp"
#include "moodboost/error.hpp"

namespace moodboost {
namespace {

void check_columns(const FeatureMatrix& x, const ColumnScaler& scaler, const char* what) {
  if (static_cast<std::size_t>(x.cols()) != scaler.size()) {
    throw InvalidArgument(std::string(what) + ": a matrix of " + std::to_string(x.cols()) +
                          " columns for a scaler of " + std::to_string(scaler.size()));
  }
}

std::string shortest(double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

}  // namespace

ColumnScaler fit_column_scaler(const FeatureMatrix& x) {
  const auto cols = static_cast<std::size_t>(x.cols());
  ColumnScaler s;
  s.mean.assign(cols, 0.0);
  s.sd.assign(cols, 0.0);
  std::vector<std::size_t> count(cols, 0);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = x(r, static_cast<Eigen::Index>(c));
      if (std::isfinite(v)) {
        s.mean[c] += v;
        ++count[c];
      }
    }
  }
  for (std::size_t c = 0; c < cols; ++c) {
    if (count[c] > 0) s.mean[c] /= static_cast<double>(count[c]);
  }
  // Two passes (mean first) keep the variance exact enough for columns far from 0.
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = x(r, static_cast<Eigen::Index>(c));
      if (std::isfinite(v)) s.sd[c] += (v - s.mean[c]) * (v - s.mean[c]);
    }
  }
  for (std::size_t c = 0; c < cols; ++c) {
    const double sd = count[c] > 0 ? std::sqrt(s.sd[c] / static_cast<double>(count[c])) : 0.0;
    const bool usable = std::isfinite(sd) && sd >= 1e-30 && sd >= 1e-4 * std::fabs(s.mean[c]);
    s.sd[c] = usable ? sd : 0.0;
  }
  return s;
}

FeatureMatrix standardize(const FeatureMatrix& x, const ColumnScaler& scaler) {
  check_columns(x, scaler, "standardize");
  FeatureMatrix z(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      const auto col = static_cast<std::size_t>(c);
      const double v = x(r, c);
      z(r, c) = (scaler.sd[col] > 0 && std::isfinite(v))
                    ? static_cast<float>((v - scaler.mean[col]) / scaler.sd[col])
                    : 0.f;
    }
  }
  return z;
}

FeatureMatrix impute_means(const FeatureMatrix& x, const ColumnScaler& scaler) {
  check_columns(x, scaler, "impute_means");
  FeatureMatrix out = x;
  for (Eigen::Index r = 0; r < out.rows(); ++r) {
    for (Eigen::Index c = 0; c < out.cols(); ++c) {
      if (std::isnan(out(r, c)))
        out(r, c) = static_cast<float>(scaler.mean[static_cast<std::size_t>(c)]);
    }
  }
  return out;
}

bool has_missing(const FeatureMatrix& x) { return x.array().isNaN().any(); }

std::string scaler_tsv(const ColumnScaler& scaler, const std::vector<std::string>& names) {
  if (names.size() != scaler.size()) {
    throw InvalidArgument("scaler_tsv: " + std::to_string(names.size()) + " names for " +
                          std::to_string(scaler.size()) + " columns");
  }
  std::string out = "column\tmean\tsd\n";
  for (std::size_t c = 0; c < names.size(); ++c) {
    out += names[c] + "\t" + shortest(scaler.mean[c]) + "\t" + shortest(scaler.sd[c]) + "\n";
  }
  return out;
}

ColumnScaler parse_scaler_tsv(std::string_view text, const std::vector<std::string>& names,
                              const std::filesystem::path& file) {
  ColumnScaler s;
  detail::LineReader lines(text);
  std::string_view line;
  std::vector<std::string_view> fields;
  auto where = [&] { return "line " + std::to_string(lines.number()); };
  auto number = [&](std::string_view field, const char* what) {
    double value = 0;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (ec != std::errc() || end != field.data() + field.size() || !std::isfinite(value)) {
      throw ParseError(file, where(),
                       std::string("expected a finite number as ") + what + ", found '" +
                           std::string(field) + "'");
    }
    return value;
  };
  if (!lines.next(line) || line != "column\tmean\tsd") {
    throw ParseError(file, "line 1", "expected the header 'column<TAB>mean<TAB>sd'");
  }
  while (lines.next(line)) {
    detail::split_fields(line, '\t', fields);
    if (fields.size() != 3) throw ParseError(file, where(), "expected 3 tab-separated fields");
    const std::size_t c = s.size();
    if (c >= names.size() || fields[0] != names[c]) {
      throw ParseError(file, where(),
                       "expected column '" + (c < names.size() ? names[c] : std::string("(none)")) +
                           "' (schema.json's order), found '" + std::string(fields[0]) + "'");
    }
    s.mean.push_back(number(fields[1], "mean"));
    const double sd = number(fields[2], "sd");
    if (sd < 0) throw ParseError(file, where(), "expected sd >= 0, found a negative number");
    s.sd.push_back(sd);
  }
  if (s.size() != names.size()) {
    throw ParseError(
        file, where(),
        "expected " + std::to_string(names.size()) + " columns, found " + std::to_string(s.size()));
  }
  return s;
}

}  // namespace moodboost
