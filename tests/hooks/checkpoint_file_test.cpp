// The checkpoint file: refusing cut, corrupt and foreign files; atomic writes; bit-exact round trips.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks/checkpoint_file.hpp"
#include "kiln/error.hpp"
#include "plugins/sha256.hpp"
#include "../support/temp_dir.hpp"
#include "checkpoint_support.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using namespace checkpoint_test;

std::string write_error(const fs::path& file, const CheckpointEntries& entries) {
  try {
    write_checkpoint(file, entries);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "no CheckpointError";
}

bool has_temp_file(const fs::path& directory) {
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) return true;
  }
  return false;
}

/// Bytes before the first entry: magic 8, format version 4, entry count 4, the LibTorch
/// version's length 4 and its bytes.
constexpr std::size_t kHeader = 8 + 4 + 4 + 4 + sizeof(TORCH_VERSION) - 1;

std::string number(std::size_t value) { return std::to_string(value); }

// ---- failure paths ----

TEST(checkpoint_file, wrong_sha256_is_corrupt_and_names_both_hashes) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  const WrittenCheckpoint written = write_checkpoint(file, two_entries());
  std::string bytes = file_bytes(file);
  bytes[bytes.size() / 2] ^= 0x01;
  write_bytes(file, bytes);
  const std::string actual = sha256_file(file);
  ASSERT_NE(actual, written.sha256);
  EXPECT_EQ(read_error(file, written.sha256),
            "checkpoint " + file.string() + " is corrupt: sha256 " + actual + ", expected " + written.sha256);
}

TEST(checkpoint_file, sha256_is_checked_before_parsing) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  const WrittenCheckpoint written = write_checkpoint(file, two_entries());
  const std::string bytes = file_bytes(file);
  write_bytes(file, bytes.substr(0, 20));
  EXPECT_EQ(read_error(file, written.sha256),
            "checkpoint " + file.string() + " is corrupt: sha256 " + sha256_hex(bytes.substr(0, 20)) + ", expected " +
                written.sha256);
}

TEST(checkpoint_file, truncated_file_is_refused_at_every_cut) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  write_checkpoint(file, two_entries());
  const std::string bytes = file_bytes(file);
  // header | "weight": 4 + 6, dtype 1, ndim 1, dims 16, size 8, payload 24
  // | "step": 4 + 4, dtype 1, ndim 1, size 8, payload 8 | trailer 8 + 8
  ASSERT_EQ(bytes.size(), kHeader + 60u + 26u + 16u);
  std::vector<std::size_t> cuts = {0, 4, 8, 10, 14, 16, 18, 20, kHeader - 1};
  for (const std::size_t in_entries : {0, 2, 6, 7, 14, 24, 34, 44, 54, 59, 60, 74, 84, 86, 90, 94, 101})
    cuts.push_back(kHeader + in_entries);
  for (const std::size_t cut : cuts) {
    SCOPED_TRACE(cut);
    write_bytes(file, bytes.substr(0, cut));
    const std::string error = read_error(file);
    EXPECT_EQ(error.rfind("checkpoint " + file.string() + " is truncated: ", 0), 0u) << error;
  }
  write_bytes(file, bytes.substr(0, kHeader + 54));
  EXPECT_EQ(read_error(file), "checkpoint " + file.string() +
                                  " is truncated: entry 0 ('weight'): the payload needs 24 bytes at offset " +
                                  number(kHeader + 36) + ", the file has " + number(kHeader + 54));
}

TEST(checkpoint_file, sizes_beyond_the_file_are_truncation_not_an_allocation) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  write_checkpoint(file, two_entries());
  const std::string good = file_bytes(file);
  const std::string prefix = "checkpoint " + file.string() + " is truncated: entry 0";

  std::string bytes = good;
  std::memset(&bytes[kHeader], 0xff, 4);  // name length 4 GiB - 1
  write_bytes(file, bytes);
  EXPECT_EQ(read_error(file), prefix + ": the name needs 4294967295 bytes at offset " + number(kHeader + 4) +
                                  ", the file has " + number(good.size()));

  bytes = good;
  const std::int64_t rows = std::int64_t{1} << 40;  // 2^40 x 3 floats: 12 TiB, consistent with its payload size
  const std::uint64_t payload = static_cast<std::uint64_t>(rows) * 3 * 4;
  std::memcpy(&bytes[kHeader + 12], &rows, sizeof rows);
  std::memcpy(&bytes[kHeader + 28], &payload, sizeof payload);
  write_bytes(file, bytes);
  EXPECT_EQ(read_error(file), prefix + " ('weight'): the payload needs 13194139533312 bytes at offset " +
                                  number(kHeader + 36) + ", the file has " + number(good.size()));
}

TEST(checkpoint_file, foreign_file_is_not_a_kiln_checkpoint) {
  TempDir dir;
  const fs::path file = dir / "notes.txt";
  write_bytes(file, "this is not a checkpoint at all");
  EXPECT_EQ(read_error(file), file.string() + " is not a kiln checkpoint (it does not start with KILNCKPT)");
  write_bytes(file, "PK");  // shorter than the magic and not a prefix of it
  EXPECT_EQ(read_error(file), file.string() + " is not a kiln checkpoint (it does not start with KILNCKPT)");
}

TEST(checkpoint_file, unknown_version_dtype_and_inconsistent_sizes_are_refused) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  write_checkpoint(file, two_entries());
  const std::string good = file_bytes(file);
  const std::string prefix = "checkpoint " + file.string();

  std::string bytes = good;
  bytes[8] = 3;  // format version
  write_bytes(file, bytes);
  EXPECT_EQ(read_error(file), prefix + " has format version 3; this kiln reads versions 1 to 2");

  bytes = good;
  bytes[kHeader + 10] = 9;  // weight's dtype: ComplexFloat
  write_bytes(file, bytes);
  EXPECT_EQ(read_error(file), prefix + " has unknown dtype 9 in entry 0 ('weight'); this kiln reads Float, Double, "
                                       "Half, BFloat16, Char, Short, Int, Long, Byte or Bool");

  bytes = good;
  bytes[kHeader + 12] = 4;  // weight's first dimension: 4 x 3 floats, but 24 payload bytes
  write_bytes(file, bytes);
  EXPECT_EQ(read_error(file),
            prefix + " is corrupt: entry 0 ('weight') has shape [4, 3] of Float (48 bytes) but 24 payload bytes");

  bytes = good;
  std::memset(&bytes[kHeader + 12], 0xff, 8);  // dimension -1
  write_bytes(file, bytes);
  EXPECT_EQ(read_error(file), prefix + " is corrupt: entry 0 ('weight') has a negative dimension -1");

  bytes = good;
  bytes[good.size() - 8] = 3;  // the trailer's count
  write_bytes(file, bytes);
  EXPECT_EQ(read_error(file), prefix + " is corrupt: the trailer counts 3 entries, the header 2");

  bytes = good;
  bytes[good.size() - 16] = 'X';  // the trailer's magic
  write_bytes(file, bytes);
  EXPECT_EQ(read_error(file),
            prefix + " is corrupt: no KILNEND trailer at offset " + number(kHeader + 86) + ", after 2 entries");

  write_bytes(file, good + "extra");
  EXPECT_EQ(read_error(file), prefix + " is corrupt: 5 bytes follow the trailer");
}

TEST(checkpoint_file, missing_file_is_a_read_error) {
  TempDir dir;
  EXPECT_EQ(read_error(dir / "none.kiln"), "cannot read checkpoint " + (dir / "none.kiln").string() +
                                                ": No such file or directory");
}

TEST(checkpoint_file, writing_into_a_missing_directory_fails) {
  TempDir dir;
  const fs::path file = dir / "missing" / "ckpt.kiln";
  EXPECT_EQ(write_error(file, two_entries()),
            "cannot write checkpoint " + file.string() + ": No such file or directory");
  EXPECT_FALSE(fs::exists(dir / "missing"));
}

TEST(checkpoint_file, what_the_format_cannot_hold_is_refused_before_any_file_exists) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  const std::string prefix = "cannot write checkpoint " + file.string();
  EXPECT_EQ(write_error(file, {{"z", torch::zeros({2}, torch::kComplexFloat)}}),
            prefix + ": tensor 'z' has dtype ComplexFloat; a checkpoint holds Float, Double, Half, BFloat16, Char, "
                     "Short, Int, Long, Byte or Bool");
  EXPECT_EQ(write_error(file, {{"a", torch::zeros({1})}, {"a", torch::ones({1})}}),
            prefix + ": the name 'a' appears twice");
  EXPECT_EQ(write_error(file, {{"u", torch::Tensor()}}), prefix + ": tensor 'u' is undefined");
  EXPECT_EQ(write_error(file, {{"s", torch::eye(3).to_sparse()}}),
            prefix + ": tensor 's' is not dense; a checkpoint holds strided tensors");
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

// A full disk, simulated with RLIMIT_FSIZE in a child process: write() fails with EFBIG once
// the temp file reaches the limit (SIGXFSZ ignored, as kiln's main does).
TEST(checkpoint_file, failed_write_keeps_the_previous_file_and_removes_the_temp_file) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  write_checkpoint(file, two_entries());
  const std::string before = file_bytes(file);
  const CheckpointEntries big{{"big", torch::ones({256 * 1024})}};  // 1 MiB, built before fork()

  const pid_t child = fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    // Only plain calls here: the child of a threaded process must not run gtest or torch's pools.
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{64 * 1024, 64 * 1024};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(10);
    try {
      write_checkpoint(file, big);
    } catch (const CheckpointError& e) {
      _exit(std::string(e.what()) == "cannot write checkpoint " + file.string() + ": File too large" ? 0 : 11);
    } catch (...) {
      _exit(12);
    }
    _exit(13);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child ended by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: setrlimit failed, 11: another message, 12: another exception, "
                                       "13: no exception";
  EXPECT_EQ(file_bytes(file), before);
  EXPECT_FALSE(has_temp_file(dir.path()));
  expect_same(two_entries(), read_checkpoint(file));
}

// ---- success paths ----

TEST(checkpoint_file, round_trips_every_dtype_bit_exactly_in_order) {
  torch::manual_seed(7);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity(), -0.0f,
                            std::numeric_limits<float>::denorm_min(), 1.5f};
  const CheckpointEntries entries{
      {"zeta/float", torch::randn({3, 4})},
      {"alpha/double", torch::randn({2, 5}, torch::kDouble)},
      {"half", torch::randn({7}, torch::kHalf)},
      {"bfloat16", torch::randn({2, 2, 2}, torch::kBFloat16)},
      {"int8", torch::randint(-128, 128, {9}, torch::kInt8)},
      {"int16", torch::randint(-30000, 30000, {4, 1}, torch::kInt16)},
      {"int32", torch::randint(-100000, 100000, {5}, torch::kInt32)},
      {"int64", torch::tensor({std::numeric_limits<std::int64_t>::min(), std::int64_t{0},
                               std::numeric_limits<std::int64_t>::max()})},
      {"uint8", torch::randint(0, 256, {3, 3}, torch::kUInt8)},
      {"bool", torch::randint(0, 2, {6}).to(torch::kBool)},
      {"specials", torch::from_blob(const_cast<float*>(specials), {5}, torch::kFloat).clone()},
      {"scalar", torch::tensor(3.25)},
      {"empty", torch::empty({0, 3}, torch::kInt16)},
      {"", torch::ones({1}, torch::kUInt8)},
  };
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  const WrittenCheckpoint written = write_checkpoint(file, entries);
  EXPECT_EQ(written.path, file);
  EXPECT_EQ(written.bytes, fs::file_size(file));
  EXPECT_EQ(written.sha256, sha256_file(file));
  EXPECT_FALSE(has_temp_file(dir.path()));

  const CheckpointEntries read = read_checkpoint(file, written.sha256);
  expect_same(entries, read);
  EXPECT_EQ(read[11].second.dim(), 0);
  EXPECT_TRUE(std::isnan(read[10].second[0].item<float>()));
  EXPECT_TRUE(std::signbit(read[10].second[2].item<float>()));
}

TEST(checkpoint_file, writes_non_contiguous_tensors_without_changing_them) {
  const torch::Tensor base = torch::arange(24, torch::kFloat).reshape({4, 6});
  const torch::Tensor transposed = base.t();
  const torch::Tensor strided = base.index({torch::indexing::Slice(), torch::indexing::Slice(0, 6, 2)});
  const torch::Tensor expanded = torch::arange(3, torch::kInt32).expand({4, 3});  // stride 0
  const torch::Tensor tracked = torch::ones({2, 2}, torch::requires_grad());
  const CheckpointEntries entries{{"t", transposed}, {"s", strided}, {"e", expanded}, {"g", tracked}};
  const torch::Tensor base_before = base.clone();

  TempDir dir;
  const CheckpointEntries read = read_checkpoint(write_checkpoint(dir / "ckpt.kiln", entries).path);
  expect_same(entries, read);
  EXPECT_TRUE(torch::equal(read[0].second, transposed));
  EXPECT_TRUE(torch::equal(read[2].second, torch::tensor({0, 1, 2}, torch::kInt32).repeat({4, 1})));
  EXPECT_FALSE(read[3].second.requires_grad());
  EXPECT_FALSE(transposed.is_contiguous());
  EXPECT_EQ(expanded.stride(0), 0);
  EXPECT_TRUE(torch::equal(base, base_before));
}

TEST(checkpoint_file, threads_may_write_the_same_tensors_at_once) {
  const torch::Tensor base = torch::randn({64, 64});
  const CheckpointEntries entries{{"w", base}, {"wt", base.t()}};  // wt takes a contiguous copy per write
  TempDir dir;
  std::vector<WrittenCheckpoint> written(4);
  std::vector<std::thread> writers;
  for (std::size_t i = 0; i < written.size(); ++i) {
    writers.emplace_back([&, i] { written[i] = write_checkpoint(dir / ("ckpt-" + std::to_string(i)), entries); });
  }
  for (std::thread& writer : writers) writer.join();
  for (const WrittenCheckpoint& checkpoint : written) {
    EXPECT_EQ(checkpoint.sha256, written[0].sha256);
    expect_same(entries, read_checkpoint(checkpoint.path, checkpoint.sha256));
  }
}

TEST(checkpoint_file, rewriting_replaces_the_previous_file) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  write_checkpoint(file, two_entries());
  const CheckpointEntries second{{"only", torch::full({3}, 2.0)}};
  const WrittenCheckpoint written = write_checkpoint(file, second);
  expect_same(second, read_checkpoint(file, written.sha256));
  EXPECT_FALSE(has_temp_file(dir.path()));
}

TEST(checkpoint_file, round_trips_50_mb_of_large_and_small_tensors) {
  // Large payloads go to write() straight from the tensor; small fields through the buffer.
  // Its speed is measured by bench/speeds.cpp (kiln_bench_speeds checkpoint), not here.
  CheckpointEntries entries;
  for (int i = 0; i < 100; ++i) entries.emplace_back("small/" + std::to_string(i), torch::randn({64}));
  for (int i = 0; i < 4; ++i) entries.emplace_back("large/" + std::to_string(i), torch::randn({3'125'000}));
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  const WrittenCheckpoint written = write_checkpoint(file, entries);
  EXPECT_GT(written.bytes, 50'000'000u);
  expect_same(entries, read_checkpoint(file, written.sha256));
  expect_same(entries, read_checkpoint(file));
}

}  // namespace
}  // namespace kiln::runner
