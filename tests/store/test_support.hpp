// Helpers for the store tests: a temporary directory, a sample run, one-number queries.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include <unistd.h>

#include "../support/temp_dir.hpp"
#include "store/query.hpp"
#include "store/run_store.hpp"

namespace kiln::runner::store::test_support {

using kiln::test::TempDir;

/// A run as the runner would record it, on this host and in this process.
inline RunRecord sample_run(const std::string& name) {
  RunRecord run;
  run.name = name;
  run.experiment = "experiments/hello.toml";
  run.config = "[experiment]\nname = \"hello\"\n";
  run.config_hash = "0123abcd";
  run.host = local_host_name();
  run.kiln_version = "0.1.0";
  run.run_dir = "runs/" + name;
  run.pid = getpid();
  run.started = 1700000000.5;
  return run;
}

/// Loads tests/store/data/`name` (kiln_v3.sql, kiln_v4.sql), the `.dump` of a database an
/// older kiln made, into a new database at `db`; its user_version is the old one.
inline void load_dump(const std::filesystem::path& db, const std::string& name) {
  const std::filesystem::path file = std::filesystem::path(KILN_STORE_TEST_DATA) / name;
  std::ifstream in(file);
  std::stringstream dump;
  dump << in.rdbuf();
  ASSERT_GT(dump.str().size(), 1000u) << "cannot read " << file;
  Database(db).exec(dump.str());
}

/// The single integer a query such as `SELECT count(*) ...` returns.
inline int64_t query_int(const std::filesystem::path& db, const std::string& sql) {
  return std::get<int64_t>(query_readonly(db, sql).rows.at(0).at(0));
}

}  // namespace kiln::runner::store::test_support
