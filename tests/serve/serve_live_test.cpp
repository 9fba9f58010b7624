// kiln serve while the database is being written: rows appear in /scalars?after= as a run
// trains, and 50 clients at once (the list, series, queries) all get answers while a writer
// commits.
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"
#include "serve_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::IsEmpty;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(serve_live, rows_appear_after_the_last_step_while_a_run_trains) {
  TempDir dir;
  // No progress lines: nobody reads the run's stderr while the test polls the server.
  write_text(dir, "exp.toml",
             mlp_experiment("[supervisor]\nsummary_every_steps = 1\nlog_every_steps = 0\n", /*max_steps=*/1000000000));
  KilnProcess run({"run", "exp.toml"}, dir.path());
  const fs::path db = dir / "runs/kiln.db";
  const auto has_losses = [&] {
    try {
      return fs::exists(db) && sql_value(db, "SELECT count(*) FROM summaries WHERE tag = 'loss/mse'") != "0";
    } catch (const std::exception&) {
      return false;  // the run is still creating its tables
    }
  };
  for (const auto deadline = Clock::now() + 60s; !has_losses() && Clock::now() < deadline;)
    std::this_thread::sleep_for(20ms);  // polling the database: the run prints nothing to wait on
  ASSERT_TRUE(has_losses()) << "no loss rows within 60 s";
  ServeProcess serve(dir.path());

  // What a page does: poll with the last step it holds, and get only the rows after it.
  std::int64_t last = -1;
  int grew = 0;
  const auto deadline = Clock::now() + 60s;
  while (grew < 5 && Clock::now() < deadline) {
    const JsonValue answer = json_of(serve.get("/api/runs/t/scalars?tags=loss/mse&after=" + std::to_string(last)));
    EXPECT_EQ(answer["status"].string(), "running");
    const JsonValue& rows = answer["series"]["loss/mse"];
    std::int64_t previous = last;
    for (const JsonValue& row : rows.items()) {
      ASSERT_GT(row[0].integer(), previous) << "a row at or before the step asked after, or out of order";
      EXPECT_TRUE(row[1].type() == JsonValue::Type::number);
      previous = row[0].integer();
    }
    if (rows.size() > 0) {
      EXPECT_GE(answer["step"].integer(), previous);
      last = previous;
      ++grew;
    }
    std::this_thread::sleep_for(20ms);  // a poll interval, not a synchronisation: each answer is checked
  }
  EXPECT_EQ(grew, 5) << "the run's rows did not keep appearing";

  run.send_signal(SIGINT);
  const KilnResult result = run.finish();
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  const JsonValue ended = json_of(serve.get("/api/runs/t/scalars?tags=loss/mse&after=" + std::to_string(last)));
  EXPECT_EQ(ended["status"].string(), "stopped");
  const std::string rows_after =
      sql_value(db, "SELECT count(*) FROM summaries WHERE tag = 'loss/mse' AND step > " + std::to_string(last));
  EXPECT_EQ(ended["series"]["loss/mse"].size(), std::stoul(rows_after));
}

/// Writes summaries into the database in a loop, as a training run's store writer does (WAL,
/// a transaction per batch), until stopped.
class SummaryWriter {
 public:
  explicit SummaryWriter(const fs::path& db) {
    if (sqlite3_open(db.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + db.string());
    sqlite3_busy_timeout(db_, 10'000);
    exec("PRAGMA journal_mode = WAL");
    thread_ = std::thread([this] { loop(); });
  }
  ~SummaryWriter() {
    stop();
    sqlite3_close(db_);
  }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int batches() const { return batches_; }
  const std::string& error() const { return error_; }

 private:
  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string what = message ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error(sql.substr(0, 60) + ": " + what);
    }
  }

  void loop() {
    try {
      for (std::int64_t step = 0; !stop_; ++batches_) {
        std::string sql = "BEGIN IMMEDIATE; INSERT INTO summaries (run_id, tag, step, value, wall_time) VALUES ";
        // Two tags per commit: an answer read from one snapshot has both end at the same step.
        const char* separator = "";
        for (int i = 0; i < 100; ++i, ++step)
          for (const char* tag : {"hammer", "hammer2"}) {
            sql += separator + std::string("(1, '") + tag + "', " + std::to_string(step) + ", " +
                   std::to_string(step * 0.5) + ", 0)";
            separator = ", ";
          }
        exec(sql + "; COMMIT;");
      }
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }

  sqlite3* db_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<int> batches_{0};
  std::string error_;
  std::thread thread_;
};

TEST(serve_live, fifty_clients_all_get_answers_while_a_writer_writes) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment());
  const KilnResult run = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(run.exit_code(), 0) << run.describe();
  ServeProcess serve(dir.path());
  SummaryWriter writer(dir / "runs/kiln.db");

  constexpr int kClients = 50;
  constexpr int kRequests = 12;
  std::mutex mutex;
  std::vector<std::string> failures;
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::int64_t after = -1;
      for (int r = 0; r < kRequests; ++r) {
        const int kind = (c + r) % 3;  // the list, a series, a query
        const std::string path = kind == 0   ? "/api/runs"
                                 : kind == 1 ? "/api/runs/1/scalars?tags=hammer,hammer2&after=" + std::to_string(after)
                                             : "/api/query?sql=SELECT%20count(*)%20FROM%20summaries";
        try {
          const JsonValue answer = json_of(serve.get(path));
          if (kind == 0) {
            if (answer["runs"].size() != 1) throw std::runtime_error("not one run");
          } else if (kind == 2) {
            if (answer["rows"][0][0].integer() < 1) throw std::runtime_error("no rows counted");
          } else {
            const JsonValue& rows = answer["series"]["hammer"];
            const JsonValue& rows2 = answer["series"]["hammer2"];
            if (rows.size() != rows2.size() || (rows.size() > 0 && rows[rows.size() - 1][0].integer() !=
                                                                        rows2[rows2.size() - 1][0].integer()))
              throw std::runtime_error("two tags of one commit end at different steps: not one snapshot");
            for (const JsonValue& row : rows.items()) {
              if (row[0].integer() <= after) throw std::runtime_error("a row at or before after=");
              after = row[0].integer();
            }
          }
          ++answered;
        } catch (const std::exception& e) {
          const std::lock_guard<std::mutex> lock(mutex);
          failures.push_back(path + ": " + e.what());
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();
  const int batches_meanwhile = writer.batches();
  writer.stop();
  EXPECT_EQ(writer.error(), "");
  EXPECT_THAT(failures, IsEmpty());
  EXPECT_EQ(answered.load(), kClients * kRequests);
  EXPECT_GT(batches_meanwhile, 1) << "the writer did not write while the clients read";
}

}  // namespace
}  // namespace kiln::test
