// JSON text for the store's columns and output: strings and arrays of strings, written and read; flat objects, read.
#pragma once

#include <map>
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

/// One member value of a flat JSON object: its kind and its text (a string unescaped, a
/// number as written, "true"/"false", "" for null).
struct JsonScalar {
  enum class Kind { string, number, boolean, null };
  Kind kind = Kind::null;
  std::string text;
};

/// The members of a JSON object whose values are all strings, numbers, booleans or null
/// ({"sql": "SELECT 1", "limit": 10}); none when `text` is anything else (nested values,
/// bad JSON, a repeated key).
std::optional<std::map<std::string, JsonScalar>> parse_json_flat_object(std::string_view text);

}  // namespace kiln::runner::store
