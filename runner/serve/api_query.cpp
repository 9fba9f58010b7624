// kiln serve's /api/query: one read-only statement, as `kiln query` runs it, bounded in rows and time.
#include "serve/api.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <type_traits>
#include <variant>

#include <fmt/format.h>
#include <sqlite3.h>

#include "serve/json_writer.hpp"
#include "store/query.hpp"

namespace kiln::runner::serve {

std::string query_json(const std::filesystem::path& db, const std::string& sql, std::int64_t limit) {
  if (limit < 1 || limit > kMaxQueryRows)
    throw ApiError(400, fmt::format("limit must be 1 to {}, got {}", kMaxQueryRows, limit));
  const auto start = std::chrono::steady_clock::now();
  JsonWriter json;
  try {
    // Every refusal of `kiln query` (a write, two statements, a pragma that acts, bad SQL,
    // the timeout) is a StoreError with its one-line message: the client's doing, so a 400.
    store::QueryCursor cursor(db, sql, {limit, kQueryTimeout});
    json.begin_object().key("columns").value(cursor.columns()).key("rows").begin_array();
    while (const std::vector<store::Value>* row = cursor.next()) {
      json.begin_array();
      for (const store::Value& cell : *row) {
        std::visit(
            [&](const auto& value) {
              if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::monostate>) json.null();
              else json.value(value);
            },
            cell);
      }
      json.end_array();
    }
    json.end_array().key("truncated").value(cursor.limited());
  } catch (const store::StoreError& e) {
    // A busy database is not the client's doing: the caller may try again.
    if (e.code() == SQLITE_BUSY || e.code() == SQLITE_LOCKED) throw;
    throw ApiError(400, e.what());
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  json.key("ms").value(ms).end_object();
  return json.take();
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

std::int64_t parse_integer(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  try {
    const long long value = std::stoll(text, &used);
    if (used == text.size() && !std::isspace(static_cast<unsigned char>(text.front()))) return value;
  } catch (const std::exception&) {
  }
  throw ApiError(400, fmt::format("{} must be an integer, got '{}'", what, text));
}

}  // namespace kiln::runner::serve
