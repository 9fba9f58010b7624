// Writer: batches commit everything, errors surface through flush(), no rows are lost.
#include "store/writer.hpp"

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "store/query.hpp"
#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

using test_support::query_int;
using test_support::sample_run;
using test_support::TempDir;

TEST(writer, surfaces_a_foreign_key_error_through_flush) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  const int64_t run = RunStore(path).create_run(sample_run("hello"));
  Writer writer(path);
  writer.summary(run, "loss", 1, 0.5, 10.0);
  writer.summary(run + 100, "loss", 1, 0.5, 10.0);  // no such run
  writer.summary(run, "loss", 2, 0.25, 11.0);
  try {
    writer.flush();
    FAIL() << "flush hid the writer's error";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path.string() + ": FOREIGN KEY constraint failed (SQLITE_CONSTRAINT)");
    EXPECT_EQ(e.code(), 19);
  }
  EXPECT_EQ(writer.error(), path.string() + ": FOREIGN KEY constraint failed (SQLITE_CONSTRAINT)");
  // The bad row is lost alone; the error stays until the writer goes.
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM summaries"), 2);
  writer.summary(run, "loss", 3, 0.125, 12.0);
  EXPECT_THROW(writer.flush(), StoreError);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM summaries"), 3);
}

TEST(writer, commit_durably_returns_once_its_own_work_committed_though_an_earlier_row_failed) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  const int64_t run = RunStore(path).create_run(sample_run("hello"));
  Writer writer(path);
  writer.summary(run + 100, "loss", 1, 0.5, 10.0);  // no such run: this row fails alone
  writer.commit_durably([run](Database& db) {
    Statement insert(db, "INSERT INTO events (run_id, time, step, kind, message) VALUES (?1, 1.0, 1, 'save', 'x')");
    insert.bind(1, run);
    insert.step();
  });
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM events WHERE kind = 'save'"), 1);
  // The other row's error is not lost: check() and flush() report it.
  EXPECT_THROW(writer.check(), StoreError);
  EXPECT_THROW(writer.flush(), StoreError);
}

TEST(writer, commit_durably_throws_its_own_error_and_leaves_nothing_of_its_work) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  const int64_t run = RunStore(path).create_run(sample_run("hello"));
  Writer writer(path);
  writer.summary(run, "loss", 1, 0.5, 10.0);
  try {
    writer.commit_durably([run](Database& db) {
      Statement insert(db, "INSERT INTO events (run_id, time, step, kind, message) VALUES (?1, 1.0, 1, 'save', 'x')");
      insert.bind(1, run);
      insert.step();
      Statement bad(db, "INSERT INTO events (run_id, time, step, kind, message) VALUES (?1, 1.0, 1, 'save', 'y')");
      bad.bind(1, run + 100);
      bad.step();
    });
    FAIL() << "commit_durably hid its work's error";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path.string() + ": FOREIGN KEY constraint failed (SQLITE_CONSTRAINT)");
  }
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM events"), 0);     // the whole job rolled back
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM summaries"), 1);  // the rows around it did not
}

TEST(writer, check_is_silent_until_a_batch_fails) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  const int64_t run = RunStore(path).create_run(sample_run("hello"));
  Writer writer(path);
  writer.summary(run, "loss", 1, 0.5, 10.0);
  writer.flush();
  EXPECT_NO_THROW(writer.check());
  writer.summary(run + 100, "loss", 1, 0.5, 10.0);
  EXPECT_THROW(writer.flush(), StoreError);
  try {
    writer.check();
    FAIL() << "check() hid the writer's error";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.code(), 19);
  }
}

TEST(writer, discard_pending_drops_queued_rows_but_not_the_batch_being_written) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  const int64_t run = RunStore(path).create_run(sample_run("hello"));
  Writer writer(path);
  // A job that holds the writer thread inside its batch until the rows behind it are dropped.
  std::atomic<bool> started{false};
  std::atomic<bool> release{false};
  std::thread first([&] {
    writer.commit_durably([&](Database& db) {
      started = true;
      while (!release) std::this_thread::yield();
      db.exec("INSERT INTO events (run_id, time, kind, message) VALUES (" + std::to_string(run) + ", 1, 'job', 'in')");
    });
  });
  while (!started) std::this_thread::yield();
  for (int step = 1; step <= 5; ++step) writer.summary(run, "loss", step, 0.5, 10.0);
  writer.discard_pending();
  release = true;
  first.join();  // the job in flight committed: commit_durably returned
  writer.flush();  // dropped rows are not errors
  EXPECT_EQ(writer.error(), std::nullopt);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM events WHERE kind = 'job'"), 1);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM summaries"), 0);
  // Rows queued after the drop are written as usual.
  writer.summary(run, "loss", 6, 0.5, 10.0);
  writer.flush();
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM summaries"), 1);
}

TEST(writer, refuses_a_database_newer_than_this_kiln) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  Database(path).exec("PRAGMA user_version = 9");
  EXPECT_THROW(Writer writer(path), StoreError);
}

TEST(writer, has_no_error_after_a_clean_flush) {
  TempDir dir;
  Writer writer(dir / "kiln.db");
  writer.flush();  // nothing queued
  EXPECT_EQ(writer.error(), std::nullopt);
}

TEST(writer, flush_commits_every_summary) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  const int64_t run = RunStore(path).create_run(sample_run("hello"));
  Writer writer(path);
  constexpr int kSteps = 10'000;
  for (int step = 0; step < kSteps; ++step) {
    writer.summary(run, "loss", step, step * 0.5, 1000.0 + step);
  }
  writer.flush();
  EXPECT_EQ(writer.error(), std::nullopt);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM summaries"), kSteps);
  EXPECT_EQ(query_int(path, "SELECT count(DISTINCT step) FROM summaries WHERE tag = 'loss'"),
            kSteps);
  const QueryResult last =
      query_readonly(path, "SELECT value, wall_time FROM summaries WHERE step = 9999");
  EXPECT_EQ(last.rows.at(0), (std::vector<Value>{4999.5, 10999.0}));
}

TEST(writer, a_repeated_step_keeps_the_last_value) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  const int64_t run = RunStore(path).create_run(sample_run("hello"));
  Writer writer(path);
  writer.summary(run, "loss", 5, 1.0, 10.0);
  writer.flush();
  writer.summary(run, "loss", 5, 2.0, 11.0);
  writer.summary(run, "loss", 5, 3.0, 12.0);
  writer.summary(run, "acc", 5, 0.9, 12.0);
  writer.flush();
  const QueryResult rows =
      query_readonly(path, "SELECT tag, step, value, wall_time FROM summaries ORDER BY tag");
  EXPECT_EQ(rows.rows, (std::vector<std::vector<Value>>{{"acc", int64_t{5}, 0.9, 12.0},
                                                         {"loss", int64_t{5}, 3.0, 12.0}}));
}

TEST(writer, records_events_with_and_without_a_step) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  const int64_t run = RunStore(path).create_run(sample_run("hello"));
  Writer writer(path);
  writer.event(run, "start", std::nullopt, "fresh start from seed 7", 100.0);
  writer.event(run, "nan", 42, "loss/gen is nan", 101.5);
  writer.flush();
  const QueryResult rows =
      query_readonly(path, "SELECT run_id, time, step, kind, message FROM events ORDER BY id");
  EXPECT_EQ(rows.rows,
            (std::vector<std::vector<Value>>{
                {run, 100.0, std::monostate{}, "start", "fresh start from seed 7"},
                {run, 101.5, int64_t{42}, "nan", "loss/gen is nan"}}));
}

TEST(writer, destructor_commits_what_is_queued) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  const int64_t run = RunStore(path).create_run(sample_run("hello"));
  {
    Writer writer(path);
    for (int step = 0; step < 2500; ++step) writer.summary(run, "loss", step, 1.0, 2.0);
  }
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM summaries"), 2500);
}

TEST(writer, two_writers_on_one_database_lose_no_rows) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  RunStore store(path);
  const int64_t first = store.create_run(sample_run("first"));
  const int64_t second = store.create_run(sample_run("second"));
  constexpr int kSteps = 5'000;
  std::string errors[2];
  auto produce = [&](int64_t run, std::string& error) {
    try {
      Writer writer(path);
      for (int step = 0; step < kSteps; ++step) {
        writer.summary(run, "loss", step, 1.0, 2.0);
        if (step % 1000 == 0) writer.event(run, "progress", step, "", 3.0);
      }
      writer.flush();
    } catch (const StoreError& e) {
      error = e.what();
    }
  };
  std::thread a(produce, first, std::ref(errors[0]));
  std::thread b(produce, second, std::ref(errors[1]));
  a.join();
  b.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM summaries WHERE run_id = " +
                                std::to_string(first)),
            kSteps);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM summaries WHERE run_id = " +
                                std::to_string(second)),
            kSteps);
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM events"), 10);
}

}  // namespace
}  // namespace kiln::runner::store
