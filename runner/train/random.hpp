// Portable, seedable randomness: the same numbers on every platform and standard library.
#pragma once

#include <cstdint>
#include <vector>

#include "common/splitmix.hpp"

namespace kiln::runner {

/// SplitMix64 step: mixes a 64-bit value into a well-spread one.
inline std::uint64_t mix64(std::uint64_t x) { return common::splitmix64(x); }

/// A seed derived from several values, order-sensitive.
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) {
  return mix64(mix64(mix64(seed) ^ a) ^ b);
}

/// A permutation of [0, n) that depends only on `seed` (std::shuffle's result differs
/// between standard libraries; checkpoints must resume identically anywhere).
std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed);

}  // namespace kiln::runner
