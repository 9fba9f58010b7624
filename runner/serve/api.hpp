// kiln serve's JSON API (docs/serve.md): each endpoint's answer, built from the run database.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kiln::runner::serve {

/// An answer an endpoint refuses with: the HTTP status and one line for {"error": ...}.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

/// The most summary points of one tag that /scalars returns (the latest are kept).
inline constexpr std::size_t kMaxPointsPerTag = 20'000;
/// The most rows /api/query returns, and its default.
inline constexpr std::int64_t kMaxQueryRows = 10'000;
/// How long one /api/query statement may run.
inline constexpr std::chrono::milliseconds kQueryTimeout{5'000};

/// GET /api/runs: every filter optional; a status that is none of the five is a 400.
struct RunsQuery {
  std::string status;
  std::string name;  ///< a glob with * or ?, else a substring, as `kiln runs --name`
  std::string tag;   ///< runs whose [experiment] tags hold it
};
std::string runs_json(store::Database& db, const RunsQuery& query);

/// GET /api/runs/<ref>: `ref` a run's name or id (404 when there is none).
std::string run_json(store::Database& db, const std::string& ref);

/// GET /api/runs/<ref>/scalars.
struct ScalarsQuery {
  std::optional<std::int64_t> after;  ///< only steps above it; none: every step
  std::vector<std::string> tags;      ///< empty: every tag
};
std::string scalars_json(store::Database& db, const std::string& ref, const ScalarsQuery& query);

/// GET /api/runs/<ref>/images[?tag=]: each image with its /files/ URL (null when the file
/// is recorded outside the run's directory).
std::string images_json(store::Database& db, const std::string& ref, const std::string& tag);

/// GET /api/compare?runs=a,b: two or more different runs.
std::string compare_json(store::Database& db, const std::vector<std::string>& refs);

/// GET or POST /api/query: one read-only statement on the database at `db`, at most
/// `limit` rows (1 to kMaxQueryRows) and kQueryTimeout; refused as `kiln query` refuses it
/// (400). A busy database is its StoreError (SQLITE_BUSY), for the caller to try again.
std::string query_json(const std::filesystem::path& db, const std::string& sql, std::int64_t limit);

/// The parts of a comma-separated list, empty ones left out: "a,,b" is {"a", "b"}.
std::vector<std::string> split_list(const std::string& text);

/// `text` as a whole integer, or a 400 naming `what`.
std::int64_t parse_integer(const std::string& text, const std::string& what);

}  // namespace kiln::runner::serve
