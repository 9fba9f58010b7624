// `kiln run`: resolve the experiment, build it from plugins, record the run, train.
#include <chrono>
#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/experiment_setup.hpp"
#include "config/experiment.hpp"
#include "config/run_paths.hpp"
#include "hooks/saver.hpp"
#include "hooks/signals.hpp"
#include "hooks/status_line.hpp"
#include "kiln/version.hpp"
#include "plugins/sha256.hpp"
#include "store/checkpoints.hpp"
#include "store/run_store.hpp"
#include "store/writer.hpp"
#include "train/error_text.hpp"
#include "train/store_recorder.hpp"
#include "train/trainer.hpp"

namespace kiln::runner::cli {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw Error(fmt::format("{}: cannot be written", path.string()));
}

/// The config keys whose value differs between a run's recorded params and `now`:
/// changed, added or removed.
std::vector<std::string> changed_keys(store::Database& db, std::int64_t run_id,
                                      const std::vector<std::pair<std::string, std::string>>& now) {
  std::map<std::string, std::string> before;
  store::Statement select(db, "SELECT key, COALESCE(value, '') FROM params WHERE run_id = ?1");
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

/// "a, b and 3 more": changed keys in one line.
std::string describe_keys(const std::vector<std::string>& keys) {
  constexpr std::size_t kShown = 4;
  std::vector<std::string> shown(keys.begin(), keys.begin() + std::min(keys.size(), kShown));
  std::string text = fmt::format("{}", fmt::join(shown, ", "));
  if (keys.size() > kShown) text += fmt::format(" and {} more", keys.size() - kShown);
  return text;
}

/// The newest checkpoint of a run that reached max_steps, when its file is the one its row
/// describes: a run whose process ended after writing it has completed.
bool final_checkpoint_verified(const store::CheckpointRow& row) {
  try {
    return sha256_file(row.path) == row.sha256;
  } catch (const Error&) {
    return false;  // missing or unreadable: the run resumes from an older checkpoint
  }
}

/// Records a run's final status. After a store failure (a full disk) the writer's queue is
/// dropped first, so that the database has to take this one small write only, and it is
/// tried a few times. Returns why it could not be recorded, or "".
std::string record_final_status(store::RunStore& store, store::Writer* writer, std::int64_t run_id,
                                 const std::string& status, const std::string& error) {
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    try {
      store.finish_run(run_id, status, error, unix_now());
      return "";
    } catch (const StoreError& e) {
      if (attempt == kAttempts) return e.what();
      if (writer) writer->discard_pending();
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
    }
  }
}

}  // namespace

fs::path default_database() {
  if (const char* env = std::getenv("KILN_DB"); env && *env) return env;
  return fs::path("runs") / "kiln.db";
}

int run(const RunArgs& args) {
  // Everything that can be wrong with the experiment is found before the run is touched.
  ExperimentSetup setup(args.experiment, args.overrides);
  const ExperimentSpec& spec = setup.spec;
  Trainer& trainer = setup.trainer;

  // Running an experiment again resumes its run, as tf.train.Supervisor did with its logdir.
  store::RunStore store(spec.database);
  std::string name = spec.name;
  std::optional<store::RunStore::ExistingRun> existing;
  std::vector<std::string> changed;
  if (!args.fresh) existing = store.find_run(name);
  if (existing && existing->alive)
    throw Error(fmt::format("run '{}' is already running (pid {} on {}); stop it first, or start another with --fresh",
                            name, existing->pid, existing->host));
  if (existing) {
    // A run that already reached max_steps stays as it is: no events, no status change.
    const auto checkpoints = store::list_checkpoints(store.database(), existing->id);
    if (!checkpoints.empty() && checkpoints.back().step >= spec.max_steps &&
        (existing->status == "completed" || final_checkpoint_verified(checkpoints.back()))) {
      if (existing->status != "completed") {
        // Killed after its last checkpoint, before its status was written: it did complete.
        const std::int64_t step = checkpoints.back().step;
        store.complete_run(existing->id, step,
                           fmt::format("marked completed: its process ended (the run was {}) after saving its final "
                                       "checkpoint at step {}, which is verified, before recording the end",
                                       existing->status, step),
                           unix_now());
        spdlog::info("run {} was {} but had saved its final checkpoint (step {}): marked completed", name,
                     existing->status, step);
      }
      fmt::print("run {} already reached max_steps ({}) at step {}; raise it to train on "
                 "(--set experiment.max_steps=N), or start another run with --fresh\n",
                 name, spec.max_steps, checkpoints.back().step);
      return kExitOk;
    }
    changed = changed_keys(store.database(), existing->id, spec.document->flatten());
    if (!changed.empty())
      spdlog::warn("run {} resumes with a changed experiment ({}); kiln run --fresh starts another run instead",
                   name, describe_keys(changed));
  }
  const std::string config = spec.document->to_toml();

  store::RunRecord record;
  record.name = name;
  record.experiment = spec.file.string();
  record.config = config;
  record.config_hash = sha256_hex(config);
  record.host = store::local_host_name();
  record.kiln_version = KILN_VERSION_STRING;
  record.pid = static_cast<std::int64_t>(getpid());
  record.started = unix_now();
  std::int64_t run_id = 0;
  if (args.fresh) {
    // The free name is chosen and taken in one transaction: fresh runs started together
    // never collide.
    run_id = store.create_fresh_run(record, spec.runs_dir);
    name = record.name;
  } else {
    record.run_dir =
        (existing && !existing->run_dir.empty() ? fs::path(existing->run_dir) : spec.runs_dir / name).string();
  }
  const fs::path run_dir = record.run_dir;
  try {
    // Every file of the run goes in its directory, and the directory in the runs folder.
    inside(spec.runs_dir, run_dir, "run directory");
    inside(run_dir, run_dir / "checkpoints", "checkpoint folder");
    const fs::path copy = inside(run_dir, run_dir / "experiment.toml", "experiment copy");
    fs::create_directories(run_dir);
    write_file(copy, config);
  } catch (const std::exception& e) {
    if (args.fresh) store.finish_run(run_id, "failed", error_text(e), unix_now());
    throw;
  }
  if (!existing && !args.fresh) run_id = store.create_run(record);
  if (existing) run_id = existing->id;
  // The run has a row from here on: whatever fails marks it failed.
  try {
    if (existing) {
      store.resume_run(run_id, record, spec.document->flatten());
    } else {
      store.record_params(run_id, spec.document->flatten());
    }
    store.record_plugins(run_id, setup.host.records());
  } catch (const StoreError& e) {
    const std::string error = fmt::format("step {}: {}", trainer.global_step(), e.what());
    const std::string unrecorded = record_final_status(store, nullptr, run_id, "failed", error);
    fmt::print(stderr, "error: run {} failed at {}{}\n", name, error,
               unrecorded.empty() ? "" : fmt::format(" (its status could not be recorded: {})", unrecorded));
    return kExitFailed;
  }

  store::Writer writer(spec.database);
  StoreRecorder recorder(writer, run_id);
  trainer.attach(recorder, name, run_dir);
  if (existing)
    recorder.event("resume", std::nullopt,
                   fmt::format("resuming run {} (it was {}){}", name, existing->status,
                               changed.empty() ? "" : fmt::format(" with a changed experiment: {}", describe_keys(changed))));
  std::shared_ptr<Saver> saver;
  if (spec.saver.enabled) {
    SaverContext context;
    context.writer = &writer;
    context.database = spec.database;
    context.run_id = run_id;
    context.dir = run_dir / "checkpoints";
    context.init_from = spec.init_from;
    saver = std::make_shared<Saver>(spec.saver, std::move(context));
    trainer.add_hook("saver", saver, 900);
    // Restored before any hook begins: every hook's begin() sees the run's real step.
    trainer.set_restore([saver](RunContext& run) { saver->restore_or_initialize(run); });
  }
  install_signal_handlers();

  std::string status = "completed";
  std::string error;
  const auto started = std::chrono::steady_clock::now();
  try {
    trainer.run();
    if (trainer.stop_requested()) status = "stopped";
  } catch (const std::exception& e) {
    status = "failed";
    error = fmt::format("step {}: {}", trainer.global_step(), error_text(e));
    if (const std::string hook = trainer.failed_hook(); !hook.empty()) error += fmt::format(" (in {})", hook);
    if (!changed.empty() && dynamic_cast<const CheckpointError*>(&e))
      error += fmt::format(" (the experiment changed since this run began: {}; its checkpoints are intact, and "
                           "kiln run --fresh starts another run)", describe_keys(changed));
    recorder.event("failure", trainer.global_step(), error);
    // A save may still be writing (end() never ran): it needs the writer, which goes first.
    try {
      if (saver) saver->wait();
    } catch (const std::exception& e) {
      recorder.event("failure", trainer.global_step(), e.what());
    }
  }
  try {
    writer.flush();
  } catch (const std::exception& e) {
    if (status != "failed") error = fmt::format("step {}: summaries could not be recorded: {}", trainer.global_step(), e.what());
    status = "failed";
  }
  // The run's fate is decided: a stop signal from here on cannot change the exit code.
  finishing_run();
  const std::string unrecorded = record_final_status(store, &writer, run_id, status, error);

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (status == "failed" || !unrecorded.empty()) {
    StatusLine::on_stderr().finish();  // end() never ran: the status line may still be open
    if (status == "failed")
      fmt::print(stderr, "error: run {} failed at {}{}\n", name, error,
                 unrecorded.empty() ? "" : fmt::format(" (its status could not be recorded: {})", unrecorded));
    else
      fmt::print(stderr, "error: run {} {} at step {}, but its status could not be recorded: {}\n", name, status,
                 trainer.global_step(), unrecorded);
    return kExitFailed;
  }
  if (trainer.steps_run() == 0 && trainer.global_step() >= spec.max_steps) {
    fmt::print("run {} already reached max_steps ({}); raise it to train on (--set experiment.max_steps=N), "
               "or start another run with --fresh\n", name, spec.max_steps);
    return kExitOk;
  }
  fmt::print("run {} {}: step {} of {} ({} step{} in {:.1f} s){}\n", name, status, trainer.global_step(),
             spec.max_steps, trainer.steps_run(), trainer.steps_run() == 1 ? "" : "s", secs,
             status == "stopped" ? fmt::format(", {}", trainer.stop_reason()) : "");
  fmt::print("  run directory  {}\n", run_dir.string());
  if (const fs::path images = run_dir / "images"; fs::is_directory(images))
    fmt::print("  images         {} (input | output | target grids, newest last)\n", images.string());
  fmt::print("  database       {}\n", spec.database.string());
  fmt::print("  try: kiln query \"SELECT tag, MIN(value), MAX(value) FROM summaries s JOIN runs r ON r.id = s.run_id "
             "WHERE r.name = '{}' GROUP BY tag\"\n", name);
  return kExitOk;
}

}  // namespace kiln::runner::cli
