// kiln serve's JSON API about runs: the list, one run in full, and runs compared.
#include "serve/api.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "document.hpp"
#include "kiln/config.hpp"
#include "kiln/error.hpp"
#include "serve/api_support.hpp"
#include "serve/json_writer.hpp"
#include "store/checkpoints.hpp"
#include "store/dashboard.hpp"
#include "store/history.hpp"
#include "store/schema.hpp"

namespace kiln::runner::serve {
namespace {

using store::Database;
using store::RunRow;

constexpr const char* kStatuses[] = {"running", "completed", "stopped", "failed", "crashed"};

/// The run's [experiment] tags, recorded in params as TOML ("[ 'baseline' ]"), read by the
/// SDK's own TOML reader; none when it has none, or the value is something else.
std::vector<std::string> experiment_tags(Database& db, std::int64_t run_id) {
  const std::optional<std::string> text = store::run_param(db, run_id, "experiment.tags");
  if (!text) return {};
  try {
    return kiln::detail::Document::parse("tags = " + *text, "experiment.tags")->root().get<std::vector<std::string>>("tags");
  } catch (const Error&) {
    return {};  // a value another program wrote: no tags kiln can read
  }
}

std::optional<std::int64_t> max_steps(Database& db, std::int64_t run_id) {
  const std::optional<std::string> text = store::run_param(db, run_id, "experiment.max_steps");
  if (!text) return std::nullopt;
  try {
    return parse_integer(*text, "experiment.max_steps");
  } catch (const ApiError&) {
    return std::nullopt;  // a value another program wrote: not a number of steps
  }
}

/// The members of a run object that /api/runs, /api/runs/<id> and /api/compare share.
void write_run_members(JsonWriter& json, Database& db, const RunRow& run) {
  json.key("id").value(run.id).key("name").value(run.name).key("status").value(run.status);
  json.key("experiment").value(run.experiment).key("started").value(run.started).key("ended").value(run.ended);
  json.key("step").value(last_step(db, run.id)).key("max_steps").value(max_steps(db, run.id));
  json.key("tags").value(experiment_tags(db, run.id));
  if (run.environment) {
    json.key("device").value(run.environment->device).key("world_size").value(run.environment->world_size);
  } else {
    json.key("device").null().key("world_size").null();
  }
  json.key("error");
  if (run.error.empty()) json.null();
  else json.value(run.error);
  json.key("best").begin_object();
  for (const store::BestMetric& best : store::best_metrics(db, run.id, "eval/")) {
    json.key(best.tag).begin_object();
    json.key("value").value(best.value).key("step").value(best.step).key("direction").value(best.direction);
    json.end_object();
  }
  json.end_object();
}

void write_checkpoints(JsonWriter& json, Database& db, std::int64_t run_id) {
  json.key("checkpoints").begin_array();
  if (store::schema_version(db) >= kCheckpointsSince) {
    for (const store::CheckpointRow& row : store::list_checkpoints(db, run_id, /*include_deleted=*/true)) {
      json.begin_object().key("step").value(row.step).key("path").value(row.path).key("bytes").value(row.bytes);
      json.key("created").value(row.created).key("reason").value(row.reason);
      json.key("kept");
      if (row.kept.empty()) json.null();
      else json.value(row.kept);
      json.key("deleted").value(row.deleted).end_object();
    }
  }
  json.end_array();
}

void write_events(JsonWriter& json, Database& db, std::int64_t run_id) {
  std::vector<store::EventRow> events = store::run_events(db, run_id);
  // By time; events recorded at one time stay in the order they were recorded (as kiln report).
  std::stable_sort(events.begin(), events.end(),
                   [](const store::EventRow& a, const store::EventRow& b) { return a.time < b.time; });
  json.key("events").begin_array();
  for (const store::EventRow& event : events) {
    json.begin_object().key("time").value(event.time).key("step").value(event.step);
    json.key("kind").value(event.kind).key("message").value(event.message).end_object();
  }
  json.end_array();
}

}  // namespace

std::string runs_json(Database& db, const RunsQuery& query) {
  if (!query.status.empty() && std::find(std::begin(kStatuses), std::end(kStatuses), query.status) == std::end(kStatuses))
    throw ApiError(400, fmt::format("status '{}' is none of running, completed, stopped, failed, crashed", query.status));
  JsonWriter json;
  json.begin_object().key("runs").begin_array();
  for (const store::RunListing& listing : store::list_runs(db, {query.status, query.name})) {
    if (!query.tag.empty()) {
      const std::vector<std::string> tags = experiment_tags(db, listing.run.id);
      if (std::find(tags.begin(), tags.end(), query.tag) == tags.end()) continue;
    }
    json.begin_object();
    write_run_members(json, db, listing.run);
    json.end_object();
  }
  json.end_array().end_object();
  return json.take();
}

std::string run_json(Database& db, const std::string& ref) {
  const store::RunRef found = find_run(db, ref);
  const RunRow run = store::run_row(db, found.id);
  JsonWriter json;
  json.begin_object().key("run").begin_object();
  write_run_members(json, db, run);
  json.key("run_dir").value(run.run_dir).key("host").value(run.host).key("kiln_version").value(run.kiln_version);
  json.end_object();
  json.key("config").value(run.config);
  json.key("params").begin_object();
  for (const auto& [key, value] : store::run_params(db, run.id)) json.key(key).value(value);
  json.end_object();
  json.key("tags").value(store::summary_tags(db, run.id));
  std::set<std::string> image_tags;
  if (store::schema_version(db) >= kImagesSince)
    for (const store::ImageRow& image : store::run_images(db, run.id)) image_tags.insert(image.tag);
  json.key("image_tags").value(std::vector<std::string>(image_tags.begin(), image_tags.end()));
  write_checkpoints(json, db, run.id);
  write_events(json, db, run.id);
  json.end_object();
  return json.take();
}

std::string compare_json(Database& db, const std::vector<std::string>& refs) {
  if (refs.size() < 2)
    throw ApiError(400, fmt::format("compare needs two or more runs (?runs=a,b), got {}", refs.size()));
  std::vector<RunRow> runs;
  for (const std::string& ref : refs) {
    const store::RunRef found = find_run(db, ref);
    for (const RunRow& seen : runs)
      if (seen.id == found.id)
        throw ApiError(400, fmt::format("'{}' names run {} twice; compare needs different runs", ref, found.name));
    runs.push_back(store::run_row(db, found.id));
  }
  JsonWriter json;
  json.begin_object().key("runs").begin_array();
  for (const RunRow& run : runs) {
    json.begin_object();
    write_run_members(json, db, run);
    json.end_object();
  }
  json.end_array();

  std::vector<std::map<std::string, std::string>> params;
  std::set<std::string> keys;
  std::set<std::string> tags;
  for (const RunRow& run : runs) {
    params.push_back(store::run_params(db, run.id));
    for (const auto& [key, value] : params.back()) keys.insert(key);
    for (std::string& tag : store::summary_tags(db, run.id)) tags.insert(std::move(tag));
  }
  json.key("differences").begin_array();
  for (const std::string& key : keys) {
    std::vector<std::optional<std::string>> values;
    for (const auto& run_params : params) {
      const auto found = run_params.find(key);
      values.push_back(found == run_params.end() ? std::nullopt : std::optional<std::string>(found->second));
    }
    if (std::all_of(values.begin(), values.end(), [&](const auto& value) { return value == values.front(); })) continue;
    json.begin_object().key("key").value(key).key("values").begin_array();
    for (const auto& value : values) json.value(value);
    json.end_array().end_object();
  }
  json.end_array();
  json.key("tags").value(std::vector<std::string>(tags.begin(), tags.end()));
  json.end_object();
  return json.take();
}

}  // namespace kiln::runner::serve
