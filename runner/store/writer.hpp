// Writer: one background thread that commits summaries and events in batches, so the
// training thread never waits on SQLite.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "store/database.hpp"
#include "store/rows.hpp"
#include "store/store_error.hpp"

namespace kiln::runner::store {

/// Queues rows from any thread and commits them from its own thread and connection: at
/// most every ~50 ms, at once when more than 1000 rows wait, and on flush(). Producers only
/// lock a mutex to append to a vector. A SQLite error never escapes the writer thread: the
/// failing row is dropped, the first error is kept, and flush() and check() rethrow it.
///
///     Writer writer("runs/kiln.db");
///     writer.summary(run_id, "loss/gen", step, loss, now);
///     writer.check();  // cheap: throws once a batch has failed (a full disk), else nothing
///     writer.flush();  // everything above is committed, or the first error is thrown
class Writer {
 public:
  /// Opens its own connection to `db` and migrates it; errors there throw here.
  explicit Writer(std::filesystem::path db);
  /// Commits what is still queued, then joins the thread. Never throws.
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  /// Queues a summary. A second value for the same (run, tag, step), e.g. after a resume,
  /// replaces the first.
  void summary(int64_t run_id, std::string tag, int64_t step, double value, double wall_time);
  /// Queues an event (start, restore, stop, signal, nan, error ...).
  void event(int64_t run_id, std::string kind, std::optional<int64_t> step,
             std::string message, double time);

  /// Queues an image summary: a file the run wrote, by tag and step (replaces an earlier
  /// row for the same run, tag and step).
  void image(int64_t run_id, std::string tag, int64_t step, std::string path, double wall_time);

  /// Queues a hook's declaration that lower ("min") or higher ("max") values of `tag` are
  /// better (RunContext::summary_direction); it replaces the hook's earlier one for the tag.
  /// Another direction is a bad row: dropped, and the writer's error.
  void summary_direction(int64_t run_id, std::string tag, std::string direction);

  /// Runs `work` on the writer's connection, in the transaction that commits every row
  /// queued before it, with synchronous=FULL so the commit is durable; blocks until then.
  /// A checkpoint's row goes this way: it lands after the summaries of the steps it holds.
  /// Throws the StoreError that kept `work` from committing, and then nothing `work` wrote
  /// is in the database; once `work` has committed it returns, and an error of other rows
  /// is left to check() and flush().
  void commit_durably(std::function<void(Database&)> work);

  /// Blocks until every row queued before the call is committed, then throws the first
  /// error the writer met, if any (again on every later flush).
  void flush();
  /// Throws the first error the writer met, if any, without waiting: an atomic load when
  /// there is none, so the training thread can call it every step.
  void check() const;
  /// The first error's message, if the writer has met one.
  std::optional<std::string> error() const;
  /// Drops every row still queued, unwritten. After a failure (a full disk) the rows behind
  /// it would fail too; dropping them leaves the database to a last, small write (the run's
  /// final status).
  void discard_pending();

 private:
  /// Whether a job committed, and if not, why: written by the writer thread before it
  /// counts the job's batch as written, read by commit_durably() after.
  struct JobOutcome {
    bool committed = false;
    std::optional<StoreError> error;
  };
  struct Job {
    std::function<void(Database&)> work;
    std::shared_ptr<JobOutcome> outcome;
  };
  using Row = std::variant<SummaryRow, EventRow, ImageRow, SummaryDirectionRow, Job>;

  /// Queues `row`; returns how many rows were queued up to and including it.
  uint64_t push(Row row);
  /// Blocks until the first `target` rows ever queued are written or dropped.
  void wait_written(uint64_t target);
  void run();
  void write(const std::vector<Row>& batch) noexcept;
  void insert(const Row& row);
  void remember(const StoreError& error);
  /// Sets the outcome of every job in `batch`: committed, or failed with `error`.
  static void settle_jobs(const std::vector<Row>& batch, const StoreError* error);

  // Used by the writer thread only, once the constructor is done.
  Database db_;
  Statement insert_summary_;
  Statement insert_event_;
  Statement insert_image_;
  Statement insert_direction_;
  bool synchronous_full_ = false;

  mutable std::mutex mutex_;
  std::condition_variable wake_;        // the writer waits for rows, a flush or the stop
  std::condition_variable batch_done_;  // flush() waits for its rows
  std::vector<Row> pending_;
  uint64_t queued_ = 0;        // rows ever queued
  uint64_t written_ = 0;       // rows ever committed or dropped
  uint64_t flush_target_ = 0;  // rows a flush() waits for
  uint64_t dropped_through_ = 0;  // rows up to here were dropped by discard_pending()
  bool writing_ = false;          // a batch is being written, outside the mutex
  bool stopping_ = false;
  std::optional<StoreError> error_;
  std::atomic<bool> failed_{false};  // error_ is set: check() reads this without the mutex
  std::thread thread_;
};

}  // namespace kiln::runner::store
