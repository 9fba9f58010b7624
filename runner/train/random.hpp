// Portable, seedable randomness: the same numbers on every platform and standard library.
#pragma once

#include <cstdint>
#include <vector>

namespace kiln::runner {

/// SplitMix64 step: mixes a 64-bit value into a well-spread one.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// A seed derived from several values, order-sensitive.
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) {
  return mix64(mix64(mix64(seed) ^ a) ^ b);
}

/// A permutation of [0, n) that depends only on `seed` (std::shuffle's result differs
/// between standard libraries; checkpoints must resume identically anywhere).
std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed);

}  // namespace kiln::runner
