// JSON text written front to back: objects, arrays, escaped strings, numbers with NaN as null.
#include "serve/json_writer.hpp"

#include <cmath>

#include <fmt/format.h>

#include "store/json_text.hpp"

namespace kiln::runner::serve {

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!filled_.empty()) {
    if (filled_.back()) out_ += ',';
    filled_.back() = true;
  }
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  out_ += '{';
  filled_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_ += '}';
  filled_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  separate();
  out_ += '[';
  filled_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_ += ']';
  filled_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  out_ += store::json_string(name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) { return raw(store::json_string(text)); }

JsonWriter& JsonWriter::value(std::int64_t number) { return raw(fmt::format("{}", number)); }

JsonWriter& JsonWriter::value(double number) {
  if (!std::isfinite(number)) return null();
  // fmt's shortest round-trip form ("0.1", "1e-05", "3"): every one is a JSON number.
  return raw(fmt::format("{}", number));
}

JsonWriter& JsonWriter::value(bool flag) { return raw(flag ? "true" : "false"); }

JsonWriter& JsonWriter::null() { return raw("null"); }

JsonWriter& JsonWriter::value(const std::vector<std::string>& texts) {
  begin_array();
  for (const std::string& text : texts) value(text);
  return end_array();
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  separate();
  out_ += json;
  return *this;
}

std::string error_json(std::string_view message) {
  JsonWriter json;
  json.begin_object().key("error").value(message).end_object();
  return json.take();
}

}  // namespace kiln::runner::serve
