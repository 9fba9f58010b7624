// The experiment document behind every kiln::Config: parsing, overrides, rendering.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/config.hpp"

namespace kiln::detail {

/// A parsed TOML document that tracks which keys were read. The runner owns one per run;
/// plugins only see Config views into it. Not part of the plugin SDK.
class KILN_API Document {
 public:
  /// The largest document parsed, in bytes: kiln's own experiments are a few kilobytes, and
  /// parsing takes some 70 bytes of memory per array element.
  static constexpr std::size_t kMaxBytes = 4 * 1024 * 1024;
  /// How deep tables, dotted keys, arrays and inline tables may nest, all counted together
  /// (`[a.b]` then `c.d = [[1]]` is 6 deep). Checked before parsing: toml++ recurses once
  /// per level, and some 40000 levels overflow the stack.
  static constexpr int kMaxNesting = 64;

  /// ConfigError "file: no such file", "file: too large ...", or
  /// "file:line:column: <syntax error or nesting too deep>".
  static std::shared_ptr<Document> parse_file(const std::filesystem::path& file);
  static std::shared_ptr<Document> parse(std::string_view text, const std::string& name);

  ~Document();

  /// Applies "a.b.c=value". Elements of an array of tables are addressed by their `name`
  /// key, else their `plugin` key, else their index. The value is TOML ("1e-4", "[1, 2]",
  /// "true", "\"x\""); text that is not TOML is taken as a string.
  void set(std::string_view assignment);

  Config root();
  /// The resolved document as TOML text.
  std::string to_toml() const;
  /// Every leaf as ("dotted.path", "TOML value"), arrays of tables addressed as for set().
  std::vector<std::pair<std::string, std::string>> flatten() const;

  struct State;

 private:
  explicit Document(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

/// `text` as a TOML basic string ("a\"b\n"), control characters escaped: a value quoted in a
/// message, which then stays on one line.
KILN_API std::string quoted(std::string_view text);

/// Edit distance, for "did you mean".
KILN_API std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate closest to `word`, or "" when none is close enough to suggest.
KILN_API std::string closest(std::string_view word, const std::vector<std::string>& candidates);

/// How did_you_mean() quotes its suggestion: 'name' for keys and names, "value" (as quoted()
/// writes it) for string values.
enum class Quote { name, value };

/// The one ending of every "unknown name" error: "; did you mean 'hidden'?" naming the
/// candidate closest to `word`, or "" when none is close enough to suggest.
///   message += did_you_mean("hiden", {"hidden", "inputs"});  // "; did you mean 'hidden'?"
KILN_API std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates,
                                  Quote quote = Quote::name);

}  // namespace kiln::detail
