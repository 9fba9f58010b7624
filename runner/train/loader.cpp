// The data loader: batch k is a pure function of (seed, k); workers only compute it early.
#include "train/loader.hpp"

#include <numeric>

#include <fmt/format.h>
#include <torch/torch.h>

#include "kiln/error.hpp"
#include "train/random.hpp"

namespace kiln::runner {

std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(n));
  std::iota(out.begin(), out.end(), 0);
  std::uint64_t state = seed;
  for (std::int64_t i = n - 1; i > 0; --i) {
    state = mix64(state);
    // Lemire's multiply-shift maps the draw to [0, i] without a modulo bias worth noting.
    const auto j = static_cast<std::int64_t>((static_cast<unsigned __int128>(state) * (i + 1)) >> 64);
    std::swap(out[i], out[j]);
  }
  return out;
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options), size_(dataset_->size()) {
  if (size_ <= 0) throw Error(fmt::format("the dataset is empty (size {})", size_));
  if (options_.world_size < 1 || options_.rank < 0 || options_.rank >= options_.world_size)
    throw Error(fmt::format("rank {} of {} processes", options_.rank, options_.world_size));
  const std::int64_t global = options_.batch_size * options_.world_size;
  batches_per_epoch_ = options_.drop_last ? size_ / global : (size_ + global - 1) / global;
  if (batches_per_epoch_ == 0) {
    if (options_.world_size == 1)
      throw Error(fmt::format("batch_size {} is larger than the dataset ({} examples) and drop_last is set",
                              options_.batch_size, size_));
    throw Error(fmt::format("batch_size {} x {} processes is larger than the dataset ({} examples) and drop_last is set",
                            options_.batch_size, options_.world_size, size_));
  }
  start_workers();
}

DataLoader::~DataLoader() { stop_workers(); }

std::shared_ptr<const std::vector<std::int64_t>> DataLoader::order(std::int64_t epoch) const {
  std::lock_guard<std::mutex> lock(order_mutex_);
  auto it = orders_.find(epoch);
  if (it != orders_.end()) return it->second;
  std::vector<std::int64_t> indices;
  if (options_.shuffle) {
    indices = permutation(size_, derive_seed(options_.seed, static_cast<std::uint64_t>(epoch), 0x5eedULL));
  } else {
    indices.resize(static_cast<std::size_t>(size_));
    std::iota(indices.begin(), indices.end(), 0);
  }
  auto shared = std::make_shared<const std::vector<std::int64_t>>(std::move(indices));
  orders_[epoch] = shared;
  while (orders_.size() > 2) orders_.erase(orders_.begin());
  return shared;
}

std::vector<Sample> DataLoader::samples(std::int64_t k) const {
  const std::int64_t epoch = k / batches_per_epoch_;
  const std::int64_t world = options_.world_size;
  const std::int64_t first = (k % batches_per_epoch_) * options_.batch_size * world;  // the run's batch k
  // Each rank's share: batch_size, or of a short last batch (no drop_last) an even split.
  const std::int64_t left = size_ - first;
  const std::int64_t share = left >= options_.batch_size * world ? options_.batch_size : (left + world - 1) / world;
  const std::int64_t mine = first + options_.rank * share;
  // One process's share is what is left; several pad the last ranks from the epoch's start.
  const auto indices = order(epoch);
  std::vector<Sample> out;
  out.reserve(static_cast<std::size_t>(share));
  for (std::int64_t j = 0; j < share; ++j) {
    const std::int64_t at = (mine + j) % size_;
    // Seeded by the position in the run's batch: the same augmentation at any world size.
    out.push_back({(*indices)[static_cast<std::size_t>(at)],
                   derive_seed(options_.seed, static_cast<std::uint64_t>(k), static_cast<std::uint64_t>(mine + j - first))});
  }
  return out;
}

Batch DataLoader::build(std::int64_t k) const {
  Batch batch = dataset_->get_batch(samples(k));
  if (batch.empty()) throw Error(fmt::format("the dataset returned an empty batch for batch {}", k));
  if (options_.pin_memory)
    for (auto& [name, tensor] : batch)
      if (tensor.defined() && tensor.device().is_cpu() && !tensor.is_pinned()) tensor = tensor.pin_memory();
  return batch;
}

Batch DataLoader::next() {
  const std::int64_t k = next_;
  if (workers_.empty()) {
    ++next_;
    try {
      return build(k);
    } catch (const std::exception& e) {
      throw Error(fmt::format("loading batch {} failed: {}", k, e.what()));
    }
  }
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait(lock, [&] { return slots_.count(k) != 0; });
  Slot slot = std::move(slots_.at(k));
  slots_.erase(k);
  ++next_;
  lock.unlock();
  wanted_.notify_all();
  if (slot.error) {
    try {
      std::rethrow_exception(slot.error);
    } catch (const std::exception& e) {
      throw Error(fmt::format("data worker failed on batch {}: {}", k, e.what()));
    }
  }
  return std::move(slot.batch);
}

void DataLoader::seek(LoaderCursor cursor) {
  stop_workers();
  next_ = cursor.batch;
  slots_.clear();
  start_workers();
}

void DataLoader::start_workers() {
  stopping_ = false;
  claimed_ = next_;
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
}

void DataLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wanted_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

void DataLoader::work() {
  torch::NoGradGuard no_grad;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wanted_.wait(lock, [&] { return stopping_ || claimed_ < next_ + options_.prefetch; });
    if (stopping_) return;
    const std::int64_t k = claimed_++;
    lock.unlock();
    Slot slot;
    try {
      slot.batch = build(k);
    } catch (...) {
      slot.error = std::current_exception();
    }
    lock.lock();
    slots_.emplace(k, std::move(slot));
    ready_.notify_all();
  }
}

}  // namespace kiln::runner
