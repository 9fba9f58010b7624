// Where a run may write: its directory, strictly inside the runs root, and nothing outside it.
#include "config/run_paths.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "kiln/error.hpp"

namespace kiln::runner {

namespace fs = std::filesystem;

fs::path inside(const fs::path& dir, const fs::path& path, std::string_view what, bool allow_same) {
  // weakly_canonical resolves the part that exists (symlinks too) and normalizes the rest.
  const fs::path root = fs::weakly_canonical(fs::absolute(dir));
  const fs::path resolved = fs::weakly_canonical(fs::absolute(path));
  const auto [root_end, at] = std::mismatch(root.begin(), root.end(), resolved.begin(), resolved.end());
  // An empty last component is the trailing '/' of "runs/": it does not name a folder.
  const bool under = root_end == root.end() || (std::next(root_end) == root.end() && root_end->empty());
  const bool same = under && (at == resolved.end() || (std::next(at) == resolved.end() && at->empty()));
  if (!under || (same && !allow_same))
    throw Error(fmt::format("{} {} is not inside {}: kiln writes a run's files only there", what, path.string(),
                            root.string()));
  return resolved;
}

}  // namespace kiln::runner
