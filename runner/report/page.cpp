// The report as one self-contained HTML page: inline CSS, inline SVG charts, embedded images.
#include "report/page.hpp"

#include <iterator>
#include <set>

#include <fmt/format.h>

#include "report/html.hpp"
#include "report/sections.hpp"
#include "report/series.hpp"

namespace kiln::runner::report {
namespace {

using detail::Context;

// Tableau's ten colours: distinct from each other, and readable on white.
constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1",
                                    "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"};

constexpr const char* kStyle = R"css(
:root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f4f6f9;--mono:ui-monospace,"DejaVu Sans Mono",monospace}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
  color:var(--fg);background:var(--bg)}
.top{position:sticky;top:0;z-index:5;display:flex;gap:20px;align-items:center;flex-wrap:wrap;
  background:#fff;border-bottom:1px solid var(--line);padding:10px 28px}
.top h1{font-size:18px;margin:0;font-weight:700}
.top h1 span{color:var(--muted);font-weight:400}
.legend{display:flex;gap:14px;flex-wrap:wrap}
.top nav a{color:var(--muted);text-decoration:none;margin-right:12px;font-size:13px}
.top nav a:hover{color:var(--fg)}
.top label{font-size:13px;color:var(--muted);margin-left:auto}
main{max-width:1240px;margin:0 auto;padding:8px 28px 48px}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px 20px;margin:16px 0}
h2{font-size:16px;margin:0 0 6px}
h3{font-size:13px;margin:14px 0 6px}
.card h3{margin:0 0 4px;font-family:var(--mono)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:18px 24px}
.charts.small{grid-template-columns:repeat(auto-fill,minmax(360px,1fr))}
figure{margin:0}
figcaption{font-size:12px;color:var(--muted)}
svg.chart,svg.timeline{width:100%;height:auto;display:block}
svg .grid line{stroke:#eceef2}
svg .frame{fill:none;stroke:#cfd4dc}
svg .ticks text,svg .empty{font-size:11px;fill:#6b7280}
svg .axis-label{font-size:11px;fill:#374151}
svg path{fill:none;stroke-linejoin:round;stroke-linecap:round}
svg path.raw{stroke-width:1;stroke-opacity:.3}
svg path.smooth{stroke-width:2.2}
svg path.points{stroke-width:1.5;stroke-opacity:.8}
svg .marker{fill:#fff;stroke-width:2.5}
svg text.lane{font-size:12px;font-weight:600}
svg line.lane{stroke-width:2;stroke-opacity:.25}
svg .ckpt.deleted{fill:#fff;stroke:#9ca3af;stroke-width:1.5}
body.hide-raw path.raw{display:none}
.run{white-space:nowrap;font-weight:600}
.swatch{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-1px;margin-right:6px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:4px 0}
th,td{text-align:left;padding:4px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.path{font-family:var(--mono);font-size:11px;color:var(--muted);word-break:break-all}
td.key{font-family:var(--mono)}
tr.winner td{background:#f0fdf4}
tr.deleted td,.absent{color:#9ca3af}
.status{padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;background:#e5e7eb}
.status.completed{background:#dcfce7;color:#166534}
.status.failed,.status.crashed{background:#fee2e2;color:#991b1b}
.status.running{background:#dbeafe;color:#1e40af}
.status.stopped{background:#fef3c7;color:#92400e}
.error{color:#b91c1c;white-space:pre-wrap;font-size:12px}
.highlights{list-style:none;margin:12px 0 0;padding:8px 14px;background:#f0fdf4;border:1px solid #bbf7d0;
  border-radius:8px}
.highlights li{margin:2px 0}
.best{font-weight:600;margin:6px 0 2px}
ul.values{list-style:none;padding:0;margin:4px 0;display:flex;gap:4px 18px;flex-wrap:wrap}
.note{color:var(--muted);font-size:12px;margin:2px 0 10px}
.warn{color:#b45309}
pre{background:#f6f7f9;border:1px solid var(--line);padding:10px 12px;border-radius:6px;overflow:auto;
  max-height:420px;font-size:12px}
details{margin:8px 0}
summary{cursor:pointer}
.image-run{margin:6px 0 14px}
.image-head{margin-bottom:6px}
.shots{display:flex;gap:14px;flex-wrap:wrap;align-items:flex-start}
img.summary{image-rendering:pixelated;border:1px solid var(--line);border-radius:4px;max-width:100%;height:auto;
  display:block}
.missing{width:240px;padding:10px;border:1px dashed #f59e0b;border-radius:6px;background:#fffbeb;color:#92400e;
  font-size:12px;word-break:break-all}
.event-runs{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:0 24px}
.kind{font-family:var(--mono);font-size:12px}
tr.failure .kind,tr.nan .kind,tr.fallback .kind{color:#b91c1c}
tr.signal .kind{color:#92400e}
code{font-size:12px}
)css";

// Counts the embedded images that decoded, once everything has loaded, for people and tests.
constexpr const char* kScript = R"js(
document.getElementById('raw').addEventListener('change',function(e){
  document.body.classList.toggle('hide-raw',!e.target.checked);
});
window.addEventListener('load',function(){
  var images=document.querySelectorAll('img.summary'),loaded=0;
  for(var i=0;i<images.length;++i){if(images[i].complete&&images[i].naturalWidth>0)++loaded;}
  document.body.setAttribute('data-images-loaded',String(loaded));
});
)js";

std::string status_badge(const std::string& status) {
  return fmt::format("<span class=\"status {0}\">{0}</span>", escape(status));
}

std::string run_names(const Context& context) {
  std::string names;
  for (const RunData& run : context.runs()) names += (names.empty() ? "" : ", ") + run.info.name;
  return names;
}

std::string runs_table(const Context& context) {
  std::string out =
      "<table class=\"runs\"><tr><th>run</th><th>id</th><th>status</th><th>steps</th><th>duration</th>"
      "<th>started</th><th>experiment</th><th>host</th></tr>";
  for (std::size_t r = 0; r < context.runs().size(); ++r) {
    const RunData& run = context.runs()[r];
    const auto max_steps = run.max_steps();
    const std::string steps =
        max_steps ? fmt::format("{} / {}", run.last_step(), *max_steps) : std::to_string(run.last_step());
    const std::string duration =
        format_duration(run.duration(context.data.generated)) + (run.info.ended ? "" : " so far");
    out += fmt::format(
        "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td></tr>",
        detail::run_label(context, r), run.info.id, status_badge(run.info.status), steps, duration,
        format_time(run.info.started), escape(run.info.experiment), escape(run.info.host));
    if (!run.info.error.empty())
      out += fmt::format("<tr><td></td><td colspan=\"7\" class=\"error\">error: {}</td></tr>", escape(run.info.error));
  }
  return out + "</table>";
}

std::string overview(const Context& context) {
  std::string out = "<section id=\"runs\"><h2>Runs</h2>" + runs_table(context);
  const std::vector<std::string> bests = detail::best_sentences(context);
  if (!bests.empty()) {
    out += "<ul class=\"highlights\">";
    for (const std::string& sentence : bests) out += "<li class=\"best\">" + escape(sentence) + "</li>";
    out += "</ul>";
  }
  return out + "</section>";
}

std::string top_bar(const Context& context) {
  std::string legend;
  for (std::size_t r = 0; r < context.runs().size(); ++r) legend += detail::run_label(context, r);
  std::string nav;
  for (const char* id : {"runs", "losses", "eval", "checkpoints", "images", "config", "events"})
    nav += fmt::format("<a href=\"#{0}\">{0}</a>", id);
  return fmt::format(
      "<div class=\"top\"><h1>kiln report <span>{}</span></h1><div class=\"legend\">{}</div><nav>{}</nav>"
      "<label><input type=\"checkbox\" id=\"raw\" checked> raw values</label></div>",
      escape(run_names(context)), legend, nav);
}

}  // namespace

std::string run_color(std::size_t index) { return kPalette[index % std::size(kPalette)]; }

namespace detail {

std::vector<std::string> tags_with_prefix(const Context& context, const std::string& prefix) {
  std::set<std::string> tags;
  for (const RunData& run : context.runs())
    for (const auto& [tag, points] : run.summaries)
      if (tag.rfind(prefix, 0) == 0) tags.insert(tag);
  return {tags.begin(), tags.end()};
}

std::string run_label(const Context& context, std::size_t run) {
  return fmt::format("<span class=\"run\"><span class=\"swatch\" style=\"background:{}\"></span>{}</span>",
                     run_color(run), escape(context.runs()[run].info.name));
}

}  // namespace detail

Page render_page(const ReportData& data, const PageOptions& options) {
  Page page;
  Context context{data, options, page};
  std::string body = top_bar(context) + "<main>";
  body += fmt::format("<p class=\"note\">Written {} from {}.</p>", format_time(data.generated),
                      escape(data.database.string()));
  body += overview(context);
  body += detail::loss_section(context);
  body += detail::eval_section(context);
  body += detail::other_section(context);
  body += detail::checkpoints_section(context);
  body += detail::images_section(context);
  body += detail::config_section(context);
  body += detail::events_section(context);
  body += "</main>";
  page.html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>kiln report: {}</title><style>{}</style></head>\n"
      "<body data-images-embedded=\"{}\">{}<script>{}</script></body></html>\n",
      escape(run_names(context)), kStyle, page.images_embedded, body, kScript);
  return page;
}

}  // namespace kiln::runner::report
