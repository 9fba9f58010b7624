// The cookbook's answers, from the runs, summaries, checkpoints, params, plugins and events
// read with SQLite directly: none of the cookbook's SQL or the schema's views is used here.
#include "cookbook_answers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "cli_support.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

/// `value` with all the digits a double has.
std::string num(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

/// One summary: its step and value (as SQLite prints it, and as a double).
struct Point {
  std::int64_t step;
  std::string text;
  double value;
};

/// The first point with the lowest (`sign` 1) or highest (-1) value.
Point extreme(const std::vector<Point>& points, int sign) {
  return *std::min_element(points.begin(), points.end(),
                           [&](const Point& a, const Point& b) { return sign * a.value < sign * b.value; });
}

struct Run {
  std::string id, name, status, started, error, duration;
};

struct Checkpoint {
  std::string run, run_id, step, reason, kept, bytes, deleted, path;
};

/// What the database holds, read with SQLite itself: runs, summaries by run and tag,
/// checkpoints and params.
struct Tables {
  explicit Tables(const fs::path& path) : db(path) {
    for (auto& r : sql_rows(db, "SELECT id, name, status, datetime(started, 'unixepoch', 'localtime'), error, "
                                "iif(ended IS NULL, '', printf('%.17g', ended - started)) FROM runs ORDER BY id"))
      // duration_s: rounded to milliseconds, NULL while the run has no end.
      runs.push_back({r[0], r[1], r[2], r[3], r[4],
                      r[5].empty() ? "NULL" : num(std::round(std::stod(r[5]) * 1000) / 1000)});
    for (auto& r : sql_rows(db, "SELECT run_id, tag, step, value, printf('%.17g', value) FROM summaries "
                                "ORDER BY run_id, tag, step"))
      summaries[{r[0], r[1]}].push_back({std::stoll(r[2]), r[3], std::stod(r[4])});
    for (auto& r : sql_rows(db, "SELECT r.name, r.id, c.step, c.reason, coalesce(c.kept, 'NULL'), c.bytes, "
                                "coalesce(datetime(c.deleted, 'unixepoch', 'localtime'), 'NULL'), c.path "
                                "FROM checkpoints c JOIN runs r ON r.id = c.run_id ORDER BY r.id, c.step"))
      checkpoints.push_back({r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]});
    for (auto& r : sql_rows(db, "SELECT run_id, key, value FROM params")) params[r[0]][r[1]] = r[2];
    for (auto& r : sql_rows(db, "SELECT run_id, pattern, direction, source FROM summary_directions"))
      directions[r[0]].push_back({r[1], r[2], r[3]});
  }

  /// "max" or "min" for `tag` of `run`: of the rules that cover it, an exact one over a
  /// pattern ("eval/*"), a longer pattern over a shorter, the experiment's over a hook's; "min"
  /// when none does.
  std::string direction(const Run& run, const std::string& tag) const {
    const Rule* chosen = nullptr;
    auto rank = [&](const Rule& rule) {
      const bool exact = rule.pattern.back() != '*';
      return std::make_tuple(exact, rule.pattern.size(), rule.source == "experiment");
    };
    const auto found = directions.find(run.id);
    if (found == directions.end()) return "min";
    for (const Rule& rule : found->second) {
      const bool exact = rule.pattern.back() != '*';
      const std::string prefix = rule.pattern.substr(0, rule.pattern.size() - 1);
      const bool covers = exact ? rule.pattern == tag : tag.compare(0, prefix.size(), prefix) == 0;
      if (covers && (!chosen || rank(rule) > rank(*chosen))) chosen = &rule;
    }
    return chosen ? chosen->direction : "min";
  }

  const std::vector<Point>& points(const Run& run, const std::string& tag) const {
    static const std::vector<Point> none;
    const auto found = summaries.find({run.id, tag});
    return found == summaries.end() ? none : found->second;
  }
  const Run& run(const std::string& name) const {
    return *std::find_if(runs.begin(), runs.end(), [&](const Run& r) { return r.name == name; });
  }
  std::string steps(const Run& run) const {
    const auto& loss = points(run, "loss/mse");
    return loss.empty() ? "NULL" : std::to_string(loss.back().step + 1);
  }
  std::string last_json(const Run& run, const std::string& tag) const {
    const auto& p = points(run, tag);
    return p.empty() ? "{}" : "{\"mse\":" + p.back().text + "}";
  }
  /// The run's checkpoints that are not deleted, oldest first.
  std::vector<Checkpoint> kept(const Run& run) const {
    std::vector<Checkpoint> out;
    for (const Checkpoint& c : checkpoints)
      if (c.run_id == run.id && c.deleted == "NULL") out.push_back(c);
    return out;
  }
  std::string latest_checkpoint(const Run& run) const {
    const auto k = kept(run);
    return k.empty() ? "NULL" : k.back().step;
  }

  fs::path db;
  std::vector<Run> runs;
  std::map<std::pair<std::string, std::string>, std::vector<Point>> summaries;
  std::vector<Checkpoint> checkpoints;
  std::map<std::string, std::map<std::string, std::string>> params;
  struct Rule {
    std::string pattern, direction, source;
  };
  std::map<std::string, std::vector<Rule>> directions;  ///< summary_directions by run id
};

/// Rows with the key they are ordered by: a number, then a run's name.
using Keyed = std::vector<std::pair<std::tuple<double, std::string>, std::vector<std::string>>>;

/// `rows` sorted by their keys, after the header.
Rows sorted(Rows header, Keyed rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& row : rows) header.push_back(std::move(row.second));
  return header;
}

using Expectation = std::function<Rows(const Tables&)>;

/// The runs whose status is one of `statuses`, as run_overview shows them.
Rows runs_with_status(const Tables& t, const std::set<std::string>& statuses, bool checkpoint) {
  Rows rows = {{"name", "status", "steps", "started"}};
  if (checkpoint) rows[0].push_back("latest_checkpoint_step");
  rows[0].push_back("error");
  for (const Run& r : t.runs) {
    if (!statuses.count(r.status)) continue;
    rows.push_back({r.name, r.status, t.steps(r), r.started});
    if (checkpoint) rows.back().push_back(t.latest_checkpoint(r));
    rows.back().push_back(r.error);
  }
  return rows;
}

/// What each query answers, by cookbook id, worked out in C++ from the tables.
std::map<std::string, Expectation> expectations() {
  std::map<std::string, Expectation> e;
  e["overview"] = [](const Tables& t) {
    Rows rows = {{"name", "status", "steps", "started", "duration_s", "losses", "eval", "latest_checkpoint_step"}};
    for (const Run& r : t.runs)
      rows.push_back({r.name, r.status, t.steps(r), r.started, r.duration, t.last_json(r, "loss/mse"),
                      t.last_json(r, "eval/mse"), t.latest_checkpoint(r)});
    return rows;
  };
  e["failed"] = [](const Tables& t) { return runs_with_status(t, {"failed", "crashed"}, false); };
  e["unfinished"] = [](const Tables& t) { return runs_with_status(t, {"running", "crashed"}, true); };
  e["best-eval"] = [](const Tables& t) {
    Keyed rows;
    for (const Run& r : t.runs)
      if (const auto& p = t.points(r, "eval/mse"); !p.empty()) {
        const Point best = extreme(p, 1);
        rows.push_back({{best.value, r.name}, {r.name, std::to_string(best.step), best.text}});
      }
    return sorted({{"run", "best_step", "eval_mse"}}, rows);
  };
  e["best-loss"] = [](const Tables& t) {
    Rows rows = {{"run", "best_step", "loss", "worst_step", "worst_loss"}};
    for (const Run& r : t.runs) {
      const Point best = extreme(t.points(r, "loss/mse"), 1), worst = extreme(t.points(r, "loss/mse"), -1);
      rows.push_back({r.name, std::to_string(best.step), best.text, std::to_string(worst.step), worst.text});
    }
    return rows;
  };
  e["best-by-direction"] = [](const Tables& t) {
    Keyed rows;
    for (const Run& r : t.runs)
      if (const auto& p = t.points(r, "eval/mse"); !p.empty()) {
        const std::string direction = t.direction(r, "eval/mse");
        const Point best = extreme(p, direction == "max" ? -1 : 1);
        rows.push_back({{direction == "max" ? -best.value : best.value, r.name},
                        {r.name, "eval/mse", direction, best.text, std::to_string(best.step)}});
      }
    return sorted({{"run", "tag", "direction", "best_value", "best_step"}}, rows);
  };
  e["best-checkpoint"] = [](const Tables& t) {
    Keyed rows;
    for (const Run& r : t.runs) {
      std::optional<std::pair<Point, Checkpoint>> best;
      for (const Checkpoint& c : t.kept(r))
        for (const Point& p : t.points(r, "eval/mse"))
          if (std::to_string(p.step) == c.step && (!best || p.value < best->first.value)) best = {p, c};
      if (best)
        rows.push_back({{best->first.value, r.name}, {r.name, best->second.step, best->first.text, best->second.path}});
    }
    return sorted({{"run", "step", "eval_mse", "path"}}, rows);
  };
  e["loss-at-step"] = [](const Tables& t) {
    Keyed rows;
    for (const Run& r : t.runs)
      for (const Point& p : t.points(r, "loss/mse"))
        if (p.step == 20) rows.push_back({{p.value, r.name}, {r.name, p.text}});
    return sorted({{"run", "loss"}}, rows);
  };
  e["curve"] = [](const Tables& t) {
    Rows rows = {{"step", "loss"}};
    for (const Point& p : t.points(t.run("mlp"), "loss/mse")) rows.push_back({std::to_string(p.step), p.text});
    return rows;
  };
  e["curves"] = [](const Tables& t) {
    Rows rows = {{"run", "step", "eval_mse"}};
    for (const char* name : {"mlp", "mlp-2"})
      for (const Point& p : t.points(t.run(name), "eval/mse")) rows.push_back({name, std::to_string(p.step), p.text});
    return rows;
  };
  e["throughput"] = [](const Tables& t) {
    Keyed rows;
    for (const Run& r : t.runs) {
      double sum = 0;
      int count = 0;
      for (const Point& p : t.points(r, "time/step_ms"))
        if (p.step > 0) sum += p.value, ++count;
      if (count == 0) continue;
      const double mean = sum / count;
      rows.push_back({{mean, r.name}, {r.name, num(mean), num(1000 / mean), std::to_string(count)}});
    }
    return sorted({{"run", "step_ms", "steps_per_s", "windows"}}, rows);
  };
  e["lr-runs"] = [](const Tables& t) {
    Keyed rows;
    for (const Run& r : t.runs) {
      const std::string lr = t.params.at(r.id).at("optimizers.adam.lr");
      if (std::stod(lr) != 1e-3) continue;
      const Point last = t.points(r, "eval/mse").back();
      rows.push_back({{last.value, r.name}, {r.name, r.status, lr, std::to_string(last.step), last.text}});
    }
    return sorted({{"run", "status", "lr", "step", "final_eval_mse"}}, rows);
  };
  e["lr-sweep"] = [](const Tables& t) {
    Keyed rows;
    for (const Run& r : t.runs) {
      const double lr = std::stod(t.params.at(r.id).at("optimizers.adam.lr"));
      const std::string loss = t.points(r, "loss/mse").back().text, eval = t.points(r, "eval/mse").back().text;
      rows.push_back({{lr, r.name}, {r.name, num(lr), r.status, loss, eval}});
    }
    return sorted({{"run", "lr", "status", "final_loss", "final_eval_mse"}}, rows);
  };
  e["config-diff"] = [](const Tables& t) {
    const auto& a = t.params.at(t.run("mlp").id);
    const auto& b = t.params.at(t.run("mlp-2").id);
    std::set<std::string> keys;
    for (const auto* side : {&a, &b})
      for (const auto& [key, value] : *side) keys.insert(key);
    Rows rows = {{"key", "in_mlp", "in_mlp_2"}};
    for (const std::string& key : keys) {
      const std::string x = a.count(key) ? a.at(key) : "NULL", y = b.count(key) ? b.at(key) : "NULL";
      if (x != y) rows.push_back({key, x, y});
    }
    return rows;
  };
  e["checkpoints"] = [](const Tables& t) {
    Rows rows = {{"run", "step", "reason", "kept", "bytes", "deleted"}};
    for (const Checkpoint& c : t.checkpoints)
      rows.push_back({c.run, c.step, c.reason, c.kept, c.bytes, c.deleted});
    return rows;
  };
  e["disk"] = [](const Tables& t) {
    Keyed rows;
    for (const Run& r : t.runs) {
      std::int64_t files = 0, bytes = 0;
      for (const Checkpoint& c : t.kept(r)) ++files, bytes += std::stoll(c.bytes);
      rows.push_back({{-static_cast<double>(bytes), r.name},
                      {r.name, std::to_string(files), std::to_string(bytes), num(std::round(bytes / 1e5) / 10)}});
    }
    return sorted({{"run", "files", "bytes", "mb"}}, rows);
  };
  e["plugins-of-run"] = [](const Tables& t) {
    Rows rows = sql_rows(t.db, "SELECT library, version, kind, name, abi, sha256, path FROM plugins WHERE run_id = " +
                                   t.run("mlp-4").id);
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return std::tie(a[0], a[2], a[3]) < std::tie(b[0], b[2], b[3]);
    });
    rows.insert(rows.begin(), {"library", "version", "kind", "name", "abi", "sha256", "path"});
    return rows;
  };
  e["runs-with-plugin"] = [](const Tables& t) {
    Rows rows = {{"run", "status", "version", "sha256"}};
    for (const Run& r : t.runs)
      for (const auto& p : sql_rows(t.db, "SELECT library, version, sha256 FROM plugins WHERE run_id = " + r.id))
        if (p[0] == "mlp" && p[1] == "1.0.0") {
          rows.push_back({r.name, r.status, p[1], p[2]});
          break;  // one row per run, however many objects the library registered
        }
    return rows;
  };
  // The events of all runs, oldest first, that `keep` takes: (run or time), step, kind, message.
  const auto events = [](const Tables& t, const std::function<bool(const std::vector<std::string>&)>& keep,
                         bool with_time) {
    Rows rows = {{with_time ? "time" : "run", "step", "kind", "message"}};
    for (auto& row : sql_rows(t.db, "SELECT r.name, datetime(e.time, 'unixepoch', 'localtime'), "
                                    "coalesce(e.step, 'NULL'), e.kind, e.message FROM events e "
                                    "JOIN runs r ON r.id = e.run_id ORDER BY e.time, e.id"))
      if (keep(row)) rows.push_back({with_time ? row[1] : row[0], row[2], row[3], row[4]});
    return rows;
  };
  e["events"] = [events](const Tables& t) {
    return events(t, [](const auto& row) { return row[0] == "mlp"; }, /*with_time=*/true);
  };
  e["incidents"] = [events](const Tables& t) {
    const std::set<std::string> kinds = {"signal", "resume", "restore", "fallback", "nan", "failure"};
    return events(t, [&](const auto& row) { return kinds.count(row[3]) > 0; }, /*with_time=*/false);
  };
  // The trials of sweep 'lr' (mode min): each one's lowest eval/mse and its first step, ranked
  // lowest first with ties sharing a rank; trials without a value or a run come after.
  e["sweep-best"] = [](const Tables& t) {
    struct Trial {
      std::vector<std::string> row;
      std::optional<Point> best;
    };
    std::vector<Trial> trials;
    for (auto& r : sql_rows(t.db, "SELECT t.trial, t.run, json_extract(t.overrides, '$.\"optimizers.adam.lr\"') "
                                  "FROM sweep_trials t JOIN sweeps s ON s.id = t.sweep_id WHERE s.name = 'lr' "
                                  "ORDER BY t.trial")) {
      Trial trial{{r[0], r[1], "NULL", r[2]}, std::nullopt};
      for (const Run& run : t.runs)
        if (run.name == r[1]) {
          trial.row[2] = run.status;
          if (const auto& p = t.points(run, "eval/mse"); !p.empty()) trial.best = extreme(p, 1);
        }
      trials.push_back(std::move(trial));
    }
    std::stable_sort(trials.begin(), trials.end(), [](const Trial& a, const Trial& b) {
      if (!a.best || !b.best) return a.best.has_value() > b.best.has_value();
      return a.best->value < b.best->value;
    });
    Rows rows = {{"rank", "trial", "run", "status", "lr", "eval_mse", "best_step"}};
    for (std::size_t i = 0; i < trials.size(); ++i) {
      const Trial& trial = trials[i];
      std::string rank = "NULL";
      if (trial.best) {
        std::size_t better = 0;
        for (const Trial& other : trials) better += other.best && other.best->value < trial.best->value;
        rank = std::to_string(better + 1);
      }
      std::vector<std::string> row = {rank};
      row.insert(row.end(), trial.row.begin(), trial.row.end());
      row.push_back(trial.best ? trial.best->text : "NULL");
      row.push_back(trial.best ? std::to_string(trial.best->step) : "NULL");
      rows.push_back(std::move(row));
    }
    return rows;
  };
  e["sweep-cut"] = [](const Tables& t) {
    Rows rows = {{"sweep", "trial", "run", "cut_step", "message"}};
    for (auto& r : sql_rows(t.db, "SELECT s.name, t.trial, t.run, t.cut_step FROM sweep_trials t "
                                  "JOIN sweeps s ON s.id = t.sweep_id WHERE t.cut_step IS NOT NULL ORDER BY s.name, t.trial")) {
      std::string message = "NULL";
      for (auto& event : sql_rows(t.db, "SELECT r.name, e.message FROM events e JOIN runs r ON r.id = e.run_id "
                                        "WHERE e.kind = 'sweep_cut'"))
        if (event[0] == r[2]) message = event[1];
      rows.push_back({r[0], r[1], r[2], r[3], message});
    }
    return rows;
  };
  return e;
}

}  // namespace

std::map<std::string, CookbookAnswer> cookbook_answers() {
  std::map<std::string, CookbookAnswer> answers;
  for (auto& [id, expect] : expectations())
    answers[id] = [expect = std::move(expect)](const fs::path& db) { return expect(Tables(db)); };
  return answers;
}

}  // namespace kiln::test
