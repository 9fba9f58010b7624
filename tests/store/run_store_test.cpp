// RunStore: run names, the run row's life, params and plugins, crash detection.
#include "store/run_store.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/history.hpp"
#include "store/query.hpp"
#include "store/writer.hpp"
#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

using test_support::query_int;
using test_support::sample_run;
using test_support::TempDir;

// A pid that belonged to a process which has exited and been reaped.
pid_t dead_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

TEST(run_store, finish_run_rejects_an_unknown_status) {
  TempDir dir;
  RunStore store(dir / "kiln.db");
  const int64_t id = store.create_run(sample_run("hello"));
  try {
    store.finish_run(id, "done", "", 2.0);
    FAIL() << "accepted status 'done'";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), (dir / "kiln.db").string() +
                            ": invalid final run status \"done\" (expected completed, "
                            "stopped, failed or crashed)");
  }
  EXPECT_THROW(store.finish_run(id, "running", "", 2.0), StoreError);
  EXPECT_EQ(query_int(dir / "kiln.db", "SELECT count(*) FROM runs WHERE status = 'running'"),
            1);
}

TEST(run_store, finish_run_rejects_an_unknown_run) {
  TempDir dir;
  RunStore store(dir / "kiln.db");
  try {
    store.finish_run(99, "completed", "", 2.0);
    FAIL() << "finished a run that does not exist";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), (dir / "kiln.db").string() + ": no run with id 99");
  }
}

TEST(run_store, create_run_rejects_a_taken_name) {
  TempDir dir;
  RunStore store(dir / "kiln.db");
  store.create_run(sample_run("hello"));
  try {
    store.create_run(sample_run("hello"));
    FAIL() << "two runs named hello";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), (dir / "kiln.db").string() +
                            ": UNIQUE constraint failed: runs.name (SQLITE_CONSTRAINT)");
  }
  EXPECT_EQ(query_int(dir / "kiln.db", "SELECT count(*) FROM runs"), 1);
}

TEST(run_store, record_params_rejects_an_unknown_run) {
  TempDir dir;
  RunStore store(dir / "kiln.db");
  EXPECT_THROW(store.record_params(7, {{"model.lr", "0.1"}}), StoreError);
  EXPECT_EQ(query_int(dir / "kiln.db", "SELECT count(*) FROM params"), 0);
}

TEST(run_store, unique_run_name_appends_the_first_free_number) {
  TempDir dir;
  RunStore store(dir / "kiln.db");
  EXPECT_EQ(store.unique_run_name("hello"), "hello");
  store.create_run(sample_run("hello"));
  EXPECT_EQ(store.unique_run_name("hello"), "hello-2");
  store.create_run(sample_run("hello-2"));
  store.create_run(sample_run("hello-4"));
  EXPECT_EQ(store.unique_run_name("hello"), "hello-3");
  EXPECT_EQ(store.unique_run_name("other"), "other");
}

TEST(run_store, run_round_trip) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  RunStore store(path);
  const RunRecord run = sample_run("hello");
  const int64_t id = store.create_run(run);
  store.record_params(id, {{"experiment.seed", "7"}, {"optimizers.gen.lr", "0.0002"}});
  store.record_params(id, {{"experiment.seed", "8"}});
  PluginRecord plugin{"model", "mlp", "libmlp.so", "/opt/kiln/libmlp.so", "abc123", "1.2", 3};
  store.record_plugins(id, {plugin});

  QueryResult row = query_readonly(path, "SELECT name, experiment, config, config_hash, "
                                         "status, started, ended, host, pid, kiln_version, "
                                         "run_dir, error FROM runs");
  ASSERT_EQ(row.rows.size(), 1u);
  EXPECT_EQ(row.rows[0], (std::vector<Value>{run.name, run.experiment, run.config,
                                             run.config_hash, "running", run.started,
                                             std::monostate{}, run.host, run.pid,
                                             run.kiln_version, run.run_dir, std::monostate{}}));

  store.finish_run(id, "failed", "nan in loss/gen at step 12", 1700000100.25);
  row = query_readonly(path, "SELECT status, ended, error FROM runs WHERE id = " +
                                 std::to_string(id));
  EXPECT_EQ(row.rows.at(0),
            (std::vector<Value>{"failed", 1700000100.25, "nan in loss/gen at step 12"}));

  const QueryResult params = query_readonly(path, "SELECT key, value FROM params ORDER BY key");
  EXPECT_EQ(params.rows, (std::vector<std::vector<Value>>{{"experiment.seed", "8"},
                                                           {"optimizers.gen.lr", "0.0002"}}));
  const QueryResult plugins = query_readonly(
      path, "SELECT kind, name, library, path, sha256, version, abi FROM plugins");
  EXPECT_EQ(plugins.rows, (std::vector<std::vector<Value>>{
                              {"model", "mlp", "libmlp.so", "/opt/kiln/libmlp.so", "abc123",
                               "1.2", int64_t{3}}}));
}

TEST(run_store, summary_rules_of_the_experiment_are_replaced_at_each_start_and_hooks_declarations_stay) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  RunStore store(path);
  const int64_t id = store.create_run(sample_run("directions"));
  {
    Writer writer(path);
    for (const char* tag : {"eval/psnr", "eval/l1", "acc/top1", "acc/loss", "loss/g"})
      writer.summary(id, tag, 0, 1.0, 1700000000.0);
    writer.summary_direction(id, "eval/l1", "min");   // a hook's own tag
    writer.summary_direction(id, "acc/top1", "min");  // a hook says min; the experiment's exact rule below wins
    writer.flush();
  }
  store.record_summary_rules(id, {{"eval/*", "max"}, {"acc/top1", "max"}, {"loss/*", "max"}});
  EXPECT_EQ(higher_is_better(store.database(), id), (std::set<std::string>{"acc/top1", "eval/psnr", "loss/g"}));

  // A resume with another [summaries]: the experiment's old rules go, the hook's stay.
  store.record_summary_rules(id, {{"acc/*", "max"}});
  EXPECT_EQ(query_readonly(path, "SELECT pattern, direction, source FROM summary_directions ORDER BY pattern, source").rows,
            (std::vector<std::vector<Value>>{{"acc/*", "max", "experiment"},
                                             {"acc/top1", "min", "hook"},
                                             {"eval/l1", "min", "hook"}}));
  EXPECT_EQ(higher_is_better(store.database(), id), (std::set<std::string>{"acc/loss"}));
  EXPECT_THROW(store.record_summary_rules(id, {{"eval/l1", "up"}}), StoreError);  // neither min nor max
  EXPECT_THROW(store.record_summary_rules(7, {{"eval/l1", "max"}}), StoreError);  // no such run
}

TEST(run_store, a_hook_declaring_a_direction_other_than_min_or_max_is_the_writers_error) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  RunStore store(path);
  const int64_t id = store.create_run(sample_run("directions"));
  Writer writer(path);
  writer.summary_direction(id, "eval/l1", "higher");
  EXPECT_THROW(writer.flush(), StoreError);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM summary_directions"), 0);
}

TEST(run_store, finish_run_without_error_stores_null) {
  TempDir dir;
  RunStore store(dir / "kiln.db");
  const int64_t id = store.create_run(sample_run("hello"));
  store.finish_run(id, "completed", "", 5.0);
  EXPECT_EQ(query_int(dir / "kiln.db", "SELECT count(*) FROM runs WHERE status = 'completed' "
                                       "AND error IS NULL AND ended = 5.0"),
            1);
}

TEST(run_store, mark_crashed_marks_runs_whose_process_is_gone) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  RunStore store(path);
  RunRecord dead = sample_run("dead");
  dead.pid = dead_pid();
  RunRecord alive = sample_run("alive");  // this test's own pid
  RunRecord elsewhere = sample_run("elsewhere");
  elsewhere.host = "not-" + local_host_name();
  elsewhere.pid = dead.pid;
  RunRecord finished = sample_run("finished");
  finished.pid = dead.pid;
  store.create_run(dead);
  store.create_run(alive);
  store.create_run(elsewhere);
  store.finish_run(store.create_run(finished), "completed", "", 3.0);

  EXPECT_EQ(store.mark_crashed(), 1);
  const QueryResult runs = query_readonly(path, "SELECT name, status FROM runs ORDER BY name");
  EXPECT_EQ(runs.rows, (std::vector<std::vector<Value>>{{"alive", "running"},
                                                         {"dead", "crashed"},
                                                         {"elsewhere", "running"},
                                                         {"finished", "completed"}}));
  EXPECT_EQ(std::get<std::string>(
                query_readonly(path, "SELECT error FROM runs WHERE name = 'dead'").rows[0][0]),
            "process " + std::to_string(dead.pid) + " on " + local_host_name() +
                " ended without finishing the run");
  EXPECT_EQ(store.mark_crashed(), 0);
}

}  // namespace
}  // namespace kiln::runner::store
