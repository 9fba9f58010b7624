// Everything `kiln report` shows about a run, loaded from the run database into plain structs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "report/series.hpp"
#include "store/database.hpp"
#include "store/rows.hpp"

namespace kiln::runner::report {

using store::CheckpointRow;
using store::EventRow;
using store::ImageRow;
using store::RunRow;

/// One run and everything recorded about it.
struct RunData {
  RunRow info;                                          ///< config included
  std::map<std::string, std::vector<Point>> summaries;  ///< by tag, steps ascending; NULL is NaN
  std::vector<CheckpointRow> checkpoints;               ///< deleted ones too, by step
  std::vector<ImageRow> images;                         ///< by tag, then step
  std::vector<EventRow> events;                         ///< by time
  std::map<std::string, std::string> params;            ///< the flattened config
  std::set<std::string> higher_is_better;               ///< tags whose higher values are better; the rest lower

  /// The largest step the run recorded (summaries, checkpoints, events); 0 if none.
  std::int64_t last_step() const;
  /// experiment.max_steps from the params, when it is an integer there.
  std::optional<std::int64_t> max_steps() const;
  /// How long it ran: ended - started, or `now` - started while it has not ended.
  double duration(double now) const;
};

struct ReportData {
  std::filesystem::path database;
  double generated = 0;  ///< unix seconds
  std::vector<RunData> runs;
};

/// The runs that `refs` name (a name, else an id: store::find_run_ref), in that order, each
/// once. An unknown run is the StoreError find_run_ref throws. Tables that an older schema
/// does not have yet (checkpoints, images) load as empty.
ReportData load_report(store::Database& db, const std::vector<std::string>& refs);

}  // namespace kiln::runner::report
