// kiln's sub-commands; main.cpp parses the command line and calls one of these.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kiln::runner::cli {

/// Exit codes: 0 success, 1 a run that failed, 2 a bad command line, config or plugin.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct RunArgs {
  std::filesystem::path experiment;
  std::vector<std::string> overrides;  ///< --set KEY=VALUE, applied in order
};
int run(const RunArgs& args);

struct RunsArgs {
  std::filesystem::path database;
  std::string status;  ///< only runs with this status, when not empty
};
int runs(const RunsArgs& args);

enum class Format { table, csv, json };

struct QueryArgs {
  std::filesystem::path database;
  std::string sql;
  Format format = Format::table;
};
int query(const QueryArgs& args);

/// --db if given, else $KILN_DB, else runs/kiln.db.
std::filesystem::path default_database();

/// The build's own plugin folder, searched after [plugins] paths and $KILN_PLUGIN_PATH.
std::filesystem::path default_plugin_dir();

}  // namespace kiln::runner::cli
