// A small JSON reader for the server's tests: the answers are parsed, never matched as text.
#include "json_value.hpp"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace kiln::test {

/// A recursive-descent parser of RFC 8259, strict: no trailing commas, no leading zeros, no
/// raw control characters in strings, every escape checked.
class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : text_(text) {}

  JsonValue document() {
    JsonValue value = parse_value(0);
    space();
    if (pos_ != text_.size()) fail("text after the value");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("bad JSON at offset " + std::to_string(pos_) + ": " + what + " in: " +
                             text_.substr(0, 300));
  }

  void space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  char peek() {
    space();
    if (pos_ == text_.size()) fail("unexpected end");
    return text_[pos_];
  }

  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  void word(const std::string& w) {
    if (text_.compare(pos_, w.size(), w) != 0) fail("expected " + w);
    pos_ += w.size();
  }

  JsonValue parse_value(int depth) {
    if (depth > 100) fail("nesting too deep");
    JsonValue value;
    const char c = peek();
    if (c == '{') {
      value.type_ = JsonValue::Type::object;
      ++pos_;
      if (peek() == '}') {
        ++pos_;
        return value;
      }
      for (;;) {
        if (peek() != '"') fail("expected a member name");
        ++pos_;
        std::string key = parse_string();
        expect(':');
        if (!value.members_.emplace(key, parse_value(depth + 1)).second) fail("member '" + key + "' twice");
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect('}');
        return value;
      }
    }
    if (c == '[') {
      value.type_ = JsonValue::Type::array;
      ++pos_;
      if (peek() == ']') {
        ++pos_;
        return value;
      }
      for (;;) {
        value.items_.push_back(parse_value(depth + 1));
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(']');
        return value;
      }
    }
    if (c == '"') {
      ++pos_;
      value.type_ = JsonValue::Type::string;
      value.string_ = parse_string();
      return value;
    }
    if (c == 't' || c == 'f') {
      value.type_ = JsonValue::Type::boolean;
      value.boolean_ = c == 't';
      word(c == 't' ? "true" : "false");
      return value;
    }
    if (c == 'n') {
      word("null");
      return value;
    }
    value.type_ = JsonValue::Type::number;
    value.number_ = parse_number();
    return value;
  }

  double parse_number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == from) fail("expected a digit");
    };
    if (text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else {
      digits();
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      digits();
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      digits();
    }
    const double value = std::strtod(text_.substr(start, pos_ - start).c_str(), nullptr);
    if (!std::isfinite(value)) fail("a number out of range");
    return value;
  }

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) fail("short \\u escape");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      code <<= 4;
      if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
      else fail("bad \\u escape");
    }
    return code;
  }

  std::string parse_string() {
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("a raw control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned code = hex4();
          if (code >= 0xd800 && code <= 0xdbff) {
            if (text_.compare(pos_, 2, "\\u") != 0) fail("a lone high surrogate");
            pos_ += 2;
            const unsigned low = hex4();
            if (low < 0xdc00 || low > 0xdfff) fail("a bad low surrogate");
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          }
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xc0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3f));
          } else if (code < 0x10000) {
            out += static_cast<char>(0xe0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (code & 0x3f));
          } else {
            out += static_cast<char>(0xf0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (code & 0x3f));
          }
          break;
        }
        default: fail("a bad escape");
      }
    }
  }

  const std::string& text_;
  std::size_t pos_ = 0;
};

namespace {

[[noreturn]] void wrong(const char* expected) { throw std::runtime_error(std::string("JSON value is not ") + expected); }

}  // namespace

JsonValue JsonValue::parse(const std::string& text) { return JsonParser(text).document(); }

bool JsonValue::boolean() const {
  if (type_ != Type::boolean) wrong("a boolean");
  return boolean_;
}

double JsonValue::number() const {
  if (type_ != Type::number) wrong("a number");
  return number_;
}

std::int64_t JsonValue::integer() const {
  const double value = number();
  if (value != std::floor(value)) wrong("a whole number");
  return static_cast<std::int64_t>(value);
}

const std::string& JsonValue::string() const {
  if (type_ != Type::string) wrong("a string");
  return string_;
}

const std::vector<JsonValue>& JsonValue::items() const {
  if (type_ != Type::array) wrong("an array");
  return items_;
}

const std::map<std::string, JsonValue>& JsonValue::members() const {
  if (type_ != Type::object) wrong("an object");
  return members_;
}

std::vector<std::string> JsonValue::keys() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : members()) out.push_back(key);
  return out;
}

bool JsonValue::has(const std::string& key) const { return members().count(key) == 1; }

const JsonValue& JsonValue::operator[](const std::string& key) const {
  const auto found = members().find(key);
  if (found == members_.end()) throw std::runtime_error("JSON object has no member '" + key + "'");
  return found->second;
}

const JsonValue& JsonValue::operator[](std::size_t index) const {
  if (index >= items().size())
    throw std::runtime_error("JSON array has " + std::to_string(items_.size()) + " items, not " + std::to_string(index + 1));
  return items_[index];
}

std::size_t JsonValue::size() const { return type_ == Type::object ? members_.size() : items().size(); }

std::vector<std::string> JsonValue::strings() const {
  std::vector<std::string> out;
  for (const JsonValue& item : items()) out.push_back(item.string());
  return out;
}

}  // namespace kiln::test
