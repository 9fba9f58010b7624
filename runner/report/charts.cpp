// The report's summary charts: loss curves, eval metrics with each run's best, other summaries.
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "report/html.hpp"
#include "report/sections.hpp"
#include "report/svg_chart.hpp"

namespace kiln::runner::report::detail {
namespace {

const std::vector<Point>* find_series(const RunData& run, const std::string& tag) {
  const auto it = run.summaries.find(tag);
  return it == run.summaries.end() ? nullptr : &it->second;
}

bool finite(const Point& p) { return std::isfinite(p.value); }

/// "pix2pix: 3 values not finite (first at step 12: NaN)" for each run that has such values.
std::string non_finite_notes(const Context& context, const std::string& tag) {
  std::string out;
  for (std::size_t r = 0; r < context.runs().size(); ++r) {
    const std::vector<Point>* points = find_series(context.runs()[r], tag);
    const std::size_t bad = points ? count_non_finite(*points) : 0;
    if (bad == 0) continue;
    const Point& first = *std::find_if_not(points->begin(), points->end(), finite);
    out += fmt::format(
        "<div class=\"note warn\">{}: {} value{} not finite (first at step {}: {}), left out of the line</div>",
        run_label(context, r), bad, bad == 1 ? "" : "s", first.step, format_value(first.value));
  }
  return out;
}

/// One chart card: a title, the chart, and a caption.
std::string card(Context& context, const std::string& tag, const Chart& chart, const std::string& caption) {
  ++context.page.charts;
  return fmt::format("<figure class=\"card\" id=\"{}\"><h3>{}</h3>{}<figcaption>{}{}</figcaption></figure>",
                     escape("chart-" + tag), escape(tag), render_chart(chart), caption, non_finite_notes(context, tag));
}

/// Each run's line of `tag`: smoothed, over its raw values as a thin line when `with_raw`.
Chart line_chart(const Context& context, const std::string& tag, bool with_raw) {
  Chart chart;
  chart.tag = tag;
  const std::size_t most = context.options.max_chart_points;
  for (std::size_t r = 0; r < context.runs().size(); ++r) {
    const std::vector<Point>* points = find_series(context.runs()[r], tag);
    if (!points) continue;
    const std::string& name = context.runs()[r].info.name;
    if (with_raw) chart.series.push_back({name, run_color(r), SeriesStyle::raw, decimate(*points, most)});
    const std::vector<Point> line = with_raw ? smooth_ema(*points, context.options.smoothing) : *points;
    chart.series.push_back({name, run_color(r), SeriesStyle::smooth, decimate(line, most)});
  }
  return chart;
}

/// "■ run last 0.41 at step 39 · smoothed 0.42" for each run that has the tag.
std::string last_values(const Context& context, const std::string& tag, bool smoothed) {
  std::string out = "<ul class=\"values\">";
  for (std::size_t r = 0; r < context.runs().size(); ++r) {
    const std::vector<Point>* points = find_series(context.runs()[r], tag);
    if (!points) continue;
    const auto last = last_of(*points);
    out += fmt::format("<li>{} last {}", run_label(context, r),
                       last ? fmt::format("{} at step {}", format_value(last->value), last->step) : "-");
    if (smoothed && last) {
      const Point smooth_last = *last_of(smooth_ema(*points, context.options.smoothing));
      out += fmt::format(" · smoothed {}", format_value(smooth_last.value));
    }
    out += "</li>";
  }
  return out + "</ul>";
}

struct RunBest {
  std::size_t run;
  Point best;
};

/// Whether lower or higher values of `tag` are better in the runs that have it (their
/// [summaries] rules and hooks' declarations, RunData::higher_is_better; lower when none
/// says); nullopt when they disagree.
std::optional<Better> better_for(const Context& context, const std::string& tag) {
  std::optional<Better> better;
  for (const RunData& run : context.runs()) {
    if (!find_series(run, tag)) continue;
    const Better own = run.higher_is_better.count(tag) ? Better::higher : Better::lower;
    if (better && *better != own) return std::nullopt;
    better = own;
  }
  return better.value_or(Better::lower);
}

/// Each run's best value of `tag` (of its smoothed values when `smoothed`), by its own
/// direction, and the index in that list of the best of them (the first run's, on a tie);
/// no best of them when the runs disagree on the direction.
std::pair<std::vector<RunBest>, std::optional<std::size_t>> bests(const Context& context, const std::string& tag,
                                                                  bool smoothed = false) {
  const std::optional<Better> better = better_for(context, tag);
  std::vector<RunBest> out;
  std::size_t winner = 0;
  for (std::size_t r = 0; r < context.runs().size(); ++r) {
    const std::vector<Point>* points = find_series(context.runs()[r], tag);
    if (!points) continue;
    const Better own = context.runs()[r].higher_is_better.count(tag) ? Better::higher : Better::lower;
    const auto best = best_of(smoothed ? smooth_ema(*points, context.options.smoothing) : *points, own);
    if (!best) continue;
    out.push_back({r, *best});
    const double leader = out[winner].best.value;
    if (own == Better::lower ? best->value < leader : best->value > leader) winner = out.size() - 1;
  }
  if (!better || out.empty()) return {out, std::nullopt};
  return {out, winner};
}

/// Enough significant digits (4 to 8) to tell the runs' best values apart.
int digits_to_tell_apart(const std::vector<RunBest>& run_bests) {
  std::set<double> values;
  for (const RunBest& b : run_bests) values.insert(b.best.value);
  int digits = 4;
  for (; digits < 8; ++digits) {
    std::set<std::string> texts;
    for (const double v : values) texts.insert(format_value(v, digits));
    if (texts.size() == values.size()) break;
  }
  return digits;
}

/// "best eval/l1 0.254 at step 2500 (run pix2pix-2)", where `what` is "best eval/l1".
std::string best_sentence(const Context& context, const std::string& what, const std::vector<RunBest>& run_bests,
                          std::size_t winner) {
  const RunBest& best = run_bests[winner];
  return fmt::format("{} {} at step {} (run {})", what, format_value(best.best.value, digits_to_tell_apart(run_bests)),
                     best.best.step, context.runs()[best.run].info.name);
}

std::string eval_card(Context& context, const std::string& tag) {
  Chart chart;
  chart.tag = tag;
  for (std::size_t r = 0; r < context.runs().size(); ++r)
    if (const std::vector<Point>* points = find_series(context.runs()[r], tag))
      chart.series.push_back({context.runs()[r].info.name, run_color(r), SeriesStyle::points,
                              decimate(*points, context.options.max_chart_points)});
  const auto [run_bests, winner] = bests(context, tag);
  const int digits = digits_to_tell_apart(run_bests);
  std::string caption;
  const std::optional<Better> better = better_for(context, tag);
  if (winner)
    caption += "<p class=\"best\">" + escape(best_sentence(context, "best " + tag, run_bests, *winner)) + "</p>";
  caption += fmt::format(
      "<table class=\"bests\"><tr><th>run</th><th>best ({})</th><th>at step</th><th>last</th>"
      "<th>at step</th></tr>",
      !better ? "each run's own: they disagree whether lower or higher is better"
              : *better == Better::lower ? "lower is better" : "higher is better");
  for (std::size_t i = 0; i < run_bests.size(); ++i) {
    const RunBest& b = run_bests[i];
    const std::string& name = context.runs()[b.run].info.name;
    const std::string title = fmt::format("best of {}: {} at step {}", name, format_value(b.best.value), b.best.step);
    chart.markers.push_back({b.best, run_color(b.run), title});
    const Point last = *last_of(context.runs()[b.run].summaries.at(tag));
    caption += fmt::format(
        "<tr{}><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td></tr>",
        winner == i && run_bests.size() > 1 ? " class=\"winner\"" : "", run_label(context, b.run),
        format_value(b.best.value, digits), b.best.step, format_value(last.value, digits), last.step);
  }
  caption += "</table>";
  return card(context, tag, chart, caption);
}

std::string section(const std::string& id, const std::string& title, const std::string& intro,
                    const std::string& cards, const std::string& grid_class = "charts") {
  return fmt::format("<section id=\"{}\"><h2>{}</h2><p class=\"note\">{}</p><div class=\"{}\">{}</div></section>", id,
                     title, intro, grid_class, cards);
}

}  // namespace

std::vector<std::string> best_sentences(const Context& context) {
  std::vector<std::string> out;
  for (const std::string& tag : tags_with_prefix(context, "eval/")) {
    const auto [run_bests, winner] = bests(context, tag);
    if (winner) out.push_back(best_sentence(context, "best " + tag, run_bests, *winner));
  }
  if (!out.empty()) return out;
  // Without evaluations, the smoothed losses are the best evidence there is.
  for (const std::string& tag : tags_with_prefix(context, "loss/")) {
    const auto [run_bests, winner] = bests(context, tag, /*smoothed=*/true);
    if (winner)
      out.push_back(best_sentence(
          context, (better_for(context, tag) == Better::higher ? "highest smoothed " : "lowest smoothed ") + tag,
          run_bests, *winner));
  }
  return out;
}

std::string loss_section(Context& context) {
  const std::vector<std::string> tags = tags_with_prefix(context, "loss/");
  if (tags.empty()) return section("losses", "Losses", "No loss/* summaries were recorded for these runs.", "");
  std::string cards;
  for (const std::string& tag : tags)
    cards += card(context, tag, line_chart(context, tag, /*with_raw=*/true), last_values(context, tag, true));
  return section("losses", "Losses",
                 fmt::format("Light lines: the values as recorded. Solid lines: smoothed with an exponential moving "
                             "average (weight {}, debiased, as TensorBoard does). A log scale is used when values span "
                             "more than two decades.",
                             context.options.smoothing),
                 cards);
}

std::string eval_section(Context& context) {
  const std::vector<std::string> tags = tags_with_prefix(context, "eval/");
  if (tags.empty()) return section("eval", "Evaluation", "No eval/* summaries were recorded for these runs.", "");
  std::string cards;
  for (const std::string& tag : tags) cards += eval_card(context, tag);
  return section("eval", "Evaluation", "Each evaluation as a dot; a ring marks each run's best value.", cards);
}

std::string other_section(Context& context) {
  std::string cards;
  for (const std::string& tag : tags_with_prefix(context, "")) {
    if (tag.rfind("loss/", 0) == 0 || tag.rfind("eval/", 0) == 0) continue;
    // ema/* summaries are averages already: one line, not smoothed again; and their start
    // from zero (TF's loss shadows) is a warm-up, not decades worth a log scale.
    const bool noisy = tag.rfind("ema/", 0) != 0;
    Chart chart = line_chart(context, tag, noisy);
    chart.allow_log = noisy;
    chart.width = 400;
    chart.height = 210;
    cards += card(context, tag, chart, last_values(context, tag, noisy));
  }
  if (cards.empty()) return "";
  return section("other", "Other summaries", "ema/* are the EMA hook's averages of the losses; time/* are timings.",
                 cards, "charts small");
}

}  // namespace kiln::runner::report::detail
