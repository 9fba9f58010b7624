// Writer: one background thread that commits summaries and events in batches, so the
// training thread never waits on SQLite.
#include "store/writer.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

#include "store/schema.hpp"

namespace kiln::runner::store {
namespace {

constexpr auto kBatchInterval = std::chrono::milliseconds(50);
constexpr std::size_t kMaxPendingRows = 1000;
// Each attempt already waits kBusyTimeoutMs for the lock; give up after about a minute.
constexpr int kBusyAttempts = 6;
// Before attempt n + 1: n times this. SQLite returns some SQLITE_BUSY results without
// calling the busy handler (SQLITE_BUSY_SNAPSHOT, a WAL index being rebuilt): without the
// pause those retries would all be spent in a few microseconds.
constexpr auto kBusyPause = std::chrono::milliseconds(20);

Database& migrated(Database& db) {
  migrate(db);
  return db;
}

}  // namespace

Writer::Writer(std::filesystem::path db)
    : db_(std::move(db)),
      insert_summary_(migrated(db_), R"sql(
        INSERT OR REPLACE INTO summaries (run_id, tag, step, value, wall_time)
        VALUES (?1, ?2, ?3, ?4, ?5))sql"),
      insert_event_(db_, R"sql(
        INSERT INTO events (run_id, time, step, kind, message)
        VALUES (?1, ?2, ?3, ?4, ?5))sql"),
      insert_image_(db_, R"sql(
        INSERT OR REPLACE INTO images (run_id, tag, step, path, wall_time)
        VALUES (?1, ?2, ?3, ?4, ?5))sql"),
      insert_direction_(db_, R"sql(
        INSERT OR REPLACE INTO summary_directions (run_id, pattern, direction, source)
        VALUES (?1, ?2, ?3, ?4))sql") {
  thread_ = std::thread([this] { run(); });
}

Writer::~Writer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Writer::summary(int64_t run_id, std::string tag, int64_t step, double value,
                     double wall_time) {
  push(SummaryRow{run_id, std::move(tag), step, value, wall_time});
}

void Writer::event(int64_t run_id, std::string kind, std::optional<int64_t> step,
                   std::string message, double time) {
  push(EventRow{run_id, std::move(kind), step, std::move(message), time});
}

void Writer::image(int64_t run_id, std::string tag, int64_t step, std::string path, double wall_time) {
  push(ImageRow{run_id, std::move(tag), step, std::move(path), wall_time});
}

void Writer::summary_direction(int64_t run_id, std::string tag, std::string direction) {
  push(SummaryDirectionRow{run_id, std::move(tag), std::move(direction), "hook"});
}

void Writer::commit_durably(std::function<void(Database&)> work) {
  auto outcome = std::make_shared<JobOutcome>();
  wait_written(push(Job{std::move(work), outcome}));
  if (outcome->committed) return;
  throw outcome->error.value_or(
      StoreError(fmt::format("{}: the write was dropped after an earlier failure", db_.path().string()), SQLITE_ABORT));
}

uint64_t Writer::push(Row row) {
  bool wake = false;
  uint64_t position = 0;
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(row));
    position = ++queued_;
    // The first row starts the batch timer; past the limit the batch goes at once.
    wake = pending_.size() == 1 || pending_.size() == kMaxPendingRows + 1;
  }
  if (wake) wake_.notify_one();
  return position;
}

void Writer::wait_written(uint64_t target) {
  std::unique_lock lock(mutex_);
  if (written_ >= target) return;
  flush_target_ = std::max(flush_target_, target);
  wake_.notify_one();
  batch_done_.wait(lock, [&] { return written_ >= target; });
}

void Writer::flush() {
  uint64_t target = 0;
  {
    std::lock_guard lock(mutex_);
    target = queued_;
  }
  wait_written(target);
  std::lock_guard lock(mutex_);
  if (error_) throw *error_;
}

void Writer::check() const {
  if (!failed_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mutex_);
  throw *error_;
}

std::optional<std::string> Writer::error() const {
  std::lock_guard lock(mutex_);
  if (!error_) return std::nullopt;
  return std::string(error_->what());
}

void Writer::discard_pending() {
  std::lock_guard lock(mutex_);
  const StoreError dropped(fmt::format("{}: the write was dropped after an earlier failure", db_.path().string()),
                           SQLITE_ABORT);
  settle_jobs(pending_, &dropped);
  pending_.clear();
  dropped_through_ = queued_;
  // A batch being written counts as written when it is; rows queued later will be too.
  if (!writing_) written_ = queued_;
  batch_done_.notify_all();
}

void Writer::run() {
  std::vector<Row> batch;
  auto last_write = std::chrono::steady_clock::now() - kBatchInterval;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping, and everything is written
    wake_.wait_until(lock, last_write + kBatchInterval, [&] {
      return stopping_ || flush_target_ > written_ || pending_.size() > kMaxPendingRows;
    });
    // Swapping keeps both vectors' capacity, so producers rarely allocate.
    batch.swap(pending_);
    const uint64_t through = queued_;
    writing_ = true;
    lock.unlock();
    write(batch);
    batch.clear();
    last_write = std::chrono::steady_clock::now();
    lock.lock();
    writing_ = false;
    written_ = std::max(through, dropped_through_);
    batch_done_.notify_all();
  }
}

void Writer::write(const std::vector<Row>& batch) noexcept {
  const bool durable =
      std::any_of(batch.begin(), batch.end(), [](const Row& row) { return std::holds_alternative<Job>(row); });
  for (int attempt = 1;; ++attempt) {
    try {
      if (durable) settle_jobs(batch, nullptr);  // a retry starts every job afresh
      if (durable != synchronous_full_) {
        db_.exec(durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
        synchronous_full_ = durable;
      }
      Transaction transaction(db_);
      for (const Row& row : batch) insert(row);
      transaction.commit();
      for (const Row& row : batch)
        if (const auto* job = std::get_if<Job>(&row)) job->outcome->committed = !job->outcome->error;
      return;
    } catch (const StoreError& e) {
      if (e.code() == SQLITE_BUSY && attempt < kBusyAttempts) {
        // The transaction rolled back: the whole batch (its jobs too) runs again.
        std::this_thread::sleep_for(attempt * kBusyPause);
        continue;
      }
      settle_jobs(batch, &e);
      remember(e);
      return;
    } catch (const std::exception& e) {
      const StoreError error(fmt::format("{}: writer failed: {}", db_.path().string(), e.what()), SQLITE_ERROR);
      settle_jobs(batch, &error);
      remember(error);
      return;
    }
  }
}

void Writer::settle_jobs(const std::vector<Row>& batch, const StoreError* error) {
  for (const Row& row : batch)
    if (const auto* job = std::get_if<Job>(&row)) {
      job->outcome->committed = false;
      if (!error) job->outcome->error.reset();
      else if (!job->outcome->error) job->outcome->error = *error;
    }
}

void Writer::insert(const Row& row) {
  try {
    if (const auto* summary = std::get_if<SummaryRow>(&row)) {
      insert_summary_.reset();
      insert_summary_.bind(1, summary->run_id)
          .bind(2, summary->tag)
          .bind(3, summary->step)
          .bind(4, summary->value)
          .bind(5, summary->wall_time);
      insert_summary_.step();
    } else if (const auto* image = std::get_if<ImageRow>(&row)) {
      insert_image_.reset();
      insert_image_.bind(1, image->run_id)
          .bind(2, image->tag)
          .bind(3, image->step)
          .bind(4, image->path)
          .bind(5, image->wall_time);
      insert_image_.step();
    } else if (const auto* rule = std::get_if<SummaryDirectionRow>(&row)) {
      insert_direction_.reset();
      insert_direction_.bind(1, rule->run_id).bind(2, rule->pattern).bind(3, rule->direction).bind(4, rule->source);
      insert_direction_.step();
    } else if (const auto* job = std::get_if<Job>(&row)) {
      // A savepoint keeps a failed job's partial writes out of the batch.
      db_.exec("SAVEPOINT job");
      try {
        job->work(db_);
      } catch (const std::exception& e) {
        const auto* store_error = dynamic_cast<const StoreError*>(&e);
        job->outcome->error = store_error ? *store_error
                                          : StoreError(fmt::format("{}: {}", db_.path().string(), e.what()), SQLITE_ERROR);
        if (db_.in_transaction()) {
          db_.exec("ROLLBACK TO job");
          db_.exec("RELEASE job");
        }
        throw;
      }
      db_.exec("RELEASE job");
    } else {
      const auto& event = std::get<EventRow>(row);
      insert_event_.reset();
      insert_event_.bind(1, event.run_id)
          .bind(2, event.time)
          .bind(3, event.step)
          .bind(4, event.kind)
          .bind(5, event.message);
      insert_event_.step();
    }
  } catch (const StoreError& e) {
    // A bad row (a constraint) loses only itself; a lost lock or a transaction SQLite has
    // rolled back fails the whole batch.
    if (e.code() == SQLITE_BUSY || !db_.in_transaction()) throw;
    remember(e);
  } catch (const std::exception& e) {
    if (!db_.in_transaction()) throw;
    remember(StoreError(fmt::format("{}: {}", db_.path().string(), e.what()), SQLITE_ERROR));
  }
}

void Writer::remember(const StoreError& error) {
  std::lock_guard lock(mutex_);
  if (error_) return;
  error_ = error;
  failed_.store(true, std::memory_order_release);
}

}  // namespace kiln::runner::store
