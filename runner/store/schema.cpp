// The run store's schema and the migrations that bring a database up to it.
#include "store/schema.hpp"

#include <iterator>

#include <fmt/format.h>
#include <sqlite3.h>

namespace kiln::runner::store {
namespace {

// Step i takes a database from user_version i to i + 1. A new schema version appends a
// step; released steps never change, since databases in the field already ran them.
constexpr const char* kMigrations[] = {
    // 1: runs with their config, parameters, plugins, summaries and events.
    R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  experiment TEXT NOT NULL,
  config TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  status TEXT NOT NULL
    CHECK (status IN ('running', 'completed', 'stopped', 'failed', 'crashed')),
  started REAL NOT NULL,
  ended REAL,
  host TEXT,
  pid INTEGER,
  kiln_version TEXT,
  run_dir TEXT,
  error TEXT
);
CREATE TABLE params (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE plugins (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  library TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT,
  version TEXT,
  abi INTEGER,
  PRIMARY KEY (run_id, kind, name)
);
CREATE TABLE summaries (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  tag TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  wall_time REAL NOT NULL,
  PRIMARY KEY (run_id, tag, step)
) WITHOUT ROWID;
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  time REAL NOT NULL,
  step INTEGER,
  kind TEXT NOT NULL,
  message TEXT
);
CREATE INDEX events_by_run ON events (run_id, time);
)sql",
    // 2: checkpoints, with why each is kept, and the saver's retention clock.
    R"sql(
CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  step INTEGER NOT NULL,
  path TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  created REAL NOT NULL,
  reason TEXT NOT NULL,
  kept TEXT,
  deleted REAL,
  UNIQUE (run_id, step)
);
CREATE TABLE retention (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id),
  next_keep_time REAL
);
)sql",
    // 3: image summaries: files a run wrote, by tag and step.
    R"sql(
CREATE TABLE images (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  tag TEXT NOT NULL,
  step INTEGER NOT NULL,
  path TEXT NOT NULL,
  wall_time REAL NOT NULL,
  PRIMARY KEY (run_id, tag, step)
) WITHOUT ROWID;
)sql",
};

static_assert(std::size(kMigrations) == kSchemaVersion,
              "every schema version needs exactly one migration step");

void refuse_newer(const Database& db, int version) {
  if (version > kSchemaVersion) {
    throw StoreError(fmt::format("{}: database schema version {} is newer than this kiln "
                                 "supports ({}); upgrade kiln to use it",
                                 db.path().string(), version, kSchemaVersion),
                     SQLITE_ERROR);
  }
}

}  // namespace

int schema_version(Database& db) {
  Statement statement(db, "PRAGMA user_version");
  statement.step();
  return static_cast<int>(statement.column_int64(0));
}

void migrate(Database& db) {
  int version = schema_version(db);
  refuse_newer(db, version);
  if (version == kSchemaVersion) return;

  Transaction transaction(db);
  // Another process may have migrated between the first look and the write lock.
  version = schema_version(db);
  refuse_newer(db, version);
  for (; version < kSchemaVersion; ++version) db.exec(kMigrations[version]);
  db.exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
  transaction.commit();
}

}  // namespace kiln::runner::store
