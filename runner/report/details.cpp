// The report's config and events sections: each run's resolved config, the keys that differ,
// and what happened to each run.
#include <optional>
#include <set>

#include <fmt/format.h>

#include "report/html.hpp"
#include "report/sections.hpp"

namespace kiln::runner::report::detail {
namespace {

// Events listed per run before the middle ones are only counted: the first and the latest.
constexpr std::size_t kFirstEvents = 10, kLastEvents = 20;

/// The params whose values are not the same in every run (a missing key counts as a value).
std::string differences(const Context& context) {
  std::set<std::string> keys;
  for (const RunData& run : context.runs())
    for (const auto& [key, value] : run.params) keys.insert(key);
  std::string rows;
  std::size_t count = 0;
  for (const std::string& key : keys) {
    std::set<std::optional<std::string>> values;
    std::string cells;
    for (const RunData& run : context.runs()) {
      const auto it = run.params.find(key);
      values.insert(it == run.params.end() ? std::nullopt : std::optional<std::string>(it->second));
      cells += it == run.params.end() ? "<td class=\"absent\">(not set)</td>" : "<td>" + escape(it->second) + "</td>";
    }
    if (values.size() < 2) continue;
    ++count;
    rows += fmt::format("<tr><td class=\"key\">{}</td>{}</tr>", escape(key), cells);
  }
  std::string head = "<tr><th>key</th>";
  for (std::size_t r = 0; r < context.runs().size(); ++r) head += "<th>" + run_label(context, r) + "</th>";
  if (count == 0) return "<p class=\"note\">The runs' configs set every key to the same value.</p>";
  return fmt::format("<h3>{} key{} that differ</h3><table class=\"diff\">{}</tr>{}</table>", count,
                     count == 1 ? "" : "s", head, rows);
}

std::string event_row(const RunData& run, const EventRow& event) {
  return fmt::format(
      "<tr class=\"{0}\"><td class=\"num\">+{1}</td><td class=\"num\">{2}</td><td><span class=\"kind\">{0}</span></td>"
      "<td>{3}</td></tr>",
      escape(event.kind), format_duration(event.time - run.info.started), event.step ? std::to_string(*event.step) : "",
      escape(event.message));
}

std::string run_events(const Context& context, std::size_t r) {
  const RunData& run = context.runs()[r];
  // Saves are in the checkpoint timeline; here they would drown the rest.
  std::vector<const EventRow*> shown;
  std::size_t saves = 0;
  for (const EventRow& event : run.events) {
    if (event.kind == "save") ++saves;
    else shown.push_back(&event);
  }
  std::string out = fmt::format("<h3>{}</h3>", run_label(context, r));
  if (shown.empty() && saves == 0) return out + "<p class=\"note\">No events.</p>";
  out += "<table class=\"events\"><tr><th>after</th><th>step</th><th>event</th><th>message</th></tr>";
  for (std::size_t i = 0; i < shown.size(); ++i) {
    if (shown.size() > kFirstEvents + kLastEvents && i == kFirstEvents) {
      const std::size_t skipped = shown.size() - kFirstEvents - kLastEvents;
      out += fmt::format("<tr class=\"skipped\"><td colspan=\"4\">… {} more events …</td></tr>", skipped);
      i += skipped - 1;
      continue;
    }
    out += event_row(run, *shown[i]);
  }
  out += "</table>";
  if (saves > 0)
    out += fmt::format("<p class=\"note\">{} save event{} not listed: see the checkpoints.</p>", saves,
                       saves == 1 ? "" : "s");
  return out;
}

}  // namespace

std::string config_section(Context& context) {
  const bool several = context.runs().size() > 1;
  std::string out = "<section id=\"config\"><h2>Config</h2>";
  if (several) out += differences(context);
  for (std::size_t r = 0; r < context.runs().size(); ++r) {
    const RunData& run = context.runs()[r];
    out += fmt::format(
        "<details class=\"config\"{}><summary>{} resolved config <span class=\"note\">{}</span></summary>"
        "<pre>{}</pre></details>",
        several ? "" : " open", run_label(context, r), escape(run.info.experiment), escape(run.info.config));
  }
  return out + "</section>";
}

std::string events_section(Context& context) {
  std::string out = "<section id=\"events\"><h2>Events</h2><div class=\"event-runs\">";
  for (std::size_t r = 0; r < context.runs().size(); ++r) out += "<div>" + run_events(context, r) + "</div>";
  return out + "</div></section>";
}

}  // namespace kiln::runner::report::detail
