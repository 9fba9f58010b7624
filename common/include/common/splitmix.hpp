// SplitMix64: the one mixer behind kiln's seeds, shuffles, crops and generated images.
#pragma once

#include <cstdint>

namespace kiln::common {

/// SplitMix64's finalizer: a bijection that spreads every input bit over the output.
inline std::uint64_t splitmix_finalize(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// SplitMix64's increment, the golden ratio in 64 bits.
inline constexpr std::uint64_t kSplitmixGamma = 0x9e3779b97f4a7c15ULL;

/// One SplitMix64 step from state `x`: the number the generator gives after it.
inline std::uint64_t splitmix64(std::uint64_t x) { return splitmix_finalize(x + kSplitmixGamma); }

}  // namespace kiln::common
