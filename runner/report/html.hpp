// HTML building blocks for `kiln report`: escaping, base64, data: URIs and number formats.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

/// A value for people: `digits` significant digits ("0.2543", "1.235e+05"), "NaN", "inf", "-inf".
std::string format_value(double value, int digits = 4);

/// A byte count for people: "812 B", "4.8 kB", "12.3 MB".
std::string format_bytes(std::int64_t bytes);

/// A duration for people: "0.5 s", "42 s", "3 min 12 s", "2 h 05 min".
std::string format_duration(double seconds);

/// Unix seconds as local time, "2026-11-26 01:49:50".
std::string format_time(double unix_seconds);

}  // namespace kiln::runner::report
