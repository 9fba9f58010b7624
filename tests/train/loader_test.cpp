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


std::vector<std::int64_t> seeds(const Batch& batch) {
  const auto s = batch.at("seed");
  return std::vector<std::int64_t>(s.data_ptr<std::int64_t>(), s.data_ptr<std::int64_t>() + s.numel());
}

LoaderOptions ranked(std::int64_t batch_size, int rank, int world, bool drop_last = true) {
  LoaderOptions o = options(0);
  o.batch_size = batch_size;
  o.rank = rank;
  o.world_size = world;
  o.drop_last = drop_last;
  return o;
}

TEST(loader, ranks_split_the_batch_of_one_process_with_its_augmentation_seeds) {
  // 2 ranks of batch 3 see, together, what one process of batch 6 sees, example for example,
  // with the same augmentation seed; over several epochs.
  auto data = std::make_shared<Counting>(20);
  DataLoader whole(data, ranked(6, 0, 1));
  DataLoader first(data, ranked(3, 0, 2)), second(data, ranked(3, 1, 2));
  EXPECT_EQ(whole.batches_per_epoch(), 3);
  EXPECT_EQ(first.batches_per_epoch(), 3);
  for (int k = 0; k < 10; ++k) {
    const Batch all = whole.next(), a = first.next(), b = second.next();
    std::vector<std::int64_t> joined = indices(a), joined_seeds = seeds(a);
    for (auto i : indices(b)) joined.push_back(i);
    for (auto s : seeds(b)) joined_seeds.push_back(s);
    EXPECT_EQ(joined, indices(all)) << "batch " << k;
    EXPECT_EQ(joined_seeds, seeds(all)) << "batch " << k;
    std::set<std::int64_t> distinct(joined.begin(), joined.end());
    EXPECT_EQ(distinct.size(), 6u);
  }
}

TEST(loader, ranks_cover_an_epoch_without_overlap) {
  auto data = std::make_shared<Counting>(24);
  std::vector<std::unique_ptr<DataLoader>> ranks;
  for (int r = 0; r < 3; ++r) ranks.push_back(std::make_unique<DataLoader>(data, ranked(2, r, 3)));
  std::multiset<std::int64_t> seen;
  for (int k = 0; k < ranks[0]->batches_per_epoch(); ++k)
    for (auto& rank : ranks)
      for (auto i : indices(rank->next())) seen.insert(i);
  EXPECT_EQ(seen.size(), 24u);
  EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()).size(), 24u);
}

TEST(loader, a_short_last_batch_is_split_evenly_and_padded_from_the_epochs_start) {
  // 10 examples, batch 2 on 3 ranks, no drop_last: batches of 6, then 4 left: 2 each, the
  // third rank's second example padded with the epoch's first.
  auto data = std::make_shared<Counting>(10);
  std::vector<std::unique_ptr<DataLoader>> ranks;
  for (int r = 0; r < 3; ++r) ranks.push_back(std::make_unique<DataLoader>(data, ranked(2, r, 3, false)));
  EXPECT_EQ(ranks[0]->batches_per_epoch(), 2);
  for (auto& rank : ranks) rank->next();
  const auto a = indices(ranks[0]->next()), b = indices(ranks[1]->next()), c = indices(ranks[2]->next());
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(b.size(), 2u);
  ASSERT_EQ(c.size(), 2u);
  // The epoch's order, from a one-process loader of the whole epoch in one batch.
  DataLoader epoch(data, ranked(10, 0, 1, false));
  const auto order = indices(epoch.next());
  EXPECT_EQ(a, (std::vector<std::int64_t>{order[6], order[7]}));
  EXPECT_EQ(b, (std::vector<std::int64_t>{order[8], order[9]}));
  EXPECT_EQ(c, (std::vector<std::int64_t>{order[0], order[1]}));
}

TEST(loader, a_dataset_smaller_than_the_runs_batch_names_both_factors) {
  try {
    DataLoader loader(std::make_shared<Counting>(5), ranked(3, 0, 2));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "batch_size 3 x 2 processes is larger than the dataset (5 examples) and drop_last is set");
  }
}

}  // namespace
}  // namespace kiln::runner
