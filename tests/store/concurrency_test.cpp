// Several processes on one database that does not exist yet, all at the same moment: each
// creates, migrates and writes it as `kiln run` does, and none gets "database is locked".
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/checkpoints.hpp"
#include "store/writer.hpp"
#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

namespace fs = std::filesystem;
using test_support::query_int;
using test_support::sample_run;
using test_support::TempDir;

constexpr int kProcesses = 4;
constexpr int kSteps = 20;

/// What `kiln run` does to the store, in its order: the run's row through RunStore, the
/// writer's own connection, summaries, a checkpoint row committed durably, the saver's
/// read-only look at its checkpoints, and the run's end.
void record_a_run(const fs::path& db, int index) {
  RunStore store(db);
  const int64_t run = store.create_run(sample_run("run-" + std::to_string(index)));
  store.record_params(run, {{"experiment.name", "run-" + std::to_string(index)}});
  Writer writer(db);
  for (int step = 0; step < kSteps; ++step) writer.summary(run, "loss", step, 1.0 / (step + 1), 1.0);
  writer.commit_durably([run](Database& connection) {
    CheckpointRow row;
    row.run_id = run;
    row.step = kSteps;
    row.path = "ckpt.kiln";
    row.sha256 = "00";
    row.reason = "end";
    row.kept = "max_to_keep";
    insert_checkpoint(connection, row);
  });
  {
    Database reader(db, OpenMode::read_only);
    list_checkpoints(reader, run, /*include_deleted=*/true);
  }
  writer.flush();
  store.finish_run(run, "completed", "", 2.0);
}

/// Forks `count` processes that wait at one gate, opens it so they run `work(index)` at the
/// same moment, and returns one line per process that failed: its error or how it ended.
std::vector<std::string> run_at_once(int count, const std::function<void(int)>& work) {
  int gate[2];
  int report[2];
  if (pipe2(gate, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) return {std::string("pipe: ") + std::strerror(errno)};
  std::vector<pid_t> children;
  for (int index = 0; index < count; ++index) {
    const pid_t pid = fork();
    if (pid == 0) {
      close(gate[1]);
      close(report[0]);
      char go;
      while (read(gate[0], &go, 1) < 0 && errno == EINTR) {
      }
      std::string failure;
      try {
        work(index);
      } catch (const std::exception& e) {
        failure = "process " + std::to_string(index) + ": " + e.what() + "\n";
      }
      // One short write is atomic, so the lines of several processes never mix.
      if (!failure.empty()) (void)!write(report[1], failure.data(), std::min<std::size_t>(failure.size(), 500));
      _exit(failure.empty() ? 0 : 1);  // no destructors, no test framework teardown in the child
    }
    if (pid > 0) children.push_back(pid);
  }
  close(report[1]);
  close(gate[0]);
  close(gate[1]);  // the gate opens: every child's read returns
  std::vector<std::string> failures;
  for (const pid_t pid : children) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status)) failures.push_back("process " + std::to_string(pid) + " did not exit normally");
  }
  std::string reported;
  char buffer[4096];
  for (ssize_t n; (n = read(report[0], buffer, sizeof buffer)) != 0;) {
    if (n > 0) reported.append(buffer, static_cast<std::size_t>(n));
    else if (errno != EINTR) break;
  }
  close(report[0]);
  for (std::size_t at = 0, end; (end = reported.find('\n', at)) != std::string::npos; at = end + 1)
    failures.push_back(reported.substr(at, end - at));
  if (children.size() != static_cast<std::size_t>(count)) failures.push_back("fork failed");
  return failures;
}

TEST(concurrency, processes_creating_one_database_at_once_all_succeed_and_lose_nothing) {
  // Before Database retried `PRAGMA journal_mode = WAL`, some round had a process fail at
  // once with "database is locked" in 18 runs of this test out of 20.
  for (int round = 0; round < 40; ++round) {
    TempDir dir;
    const fs::path db = dir / "runs" / "kiln.db";
    ASSERT_EQ(run_at_once(kProcesses, [&](int index) { record_a_run(db, index); }), std::vector<std::string>{})
        << "round " << round;
    ASSERT_EQ(query_int(db, "SELECT COUNT(*) FROM runs WHERE status = 'completed'"), kProcesses) << "round " << round;
    ASSERT_EQ(query_int(db, "SELECT COUNT(*) FROM params"), kProcesses) << "round " << round;
    ASSERT_EQ(query_int(db, "SELECT COUNT(*) FROM summaries"), kProcesses * kSteps) << "round " << round;
    ASSERT_EQ(query_int(db, "SELECT COUNT(DISTINCT run_id) FROM checkpoints"), kProcesses) << "round " << round;
  }
}

TEST(concurrency, fresh_runs_of_one_name_started_at_once_get_distinct_names) {
  for (int round = 0; round < 10; ++round) {
    TempDir dir;
    const fs::path db = dir / "kiln.db";
    RunStore(db).create_run(sample_run("t"));
    ASSERT_EQ(run_at_once(kProcesses,
                          [&](int) {
                            RunRecord run = sample_run("t");
                            RunStore(db).create_fresh_run(run, "runs");
                          }),
              std::vector<std::string>{})
        << "round " << round;
    const QueryResult names = query_readonly(db, "SELECT name, run_dir FROM runs ORDER BY id");
    ASSERT_EQ(names.rows.size(), 1u + kProcesses);
    std::vector<std::string> fresh;
    for (std::size_t i = 1; i < names.rows.size(); ++i) {
      const auto name = std::get<std::string>(names.rows[i][0]);
      EXPECT_EQ(std::get<std::string>(names.rows[i][1]), "runs/" + name);
      fresh.push_back(name);
    }
    // Each process took the first free name when it got the write lock: in the order of their rows.
    EXPECT_EQ(fresh, (std::vector<std::string>{"t-2", "t-3", "t-4", "t-5"})) << "round " << round;
  }
}

TEST(run_store_fresh, takes_the_first_free_name_and_its_directory) {
  TempDir dir;
  RunStore store(dir / "kiln.db");
  store.create_run(sample_run("t"));
  store.create_run(sample_run("t-3"));
  RunRecord run = sample_run("t");
  const int64_t id = store.create_fresh_run(run, "/data/runs");
  EXPECT_EQ(run.name, "t-2");
  EXPECT_EQ(run.run_dir, "/data/runs/t-2");
  EXPECT_EQ(query_readonly(dir / "kiln.db", "SELECT name, run_dir, status FROM runs WHERE id = " + std::to_string(id))
                .rows,
            (std::vector<std::vector<Value>>{{std::string("t-2"), std::string("/data/runs/t-2"), std::string("running")}}));
}

TEST(concurrency, a_failing_process_is_reported_with_its_error) {
  // The harness above must not hide failures: a process that throws is one line, with its message.
  const auto failures = run_at_once(2, [](int index) {
    if (index == 1) throw StoreError("no good", 1);
  });
  EXPECT_EQ(failures, std::vector<std::string>{"process 1: no good"});
}

}  // namespace
}  // namespace kiln::runner::store
