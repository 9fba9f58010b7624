// How deep a TOML text nests, measured before parsing it: toml++ recurses once per level.
#pragma once

#include <optional>
#include <string_view>

#include "kiln/error.hpp"

namespace kiln::detail {

/// Where `text` first nests deeper than `max_depth` levels, counting tables, dotted keys,
/// arrays and inline tables together (`[a.b]` then `c.d = [[1]]` is 6 deep), or nullopt.
/// The returned position has a line and a column but no file. The text is read leniently:
/// strings and comments are skipped and everything else is only counted, so a malformed
/// text is left for the parser to describe.
std::optional<SourcePosition> too_deep(std::string_view text, int max_depth);

}  // namespace kiln::detail
