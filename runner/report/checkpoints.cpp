// The report's checkpoint timeline: each run's checkpoints by step, kept or deleted, and why.
#include <algorithm>

#include <fmt/format.h>

#include "report/html.hpp"
#include "store/checkpoints.hpp"
#include "report/sections.hpp"
#include "report/svg_chart.hpp"

namespace kiln::runner::report::detail {
namespace {

// Checkpoint rows listed per run before the older deleted ones are only counted.
constexpr std::size_t kRowsListed = 24;

// The timeline's layout, in SVG user units: one lane per run under the run names' column.
constexpr double kWidth = 1000, kNameWidth = 150, kRight = 20, kTop = 8, kLaneHeight = 30, kAxisHeight = 30;

std::string describe(const store::CheckpointRow& row) {
  const std::string status = row.deleted ? "deleted " + format_time(*row.deleted) : "kept (" + row.kept + ")";
  return fmt::format("step {} · saved: {} · {} · {}", row.step, row.reason, status, format_bytes(row.bytes));
}

/// ● kept as one of the newest, ■ kept for good by keep_every_hours, ◆ kept because a hook asked
/// (early stopping's "best"), ○ deleted.
std::string marker(const store::CheckpointRow& row, double x, double y, const std::string& color) {
  const std::string title = "<title>" + escape(describe(row)) + "</title>";
  if (row.deleted)
    return fmt::format("<circle class=\"ckpt deleted\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4.5\">{}</circle>", x, y, title);
  if (store::kept_for(row.kept, "keep_every_hours"))
    return fmt::format(
        "<rect class=\"ckpt kept hours\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"12\" fill=\"{}\">{}</rect>",
        x - 6, y - 6, escape(color), title);
  if (!row.kept.empty() && row.kept != store::kKeptRecent)
    return fmt::format("<polygon class=\"ckpt kept asked\" points=\"{0:.1f},{1:.1f} {2:.1f},{3:.1f} {0:.1f},{4:.1f} "
                       "{5:.1f},{3:.1f}\" fill=\"{6}\">{7}</polygon>",
                       x, y - 7, x + 7, y, y + 7, x - 7, escape(color), title);
  return fmt::format("<circle class=\"ckpt kept\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"6\" fill=\"{}\">{}</circle>", x, y,
                     escape(color), title);
}

std::string timeline(const Context& context) {
  std::int64_t last = 1;
  for (const RunData& run : context.runs()) last = std::max(last, run.last_step());
  const Axis axis = linear_axis(0, static_cast<double>(last), 8, /*min_step=*/1);
  const auto px = [&](double step) { return kNameWidth + axis.position(step) * (kWidth - kNameWidth - kRight); };
  const double height = kTop + kLaneHeight * static_cast<double>(context.runs().size()) + kAxisHeight;
  const double bottom = height - kAxisHeight;
  std::string out = fmt::format(
      "<svg class=\"timeline\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\" role=\"img\">", kWidth, height);
  out += "<g class=\"grid\">";
  for (const double t : axis.ticks)
    out += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>", px(t), kTop, bottom);
  out += "</g><g class=\"ticks\">";
  for (const double t : axis.ticks)
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", px(t), bottom + 16,
                       escape(axis.label(t)));
  out += fmt::format("</g><text class=\"axis-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">step</text>",
                     kNameWidth - 12, bottom + 16);
  for (std::size_t r = 0; r < context.runs().size(); ++r) {
    const RunData& run = context.runs()[r];
    const std::string color = escape(run_color(r));
    const double y = kTop + kLaneHeight * (static_cast<double>(r) + 0.5);
    out += fmt::format(
        "<text class=\"lane\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" dominant-baseline=\"middle\" fill=\"{}\">{}"
        "</text>",
        kNameWidth - 12, y, color, escape(run.info.name));
    out += fmt::format(
        "<line class=\"lane\" x1=\"{0:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\"/>", px(0),
        px(static_cast<double>(run.last_step())), y, color);
    // Deleted ones first, so a kept marker is drawn over a deleted one at the same step.
    for (const bool deleted : {true, false})
      for (const store::CheckpointRow& row : run.checkpoints)
        if (row.deleted.has_value() == deleted) out += marker(row, px(static_cast<double>(row.step)), y, run_color(r));
  }
  return out + "</svg>";
}

std::string table(const Context& context, std::size_t r) {
  const RunData& run = context.runs()[r];
  const auto kept = static_cast<std::size_t>(
      std::count_if(run.checkpoints.begin(), run.checkpoints.end(), [](const auto& row) { return !row.deleted; }));
  // Every kept checkpoint is listed; deleted ones fill the rest, newest first.
  std::vector<const store::CheckpointRow*> listed;
  std::size_t deleted_room = kRowsListed > kept ? kRowsListed - kept : 0;
  for (auto row = run.checkpoints.rbegin(); row != run.checkpoints.rend(); ++row)
    if (!row->deleted || deleted_room-- > 0) listed.push_back(&*row);
  std::reverse(listed.begin(), listed.end());

  std::string out =
      fmt::format("<details class=\"ckpts\"><summary>{}: {} checkpoint{}, {} kept</summary>", run_label(context, r),
                  run.checkpoints.size(), run.checkpoints.size() == 1 ? "" : "s", kept);
  out += "<table><tr><th>step</th><th>saved because</th><th>now</th><th>size</th><th>written</th><th>file</th></tr>";
  for (const store::CheckpointRow* row : listed) {
    const std::string now = row->deleted ? "deleted " + format_time(*row->deleted) : "kept: " + row->kept;
    out += fmt::format(
        "<tr class=\"{}\"><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td>"
        "<td class=\"path\">{}</td></tr>",
        row->deleted ? "deleted" : "kept", row->step, escape(row->reason), escape(now), format_bytes(row->bytes),
        format_time(row->created), escape(row->path));
  }
  out += "</table>";
  if (listed.size() < run.checkpoints.size())
    out += fmt::format("<p class=\"note\">{} older deleted checkpoints are not listed.</p>",
                       run.checkpoints.size() - listed.size());
  return out + "</details>";
}

}  // namespace

std::string checkpoints_section(Context& context) {
  const bool any = std::any_of(context.runs().begin(), context.runs().end(),
                               [](const RunData& run) { return !run.checkpoints.empty(); });
  std::string out = "<section id=\"checkpoints\"><h2>Checkpoints</h2>";
  if (!any) return out + "<p class=\"note\">No checkpoints were recorded for these runs.</p></section>";
  out += "<p class=\"note\">● kept as one of the newest <code>saver.max_to_keep</code> · ■ kept for good by "
         "<code>saver.keep_every_hours</code> · ◆ kept because a hook asked (<code>best</code>: early stopping's "
         "best so far) · ○ deleted by retention (or found corrupt on restore). A checkpoint "
         "is saved because of <code>steps</code> or <code>time</code> (the saver's period), <code>end</code> (the "
         "last step), <code>stop</code> (a signal or max_time) or <code>snapshot</code> (SIGHUP).</p>";
  out += timeline(context);
  for (std::size_t r = 0; r < context.runs().size(); ++r)
    if (!context.runs()[r].checkpoints.empty()) out += table(context, r);
  return out + "</section>";
}

}  // namespace kiln::runner::report::detail
