// The run store's schema and the migrations that bring a database up to it.
#include "store/schema.hpp"

#include <iterator>

#include <fmt/format.h>
#include <sqlite3.h>

namespace kiln::runner::store {
namespace {

// Step i takes a database from user_version i to i + 1. A new schema version appends a
// step; released steps never change, since databases in the field already ran them.
// A view is changed the same way: the new step drops it and creates it again
// (DROP VIEW metrics_last; CREATE VIEW metrics_last AS ...), as step 5 does, never by
// editing an earlier step.
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
    // 4: indexes for questions across runs, and views for the common questions.
    R"sql(
CREATE INDEX summaries_by_tag ON summaries (tag, step);
CREATE INDEX params_by_key ON params (key, value);

-- The last value of each run's tags. SQLite takes the bare columns of a GROUP BY with one
-- max() from the row holding that max, and filters on run or tag reach the base tables.
CREATE VIEW metrics_last AS
SELECT r.id AS run_id, r.name AS run, s.tag, max(s.step) AS step, s.value, s.wall_time
FROM runs r JOIN summaries s ON s.run_id = r.id
GROUP BY r.id, r.name, s.tag;

-- The lowest and highest value of each run's tags, each with the first step it was reached.
CREATE VIEW metrics_best AS
SELECT b.run_id, b.run, b.tag,
       b.min_value,
       (SELECT min(m.step) FROM summaries m
        WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.min_value) AS min_step,
       b.max_value,
       (SELECT min(m.step) FROM summaries m
        WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.max_value) AS max_step
FROM (SELECT r.id AS run_id, r.name AS run, s.tag, min(s.value) AS min_value, max(s.value) AS max_value
      FROM runs r JOIN summaries s ON s.run_id = r.id
      GROUP BY r.id, r.name, s.tag) AS b;

-- One row per run. steps: the losses' last summary step + 1 (loss/ summaries are taken at
-- step index k, after k + 1 updates; eval/ ones at the update count). duration_s: until
-- now while running, NULL for a crashed run (its end is unknown). losses and eval: the
-- last value of each loss/<name> and eval/<name> tag as a JSON object {"<name>": value}.
CREATE VIEW run_overview AS
SELECT r.id, r.name, r.status, r.experiment,
       (SELECT max(s.step) + 1 FROM summaries s
        WHERE s.run_id = r.id AND s.tag GLOB 'loss/*') AS steps,
       datetime(r.started, 'unixepoch', 'localtime') AS started,
       datetime(r.ended, 'unixepoch', 'localtime') AS ended,
       round(CASE WHEN r.ended IS NOT NULL THEN r.ended
                  WHEN r.status = 'running' THEN (julianday('now') - 2440587.5) * 86400.0
             END - r.started, 3) AS duration_s,
       (SELECT json_group_object(substr(l.tag, 6), l.value)
        FROM (SELECT s.tag, max(s.step), s.value FROM summaries s
              WHERE s.run_id = r.id AND s.tag GLOB 'loss/*' GROUP BY s.tag) AS l) AS losses,
       (SELECT json_group_object(substr(l.tag, 6), l.value)
        FROM (SELECT s.tag, max(s.step), s.value FROM summaries s
              WHERE s.run_id = r.id AND s.tag GLOB 'eval/*' GROUP BY s.tag) AS l) AS eval,
       c.step AS latest_checkpoint_step,
       c.path AS latest_checkpoint,
       r.error
FROM runs r
LEFT JOIN checkpoints c ON c.run_id = r.id AND c.step =
  (SELECT max(k.step) FROM checkpoints k WHERE k.run_id = r.id AND k.deleted IS NULL);
)sql",
    // 5: the views seek through indexes instead of reading whole runs (issue 11: on 5 M
    // summaries, run_overview took 0.4 s and metrics_best of a run of 1 M rows 0.17 s), and
    // the run's environment: its device and the library versions it trained with.
    R"sql(
-- A tag's extremes of one run, and the first step of each, are the ends of a range of this
-- key (NULL values sort first and min()/max() skip them).
CREATE INDEX summaries_by_value ON summaries (run_id, tag, value, step);

DROP VIEW run_overview;
DROP VIEW metrics_best;
DROP VIEW metrics_last;

-- The last value of each run's tags. A run's tags come from a skip scan of the summaries'
-- (run_id, tag) key: the recursive CTE seeks the next tag after the last one, one seek per
-- tag. json_each() may read r's columns, as a join of the run with its own tags (SQLite has
-- no LATERAL): so a filter on run or run_id reads that run's tags alone. CROSS JOIN keeps
-- this order (runs, their tags, one seek for each tag's last step); left to itself, the
-- planner would read summaries first.
CREATE VIEW metrics_last AS
SELECT r.id AS run_id, r.name AS run, t.value AS tag, s.step, s.value, s.wall_time
FROM runs r
CROSS JOIN json_each((WITH RECURSIVE tags(tag) AS (
                        SELECT min(tag) FROM summaries WHERE run_id = r.id
                        UNION ALL
                        SELECT (SELECT min(n.tag) FROM summaries n WHERE n.run_id = r.id AND n.tag > tags.tag)
                        FROM tags WHERE tags.tag IS NOT NULL)
                      SELECT json_group_array(tag) FROM tags WHERE tag IS NOT NULL)) AS t
CROSS JOIN summaries s
  ON s.run_id = r.id AND s.tag = t.value
 AND s.step = (SELECT max(m.step) FROM summaries m WHERE m.run_id = r.id AND m.tag = t.value);

-- The lowest and highest value of each run's tags, each with the first step it was reached:
-- for each (run, tag) of metrics_last, four seeks in summaries_by_value.
CREATE VIEW metrics_best AS
SELECT b.run_id, b.run, b.tag,
       b.min_value,
       (SELECT min(m.step) FROM summaries m
        WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.min_value) AS min_step,
       b.max_value,
       (SELECT min(m.step) FROM summaries m
        WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.max_value) AS max_step
FROM (SELECT l.run_id, l.run, l.tag,
             (SELECT min(m.value) FROM summaries m WHERE m.run_id = l.run_id AND m.tag = l.tag) AS min_value,
             (SELECT max(m.value) FROM summaries m WHERE m.run_id = l.run_id AND m.tag = l.tag) AS max_value
      FROM metrics_last l) AS b;

-- One row per run, as in step 4; steps, losses and eval read the run's rows of metrics_last.
CREATE VIEW run_overview AS
SELECT r.id, r.name, r.status, r.experiment,
       (SELECT max(l.step) + 1 FROM metrics_last l WHERE l.run_id = r.id AND l.tag GLOB 'loss/*') AS steps,
       datetime(r.started, 'unixepoch', 'localtime') AS started,
       datetime(r.ended, 'unixepoch', 'localtime') AS ended,
       round(CASE WHEN r.ended IS NOT NULL THEN r.ended
                  WHEN r.status = 'running' THEN (julianday('now') - 2440587.5) * 86400.0
             END - r.started, 3) AS duration_s,
       (SELECT json_group_object(substr(l.tag, 6), l.value) FROM metrics_last l
        WHERE l.run_id = r.id AND l.tag GLOB 'loss/*') AS losses,
       (SELECT json_group_object(substr(l.tag, 6), l.value) FROM metrics_last l
        WHERE l.run_id = r.id AND l.tag GLOB 'eval/*') AS eval,
       c.step AS latest_checkpoint_step,
       c.path AS latest_checkpoint,
       r.error
FROM runs r
LEFT JOIN checkpoints c ON c.run_id = r.id AND c.step =
  (SELECT max(k.step) FROM checkpoints k WHERE k.run_id = r.id AND k.deleted IS NULL);

-- Where the run trains and with what (RunStore::record_environment, at each start): NULL
-- for runs of older kilns; device_memory is NULL on the CPU.
ALTER TABLE runs ADD COLUMN device TEXT;
ALTER TABLE runs ADD COLUMN device_name TEXT;
ALTER TABLE runs ADD COLUMN device_memory INTEGER;
ALTER TABLE runs ADD COLUMN torch_version TEXT;
ALTER TABLE runs ADD COLUMN cuda_version TEXT;
ALTER TABLE runs ADD COLUMN cudnn_version TEXT;
ALTER TABLE runs ADD COLUMN precision TEXT;
)sql",
    // 6: which summaries are better higher or lower (issue 13), and metrics_best's pick by it.
    R"sql(
-- A run's direction rules: pattern is a tag, or a prefix ending in '*' ('acc/*'); source says
-- who wrote it: the experiment's [summaries] table (RunStore::record_summary_rules, replaced
-- at each start) or a hook (RunContext::summary_direction, through the writer).
CREATE TABLE summary_directions (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  pattern TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('min', 'max')),
  source TEXT NOT NULL CHECK (source IN ('experiment', 'hook')),
  PRIMARY KEY (run_id, pattern, source)
) WITHOUT ROWID;

DROP VIEW metrics_best;

-- Step 5's columns, then each tag's direction and its best value with the first step it was
-- reached. The rule that decides a tag: an exact one (a matching rule without '*' is the tag)
-- over a pattern, a longer pattern over a shorter, the experiment's over a hook's; none: 'min'.
-- A run's rules are a seek of the key. (The ORDER BY names no column of l: SQLite 3.40 cannot
-- resolve one there through metrics_last's json_each.)
CREATE VIEW metrics_best AS
SELECT d.run_id, d.run, d.tag, d.min_value, d.min_step, d.max_value, d.max_step, d.direction,
       CASE d.direction WHEN 'max' THEN d.max_value ELSE d.min_value END AS best_value,
       CASE d.direction WHEN 'max' THEN d.max_step ELSE d.min_step END AS best_step
FROM (SELECT b.run_id, b.run, b.tag,
             b.min_value,
             (SELECT min(m.step) FROM summaries m
              WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.min_value) AS min_step,
             b.max_value,
             (SELECT min(m.step) FROM summaries m
              WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.max_value) AS max_step,
             b.direction
      FROM (SELECT l.run_id, l.run, l.tag,
                   (SELECT min(m.value) FROM summaries m WHERE m.run_id = l.run_id AND m.tag = l.tag) AS min_value,
                   (SELECT max(m.value) FROM summaries m WHERE m.run_id = l.run_id AND m.tag = l.tag) AS max_value,
                   coalesce((SELECT rule.direction FROM summary_directions rule
                             WHERE rule.run_id = l.run_id
                               AND (rule.pattern = l.tag
                                    OR (substr(rule.pattern, -1) = '*'
                                        AND substr(l.tag, 1, length(rule.pattern) - 1) = substr(rule.pattern, 1, length(rule.pattern) - 1)))
                             ORDER BY substr(rule.pattern, -1) = '*', length(rule.pattern) DESC, rule.source = 'experiment' DESC
                             LIMIT 1), 'min') AS direction
            FROM metrics_last l) AS b) AS d;
)sql",
    // 7: how many processes trained a run (data-parallel training; rank 0 alone writes the
    // database), with which collective backend, on which hosts.
    R"sql(
-- RunStore::record_environment, at each start: world_size is the number of processes, 1 for
-- one (NULL for runs of older kilns, which trained in one); backend ('gloo', 'nccl') and hosts,
-- a JSON array of each rank's host name in rank order ('["node1","node1","node2"]'), are NULL
-- for a single process.
ALTER TABLE runs ADD COLUMN world_size INTEGER CHECK (world_size >= 1);
ALTER TABLE runs ADD COLUMN backend TEXT;
ALTER TABLE runs ADD COLUMN hosts TEXT CHECK (hosts IS NULL OR json_valid(hosts));
)sql",
    // 8: sweeps (issue 16): many runs of one experiment from one `kiln sweep`, ranked by a tag.
    R"sql(
-- record_sweep writes a sweep and its trials at once; a trial's run appears when kiln run
-- starts it (runs.sweep_id, from KILN_SWEEP_ID). spec: the sweep as kiln sweep resolved it;
-- mode NULL: each trial's tag ranks by its own direction (metrics_best.direction).
CREATE TABLE sweeps (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  experiment TEXT NOT NULL,
  spec TEXT NOT NULL CHECK (json_valid(spec)),
  metric TEXT,
  mode TEXT CHECK (mode IS NULL OR mode IN ('min', 'max')),
  trials INTEGER NOT NULL,
  created REAL NOT NULL
);
-- overrides: {"optimizers.adam.lr": "0.001"}, each value the TOML text given to --set;
-- cut_step: where median stopping cut the trial, NULL when it was not cut.
CREATE TABLE sweep_trials (
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  trial INTEGER NOT NULL,
  run TEXT NOT NULL,
  overrides TEXT NOT NULL CHECK (json_valid(overrides)),
  cut_step INTEGER,
  PRIMARY KEY (sweep_id, trial)
) WITHOUT ROWID;
ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps(id);

-- One row per trial, with its run (NULL columns before the run exists) and its best value of
-- the sweep's metric by the sweep's mode, else by the tag's direction in the run. rank: 1 for
-- the best of the trials with a value, ties sharing one; NULL without a value. Per trial: a
-- seek of the run by name, of the tag's rules (metrics_best of one run and tag, only when the
-- sweep has no mode) and two of summaries_by_value. The window partitions by sweep_id and
-- sweep, so a filter on either reaches the base tables.
CREATE VIEW sweep_best AS
SELECT v.sweep, v.sweep_id, v.trial, v.run, v.run_id, v.status, v.overrides, v.metric, v.direction,
       v.best_value,
       (SELECT min(s.step) FROM summaries s
        WHERE s.run_id = v.run_id AND s.tag = v.metric AND s.value = v.best_value) AS best_step,
       CASE WHEN v.best_value IS NOT NULL THEN
         rank() OVER (PARTITION BY v.sweep_id, v.sweep
                      ORDER BY v.best_value IS NULL,
                               CASE v.direction WHEN 'max' THEN -v.best_value ELSE v.best_value END)
       END AS rank,
       v.cut_step
FROM (SELECT d.*,
             CASE d.direction
               WHEN 'max' THEN (SELECT max(s.value) FROM summaries s WHERE s.run_id = d.run_id AND s.tag = d.metric)
               WHEN 'min' THEN (SELECT min(s.value) FROM summaries s WHERE s.run_id = d.run_id AND s.tag = d.metric)
             END AS best_value
      FROM (SELECT w.name AS sweep, t.sweep_id, t.trial, t.run, r.id AS run_id, r.status, t.overrides, w.metric,
                   CASE WHEN r.id IS NOT NULL AND w.metric IS NOT NULL THEN
                     coalesce(w.mode, (SELECT b.direction FROM metrics_best b
                                       WHERE b.run_id = r.id AND b.tag = w.metric))
                   END AS direction,
                   t.cut_step
            FROM sweeps w
            JOIN sweep_trials t ON t.sweep_id = w.id
            LEFT JOIN runs r ON r.name = t.run) AS d) AS v;
)sql",
};

static_assert(std::size(kMigrations) == kSchemaVersion,
              "every schema version needs exactly one migration step");

}  // namespace

void refuse_newer_schema(const Database& db, int version) {
  if (version > kSchemaVersion) {
    throw StoreError(fmt::format("{}: database schema version {} is newer than this kiln "
                                 "supports ({}); upgrade kiln to use it",
                                 db.path().string(), version, kSchemaVersion),
                     SQLITE_ERROR);
  }
}

int schema_version(Database& db) {
  Statement statement(db, "PRAGMA user_version");
  statement.step();
  return static_cast<int>(statement.column_int64(0));
}

void migrate(Database& db) {
  int version = schema_version(db);
  refuse_newer_schema(db, version);
  if (version == kSchemaVersion) return;

  Transaction transaction(db);
  // Another process may have migrated between the first look and the write lock.
  version = schema_version(db);
  refuse_newer_schema(db, version);
  for (; version < kSchemaVersion; ++version) db.exec(kMigrations[version]);
  db.exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
  transaction.commit();
}

}  // namespace kiln::runner::store
