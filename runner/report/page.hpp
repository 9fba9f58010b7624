// The report as one self-contained HTML page: inline CSS, inline SVG charts, embedded images.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "report/report_data.hpp"

namespace kiln::runner::report {

struct PageOptions {
  double smoothing = 0.9;               ///< TensorBoard-style EMA weight for loss curves
  std::size_t max_chart_points = 1200;  ///< per line; longer series are decimated
  std::size_t images_per_tag = 4;       ///< per run and tag: the latest and a few earlier ones
  std::int64_t max_image_bytes = 2'000'000;    ///< a larger file is not embedded
  std::int64_t image_budget = 12'000'000;      ///< bytes of images embedded in one report
};

/// The page and what went into it.
struct Page {
  std::string html;
  std::size_t charts = 0;           ///< <svg> charts of summaries
  std::size_t images_embedded = 0;  ///< <img> elements with data: URIs
  std::size_t images_recorded = 0;  ///< rows of `images` for the runs
};

/// The report on `data`'s runs. Every text from the database is escaped; the page loads
/// nothing from anywhere else. When the page has loaded, its script sets
/// data-images-loaded on <body> to the number of embedded images that decoded.
Page render_page(const ReportData& data, const PageOptions& options = {});

/// The colour of the i-th run of a report (a ten-colour palette, then again).
std::string run_color(std::size_t index);

}  // namespace kiln::runner::report
