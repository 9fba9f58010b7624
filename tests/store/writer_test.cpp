// Writer: batches commit everything, errors surface through flush(), no rows are lost.
#include "store/writer.hpp"

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
