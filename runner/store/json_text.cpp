// JSON text for the store's columns and output: strings and arrays of strings, written and read; flat objects, read.
#include "store/json_text.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace kiln::runner::store {
namespace {

/// Reads JSON from a string_view, front to back; every read returns false on bad input.
class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  /// Skips whitespace, then `c` if it is next.
  bool take(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }

  /// A string, its opening quote already taken.
  bool string(std::string& out) {
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;  // JSON strings escape control characters
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ == text_.size()) return false;
      switch (text_[pos_++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t code = 0;
          if (!hex4(code)) return false;
          // A high surrogate needs its low one: the two are one code point.
          if (code >= 0xd800 && code <= 0xdbff) {
            std::uint32_t low = 0;
            if (text_.substr(pos_, 2) != "\\u") return false;
            pos_ += 2;
            if (!hex4(low) || low < 0xdc00 || low > 0xdfff) return false;
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          } else if (code >= 0xdc00 && code <= 0xdfff) {
            return false;
          }
          append_utf8(out, code);
          break;
        }
        default: return false;
      }
    }
    return false;  // no closing quote
  }

  /// A JSON number's text, as written; false when there is none here. Checked by strtod
  /// (a little more lenient than JSON: "1." passes).
  bool number(std::string& out) {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size() && std::strchr("+-.0123456789eE", text_[pos_]) != nullptr) ++pos_;
    out.assign(text_.substr(start, pos_ - start));
    if (out.empty() || !(out[0] == '-' || (out[0] >= '0' && out[0] <= '9'))) return false;
    char* end = nullptr;
    std::strtod(out.c_str(), &end);
    return end == out.c_str() + out.size();
  }

  /// `word` ("true", "false", "null") if it is next.
  bool word(std::string_view word) {
    skip_space();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

 private:
  bool hex4(std::uint32_t& code) {
    if (text_.size() - pos_ < 4) return false;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      code <<= 4;
      if (c >= '0' && c <= '9') code |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') code |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') code |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }

  static void append_utf8(std::string& out, std::uint32_t code) {
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
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + '"';
}

std::string json_string_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) {
    if (out.size() > 1) out += ',';
    out += json_string(item);
  }
  return out + ']';
}

std::optional<std::vector<std::string>> parse_json_string_array(std::string_view text) {
  JsonReader reader(text);
  if (!reader.take('[')) return std::nullopt;
  std::vector<std::string> items;
  if (!reader.take(']')) {
    do {
      std::string item;
      if (!reader.take('"') || !reader.string(item)) return std::nullopt;
      items.push_back(std::move(item));
    } while (reader.take(','));
    if (!reader.take(']')) return std::nullopt;
  }
  if (!reader.at_end()) return std::nullopt;
  return items;
}

std::optional<std::map<std::string, JsonScalar>> parse_json_flat_object(std::string_view text) {
  JsonReader reader(text);
  if (!reader.take('{')) return std::nullopt;
  std::map<std::string, JsonScalar> members;
  if (!reader.take('}')) {
    do {
      std::string key;
      if (!reader.take('"') || !reader.string(key) || !reader.take(':')) return std::nullopt;
      JsonScalar value;
      if (reader.take('"')) {
        value.kind = JsonScalar::Kind::string;
        if (!reader.string(value.text)) return std::nullopt;
      } else if (reader.word("true")) {
        value = {JsonScalar::Kind::boolean, "true"};
      } else if (reader.word("false")) {
        value = {JsonScalar::Kind::boolean, "false"};
      } else if (reader.word("null")) {
        value.kind = JsonScalar::Kind::null;
      } else {
        value.kind = JsonScalar::Kind::number;
        if (!reader.number(value.text)) return std::nullopt;
      }
      if (!members.emplace(std::move(key), std::move(value)).second) return std::nullopt;
    } while (reader.take(','));
    if (!reader.take('}')) return std::nullopt;
  }
  if (!reader.at_end()) return std::nullopt;
  return members;
}

}  // namespace kiln::runner::store
