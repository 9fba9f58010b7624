// A small JSON reader for the server's tests: the answers are parsed, never matched as text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kiln::test {

/// One parsed JSON value. Accessors throw std::runtime_error naming what was expected, so
/// that a wrong shape fails the test with a message instead of crashing it:
///
///     const JsonValue answer = JsonValue::parse(body);
///     EXPECT_EQ(answer["runs"][0]["name"].string(), "mlp");
class JsonValue {
 public:
  enum class Type { null, boolean, number, string, array, object };

  /// The value `text` holds: exactly one JSON value (RFC 8259), whitespace around it allowed.
  /// Throws std::runtime_error with the offset of the first thing wrong.
  static JsonValue parse(const std::string& text);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool boolean() const;
  double number() const;
  /// The number, which must be a whole one.
  std::int64_t integer() const;
  const std::string& string() const;
  /// An array's elements.
  const std::vector<JsonValue>& items() const;
  /// An object's members, by name.
  const std::map<std::string, JsonValue>& members() const;
  std::vector<std::string> keys() const;
  bool has(const std::string& key) const;
  const JsonValue& operator[](const std::string& key) const;
  const JsonValue& operator[](std::size_t index) const;
  /// An array's or object's size.
  std::size_t size() const;
  /// An array of strings as strings.
  std::vector<std::string> strings() const;

 private:
  friend class JsonParser;
  Type type_ = Type::null;
  bool boolean_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::map<std::string, JsonValue> members_;
};

}  // namespace kiln::test
