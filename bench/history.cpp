// kiln_bench_history: `kiln runs`, `kiln show` and the schema's views on a large run database,
// in-process and as processes, against the targets of issue 11 (point 8).
//
// A database that has seen months of work holds hundreds of runs and millions of summaries.
// Listing the runs must not read those summaries (target: `kiln runs` within 0.1 s), and
// showing one run of a million summaries must read them once (target: within 0.3 s). The
// harness writes such a database with the store's own schema (RunStore, then direct
// INSERTs), times the store's read API in-process (list_runs, and what `kiln show` reads),
// then the real `kiln runs`, `kiln runs --limit 5` and `kiln show` processes, and, with
// --old, the SQL these commands ran before for comparison.
//
// The views (`kiln query "SELECT * FROM run_overview"`, metrics_last and metrics_best of the
// big run) are timed as they are (schema 5) and as schema 4 had them, its view SQL kept
// below as the baseline: in a transaction that drops summaries_by_value and puts the old
// views back, rolled back after, so the baseline is the database as schema 4 left it. Then
// what summaries_by_value costs: its size, and the time of inserting summaries with and
// without it.
//
//   ./build/bench/kiln_bench_history                   # ~500 runs, 5 M summaries, about a minute
//   ./build/bench/kiln_bench_history --check           # exit 1 when an in-process time misses its target
//   ./build/bench/kiln_bench_history --old             # also time the old queries (about 20 s more)
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "store/checkpoints.hpp"
#include "store/database.hpp"
#include "store/history.hpp"
#include "store/run_store.hpp"
#include "timing.hpp"

namespace {

namespace fs = std::filesystem;
namespace store = kiln::runner::store;
using kiln::bench::median;
using Clock = std::chrono::steady_clock;

struct Options {
  int runs = 501;
  std::int64_t rows = 5'000'000;      // summaries in all
  std::int64_t big_rows = 1'000'000;  // of them, the rows of run 1, the one `show` reads
  int rounds = 5;
  std::int64_t insert_rows = 200'000;  // per round of the insert cost of summaries_by_value
  fs::path db;                         // empty: a temp file, removed after
  bool check = false;
  bool old = false;
};

const char* const kTags[] = {"eval/l1", "loss/d", "loss/g", "time/step_ms"};
constexpr int kTagCount = 4;

/// Fills `path` with `options.runs` runs: run 1 with big_rows summaries, the others sharing
/// the rest; each run with a start and a save event and a checkpoint at its last step.
void generate(const fs::path& path, const Options& options) {
  std::vector<std::int64_t> ids;
  {
    store::RunStore runs(path);
    for (int i = 1; i <= options.runs; ++i) {
      store::RunRecord run;
      run.name = fmt::format("run-{}", i);
      run.experiment = "experiments/pix2pix.toml";
      run.config = "[experiment]\nname = \"pix2pix\"\n";
      run.config_hash = "0123456789abcdef";
      run.host = "bench";
      run.pid = 1;
      run.kiln_version = "bench";
      run.run_dir = "runs/" + run.name;
      run.started = 1.7e9 + 3600.0 * i;
      ids.push_back(runs.create_run(run));
      runs.finish_run(ids.back(), "completed", "", run.started + 1800);
    }
  }
  store::Database db(path);
  db.exec("PRAGMA synchronous = OFF");
  store::Transaction transaction(db);
  store::Statement summary(db, "INSERT INTO summaries (run_id, tag, step, value, wall_time) VALUES (?1, ?2, ?3, ?4, ?5)");
  store::Statement event(db, "INSERT INTO events (run_id, time, step, kind, message) VALUES (?1, ?2, ?3, ?4, ?5)");
  const std::int64_t small_rows = (options.rows - options.big_rows) / std::max(1, options.runs - 1);
  std::uint64_t state = 42;
  auto random = [&state] {  // a 64-bit LCG: values in [0, 1), the same every time
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) * 0x1.0p-53;
  };
  for (const std::int64_t id : ids) {
    const std::int64_t steps = (id == ids.front() ? options.big_rows : small_rows) / kTagCount;
    for (const char* tag : kTags) {
      for (std::int64_t step = 0; step < steps; ++step) {
        summary.reset();
        summary.bind(1, id).bind(2, std::string_view(tag)).bind(3, step).bind(4, random()).bind(5, 1.7e9 + step);
        summary.step();
      }
    }
    for (const auto& [kind, step] : {std::pair<const char*, std::int64_t>{"start", 0}, {"save", steps}}) {
      event.reset();
      event.bind(1, id).bind(2, 1.7e9).bind(3, step).bind(4, std::string_view(kind)).bind(5, std::string_view(kind));
      event.step();
    }
    store::CheckpointRow checkpoint;
    checkpoint.run_id = id;
    checkpoint.step = steps;
    checkpoint.path = fmt::format("runs/run-{}/checkpoints/ckpt-{}.kiln", id, steps);
    checkpoint.bytes = 1000;
    checkpoint.sha256 = "0";
    checkpoint.created = 1.7e9;
    checkpoint.reason = "end";
    checkpoint.kept = "max_to_keep";
    store::insert_checkpoint(db, checkpoint);
  }
  transaction.commit();
}

/// Schema 4's views, as its migration step created them: the baseline of the views' times.
constexpr const char* kSchema4Views = R"sql(
CREATE VIEW metrics_last AS
SELECT r.id AS run_id, r.name AS run, s.tag, max(s.step) AS step, s.value, s.wall_time
FROM runs r JOIN summaries s ON s.run_id = r.id
GROUP BY r.id, r.name, s.tag;

CREATE VIEW metrics_best AS
SELECT b.run_id, b.run, b.tag,
       b.min_value,
       (SELECT min(m.step) FROM summaries m
        WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.min_value) AS min_step,
       b.max_value,
       (SELECT min(m.step) FROM summaries m
        WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.max_value) AS max_step
FROM (SELECT r.id AS run_id, r.name AS run, s.tag, min(s.value) AS min_value, max(s.value) AS max_value
      FROM runs r JOIN summaries s ON s.run_id = r.id
      GROUP BY r.id, r.name, s.tag) AS b;

CREATE VIEW run_overview AS
SELECT r.id, r.name, r.status, r.experiment,
       (SELECT max(s.step) + 1 FROM summaries s
        WHERE s.run_id = r.id AND s.tag GLOB 'loss/*') AS steps,
       datetime(r.started, 'unixepoch', 'localtime') AS started,
       datetime(r.ended, 'unixepoch', 'localtime') AS ended,
       round(CASE WHEN r.ended IS NOT NULL THEN r.ended
                  WHEN r.status = 'running' THEN (julianday('now') - 2440587.5) * 86400.0
             END - r.started, 3) AS duration_s,
       (SELECT json_group_object(substr(l.tag, 6), l.value)
        FROM (SELECT s.tag, max(s.step), s.value FROM summaries s
              WHERE s.run_id = r.id AND s.tag GLOB 'loss/*' GROUP BY s.tag) AS l) AS losses,
       (SELECT json_group_object(substr(l.tag, 6), l.value)
        FROM (SELECT s.tag, max(s.step), s.value FROM summaries s
              WHERE s.run_id = r.id AND s.tag GLOB 'eval/*' GROUP BY s.tag) AS l) AS eval,
       c.step AS latest_checkpoint_step,
       c.path AS latest_checkpoint,
       r.error
FROM runs r
LEFT JOIN checkpoints c ON c.run_id = r.id AND c.step =
  (SELECT max(k.step) FROM checkpoints k WHERE k.run_id = r.id AND k.deleted IS NULL);
)sql";

/// The view queries timed, each with its target in milliseconds (issue 11: a view of one
/// run within 0.1 s, run_overview within 0.3 s).
struct ViewQuery {
  std::string what;
  std::string sql;
  double target_ms;
};

/// Steps through every row of `sql`; returns how many there were.
std::int64_t read_all(store::Database& db, const std::string& sql) {
  store::Statement select(db, sql);
  std::int64_t rows = 0;
  while (select.step()) ++rows;
  return rows;
}

/// The median wall time of `rounds` calls of `work`, in milliseconds.
double time_ms(int rounds, const std::function<void()>& work) {
  std::vector<double> times;
  for (int i = 0; i < rounds; ++i) {
    const auto start = Clock::now();
    work();
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return median(times);
}

/// Runs `kiln args...` with its output to /dev/null; throws unless it exits 0.
void run_kiln(const std::vector<std::string>& args) {
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    std::FILE* null = std::freopen("/dev/null", "w", stdout);
    (void)null;
    std::vector<std::string> words{KILN_BINARY};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string command = "kiln";
    for (const std::string& arg : args) command += " " + arg;
    throw std::runtime_error(command + " failed");
  }
}

/// What `kiln show` reads of a run, through the store's read API.
void read_show(store::Database& db, std::int64_t id) {
  const store::RunRow run = store::run_row(db, id);
  store::steps_done(db, id);
  store::summarize_tags(db, id);
  store::list_checkpoints(db, id, /*include_deleted=*/true);
  store::run_plugins(db, id);
  store::run_events(db, id);
}

/// The statements `kiln runs` and `kiln show` ran before the read API (for --old).
void read_old_runs(store::Database& db) {
  store::Statement select(db, "SELECT s.run_id, substr(s.tag, 6), s.value FROM summaries s "
                              "WHERE s.tag GLOB 'loss/*' AND s.step = "
                              "(SELECT MAX(step) FROM summaries m WHERE m.run_id = s.run_id AND m.tag = s.tag) "
                              "ORDER BY s.run_id, s.tag");
  while (select.step()) {
  }
}

void read_old_show_metrics(store::Database& db, std::int64_t id) {
  store::Statement select(db, R"sql(
    SELECT s.tag, s.step, s.value,
      (SELECT MIN(value) FROM summaries WHERE run_id = s.run_id AND tag = s.tag) AS lo,
      (SELECT MAX(value) FROM summaries WHERE run_id = s.run_id AND tag = s.tag) AS hi
    FROM summaries s
    WHERE s.run_id = ?1 AND s.step = (SELECT MAX(step) FROM summaries WHERE run_id = s.run_id AND tag = s.tag)
    ORDER BY s.tag)sql");
  select.bind(1, id);
  store::Statement step_of(db, "SELECT MIN(step) FROM summaries WHERE run_id = ?1 AND tag = ?2 AND value = ?3");
  while (select.step()) {
    for (int column : {3, 4}) {
      step_of.reset();
      step_of.bind(1, id).bind(2, select.column_text(0)).bind(3, select.column_double(column));
      step_of.step();
    }
  }
}

/// Each view query's median time in milliseconds: {schema 4's, this schema's}. Schema 4's
/// are read inside a transaction that drops summaries_by_value and puts the old views back,
/// then rolls back: the database is left as it was.
std::vector<std::pair<double, double>> time_views(const fs::path& path, store::Database& db,
                                                  const std::vector<ViewQuery>& queries, int rounds) {
  std::vector<std::pair<double, double>> times;
  for (const ViewQuery& query : queries) {
    const std::int64_t rows = read_all(db, query.sql);
    if (rows == 0) throw std::runtime_error(query.sql + " returned no rows");
    times.push_back({0, time_ms(rounds, [&] { read_all(db, query.sql); })});
  }
  store::Database writable(path);
  store::Transaction schema_4(writable);
  writable.exec("DROP INDEX summaries_by_value; DROP VIEW run_overview; DROP VIEW metrics_best; "
                "DROP VIEW metrics_last;");
  writable.exec(kSchema4Views);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    times[i].first = time_ms(rounds, [&] { read_all(writable, queries[i].sql); });
  }
  return times;  // the transaction rolls back
}

/// What the summaries table and its indexes take on disk, in bytes, by name (from SQLite's
/// dbstat table; empty where this SQLite lacks it).
std::vector<std::pair<std::string, std::int64_t>> summary_sizes(store::Database& db) {
  std::vector<std::pair<std::string, std::int64_t>> sizes;
  try {
    store::Statement select(db, "SELECT name, sum(pgsize) FROM dbstat WHERE name IN "
                                "('summaries', 'summaries_by_tag', 'summaries_by_value') GROUP BY name ORDER BY name");
    while (select.step()) sizes.emplace_back(select.column_text(0), select.column_int64(1));
  } catch (const std::exception&) {
  }
  return sizes;
}

/// The median time of inserting `rows` summaries (4 tags of one run, in one transaction)
/// into a new database, with summaries_by_value and without it, in microseconds a row.
std::pair<double, double> insert_us(const fs::path& folder, std::int64_t rows, int rounds) {
  std::vector<double> with, without;
  for (int round = 0; round < rounds; ++round) {
    for (const bool index : {round % 2 == 0, round % 2 != 0}) {
      const fs::path path = folder / fmt::format("insert-{}.db", index ? "with" : "without");
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
      std::int64_t id = 0;
      {
        store::RunStore runs(path);
        store::RunRecord run;
        run.name = "insert";
        run.experiment = "e.toml";
        run.config_hash = "0";
        run.started = 1.7e9;
        id = runs.create_run(run);
        if (!index) runs.database().exec("DROP INDEX summaries_by_value");
      }
      store::Database db(path);
      std::uint64_t state = 42;
      const auto start = Clock::now();
      {
        store::Transaction transaction(db);
        store::Statement summary(db, "INSERT INTO summaries (run_id, tag, step, value, wall_time) VALUES (?1, ?2, ?3, ?4, ?5)");
        for (std::int64_t row = 0; row < rows; ++row) {
          state = state * 6364136223846793005ULL + 1442695040888963407ULL;
          summary.reset();
          summary.bind(1, id).bind(2, std::string_view(kTags[row % kTagCount])).bind(3, row / kTagCount);
          summary.bind(4, static_cast<double>(state >> 11) * 0x1.0p-53).bind(5, 1.7e9 + static_cast<double>(row));
          summary.step();
        }
        transaction.commit();
      }
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / static_cast<double>(rows);
      (index ? with : without).push_back(us);
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
    }
  }
  return {median(with), median(without)};
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"kiln runs and kiln show on a database of many runs and millions of summaries"};
  app.add_option("--runs", options.runs, "runs in the database")->check(CLI::Range(2, 100000));
  app.add_option("--rows", options.rows, "summary rows in all")->check(CLI::Range(int64_t{1000}, int64_t{1} << 40));
  app.add_option("--big-rows", options.big_rows, "of them, the rows of run-1, which show reads");
  app.add_option("--rounds", options.rounds, "timed calls of each, median reported")->check(CLI::PositiveNumber);
  app.add_option("--insert-rows", options.insert_rows, "summaries inserted per round to time summaries_by_value's cost (0: skip)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 32));
  app.add_option("--db", options.db, "keep the database here (made when missing, reused when there)");
  app.add_flag("--check", options.check, "exit 1 when an in-process time misses its target");
  app.add_flag("--old", options.old, "also time the SQL kiln runs and kiln show ran before");
  CLI11_PARSE(app, argc, argv);
  if (options.big_rows > options.rows) options.big_rows = options.rows;

  fs::path temp;
  fs::path path = options.db;
  if (path.empty()) {
    char pattern[] = "/tmp/kiln-bench-history-XXXXXX";
    if (!mkdtemp(pattern)) throw std::runtime_error("cannot make a temp directory");
    temp = pattern;
    path = temp / "kiln.db";
  }
  try {
    if (!fs::exists(path)) {
      fmt::print("writing {} runs and {} summaries to {} ...\n", options.runs, options.rows, path.string());
      const auto start = Clock::now();
      generate(path, options);
      fmt::print("  written in {:.1f} s\n", std::chrono::duration<double>(Clock::now() - start).count());
    }
    const kiln::bench::Snapshot from = kiln::bench::Snapshot::now();
    store::Database db = store::open_existing(path);
    const auto runs = static_cast<std::int64_t>(store::list_runs(db).size());
    const std::int64_t big = store::run_row(db, 1).id;

    struct Line {
      std::string what;
      double ms;
      double target_ms;  // 0: none
    };
    std::vector<Line> lines;
    const int r = options.rounds;
    lines.push_back({fmt::format("list_runs (all {})", runs), time_ms(r, [&] { store::list_runs(db); }), 100});
    lines.push_back({"list_runs (limit 5)", time_ms(r, [&] { store::list_runs(db, {"", "", 5}); }), 100});
    lines.push_back({"show's reads of run-1", time_ms(r, [&] { read_show(db, big); }), 300});
    lines.push_back({"  of them summarize_tags", time_ms(r, [&] { store::summarize_tags(db, big); }), 0});
    lines.push_back({"show's reads of run-2", time_ms(r, [&] { read_show(db, 2); }), 0});
    const std::string db_arg = path.string();
    lines.push_back({"process: kiln --version", time_ms(r, [&] { run_kiln({"--version"}); }), 0});
    lines.push_back({"process: kiln runs", time_ms(r, [&] { run_kiln({"runs", "--db", db_arg}); }), 0});
    lines.push_back({"process: kiln runs --limit 5", time_ms(r, [&] { run_kiln({"runs", "--db", db_arg, "--limit", "5"}); }), 0});
    lines.push_back({"process: kiln show run-1", time_ms(r, [&] { run_kiln({"show", "run-1", "--db", db_arg}); }), 0});
    lines.push_back({"process: kiln query run_overview",
                     time_ms(r, [&] { run_kiln({"query", "--db", db_arg, "SELECT * FROM run_overview"}); }), 0});
    if (options.old) {
      lines.push_back({"old: runs' last losses query", time_ms(1, [&] { read_old_runs(db); }), 0});
      lines.push_back({"old: show's metrics queries of run-1", time_ms(1, [&] { read_old_show_metrics(db, big); }), 0});
    }
    const std::vector<ViewQuery> views = {
        {"SELECT * FROM run_overview", "SELECT * FROM run_overview", 300},
        {"metrics_last of run-1", "SELECT * FROM metrics_last WHERE run = 'run-1'", 100},
        {"metrics_best of run-1", "SELECT * FROM metrics_best WHERE run = 'run-1'", 100},
    };
    const std::vector<std::pair<double, double>> view_times = time_views(path, db, views, r);
    const kiln::bench::Timing timing(from, kiln::bench::Snapshot::now());

    bool missed = false;
    fmt::print("\n{:<40} {:>10} {:>10} {:>8}\n", "median of " + std::to_string(r), "ms", "target", "ratio");
    for (const Line& line : lines) {
      if (line.target_ms > 0) {
        missed = missed || line.ms > line.target_ms;
        fmt::print("{:<40} {:>10.1f} {:>10.0f} {:>8.2f}\n", line.what, line.ms, line.target_ms, line.ms / line.target_ms);
      } else {
        fmt::print("{:<40} {:>10.1f}\n", line.what, line.ms);
      }
    }
    fmt::print("\n{:<40} {:>10} {:>10} {:>8} {:>8} {:>8}\n", "views, median of " + std::to_string(r), "schema 4",
               "ms", "4 / now", "target", "ratio");
    for (std::size_t i = 0; i < views.size(); ++i) {
      const auto [before, after] = view_times[i];
      missed = missed || after > views[i].target_ms;
      fmt::print("{:<40} {:>10.1f} {:>10.1f} {:>8.0f} {:>8.0f} {:>8.3f}\n", views[i].what, before, after, before / after,
                 views[i].target_ms, after / views[i].target_ms);
    }
    fmt::print("\nother processes used {:.0f}% of the machine's cores meanwhile{}\n", 100 * timing.others,
               timing.others > 0.25 ? " (busy: times are high)" : "");

    // What summaries_by_value costs: its pages, and inserts into it.
    const auto sizes = summary_sizes(db);
    std::int64_t summaries = 0;
    {
      store::Statement count(db, "SELECT count(*) FROM summaries");
      count.step();
      summaries = count.column_int64(0);
    }
    fmt::print("\non disk ({} summaries, file {:.1f} MiB):", summaries, static_cast<double>(fs::file_size(path)) / (1 << 20));
    for (const auto& [name, bytes] : sizes)
      fmt::print(" {} {:.1f} MiB ({:.1f} B/row);", name, static_cast<double>(bytes) / (1 << 20),
                 static_cast<double>(bytes) / static_cast<double>(std::max<std::int64_t>(1, summaries)));
    fmt::print("{}\n", sizes.empty() ? " (this SQLite has no dbstat)" : "");
    if (options.insert_rows > 0) {
      const fs::path folder = temp.empty() ? path.parent_path() : temp;
      const auto [with, without] = insert_us(folder, options.insert_rows, 3);
      fmt::print("inserting {} summaries in one transaction, median of 3: {:.2f} us/row with summaries_by_value, "
                 "{:.2f} without ({:.2f}x)\n",
                 options.insert_rows, with, without, with / without);
    }
    if (!temp.empty()) fs::remove_all(temp);
    if (options.check && missed) {
      fmt::print("a target was missed\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    if (!temp.empty()) fs::remove_all(temp);
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
}
