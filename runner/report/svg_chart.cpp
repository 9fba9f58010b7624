// A small line-chart renderer for `kiln report`: nice ticks, linear or log axes, inline SVG.
#include "report/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "report/html.hpp"

namespace kiln::runner::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Rounding slack for log10 of values that are meant to be exact powers of ten.
constexpr double kEpsilon = 1e-9;

// The plot area's margins inside the SVG, in its user units; the left one grows with the
// y tick labels, at about this many units per character of 11px text.
constexpr double kRight = 16, kTop = 12, kBottom = 40, kLabelX = 13, kCharWidth = 6.8;

double nice_step(double raw) {
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  const double normalized = raw / magnitude;
  const double nice = normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10;
  return nice * magnitude;
}

/// The plot area and its two axes: where a value lands in SVG coordinates.
struct Frame {
  double left, top, width, height;
  Axis x, y;

  double px(double step) const { return left + x.position(step) * width; }
  double py(double value) const { return top + (1 - y.position(value)) * height; }
};

/// "M x,y L x,y ..." through the points, starting a new piece after each value the y axis
/// cannot show; a piece of one point is a dot (a zero-length line with round caps).
std::string path_data(const Frame& frame, const std::vector<Point>& points) {
  std::string d;
  int piece = 0;
  for (const Point& p : points) {
    const double y = frame.py(p.value);
    if (std::isnan(y)) {
      if (piece == 1) d += "h0";
      piece = 0;
      continue;
    }
    const char* command = piece == 0 ? (d.empty() ? "M" : " M") : " L";
    d += fmt::format("{}{:.1f},{:.1f}", command, frame.px(static_cast<double>(p.step)), y);
    ++piece;
  }
  if (piece == 1) d += "h0";
  return d;
}

std::string render_grid(const Frame& f, const std::string& tag) {
  constexpr const char* kLine = "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>";
  std::string out = "<g class=\"grid\">";
  for (const double t : f.y.ticks) out += fmt::format(kLine, f.left, f.left + f.width, f.py(t), f.py(t));
  for (const double t : f.x.ticks) out += fmt::format(kLine, f.px(t), f.px(t), f.top, f.top + f.height);
  out += "</g><g class=\"ticks\">";
  for (const double t : f.y.ticks)
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>",
                       f.left - 6, f.py(t), escape(f.y.label(t)));
  for (const double t : f.x.ticks)
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", f.px(t),
                       f.top + f.height + 16, escape(f.x.label(t)));
  out += fmt::format("</g><rect class=\"frame\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/>",
                     f.left, f.top, f.width, f.height);
  out += fmt::format("<text class=\"axis-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">step</text>",
                     f.left + f.width / 2, f.top + f.height + 33);
  out += fmt::format(
      "<text class=\"axis-label\" transform=\"translate({} {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}{}</text>",
      kLabelX, f.top + f.height / 2, escape(tag), f.y.log ? " (log)" : "");
  return out;
}

std::string render_series(const Frame& frame, const ChartSeries& s) {
  static constexpr const char* kClass[] = {"raw", "smooth", "points"};
  const char* cls = kClass[static_cast<int>(s.style)];
  std::string out = fmt::format("<path class=\"{}\" data-run=\"{}\" stroke=\"{}\" d=\"{}\"/>", cls, escape(s.run),
                                escape(s.color), path_data(frame, s.points));
  if (s.style != SeriesStyle::points) return out;
  out += fmt::format("<g class=\"dots\" fill=\"{}\">", escape(s.color));
  for (const Point& p : s.points) {
    const double y = frame.py(p.value);
    if (std::isnan(y)) continue;
    out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\"><title>{}: {} at step {}</title></circle>",
                       frame.px(static_cast<double>(p.step)), y, escape(s.run), format_value(p.value), p.step);
  }
  return out + "</g>";
}

}  // namespace

double Axis::position(double value) const {
  if (!std::isfinite(value) || (log && value <= 0)) return kNaN;
  if (log) return (std::log10(value) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  return (value - lo) / (hi - lo);
}

std::string Axis::label(double tick) const {
  if (log) {
    const int exponent = static_cast<int>(std::lround(std::log10(tick)));
    if (exponent < -3 || exponent > 4) return fmt::format("1e{}", exponent);
    return fmt::format("{}", std::pow(10.0, exponent));
  }
  if (std::abs(tick) < step * kEpsilon) return "0";
  const double largest = std::max(std::abs(lo), std::abs(hi));
  const int step_digit = static_cast<int>(std::floor(std::log10(step) + kEpsilon));
  if (largest >= 1e6 || largest < 1e-3) {
    const int lead_digit = static_cast<int>(std::floor(std::log10(largest) + kEpsilon));
    return fmt::format("{:.{}e}", tick, std::max(0, lead_digit - step_digit));
  }
  return fmt::format("{:.{}f}", tick, std::max(0, -step_digit));
}

Axis linear_axis(double lo, double hi, int target, double min_step) {
  if (lo > hi) std::swap(lo, hi);
  if (lo == hi) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= min_step > 0 ? 0 : pad;
    hi += min_step > 0 ? std::max(min_step, pad) : pad;
  }
  Axis axis;
  axis.step = std::max(nice_step((hi - lo) / std::max(1, target)), min_step);
  const long long first = std::llround(std::floor(lo / axis.step + kEpsilon));
  const long long last = std::llround(std::ceil(hi / axis.step - kEpsilon));
  axis.lo = static_cast<double>(first) * axis.step;
  axis.hi = static_cast<double>(last) * axis.step;
  for (long long i = first; i <= last; ++i) axis.ticks.push_back(static_cast<double>(i) * axis.step);
  return axis;
}

Axis log_axis(double lo, double hi) {
  Axis axis;
  axis.log = true;
  // The domain ends at 1, 2 or 5 times a power of ten, so no empty decade is drawn; ticks
  // are the powers of ten inside it.
  const double lo_decade = std::pow(10.0, std::floor(std::log10(lo) + kEpsilon));
  axis.lo = lo_decade;
  for (const double m : {5.0, 2.0})
    if (m * lo_decade <= lo * (1 + kEpsilon)) {
      axis.lo = m * lo_decade;
      break;
    }
  const double hi_decade = std::pow(10.0, std::floor(std::log10(hi) - kEpsilon));
  axis.hi = 10 * hi_decade;
  for (const double m : {1.0, 2.0, 5.0})
    if (m * hi_decade >= hi * (1 - kEpsilon)) {
      axis.hi = m * hi_decade;
      break;
    }
  if (axis.hi <= axis.lo) axis.hi = 10 * axis.lo;
  const int first = static_cast<int>(std::ceil(std::log10(axis.lo) - kEpsilon));
  const int last = static_cast<int>(std::floor(std::log10(axis.hi) + kEpsilon));
  const int every = std::max(1, (last - first + 5) / 6);  // at most about six labelled decades
  for (int e = first; e <= last; e += every) axis.ticks.push_back(std::pow(10.0, e));
  return axis;
}

bool wants_log(double lo, double hi) { return lo > 0 && std::isfinite(hi) && hi / lo > 100; }

std::string render_chart(const Chart& chart) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const ChartSeries& s : chart.series)
    for (const Point& p : s.points) {
      x_lo = std::min(x_lo, static_cast<double>(p.step));
      x_hi = std::max(x_hi, static_cast<double>(p.step));
      if (!std::isfinite(p.value)) continue;
      y_lo = std::min(y_lo, p.value);
      y_hi = std::max(y_hi, p.value);
    }
  std::string out = fmt::format(
      "<svg class=\"chart\" data-tag=\"{}\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\">",
      escape(chart.tag), chart.width, chart.height, chart.width, chart.height);
  if (!(y_lo <= y_hi)) {
    return out + fmt::format(
                     "<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}: no finite values</text></svg>",
                     chart.width / 2, chart.height / 2, escape(chart.tag));
  }
  const bool log = chart.allow_log && wants_log(y_lo, y_hi);
  Axis y = log ? log_axis(y_lo, y_hi) : linear_axis(y_lo, y_hi, 5);
  std::size_t widest = 1;
  for (const double t : y.ticks) widest = std::max(widest, y.label(t).size());
  const double left = kLabelX + 12 + kCharWidth * static_cast<double>(widest);
  const Frame frame{left, kTop, chart.width - left - kRight, chart.height - kTop - kBottom,
                    linear_axis(x_lo, x_hi, 6, /*min_step=*/1), std::move(y)};
  out += render_grid(frame, chart.tag);
  for (const ChartSeries& s : chart.series) out += render_series(frame, s);
  for (const ChartMarker& m : chart.markers) {
    const double y = frame.py(m.at.value);
    if (std::isnan(y)) continue;
    out += fmt::format(
        "<circle class=\"marker\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"6\" stroke=\"{}\"><title>{}</title></circle>",
        frame.px(static_cast<double>(m.at.step)), y, escape(m.color), escape(m.title));
  }
  return out + "</svg>";
}

}  // namespace kiln::runner::report
