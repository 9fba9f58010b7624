// What each query of docs/sql-cookbook.md must answer, worked out from the tables themselves.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace kiln::test {

using Rows = std::vector<std::vector<std::string>>;

/// The answer a cookbook query must give on the database at a path: its header, then its
/// rows, each cell as sql_rows writes it ("NULL" for NULL).
using CookbookAnswer = std::function<Rows(const std::filesystem::path& db)>;

/// By cookbook id (the `<!-- cookbook: id -->` before each query), what the query must answer
/// on the database that tests/cli/cookbook_test.cpp makes (runs mlp, mlp-2, mlp-3, mlp-4).
std::map<std::string, CookbookAnswer> cookbook_answers();

}  // namespace kiln::test
