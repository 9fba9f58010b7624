// How the trainer names the values it gathers in its Readout, and reads the names back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace kiln::runner::detail {

// What each value of the readout is, in its name: "l<phase>/<loss>" a loss of a phase (indices),
// "t<phase>" the phase's weighted total, "g<phase>" its gradients' norm before clipping,
// "s<step>/<tag>" a tensor summary.
inline std::string loss_entry(std::size_t phase, std::size_t loss) { return fmt::format("l{}/{}", phase, loss); }
inline std::string total_entry(std::size_t phase) { return fmt::format("t{}", phase); }
inline std::string grad_norm_entry(std::size_t phase) { return fmt::format("g{}", phase); }
inline std::string summary_entry(std::int64_t step, std::string_view tag) { return fmt::format("s{}/{}", step, tag); }

/// The two numbers of an entry after its kind letter ("3/1": 3 and 1), and what follows the '/'.
inline std::pair<std::int64_t, std::string_view> split_entry(std::string_view entry) {
  const std::size_t slash = entry.find('/');
  const std::string_view number = entry.substr(1, slash == std::string_view::npos ? entry.npos : slash - 1);
  return {std::stoll(std::string(number)), slash == std::string_view::npos ? std::string_view() : entry.substr(slash + 1)};
}

}  // namespace kiln::runner::detail
