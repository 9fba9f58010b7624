// The experiment's [summaries] table: which summary tags are better higher, which lower.
#pragma once

#include <optional>
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

/// The direction ("max" or "min") `rules` give `tag`, and the rule that decides it, or
/// nullopt when none covers it: an exact rule wins over a pattern, a longer pattern over a
/// shorter, as in the store's metrics_best view.
std::optional<std::pair<std::string, std::string>> summary_rule_for(
    const std::vector<std::pair<std::string, std::string>>& rules, const std::string& tag);

}  // namespace kiln::runner
