// Where a run may write: its directory, strictly inside the runs root, and nothing outside it.
#pragma once

#include <filesystem>
#include <string_view>

namespace kiln::runner {

/// `path`, made absolute, when it resolves (symlinks and `..` included) inside `dir`, or
/// `dir` itself when `allow_same`; otherwise an Error naming both, e.g. "run directory
/// runs/.. is not inside the runs folder /home/me/runs". `what` names the path for that
/// message. Checked once for every path kiln writes for a run: the run directory against
/// the runs root, and the experiment copy, checkpoints and images against the run directory.
std::filesystem::path inside(const std::filesystem::path& dir, const std::filesystem::path& path,
                             std::string_view what, bool allow_same = false);

}  // namespace kiln::runner
