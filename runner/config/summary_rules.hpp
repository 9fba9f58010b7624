// The experiment's [summaries] table: which summary tags are better higher, which lower.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "kiln/config.hpp"

namespace kiln::runner {

/// Reads `[summaries]`: `maximize` and `minimize`, each a list of tags ("eval/psnr") or
/// prefixes ending in '*' ("acc/*"). Returns (pattern, "max" or "min") pairs, maximize's first,
/// each pattern once. A pattern that is empty or holds '*' anywhere but at its end, or one in
/// both lists, is a ConfigError at its key. Tags no rule covers are lower-is-better; of the
/// rules that cover a tag, an exact one wins over a pattern and a longer pattern over a shorter
/// (the run store's metrics_best view decides so).
///
///     [summaries]
///     maximize = ["eval/psnr", "acc/*"]
///     minimize = ["acc/loss"]
std::vector<std::pair<std::string, std::string>> read_summary_rules(const Config& summaries);

}  // namespace kiln::runner
