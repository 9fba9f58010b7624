// JSON text for the store's columns and output: strings and arrays of strings, written and read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::runner::store {

/// `text` as a JSON string, quoted and escaped: json_string("a\"b") is "\"a\\\"b\"".
std::string json_string(std::string_view text);

/// `items` as a JSON array of strings, without spaces: ["node1","node2"].
std::string json_string_array(const std::vector<std::string>& items);

/// The strings of a JSON array of strings (any JSON whitespace, every escape, \uXXXX as
/// UTF-8); none when `text` is anything else, so a value another program wrote is never
/// misread.
std::optional<std::vector<std::string>> parse_json_string_array(std::string_view text);

}  // namespace kiln::runner::store
