// The run history, read: the runs, and each run's summaries, events, images, params and plugins.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "store/rows.hpp"

namespace kiln::runner::store {

// What `kiln runs`, `show`, `compare` and `report` read, and what a dashboard would: plain
// structs from a connection, read only, no SQL outside the store. Each function's cost is
// said beside it; those that a listing calls per run read index entries, never a run's
// summaries, so they stay fast with millions of summary rows:
//
//     Database db = open_existing("runs/kiln.db");
//     for (const RunListing& line : list_runs(db, {/*status=*/"completed"}))
//       for (const SummaryRow& loss : line.losses) use(line.run.name, loss.tag, loss.value);
//     for (const TagSummary& tag : summarize_tags(db, run_id)) use(tag.tag, tag.last, tag.lowest);
//
// Tables an older schema lacks (checkpoints before 2, images before 3) are errors here;
// check schema_version() first where an old database must be read. The runs' environment
// columns (schema 5) are read where the database has them, and are none before; so are its
// processes' (schema 7), one process before.

/// Which runs list_runs() returns.
struct RunFilter {
  std::string status;      ///< only runs with this status; empty: any
  std::string name;        ///< a glob when it holds *, ? or [, else a part of the name; empty: any
  std::int64_t limit = 0;  ///< positive: at most this many, the newest
};

/// One run in a listing.
struct RunListing {
  RunRow run;                      ///< without its config (left empty): it can be large; with its environment
  std::int64_t steps = 0;          ///< steps_done()
  std::vector<SummaryRow> losses;  ///< the latest row of each loss/ tag, by tag
};

/// The runs that `filter` lets through, newest (highest id) first, each with its steps and
/// latest losses. A few index lookups per run, whatever the number of summaries.
std::vector<RunListing> list_runs(Database& db, const RunFilter& filter = {});

/// The run with id `id`, config and environment included. A StoreError (SQLITE_NOTFOUND)
/// when there is none.
RunRow run_row(Database& db, std::int64_t id);

/// Where the run trains and with what (RunStore::record_environment); none when it has none
/// recorded, when there is no such run, and in a database older than schema 5.
std::optional<RunEnvironment> run_environment(Database& db, std::int64_t run_id);

/// The steps a run has trained (its global step): the latest of its last loss summary + 1,
/// its latest checkpoint's step and its latest event's step; 0 for none. Evaluation
/// summaries, recorded after a step, do not count. Index lookups only.
std::int64_t steps_done(Database& db, std::int64_t run_id);

/// The run's summary tags in byte order; with `prefix`, only those starting with it
/// ("loss/"). One index lookup per tag.
std::vector<std::string> summary_tags(Database& db, std::int64_t run_id, const std::string& prefix = "");

/// The latest row (highest step) of each of the run's tags, by tag; with `prefix`, only of
/// the tags starting with it. Two index lookups per tag.
std::vector<SummaryRow> last_summaries(Database& db, std::int64_t run_id, const std::string& prefix = "");

/// One tag of one run in numbers. Extremes keep the first step that reached them.
struct TagSummary {
  std::string tag;
  std::int64_t count = 0;              ///< rows, NaN ones included
  Point last;                          ///< the highest step and its value (NaN if not finite when written)
  std::optional<Point> lowest;         ///< of the stored values, infinities included (as SQL's min())
  std::optional<Point> highest;        ///< of the stored values, infinities included (as SQL's max())
  std::optional<Point> finite_lowest;  ///< of the finite values
  std::optional<Point> finite_highest;
  double finite_sum = 0;               ///< of the finite values
  std::int64_t finite_count = 0;
};

/// Every tag of the run summed up, by tag: one pass over the run's summaries in index
/// order (about 0.1 s per million rows), nothing held but the answer.
std::vector<TagSummary> summarize_tags(Database& db, std::int64_t run_id);

/// Every summary of the run as series: by tag, steps ascending, NULL read as NaN. Reads
/// and holds all of them (16 bytes a row): for charts.
std::map<std::string, std::vector<Point>> summary_series(Database& db, std::int64_t run_id);

/// Every summary of the run with its wall time, by tag then step (NULL read as NaN), handed
/// to `row` one at a time: for exports of runs of any size. Nothing held but one row.
void for_each_summary(Database& db, std::int64_t run_id, const std::function<void(const SummaryRow&)>& row);

/// The run's tags whose higher values are better: those whose direction in metrics_best is
/// "max" (the experiment's [summaries] rules and its hooks' declarations); every other tag is
/// lower-is-better, as every tag is in a database older than schema 6. Index lookups per tag.
std::set<std::string> higher_is_better(Database& db, std::int64_t run_id);

/// The run's flattened config: key -> value (NULL reads as "").
std::map<std::string, std::string> run_params(Database& db, std::int64_t run_id);

/// The plugins the run loaded, by kind then name (NULL columns read as "" and 0).
std::vector<PluginRecord> run_plugins(Database& db, std::int64_t run_id);

/// How many events the run has recorded.
std::int64_t count_events(Database& db, std::int64_t run_id);

/// The run's events in the order they were recorded (NULL message reads as "").
std::vector<EventRow> run_events(Database& db, std::int64_t run_id);

/// The run's latest event of `kind` ("stop": how the run last ended, with a stopped run's
/// reason), if it has one. An index lookup and the run's events of that kind.
std::optional<EventRow> last_event(Database& db, std::int64_t run_id, std::string_view kind);

/// The run's image summaries, by tag then step.
std::vector<ImageRow> run_images(Database& db, std::int64_t run_id);

}  // namespace kiln::runner::store
