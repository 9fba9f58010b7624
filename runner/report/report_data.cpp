// Everything `kiln report` shows about a run, loaded from the run database into plain structs.
#include "report/report_data.hpp"

#include <algorithm>
#include <chrono>

#include "store/checkpoints.hpp"
#include "store/history.hpp"
#include "store/run_ref.hpp"
#include "store/schema.hpp"

namespace kiln::runner::report {
namespace {

// The schema versions that added the checkpoints and images tables (see store/schema.cpp).
constexpr int kCheckpointsSince = 2;
constexpr int kImagesSince = 3;

}  // namespace

std::int64_t RunData::last_step() const {
  std::int64_t last = 0;
  for (const auto& [tag, points] : summaries)
    if (!points.empty()) last = std::max(last, points.back().step);
  for (const CheckpointRow& row : checkpoints) last = std::max(last, row.step);
  for (const EventRow& event : events)
    if (event.step) last = std::max(last, *event.step);
  return last;
}

std::optional<std::int64_t> RunData::max_steps() const {
  const auto it = params.find("experiment.max_steps");
  if (it == params.end() || it->second.empty()) return std::nullopt;
  std::size_t used = 0;
  try {
    const long long value = std::stoll(it->second, &used);
    if (used == it->second.size()) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

double RunData::duration(double now) const { return info.ended.value_or(now) - info.started; }

ReportData load_report(store::Database& db, const std::vector<std::string>& refs) {
  ReportData data;
  data.database = db.path();
  data.generated = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int version = store::schema_version(db);
  for (const std::string& ref : refs) {
    const store::RunRef found = store::find_run_ref(db, ref);
    const bool seen = std::any_of(data.runs.begin(), data.runs.end(),
                                  [&](const RunData& run) { return run.info.id == found.id; });
    if (seen) continue;
    RunData run;
    run.info = store::run_row(db, found.id);
    run.summaries = store::summary_series(db, found.id);
    run.higher_is_better = store::higher_is_better(db, found.id);
    if (version >= kCheckpointsSince) run.checkpoints = store::list_checkpoints(db, found.id, /*include_deleted=*/true);
    if (version >= kImagesSince) run.images = store::run_images(db, found.id);
    run.events = store::run_events(db, found.id);
    // By time; events recorded at one time stay in the order they were recorded.
    std::stable_sort(run.events.begin(), run.events.end(),
                     [](const EventRow& a, const EventRow& b) { return a.time < b.time; });
    run.params = store::run_params(db, found.id);
    data.runs.push_back(std::move(run));
  }
  return data;
}

}  // namespace kiln::runner::report
