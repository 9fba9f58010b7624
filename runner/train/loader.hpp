// The data loader: batches, seeded shuffling and prefetching on worker threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kiln/dataset.hpp"

namespace kiln::runner {

struct LoaderOptions {
  std::int64_t batch_size = 32;
  bool shuffle = true;
  bool drop_last = true;
  int workers = 1;
  int prefetch = 2;
  std::uint64_t seed = 0;
  /// Put every batch in page-locked memory (when training on CUDA): the trainer's copy to the
  /// GPU is then asynchronous. Done by the workers, off the training thread.
  bool pin_memory = false;
  /// Data-parallel runs: this process's rank among `world_size`. Batch k of the run is then
  /// batch_size x world_size examples of the epoch's order, and rank r takes the r-th slice.
  int rank = 0;
  int world_size = 1;
};

/// Where the loader is in the data; saved in checkpoints so a resumed run sees the same
/// batches it would have seen without the interruption.
struct LoaderCursor {
  std::int64_t batch = 0;  ///< batches handed out since the start of training
};

/// Hands out batches in a fixed order: batch k is a function of (seed, k) alone, so the
/// sequence is the same for any number of workers and after a seek(). In a run of several
/// processes it is a function of (seed, k, rank, world size): the run's batch k is
/// batch_size x world_size consecutive examples of the epoch's permutation, each rank's batch
/// the slice at its rank, with the augmentation seeds of a one-process run whose batch is the
/// whole (so 2 ranks of batch b see what 1 process of batch 2b sees). Without drop_last, an
/// epoch's last, short batch is split evenly, the last ranks' slices padded from the epoch's
/// start, as torch's DistributedSampler pads. Workers build up to
/// `prefetch` batches ahead; an exception in a worker is rethrown by next() with the batch
/// it happened on.
class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// The next batch; blocks until it is ready.
  Batch next();

  LoaderCursor cursor() const { return {next_}; }
  /// Continues from `cursor`; batches prepared ahead are dropped.
  void seek(LoaderCursor cursor);

  std::int64_t batches_per_epoch() const { return batches_per_epoch_; }

  /// The samples (index and augmentation seed) batch `k` is made of.
  std::vector<Sample> samples(std::int64_t k) const;

 private:
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  Batch build(std::int64_t k) const;
  void start_workers();
  void stop_workers();
  void work();
  std::shared_ptr<const std::vector<std::int64_t>> order(std::int64_t epoch) const;

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  std::int64_t size_;
  std::int64_t batches_per_epoch_;

  std::int64_t next_ = 0;  // the batch next() returns

  // Epoch orders, cached for the (at most two) epochs in flight.
  mutable std::mutex order_mutex_;
  mutable std::map<std::int64_t, std::shared_ptr<const std::vector<std::int64_t>>> orders_;

  std::mutex mutex_;
  std::condition_variable ready_;     // a slot was filled
  std::condition_variable wanted_;    // next() consumed a batch, or stop
  std::map<std::int64_t, Slot> slots_;
  std::int64_t claimed_ = 0;          // next batch a worker will build
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace kiln::runner
