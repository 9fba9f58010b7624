// migrate(): creates the current schema from nothing or from a real older database, is a
// no-op once there, is safe with several processes at once, and refuses newer databases.
#include "store/schema.hpp"

#include <cstdio>
#include <ctime>
#include <memory>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/history.hpp"
#include "store/query.hpp"
#include "store/run_store.hpp"
#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

namespace fs = std::filesystem;
using test_support::query_int;
using test_support::TempDir;
using Rows = std::vector<std::vector<Value>>;

const std::string kTables = "checkpoints,events,images,params,plugins,retention,runs,summaries,summary_directions,sweep_trials,sweeps";

/// Loads tests/store/data/kiln_v3.sql, the `.dump` of a database kiln made with schema 3.
void load_version_3(const fs::path& path) { test_support::load_dump(path, "kiln_v3.sql"); }

/// Loads tests/store/data/kiln_v4.sql, the `.dump` of a database kiln made with schema 4.
void load_version_4(const fs::path& path) { test_support::load_dump(path, "kiln_v4.sql"); }

/// Loads tests/store/data/kiln_v5.sql, the `.dump` of a database kiln made with schema 5.
void load_version_5(const fs::path& path) { test_support::load_dump(path, "kiln_v5.sql"); }

/// Loads tests/store/data/kiln_v6.sql, the `.dump` of a database kiln made with schema 6.
void load_version_6(const fs::path& path) { test_support::load_dump(path, "kiln_v6.sql"); }

Rows rows(const fs::path& db, const std::string& sql) { return query_readonly(db, sql).rows; }

std::string text(const fs::path& db, const std::string& sql) {
  return std::get<std::string>(query_readonly(db, sql).rows.at(0).at(0));
}

/// What SQLite's datetime(t, 'unixepoch', 'localtime') shows: local time to the second,
/// after rounding to milliseconds as SQLite's julian day does.
std::string local_datetime(double unix_time) {
  const auto seconds = static_cast<std::time_t>(static_cast<long long>(unix_time * 1000.0 + 0.5) / 1000);
  std::tm local{};
  localtime_r(&seconds, &local);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%d %H:%M:%S", &local);
  return out;
}

/// Every row of every table, in a fixed order; of runs, the columns schemas 1 to 4 have.
std::vector<Rows> all_rows(const fs::path& db) {
  std::vector<Rows> tables;
  for (const char* sql : {"SELECT id, name, experiment, config, config_hash, status, started, ended, host, pid, "
                          "kiln_version, run_dir, error FROM runs ORDER BY id",
                          "SELECT * FROM params ORDER BY run_id, key",
                          "SELECT * FROM plugins ORDER BY run_id, kind, name",
                          "SELECT * FROM summaries ORDER BY run_id, tag, step", "SELECT * FROM events ORDER BY id",
                          "SELECT * FROM checkpoints ORDER BY id", "SELECT * FROM retention ORDER BY run_id",
                          "SELECT * FROM images ORDER BY run_id, tag, step"})
    tables.push_back(rows(db, sql));
  return tables;
}

TEST(schema, refuses_a_database_newer_than_this_kiln) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  Database db(path);
  db.exec("PRAGMA user_version = 9");
  try {
    migrate(db);
    FAIL() << "migrated a newer database";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path.string() + ": database schema version 9 is newer than this kiln "
                                        "supports (8); upgrade kiln to use it");
  }
  EXPECT_EQ(schema_version(db), 9);
  // Reading it is refused too, with the same message: kiln query, show, compare, report.
  EXPECT_THROW(RunStore store(path), StoreError);
  try {
    query_readonly(path, "SELECT name FROM sqlite_master");
    FAIL() << "read a newer database";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path.string() + ": database schema version 9 is newer than this kiln "
                                        "supports (8); upgrade kiln to use it");
  }
}

TEST(schema, migrate_creates_the_current_version_from_an_empty_database) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  Database db(path);
  EXPECT_EQ(schema_version(db), 0);
  migrate(db);
  EXPECT_EQ(schema_version(db), kSchemaVersion);
  EXPECT_EQ(kSchemaVersion, 8);

  const auto names = [&](const std::string& type) {
    return text(path, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = '" + type +
                          "' AND name NOT LIKE 'sqlite_%' ORDER BY name)");
  };
  EXPECT_EQ(names("table"), kTables);
  EXPECT_EQ(names("view"), "metrics_best,metrics_last,run_overview,sweep_best");
  EXPECT_EQ(names("index"), "events_by_run,params_by_key,summaries_by_tag,summaries_by_value");
  EXPECT_EQ(text(path, "SELECT group_concat(name, ',') FROM pragma_table_info('runs')"),
            "id,name,experiment,config,config_hash,status,started,ended,host,pid,kiln_version,run_dir,error,"
            "device,device_name,device_memory,torch_version,cuda_version,cudnn_version,precision,world_size,backend,hosts,sweep_id");
  EXPECT_EQ(text(path, "SELECT group_concat(name, ',') FROM pragma_table_info('metrics_last')"),
            "run_id,run,tag,step,value,wall_time");
  EXPECT_EQ(text(path, "SELECT group_concat(name, ',') FROM pragma_table_info('metrics_best')"),
            "run_id,run,tag,min_value,min_step,max_value,max_step,direction,best_value,best_step");
  EXPECT_EQ(text(path, "SELECT group_concat(name, ',') FROM pragma_table_info('run_overview')"),
            "id,name,status,experiment,steps,started,ended,duration_s,losses,eval,latest_checkpoint_step,"
            "latest_checkpoint,error");
  EXPECT_EQ(rows(path, "SELECT * FROM run_overview").size(), 0u);
}

TEST(schema, upgrades_a_version_1_database_in_place) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  {
    // What kiln 0.1.0's first schema left on disk (the tables later steps touch).
    Database db(path);
    db.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, experiment TEXT NOT NULL, "
            "config TEXT NOT NULL, config_hash TEXT NOT NULL, status TEXT NOT NULL, started REAL NOT NULL, "
            "ended REAL, host TEXT, pid INTEGER, kiln_version TEXT, run_dir TEXT, error TEXT)");
    db.exec("CREATE TABLE params (run_id INTEGER NOT NULL REFERENCES runs(id), key TEXT NOT NULL, value TEXT, "
            "PRIMARY KEY (run_id, key))");
    db.exec("CREATE TABLE summaries (run_id INTEGER NOT NULL REFERENCES runs(id), tag TEXT NOT NULL, "
            "step INTEGER NOT NULL, value REAL, wall_time REAL NOT NULL, PRIMARY KEY (run_id, tag, step)) "
            "WITHOUT ROWID");
    db.exec("INSERT INTO runs (name, experiment, config, config_hash, status, started) "
            "VALUES ('old', 'e.toml', '', 'h', 'completed', 1)");
    db.exec("PRAGMA user_version = 1");
  }
  Database db(path);
  migrate(db);
  EXPECT_EQ(schema_version(db), kSchemaVersion);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM runs WHERE name = 'old'"), 1);
  db.exec("INSERT INTO checkpoints (run_id, step, path, bytes, sha256, created, reason) "
          "VALUES (1, 10, 'p', 3, 'abc', 2, 'steps')");
  EXPECT_EQ(rows(path, "SELECT name, steps, losses, latest_checkpoint_step FROM run_overview"),
            (Rows{{std::string("old"), std::monostate{}, std::string("{}"), int64_t{10}}}));
}

TEST(schema, upgrades_a_real_version_3_database_in_place) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  load_version_3(path);
  ASSERT_EQ(query_int(path, "PRAGMA user_version"), 3);
  ASSERT_EQ(query_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'view'"), 0);
  const std::vector<Rows> before = all_rows(path);

  RunStore store(path);
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(all_rows(path), before);
  for (const auto& [table, count] : std::vector<std::pair<std::string, int64_t>>{
           {"runs", 3}, {"params", 111}, {"plugins", 12}, {"summaries", 25}, {"events", 16}, {"checkpoints", 6},
           {"retention", 0}, {"images", 0}})
    EXPECT_EQ(query_int(path, "SELECT count(*) FROM " + table), count) << table;
  EXPECT_EQ(rows(path, "SELECT name, status, error FROM runs ORDER BY id"),
            (Rows{{std::string("mlp"), std::string("completed"), std::monostate{}},
                  {std::string("mlp-2"), std::string("completed"), std::monostate{}},
                  {std::string("mlp-3"), std::string("failed"),
                   std::string("step 1: step 1, phase adam: loss mse is not finite (on_nan = \"stop\")")}}));
  EXPECT_EQ(rows(path, "SELECT value FROM params WHERE key = 'optimizers.adam.lr' ORDER BY run_id"),
            (Rows{{std::string("0.001")}, {std::string("0.01")}, {std::string("1e+06")}}));
  EXPECT_EQ(rows(path, "SELECT step, kept, deleted IS NOT NULL FROM checkpoints WHERE run_id = 2 ORDER BY step"),
            (Rows{{int64_t{10}, std::monostate{}, int64_t{1}},
                  {int64_t{20}, std::string("max_to_keep"), int64_t{0}},
                  {int64_t{30}, std::string("max_to_keep"), int64_t{0}}}));

  // The new runs go on from the old ones, and the store's own queries work on them.
  EXPECT_EQ(store.unique_run_name("mlp"), "mlp-4");
  EXPECT_EQ(store.find_run("mlp-3")->status, "failed");
}

/// Every row the views answer, in a fixed order, with the columns schemas 4 and 5 have: a
/// query written for them answers the same after a migration.
std::vector<Rows> view_rows(const fs::path& db) {
  return {rows(db, "SELECT * FROM metrics_last ORDER BY run_id, tag"),
          rows(db, "SELECT run_id, run, tag, min_value, min_step, max_value, max_step FROM metrics_best "
                   "ORDER BY run_id, tag"),
          rows(db, "SELECT * FROM run_overview ORDER BY id")};
}

TEST(schema, upgrades_a_real_version_4_database_in_place) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  load_version_4(path);
  ASSERT_EQ(query_int(path, "PRAGMA user_version"), 4);
  const std::vector<Rows> before = all_rows(path);
  const std::vector<Rows> views_before = view_rows(path);  // step 4's views, on real runs
  ASSERT_EQ(views_before.at(0).size(), 9u);

  RunStore store(path);
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(all_rows(path), before);
  for (const auto& [table, count] : std::vector<std::pair<std::string, int64_t>>{
           {"runs", 3}, {"params", 111}, {"plugins", 12}, {"summaries", 28}, {"events", 20}, {"checkpoints", 6},
           {"retention", 0}, {"images", 0}})
    EXPECT_EQ(query_int(path, "SELECT count(*) FROM " + table), count) << table;
  // The environment's columns are there, NULL for every run an older kiln made.
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM runs WHERE device IS NULL AND device_name IS NULL AND "
                            "device_memory IS NULL AND torch_version IS NULL AND cuda_version IS NULL AND "
                            "cudnn_version IS NULL AND precision IS NULL"),
            3);
  // The rewritten views answer what step 4's answered.
  EXPECT_EQ(view_rows(path), views_before);
  EXPECT_EQ(rows(path, "SELECT name, steps, latest_checkpoint_step, error IS NULL FROM run_overview ORDER BY id"),
            (Rows{{std::string("mlp"), int64_t{30}, int64_t{30}, int64_t{1}},
                  {std::string("mlp-2"), int64_t{30}, int64_t{30}, int64_t{1}},
                  {std::string("mlp-3"), int64_t{1}, std::monostate{}, int64_t{0}}}));
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'summaries_by_value'"), 1);

  // The runs it had go on as before, and record their environment when they resume.
  EXPECT_EQ(store.find_run("mlp")->status, "completed");
  EXPECT_EQ(store.unique_run_name("mlp"), "mlp-4");
  RunEnvironment cpu;
  cpu.device = "cpu";
  cpu.torch_version = "1.13.1";
  EXPECT_EQ(store.record_environment(1, cpu, 1796422100.0), "");
  EXPECT_EQ(rows(path, "SELECT name, device, torch_version FROM runs WHERE device IS NOT NULL"),
            (Rows{{std::string("mlp"), std::string("cpu"), std::string("1.13.1")}}));
}

TEST(schema, upgrades_a_real_version_5_database_in_place) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  load_version_5(path);
  ASSERT_EQ(query_int(path, "PRAGMA user_version"), 5);
  const std::vector<Rows> before = all_rows(path);
  const Rows environments = rows(path, "SELECT device, torch_version, precision FROM runs ORDER BY id");
  const std::vector<Rows> views_before = view_rows(path);  // step 5's views, on real runs
  ASSERT_EQ(views_before.at(1).size(), 9u);

  RunStore store(path);
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(all_rows(path), before);
  EXPECT_EQ(rows(path, "SELECT device, torch_version, precision FROM runs ORDER BY id"), environments);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM summary_directions"), 0);
  // Old queries of the views answer as before; without rules every tag is lower-is-better.
  EXPECT_EQ(view_rows(path), views_before);
  EXPECT_EQ(rows(path, "SELECT count(*) FROM metrics_best WHERE direction = 'min' AND best_value IS min_value AND "
                       "best_step IS min_step"),
            (Rows{{int64_t{9}}}));

  // A rule recorded for the old run turns its best around: eval/mse of mlp rose from 0.337 at
  // step 0 to 0.442 at step 30 (the dump's own rows).
  store.record_summary_rules(1, {{"eval/*", "max"}});
  EXPECT_EQ(rows(path, "SELECT run, direction, best_value, best_step FROM metrics_best WHERE tag = 'eval/mse' "
                       "ORDER BY run_id"),
            (Rows{{std::string("mlp"), std::string("max"), 0.4417179785668849945, int64_t{30}},
                  {std::string("mlp-2"), std::string("min"), 0.33655856549739837646, int64_t{0}},
                  {std::string("mlp-3"), std::string("min"), 0.33655856549739837646, int64_t{0}}}));
}

TEST(schema, upgrades_a_real_version_6_database_in_place) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  load_version_6(path);
  ASSERT_EQ(query_int(path, "PRAGMA user_version"), 6);
  const std::vector<Rows> before = all_rows(path);
  const std::string kEnvironment = "SELECT device, device_name, device_memory, torch_version, cuda_version, "
                                   "cudnn_version, precision FROM runs ORDER BY id";
  const Rows environments = rows(path, kEnvironment);
  ASSERT_EQ(environments.size(), 3u);
  EXPECT_EQ(environments.at(0), (std::vector<Value>{std::string("cpu"), std::monostate{}, std::monostate{},
                                                    std::string("1.13.0"), std::monostate{}, std::monostate{},
                                                    std::string("fp32")}));
  const std::string kBest = "SELECT * FROM metrics_best ORDER BY run_id, tag";
  const Rows best = rows(path, kBest);  // step 6's view, with mlp-2's rule (eval/* is better higher)
  const Rows directions = rows(path, "SELECT * FROM summary_directions");
  ASSERT_EQ(directions, (Rows{{int64_t{2}, std::string("eval/*"), std::string("max"), std::string("experiment")}}));
  const std::vector<Rows> views_before = view_rows(path);

  RunStore store(path);
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), 8);
  EXPECT_EQ(all_rows(path), before);
  EXPECT_EQ(rows(path, kEnvironment), environments);
  EXPECT_EQ(rows(path, kBest), best);
  EXPECT_EQ(rows(path, "SELECT * FROM summary_directions"), directions);
  EXPECT_EQ(view_rows(path), views_before);
  // The processes' columns are there, NULL for the runs schema 6 recorded: each trained in one process.
  EXPECT_EQ(rows(path, "SELECT name, world_size, backend, hosts FROM runs ORDER BY id"),
            (Rows{{std::string("mlp"), std::monostate{}, std::monostate{}, std::monostate{}},
                  {std::string("mlp-2"), std::monostate{}, std::monostate{}, std::monostate{}},
                  {std::string("mlp-3"), std::monostate{}, std::monostate{}, std::monostate{}}}));
  const RunRow old = run_row(store.database(), 1);
  ASSERT_TRUE(old.environment);
  EXPECT_EQ(old.environment->device, "cpu");
  EXPECT_EQ(old.environment->world_size, 1);
  EXPECT_EQ(old.environment->backend, "");
  EXPECT_EQ(old.environment->hosts, std::vector<std::string>{});

  // An old run resumed in one process is no other environment; in two it is.
  RunEnvironment resumed = *old.environment;
  EXPECT_EQ(store.record_environment(1, resumed, 1796422100.0), "");
  EXPECT_EQ(rows(path, "SELECT world_size, backend, hosts FROM runs WHERE id = 1"),
            (Rows{{int64_t{1}, std::monostate{}, std::monostate{}}}));
  resumed.world_size = 2;
  resumed.backend = "gloo";
  resumed.hosts = {"node1", "node2"};
  EXPECT_EQ(store.record_environment(1, resumed, 1796422200.0), "processes 1 -> 2 (gloo)");
  EXPECT_EQ(rows(path, "SELECT world_size, backend, hosts FROM runs WHERE id = 1"),
            (Rows{{int64_t{2}, std::string("gloo"), std::string(R"(["node1","node2"])")}}));
  // The columns refuse what no kiln writes.
  EXPECT_THROW(store.database().exec("UPDATE runs SET world_size = 0 WHERE id = 2"), StoreError);
  EXPECT_THROW(store.database().exec("UPDATE runs SET hosts = 'node1' WHERE id = 2"), StoreError);
}

TEST(schema, a_query_of_a_newer_view_on_an_older_database_says_how_to_upgrade_it) {
  TempDir dir;
  const fs::path path = dir.path() / "old.db";
  load_version_3(path);
  try {
    query_readonly(path, "SELECT name, steps FROM run_overview");
    FAIL() << "a version 3 database has no run_overview";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("no such table: run_overview"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(this database has schema version 3, this kiln 8: any kiln run or kiln "
                                         "runs on it upgrades it)"),
              std::string::npos)
        << e.what();
  }
  // The query changed nothing: the database is still at version 3.
  EXPECT_EQ(query_readonly(path, "PRAGMA user_version").rows.at(0).at(0), Value(int64_t{3}));
}

TEST(schema, views_answer_for_the_runs_of_a_version_3_database) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  load_version_3(path);
  RunStore store(path);

  // The values below are the dump's own rows (tests/store/data/kiln_v3.sql).
  EXPECT_EQ(rows(path, "SELECT run_id, run, step, value FROM metrics_last WHERE tag = 'loss/mse' ORDER BY run_id"),
            (Rows{{int64_t{1}, std::string("mlp"), int64_t{29}, 0.076552383601665496826},
                  {int64_t{2}, std::string("mlp-2"), int64_t{29}, 0.012466110289096832275},
                  {int64_t{3}, std::string("mlp-3"), int64_t{0}, 0.38537636399269104003}}));
  EXPECT_EQ(rows(path, "SELECT tag, step, value, wall_time FROM metrics_last WHERE run = 'mlp-2' ORDER BY tag"),
            (Rows{{std::string("eval/mse"), int64_t{30}, 0.41517425328493118286, 1795657778.0447359085},
                  {std::string("loss/mse"), int64_t{29}, 0.012466110289096832275, 1795657778.0448095798},
                  {std::string("time/step_ms"), int64_t{29}, 0.17228355555555555089, 1795657778.0448095798}}));
  EXPECT_EQ(rows(path, "SELECT run, tag, min_value, min_step, max_value, max_step FROM metrics_best "
                       "WHERE tag = 'eval/mse' ORDER BY run_id"),
            (Rows{{std::string("mlp"), std::string("eval/mse"), 0.33655856549739837646, int64_t{0},
                   0.4417179785668849945, int64_t{30}},
                  {std::string("mlp-2"), std::string("eval/mse"), 0.33655856549739837646, int64_t{0},
                   0.50647731870412826538, int64_t{15}},
                  {std::string("mlp-3"), std::string("eval/mse"), 0.33655856549739837646, int64_t{0},
                   0.33655856549739837646, int64_t{0}}}));
  EXPECT_EQ(rows(path, "SELECT min_value, min_step, max_value, max_step FROM metrics_best "
                       "WHERE run = 'mlp' AND tag = 'time/step_ms'"),
            (Rows{{0.20070929999999997939, int64_t{10}, 0.75947299999999995367, int64_t{0}}}));

  EXPECT_EQ(rows(path, "SELECT id, name, status, experiment, steps, duration_s, losses, eval, "
                       "latest_checkpoint_step, latest_checkpoint, error FROM run_overview ORDER BY id"),
            (Rows{{int64_t{1}, std::string("mlp"), std::string("completed"), std::string("mlp.toml"), int64_t{30},
                   0.011, std::string(R"({"mse":0.0765523836016655})"), std::string(R"({"mse":0.441717978566885})"),
                   int64_t{30}, std::string("/tmp/v3/runs/mlp/checkpoints/ckpt-30.kiln"), std::monostate{}},
                  {int64_t{2}, std::string("mlp-2"), std::string("completed"), std::string("mlp.toml"), int64_t{30},
                   0.011, std::string(R"({"mse":0.0124661102890968})"), std::string(R"({"mse":0.415174253284931})"),
                   int64_t{30}, std::string("/tmp/v3/runs/mlp-2/checkpoints/ckpt-30.kiln"), std::monostate{}},
                  {int64_t{3}, std::string("mlp-3"), std::string("failed"), std::string("mlp.toml"), int64_t{1},
                   0.003, std::string(R"({"mse":0.385376363992691})"), std::string(R"({"mse":0.336558565497398})"),
                   std::monostate{}, std::monostate{},
                   std::string("step 1: step 1, phase adam: loss mse is not finite (on_nan = \"stop\")")}}));
  for (const int64_t id : {1, 2, 3}) {
    const Rows times = rows(path, "SELECT started, ended FROM runs WHERE id = " + std::to_string(id));
    EXPECT_EQ(rows(path, "SELECT started, ended FROM run_overview WHERE id = " + std::to_string(id)),
              (Rows{{local_datetime(std::get<double>(times[0][0])), local_datetime(std::get<double>(times[0][1]))}}));
  }
}

TEST(schema, a_second_open_changes_nothing_and_needs_no_write_lock) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  load_version_3(path);
  { RunStore first(path); }
  const int64_t cookie = query_int(path, "PRAGMA schema_version");
  const std::vector<Rows> before = all_rows(path);

  // Another writer holds the lock: an open that tried to migrate would wait, then fail.
  Database writer(path);
  Transaction holding(writer);
  Database db(path);
  migrate(db);
  RunStore second(path);
  EXPECT_EQ(schema_version(db), kSchemaVersion);
  EXPECT_EQ(query_int(path, "PRAGMA schema_version"), cookie);
  EXPECT_EQ(all_rows(path), before);
}

/// The pipes that line up the processes of open_in_processes().
struct Pipes {
  int start[2] = {-1, -1};    ///< closed by the parent once it holds the write lock
  int blocked[2] = {-1, -1};  ///< each child writes one byte here once it waits for the lock
  int release[2] = {-1, -1};  ///< closed by the parent when the lock is free
};

/// Reads `fd` until every write end is closed.
void wait_for_close(int fd) {
  char byte;
  while (read(fd, &byte, 1) > 0) {
  }
}

/// The children's busy handler: the first time, tell the parent and wait for the release,
/// so that every child has read the old version before any of them can migrate.
int wait_for_release(void* arg, int count) {
  const Pipes& pipes = *static_cast<const Pipes*>(arg);
  if (count == 0) {
    char byte = 'b';
    if (write(pipes.blocked[1], &byte, 1) != 1) return 0;
    wait_for_close(pipes.release[0]);
  } else {
    usleep(1000);  // another child is migrating: retry, as SQLite's busy timeout would
  }
  return count < 10000;
}

/// Migrates `path` in `count` processes that all read its version while another connection
/// holds the write lock, then race for the lock; returns how many exited 0 (migrated, or
/// found it done, and ended at the current schema).
int migrate_in_processes(const fs::path& path, int count) {
  Pipes pipes;
  if (pipe(pipes.start) != 0 || pipe(pipes.blocked) != 0 || pipe(pipes.release) != 0) return 0;
  // No connection is open across fork(): SQLite's locks would not survive it.
  std::vector<pid_t> children;
  for (int i = 0; i < count; ++i) {
    const pid_t child = fork();
    if (child == 0) {
      close(pipes.start[1]);
      close(pipes.release[1]);
      wait_for_close(pipes.start[0]);
      try {
        Database db(path);
        sqlite3_busy_handler(db.handle(), wait_for_release, &pipes);
        migrate(db);
        _exit(schema_version(db) == kSchemaVersion ? 0 : 1);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", static_cast<int>(getpid()), e.what());
        _exit(2);
      }
    }
    children.push_back(child);
  }
  close(pipes.blocked[1]);  // so that a read ends if every child died before it blocked
  auto holder = std::make_unique<Database>(path);
  auto holding = std::make_unique<Transaction>(*holder);
  close(pipes.start[1]);
  char byte;
  for (int i = 0; i < count; ++i)
    if (read(pipes.blocked[0], &byte, 1) != 1) ADD_FAILURE() << "a child never waited for the lock";
  holding.reset();  // rolls back: the lock is free, and nothing was written
  holder.reset();
  close(pipes.release[1]);
  int succeeded = 0;
  for (const pid_t child : children) {
    int status = 0;
    waitpid(child, &status, 0);
    succeeded += WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  for (const int fd : {pipes.start[0], pipes.blocked[0], pipes.release[0]}) close(fd);
  return succeeded;
}

TEST(schema, several_processes_upgrade_a_version_3_database_at_once) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  load_version_3(path);
  const std::vector<Rows> before = all_rows(path);
  EXPECT_EQ(migrate_in_processes(path, 3), 3);
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(all_rows(path), before);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'view'"), 4);
}

TEST(schema, several_processes_upgrade_a_version_4_database_at_once) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  load_version_4(path);
  const std::vector<Rows> before = all_rows(path);
  const std::vector<Rows> views_before = view_rows(path);
  EXPECT_EQ(migrate_in_processes(path, 3), 3);
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(all_rows(path), before);
  EXPECT_EQ(view_rows(path), views_before);
}

TEST(schema, several_processes_upgrade_a_version_5_database_at_once) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  load_version_5(path);
  const std::vector<Rows> before = all_rows(path);
  const std::vector<Rows> views_before = view_rows(path);
  EXPECT_EQ(migrate_in_processes(path, 3), 3);
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(all_rows(path), before);
  EXPECT_EQ(view_rows(path), views_before);
}

TEST(schema, several_processes_upgrade_a_version_6_database_at_once) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  load_version_6(path);
  const std::vector<Rows> before = all_rows(path);
  const std::vector<Rows> views_before = view_rows(path);
  EXPECT_EQ(migrate_in_processes(path, 3), 3);
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(all_rows(path), before);
  EXPECT_EQ(view_rows(path), views_before);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM runs WHERE world_size IS NULL"), 3);
}

TEST(schema, several_processes_create_a_new_database_at_once) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  { Database create(path); }  // an empty file in WAL mode, as a first open leaves it
  EXPECT_EQ(migrate_in_processes(path, 3), 3);
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(text(path, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                       "WHERE type = 'table' ORDER BY name)"),
            kTables);
}

TEST(schema, migrate_is_idempotent) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  {
    Database db(path);
    migrate(db);
    db.exec("INSERT INTO runs (name, experiment, config, config_hash, status, started) "
            "VALUES ('a', 'e.toml', '', 'h', 'running', 1)");
  }
  Database db(path);
  migrate(db);
  migrate(db);
  EXPECT_EQ(schema_version(db), kSchemaVersion);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM runs"), 1);
}

TEST(schema, runs_status_is_checked) {
  Database db(":memory:");
  migrate(db);
  try {
    db.exec("INSERT INTO runs (name, experiment, config, config_hash, status, started) "
            "VALUES ('a', 'e.toml', '', 'h', 'paused', 1)");
    FAIL() << "accepted status 'paused'";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.code(), 19);  // SQLITE_CONSTRAINT
  }
}

TEST(schema, foreign_keys_are_enforced) {
  Database db(":memory:");
  migrate(db);
  EXPECT_THROW(db.exec("INSERT INTO params (run_id, key, value) VALUES (42, 'k', 'v')"), StoreError);
}

}  // namespace
}  // namespace kiln::runner::store
