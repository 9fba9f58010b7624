// migrate(): creates the current schema, is idempotent, refuses newer databases.
#include "store/schema.hpp"

#include <gtest/gtest.h>

#include "store/query.hpp"
#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

using test_support::TempDir;

TEST(schema, refuses_a_database_newer_than_this_kiln) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  Database db(path);
  db.exec("PRAGMA user_version = 7");
  try {
    migrate(db);
    FAIL() << "migrated a newer database";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path.string() + ": database schema version 7 is newer than this kiln "
                                        "supports (3); upgrade kiln to use it");
  }
  EXPECT_EQ(schema_version(db), 7);
  EXPECT_EQ(query_readonly(path, "SELECT name FROM sqlite_master").rows.size(), 0u);
}

TEST(schema, migrate_creates_the_current_version) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  Database db(path);
  EXPECT_EQ(schema_version(db), 0);
  migrate(db);
  EXPECT_EQ(schema_version(db), kSchemaVersion);
  EXPECT_EQ(kSchemaVersion, 3);

  const QueryResult tables = query_readonly(
      path, "SELECT group_concat(name, ',') FROM "
            "(SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)");
  EXPECT_EQ(std::get<std::string>(tables.rows.at(0).at(0)),
            "checkpoints,events,images,params,plugins,retention,runs,summaries");
  const QueryResult columns = query_readonly(
      path, "SELECT group_concat(name, ',') FROM pragma_table_info('runs')");
  EXPECT_EQ(std::get<std::string>(columns.rows.at(0).at(0)),
            "id,name,experiment,config,config_hash,status,started,ended,host,pid,"
            "kiln_version,run_dir,error");
}

TEST(schema, upgrades_a_version_1_database_in_place) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  {
    // What kiln 0.1.0's first schema left on disk (the tables later steps touch).
    Database db(path);
    db.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, experiment TEXT NOT NULL, "
            "config TEXT NOT NULL, config_hash TEXT NOT NULL, status TEXT NOT NULL, started REAL NOT NULL, "
            "ended REAL, host TEXT, pid INTEGER, kiln_version TEXT, run_dir TEXT, error TEXT)");
    db.exec("INSERT INTO runs (name, experiment, config, config_hash, status, started) "
            "VALUES ('old', 'e.toml', '', 'h', 'completed', 1)");
    db.exec("PRAGMA user_version = 1");
  }
  Database db(path);
  migrate(db);
  EXPECT_EQ(schema_version(db), kSchemaVersion);
  EXPECT_EQ(test_support::query_int(path, "SELECT count(*) FROM runs WHERE name = 'old'"), 1);
  db.exec("INSERT INTO checkpoints (run_id, step, path, bytes, sha256, created, reason) "
          "VALUES (1, 10, 'p', 3, 'abc', 2, 'steps')");
  EXPECT_EQ(test_support::query_int(path, "SELECT count(*) FROM checkpoints"), 1);
}

TEST(schema, migrate_is_idempotent) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  {
    Database db(path);
    migrate(db);
    db.exec("INSERT INTO runs (name, experiment, config, config_hash, status, started) "
            "VALUES ('a', 'e.toml', '', 'h', 'running', 1)");
  }
  Database db(path);
  migrate(db);
  migrate(db);
  EXPECT_EQ(schema_version(db), kSchemaVersion);
  EXPECT_EQ(test_support::query_int(path, "SELECT count(*) FROM runs"), 1);
}

TEST(schema, runs_status_is_checked) {
  Database db(":memory:");
  migrate(db);
  try {
    db.exec("INSERT INTO runs (name, experiment, config, config_hash, status, started) "
            "VALUES ('a', 'e.toml', '', 'h', 'paused', 1)");
    FAIL() << "accepted status 'paused'";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.code(), 19);  // SQLITE_CONSTRAINT
  }
}

TEST(schema, foreign_keys_are_enforced) {
  Database db(":memory:");
  migrate(db);
  EXPECT_THROW(db.exec("INSERT INTO params (run_id, key, value) VALUES (42, 'k', 'v')"),
               StoreError);
}

}  // namespace
}  // namespace kiln::runner::store
