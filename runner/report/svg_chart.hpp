// A small line-chart renderer for `kiln report`: nice ticks, linear or log axes, inline SVG.
#pragma once

#include <string>
#include <vector>

#include "report/series.hpp"

namespace kiln::runner::report {

/// One axis: its domain, where its ticks go and how they read.
struct Axis {
  double lo = 0;
  double hi = 1;
  bool log = false;
  double step = 0;  ///< linear tick spacing; 0 on a log axis
  std::vector<double> ticks;

  /// Where `value` falls between lo (0) and hi (1); NaN for a value the axis cannot show
  /// (not finite, or not positive on a log axis).
  double position(double value) const;
  /// A tick's text: as many decimals as the spacing needs ("0.05", "2500", "1.5e-05"),
  /// and "1e-3" style powers of ten on a log axis.
  std::string label(double tick) const;
};

/// Ticks 1, 2 or 5 times a power of ten apart, about `target` of them, with the domain
/// widened to whole ticks (d3's nice()). An empty range is widened around its value.
/// `min_step` bounds the spacing from below (1 for steps, which are integers).
Axis linear_axis(double lo, double hi, int target = 5, double min_step = 0);

/// For 0 < lo <= hi: a domain from 1, 2 or 5 times a power of ten below lo to one above hi,
/// with ticks at the powers of ten inside it (every second or third over many decades).
Axis log_axis(double lo, double hi);

/// True when positive values from lo to hi span more than two decades.
bool wants_log(double lo, double hi);

enum class SeriesStyle {
  raw,     ///< a thin, light line: the values as recorded
  smooth,  ///< a solid line: the EMA-smoothed values
  points,  ///< a line with a dot at every value
};

struct ChartSeries {
  std::string run;    ///< the run's name, as data-run on the path
  std::string color;  ///< CSS colour
  SeriesStyle style = SeriesStyle::smooth;
  std::vector<Point> points;
};

/// A ringed point with a tooltip, e.g. a run's best eval value.
struct ChartMarker {
  Point at;
  std::string color;
  std::string title;
};

struct Chart {
  std::string tag;      ///< data-tag of the <svg>, and the y axis label
  int width = 560;
  int height = 250;
  bool allow_log = true;  ///< a log y axis when the values span more than two decades
  std::vector<ChartSeries> series;
  std::vector<ChartMarker> markers;
};

/// The chart as one <svg> element: grid, ticks, axis labels, one <path> per series (class
/// raw, smooth or points, with data-run), dots and markers with <title> tooltips. Text from
/// the caller is escaped. Non-finite values break a line; a chart without one finite value
/// says so instead of drawing axes.
std::string render_chart(const Chart& chart);

}  // namespace kiln::runner::report
