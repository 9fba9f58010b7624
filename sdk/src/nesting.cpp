// Measures a TOML text's nesting without parsing it, in one pass and constant stack.
#include "nesting.hpp"

#include <vector>

namespace kiln::detail {
namespace {

class NestingScan {
 public:
  NestingScan(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  std::optional<SourcePosition> run() {
    while (!deep_ && at_ < text_.size()) {
      switch (mode_) {
        case Mode::line_start: line_start(); break;
        case Mode::key: key(); break;
        case Mode::value: value(); break;
      }
    }
    return deep_;
  }

 private:
  enum class Mode { line_start, key, value };
  /// An open array ('[') or inline table ('{') and the level of the value it is.
  struct Open {
    char bracket;
    int level;
  };

  char peek(std::size_t ahead = 0) const { return at_ + ahead < text_.size() ? text_[at_ + ahead] : '\0'; }

  void advance() {
    const char c = text_[at_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if (at_ >= text_.size() || (static_cast<unsigned char>(text_[at_]) & 0xC0) != 0x80) {
      ++column_;  // columns count characters, not the continuation bytes of UTF-8
    }
  }

  /// Notes the current position when `level` is too deep.
  void reach(int level) {
    if (level > max_depth_ && !deep_) deep_ = SourcePosition{"", line_, column_};
  }

  /// Skips a string of any of TOML's four kinds, the cursor on its opening quote.
  void skip_string() {
    const char quote = peek();
    const bool escapes = quote == '"';
    if (peek(1) == quote && peek(2) == quote) {
      for (int i = 0; i < 3; ++i) advance();
      while (at_ < text_.size() && !(peek() == quote && peek(1) == quote && peek(2) == quote)) {
        if (escapes && peek() == '\\' && at_ + 1 < text_.size()) advance();
        advance();
      }
      for (int i = 0; i < 3 && at_ < text_.size(); ++i) advance();
      return;
    }
    advance();
    while (at_ < text_.size() && peek() != quote && peek() != '\n') {
      if (escapes && peek() == '\\' && at_ + 1 < text_.size() && peek(1) != '\n') advance();
      advance();
    }
    if (peek() == quote) advance();
  }

  void skip_comment() {
    while (at_ < text_.size() && peek() != '\n') advance();
  }

  void start_key(int base) {
    mode_ = Mode::key;
    key_base_ = base;
    segments_ = 1;
    reach(key_base_ + segments_);
  }

  void close() {
    if (open_.empty()) return;  // a stray bracket: the parser will say so
    value_level_ = open_.back().level;
    open_.pop_back();
    mode_ = Mode::value;
  }

  void line_start() {
    const char c = peek();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      advance();
      return;
    }
    if (c == '#') {
      skip_comment();
      return;
    }
    if (c != '[') {
      start_key(table_level_);
      return;
    }
    // [a.b.c] or [[a.b.c]]: a table as deep as its key has segments.
    advance();
    if (peek() == '[') advance();
    int segments = 1;
    reach(segments);
    while (at_ < text_.size() && peek() != ']' && peek() != '\n' && !deep_) {
      if (peek() == '"' || peek() == '\'') {
        skip_string();
        continue;
      }
      if (peek() == '.') reach(++segments);
      advance();
    }
    table_level_ = segments;
    value_level_ = segments;
    mode_ = Mode::value;  // the rest of the line: "]", "]]", a comment
  }

  void key() {
    const char c = peek();
    if (c == '"' || c == '\'') {
      skip_string();  // a quoted key: its dots are no separators
      return;
    }
    if (c == '#') {
      skip_comment();
      return;
    }
    if (c == '.') {
      reach(key_base_ + ++segments_);
    } else if (c == '=') {
      value_level_ = key_base_ + segments_;
      mode_ = Mode::value;
    } else if (c == '}') {
      close();  // an empty inline table
    } else if (c == '\n' && open_.empty()) {
      mode_ = Mode::line_start;
    }
    advance();
  }

  void value() {
    const char c = peek();
    if (c == '"' || c == '\'') {
      skip_string();
      return;
    }
    if (c == '#') {
      skip_comment();
      return;
    }
    if (c == '[') {
      reach(value_level_ + 1);
      open_.push_back({'[', value_level_});
      ++value_level_;
    } else if (c == '{') {
      open_.push_back({'{', value_level_});
      start_key(value_level_);
    } else if (c == ',' && !open_.empty()) {
      if (open_.back().bracket == '{') start_key(open_.back().level);
      else value_level_ = open_.back().level + 1;
    } else if (c == ']' || c == '}') {
      close();
    } else if (c == '\n' && open_.empty()) {
      mode_ = Mode::line_start;
    }
    advance();
  }

  std::string_view text_;
  int max_depth_;
  std::size_t at_ = 0;
  int line_ = 1;
  int column_ = 1;
  Mode mode_ = Mode::line_start;
  std::vector<Open> open_;
  int table_level_ = 0;  // of the last [table] header
  int key_base_ = 0;     // level of the table the current key is in
  int segments_ = 0;     // of the current key, so far
  int value_level_ = 0;  // of the value being read
  std::optional<SourcePosition> deep_;
};

}  // namespace

std::optional<SourcePosition> too_deep(std::string_view text, int max_depth) {
  return NestingScan(text, max_depth).run();
}

}  // namespace kiln::detail
