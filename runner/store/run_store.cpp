// RunStore: the synchronous writes at the start and end of a run, and crash detection.
#include "store/run_store.hpp"

#include <algorithm>
#include <map>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/types.h>
#include <unistd.h>

#include "store/history.hpp"
#include "store/json_text.hpp"
#include "store/schema.hpp"

namespace kiln::runner::store {
namespace {

/// `bytes` in GiB with one decimal: "139.8 GiB".
std::string gibibytes(std::int64_t bytes) {
  return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
}

/// Binds `text` at `column`, or NULL when it is empty.
void bind_text_or_null(Statement& statement, int column, const std::string& text) {
  if (text.empty()) statement.bind(column, nullptr);
  else statement.bind(column, text);
}

/// How many processes, and their backend where there is one: "4 (gloo)", "1".
std::string process_count(const RunEnvironment& environment) {
  if (environment.backend.empty()) return std::to_string(environment.world_size);
  return fmt::format("{} ({})", environment.world_size, environment.backend);
}

bool process_gone(int64_t pid) {
  if (pid <= 0 || pid > std::numeric_limits<pid_t>::max()) return false;  // not a real pid
  // EPERM means the process exists but belongs to someone else.
  if (kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
  // A zombie has ended: only its parent has not reaped it yet (an orphan's new parent, a
  // container's init, may take its time). Its state follows the ')' closing its name.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const std::size_t close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

}  // namespace

RunStore::RunStore(std::filesystem::path db) : db_(std::move(db)) { migrate(db_); }

std::string RunStore::unique_run_name(const std::string& base) {
  Statement taken(db_, "SELECT 1 FROM runs WHERE name = ?1");
  std::string name = base;
  for (int suffix = 2;; ++suffix) {
    taken.reset();
    taken.bind(1, name);
    if (!taken.step()) return name;
    name = fmt::format("{}-{}", base, suffix);
  }
}

int64_t RunStore::create_run(const RunRecord& run) {
  Transaction transaction(db_);
  const int64_t id = insert_run(run);
  transaction.commit();
  return id;
}

int64_t RunStore::create_fresh_run(RunRecord& run, const std::filesystem::path& runs_dir) {
  // BEGIN IMMEDIATE holds the write lock from the look to the insert: nobody takes the name between.
  Transaction transaction(db_);
  run.name = unique_run_name(run.name);
  run.run_dir = (runs_dir / run.name).string();
  const int64_t id = insert_run(run);
  transaction.commit();
  return id;
}

int64_t RunStore::insert_run(const RunRecord& run) {
  Statement insert(db_, R"sql(
    INSERT INTO runs (name, experiment, config, config_hash, status, started, host, pid,
                      kiln_version, run_dir)
    VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?8, ?9))sql");
  insert.bind(1, run.name)
      .bind(2, run.experiment)
      .bind(3, run.config)
      .bind(4, run.config_hash)
      .bind(5, run.started)
      .bind(6, run.host)
      .bind(7, run.pid)
      .bind(8, run.kiln_version)
      .bind(9, run.run_dir);
  insert.step();
  return db_.last_insert_rowid();
}

std::optional<RunStore::ExistingRun> RunStore::find_run(const std::string& name) {
  Statement select(db_, "SELECT id, status, COALESCE(host, ''), COALESCE(pid, 0), COALESCE(run_dir, ''), "
                        "COALESCE(world_size, 1) FROM runs WHERE name = ?1");
  select.bind(1, name);
  if (!select.step()) return std::nullopt;
  ExistingRun run;
  run.id = select.column_int64(0);
  run.status = select.column_text(1);
  run.host = select.column_text(2);
  run.pid = select.column_int64(3);
  run.run_dir = select.column_text(4);
  run.world_size = select.column_int64(5);
  run.alive = run.status == "running" && run.host == local_host_name() && !process_gone(run.pid) &&
              run.pid != static_cast<int64_t>(getpid());
  return run;
}

void RunStore::resume_run(int64_t run_id, const RunRecord& run,
                          const std::vector<std::pair<std::string, std::string>>& params) {
  Transaction transaction(db_);
  Statement update(db_, R"sql(
    UPDATE runs SET status = 'running', config = ?2, config_hash = ?3, host = ?4, pid = ?5,
                    kiln_version = ?6, ended = NULL, error = NULL
    WHERE id = ?1)sql");
  update.bind(1, run_id).bind(2, run.config).bind(3, run.config_hash).bind(4, run.host);
  update.bind(5, run.pid).bind(6, run.kiln_version);
  update.step();
  Statement forget(db_, "DELETE FROM params WHERE run_id = ?1");
  forget.bind(1, run_id);
  forget.step();
  transaction.commit();
  record_params(run_id, params);
}

void RunStore::record_params(int64_t run_id,
                             const std::vector<std::pair<std::string, std::string>>& params) {
  Transaction transaction(db_);
  Statement insert(db_, "INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?1, ?2, ?3)");
  for (const auto& [key, value] : params) {
    insert.reset();
    insert.bind(1, run_id).bind(2, key).bind(3, value);
    insert.step();
  }
  transaction.commit();
}

void RunStore::record_plugins(int64_t run_id, const std::vector<PluginRecord>& plugins) {
  Transaction transaction(db_);
  Statement insert(db_, R"sql(
    INSERT OR REPLACE INTO plugins (run_id, kind, name, library, path, sha256, version, abi)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql");
  for (const PluginRecord& plugin : plugins) {
    insert.reset();
    insert.bind(1, run_id)
        .bind(2, plugin.kind)
        .bind(3, plugin.name)
        .bind(4, plugin.library)
        .bind(5, plugin.path)
        .bind(6, plugin.sha256)
        .bind(7, plugin.version)
        .bind(8, plugin.abi);
    insert.step();
  }
  transaction.commit();
}

void RunStore::record_summary_rules(int64_t run_id,
                                    const std::vector<std::pair<std::string, std::string>>& rules) {
  Transaction transaction(db_);
  Statement forget(db_, "DELETE FROM summary_directions WHERE run_id = ?1 AND source = 'experiment'");
  forget.bind(1, run_id);
  forget.step();
  Statement insert(db_, R"sql(
    INSERT INTO summary_directions (run_id, pattern, direction, source) VALUES (?1, ?2, ?3, 'experiment'))sql");
  for (const auto& [pattern, direction] : rules) {
    insert.reset();
    insert.bind(1, run_id).bind(2, pattern).bind(3, direction);
    insert.step();
  }
  transaction.commit();
}

void RunStore::finish_run(int64_t run_id, std::string_view status, std::string_view error,
                          double ended) {
  if (std::find(std::begin(kFinalStatuses), std::end(kFinalStatuses), status) ==
      std::end(kFinalStatuses)) {
    throw StoreError(fmt::format("{}: invalid final run status \"{}\" (expected completed, "
                                 "stopped, failed or crashed)",
                                 db_.path().string(), status),
                     SQLITE_CONSTRAINT);
  }
  Transaction transaction(db_);
  Statement update(db_, "UPDATE runs SET status = ?2, error = ?3, ended = ?4 WHERE id = ?1");
  update.bind(1, run_id).bind(2, status).bind(4, ended);
  if (error.empty()) {
    update.bind(3, nullptr);
  } else {
    update.bind(3, error);
  }
  update.step();
  if (db_.changes() != 1) {
    throw StoreError(fmt::format("{}: no run with id {}", db_.path().string(), run_id),
                     SQLITE_NOTFOUND);
  }
  transaction.commit();
}

std::vector<std::string> RunStore::changed_params(int64_t run_id,
                                                  const std::vector<std::pair<std::string, std::string>>& now) {
  std::map<std::string, std::string> before;
  Statement select(db_, "SELECT key, COALESCE(value, '') FROM params WHERE run_id = ?1");
  select.bind(1, run_id);
  while (select.step()) before[select.column_text(0)] = select.column_text(1);
  std::vector<std::string> keys;
  for (const auto& [key, value] : now) {
    const auto found = before.find(key);
    if (found == before.end() || found->second != value) keys.push_back(key);
    if (found != before.end()) before.erase(found);
  }
  for (const auto& [key, value] : before) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

void RunStore::complete_run(int64_t run_id, int64_t step, std::string_view message, double when) {
  Transaction transaction(db_);
  Statement update(db_, "UPDATE runs SET status = 'completed', error = NULL, ended = ?2 WHERE id = ?1");
  update.bind(1, run_id).bind(2, when);
  update.step();
  Statement event(db_, "INSERT INTO events (run_id, time, step, kind, message) VALUES (?1, ?2, ?3, 'completed', ?4)");
  event.bind(1, run_id).bind(2, when).bind(3, step).bind(4, message);
  event.step();
  transaction.commit();
}

int RunStore::mark_crashed() {
  const std::string host = local_host_name();
  std::vector<std::pair<int64_t, int64_t>> gone;  // (run id, pid)
  {
    // Look without the write lock: usually nothing crashed and `kiln runs` stays a reader.
    Statement running(db_, "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?1");
    running.bind(1, host);
    while (running.step()) {
      if (process_gone(running.column_int64(1))) {
        gone.emplace_back(running.column_int64(0), running.column_int64(1));
      }
    }
  }
  if (gone.empty()) return 0;

  Transaction transaction(db_);
  Statement update(db_, R"sql(
    UPDATE runs SET status = 'crashed', error = ?2 WHERE id = ?1 AND status = 'running')sql");
  int marked = 0;
  for (const auto& [id, pid] : gone) {
    update.reset();
    update.bind(1, id).bind(2, fmt::format("process {} on {} ended without finishing the run",
                                           pid, host));
    update.step();
    marked += static_cast<int>(db_.changes());
  }
  transaction.commit();
  return marked;
}

std::string RunStore::record_environment(int64_t run_id, const RunEnvironment& environment, double when) {
  if (environment.device.empty()) {
    throw StoreError(fmt::format("{}: a run's environment needs its device (cpu, cuda:0, ...)", db_.path().string()),
                     SQLITE_CONSTRAINT);
  }
  if (environment.world_size < 1) {
    throw StoreError(fmt::format("{}: a run's world size is {}; it needs at least 1 process", db_.path().string(),
                                 environment.world_size),
                     SQLITE_CONSTRAINT);
  }
  if (!environment.hosts.empty() && static_cast<std::int64_t>(environment.hosts.size()) != environment.world_size) {
    throw StoreError(fmt::format("{}: a run of {} processes has {} hosts ({}); it needs one per rank, or none",
                                 db_.path().string(), environment.world_size, environment.hosts.size(),
                                 fmt::join(environment.hosts, ", ")),
                     SQLITE_CONSTRAINT);
  }
  Transaction transaction(db_);
  const std::optional<RunEnvironment> before = run_environment(db_, run_id);

  Statement update(db_, R"sql(
    UPDATE runs SET device = ?2, device_name = ?3, device_memory = ?4, torch_version = ?5,
                    cuda_version = ?6, cudnn_version = ?7, precision = ?8, world_size = ?9,
                    backend = ?10, hosts = ?11
    WHERE id = ?1)sql");
  update.bind(1, run_id).bind(4, environment.device_memory).bind(9, environment.world_size);
  bind_text_or_null(update, 2, environment.device);
  bind_text_or_null(update, 3, environment.device_name);
  bind_text_or_null(update, 5, environment.torch_version);
  bind_text_or_null(update, 6, environment.cuda_version);
  bind_text_or_null(update, 7, environment.cudnn_version);
  bind_text_or_null(update, 8, environment.precision);
  bind_text_or_null(update, 10, environment.backend);
  bind_text_or_null(update, 11, environment.hosts.empty() ? std::string() : json_string_array(environment.hosts));
  update.step();
  if (db_.changes() != 1)
    throw StoreError(fmt::format("{}: no run with id {}", db_.path().string(), run_id), SQLITE_NOTFOUND);

  const std::string changes = before ? environment_changes(*before, environment) : std::string();
  if (!changes.empty()) {
    Statement event(db_, "INSERT INTO events (run_id, time, step, kind, message) VALUES (?1, ?2, NULL, 'environment', ?3)");
    event.bind(1, run_id).bind(2, when).bind(3, changes);
    event.step();
  }
  transaction.commit();
  return changes;
}

std::string local_host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

std::string describe_environment(const RunEnvironment& environment) {
  std::string text = environment.device;
  std::vector<std::string> device;
  if (!environment.device_name.empty()) device.push_back(environment.device_name);
  if (environment.device_memory) device.push_back(gibibytes(*environment.device_memory));
  if (!device.empty()) text += fmt::format(" ({})", fmt::join(device, ", "));
  for (const auto& [label, value] : {std::pair<const char*, const std::string*>{"torch", &environment.torch_version},
                                     {"CUDA", &environment.cuda_version},
                                     {"cuDNN", &environment.cudnn_version},
                                     {"precision", &environment.precision}}) {
    if (!value->empty()) text += fmt::format("{}{} {}", text.empty() ? "" : ", ", label, *value);
  }
  return text;
}

std::string describe_processes(const RunEnvironment& environment) {
  if (environment.world_size <= 1) return {};
  std::string text = process_count(environment);
  // Each host once, where its first rank is, with how many ranks it runs.
  std::vector<std::pair<std::string, int>> hosts;
  for (const std::string& host : environment.hosts) {
    auto found = std::find_if(hosts.begin(), hosts.end(), [&](const auto& seen) { return seen.first == host; });
    if (found == hosts.end()) hosts.emplace_back(host, 1);
    else ++found->second;
  }
  std::vector<std::string> named;
  for (const auto& [host, ranks] : hosts)
    named.push_back(hosts.size() == 1 ? host : fmt::format("{} ×{}", host, ranks));
  if (!named.empty()) text += fmt::format(" on {}", fmt::join(named, ", "));
  return text;
}

std::string environment_changes(const RunEnvironment& before, const RunEnvironment& after) {
  auto memory = [](const std::optional<std::int64_t>& bytes) { return bytes ? gibibytes(*bytes) : std::string(); };
  const std::pair<const char*, std::pair<std::string, std::string>> fields[] = {
      {"device", {before.device, after.device}},
      {"device name", {before.device_name, after.device_name}},
      {"device memory", {memory(before.device_memory), memory(after.device_memory)}},
      {"torch", {before.torch_version, after.torch_version}},
      {"CUDA", {before.cuda_version, after.cuda_version}},
      {"cuDNN", {before.cudnn_version, after.cudnn_version}},
      {"precision", {before.precision, after.precision}},
      {"processes", {process_count(before), process_count(after)}},
  };
  std::vector<std::string> changes;
  auto or_none = [](const std::string& value) { return value.empty() ? std::string("none") : value; };
  for (const auto& [label, values] : fields) {
    if (values.first != values.second)
      changes.push_back(fmt::format("{} {} -> {}", label, or_none(values.first), or_none(values.second)));
  }
  // Memory that differs by less than the 0.1 GiB shown is still a change: say it in bytes.
  if (before.device_memory != after.device_memory && memory(before.device_memory) == memory(after.device_memory))
    changes.push_back(fmt::format("device memory {} -> {} bytes", *before.device_memory, *after.device_memory));
  return fmt::format("{}", fmt::join(changes, "; "));
}

}  // namespace kiln::runner::store
