// Helpers of the checkpoint file tests (checkpoint_file_test.cpp, checkpoint_version_test.cpp).
#pragma once

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "hooks/checkpoint_file.hpp"

namespace kiln::runner::checkpoint_test {

inline std::string file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

/// The CheckpointError's message, or a note that none was thrown.
inline std::string read_error(const std::filesystem::path& file, const std::string& expected_sha256 = "") {
  try {
    read_checkpoint(file, expected_sha256);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "no CheckpointError";
}

/// Two small entries whose layout the truncation test spells out byte by byte.
inline CheckpointEntries two_entries() {
  return {{"weight", torch::arange(6, torch::kFloat).reshape({2, 3})}, {"step", torch::tensor(std::int64_t{100})}};
}

/// Bit-exact: same names in the same order, same dtypes and shapes, same bytes.
inline void expect_same(const CheckpointEntries& expected, const CheckpointEntries& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].first);
    EXPECT_EQ(expected[i].first, actual[i].first);
    const torch::Tensor want = expected[i].second.contiguous();
    const torch::Tensor got = actual[i].second;
    EXPECT_EQ(want.scalar_type(), got.scalar_type());
    EXPECT_EQ(want.sizes(), got.sizes());
    EXPECT_TRUE(got.is_contiguous());
    ASSERT_EQ(want.nbytes(), got.nbytes());
    if (want.nbytes() > 0) {
      EXPECT_EQ(0, std::memcmp(want.data_ptr(), got.data_ptr(), want.nbytes()));
    }
  }
}

}  // namespace kiln::runner::checkpoint_test
