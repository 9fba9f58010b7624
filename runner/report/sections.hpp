// The report page's sections, each rendered to an HTML fragment; page.cpp puts them together.
#pragma once

#include <string>
#include <vector>

#include "report/page.hpp"

namespace kiln::runner::report::detail {

/// What every section reads, and the page's running counts.
struct Context {
  const ReportData& data;
  const PageOptions& options;
  Page& page;

  const std::vector<RunData>& runs() const { return data.runs; }
};

/// The tags of all runs' summaries that start with `prefix` ("" for all), sorted, each once.
std::vector<std::string> tags_with_prefix(const Context& context, const std::string& prefix);

/// "<span class=run>" with the run's colour swatch and its escaped name.
std::string run_label(const Context& context, std::size_t run);

// charts.cpp
std::string loss_section(Context& context);
std::string eval_section(Context& context);
std::string other_section(Context& context);
/// The eval tags' winners in one sentence each: "best eval/l1 0.254 at step 2500 (run x)".
std::vector<std::string> best_sentences(const Context& context);

// checkpoints.cpp
std::string checkpoints_section(Context& context);

// images.cpp
std::string images_section(Context& context);

// details.cpp
std::string config_section(Context& context);
std::string events_section(Context& context);

}  // namespace kiln::runner::report::detail
