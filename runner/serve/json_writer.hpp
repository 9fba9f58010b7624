// JSON text written front to back: objects, arrays, escaped strings, numbers with NaN as null.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::runner::serve {

/// Builds one JSON document; commas go in by themselves:
///
///     JsonWriter json;
///     json.begin_object().key("runs").begin_array();
///     json.begin_object().key("id").value(std::int64_t{3}).key("loss").value(0.25).end_object();
///     json.end_array().end_object();
///     std::string text = json.text();  // {"runs":[{"id":3,"loss":0.25}]}
///
/// A double that is NaN or infinite is written as null; doubles are written in the shortest
/// form that reads back as the same value.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  /// A member's name; the next value (or object, or array) is its value.
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(double number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  /// The value, or null.
  template <class T>
  JsonWriter& value(const std::optional<T>& maybe) {
    return maybe ? value(*maybe) : null();
  }
  JsonWriter& value(const std::vector<std::string>& texts);
  /// Text that is already JSON, as one value.
  JsonWriter& raw(std::string_view json);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  /// Writes the comma that separates this value from the one before, when there is one.
  void separate();

  std::string out_;
  /// Per open object or array: whether it holds a value yet.
  std::vector<bool> filled_;
  bool after_key_ = false;
};

/// {"error": "<message>"}: the body of every error answer.
std::string error_json(std::string_view message);

}  // namespace kiln::runner::serve
