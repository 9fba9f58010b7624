// HTML building blocks for `kiln report`: escaping, base64 and data: URIs (and, through
// report/format.hpp, how numbers, sizes and times are written).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/format.hpp"

namespace kiln::runner::report {

/// `text` safe inside HTML text and inside quoted attribute values (& < > " ' escaped).
std::string escape(std::string_view text);

/// Standard base64 (RFC 4648, with '=' padding) of `bytes`.
std::string base64(std::string_view bytes);

/// A `data:` URI holding `bytes` of type `mime`, e.g. "data:image/png;base64,iVBO...".
std::string data_uri(std::string_view mime, std::string_view bytes);

/// The MIME type of image bytes by their signature: "image/png", "image/jpeg", or "" if neither.
std::string image_mime(std::string_view bytes);

/// Width and height of PNG bytes (from the IHDR chunk), or nullopt when they are not a PNG.
std::optional<std::pair<int, int>> png_size(std::string_view bytes);

}  // namespace kiln::runner::report
