// Run: one run's lifecycle, from the experiment to its final status in the store.
#include "run/run.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "config/run_paths.hpp"
#include "hooks/saver.hpp"
#include "hooks/signals.hpp"
#include "common/atomic_file.hpp"
#include "kiln/version.hpp"
#include "plugins/sha256.hpp"
#include "store/checkpoints.hpp"
#include "store/sweeps.hpp"
#include "store/writer.hpp"
#include "train/device.hpp"
#include "train/error_text.hpp"
#include "train/store_recorder.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;

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

/// A failure's message as a run records and prints it: the step first ("step 30: in loss 'mse'
/// (phase 'adam'): ..."), once, also when the message begins with it ("step 7, phase adam: loss
/// mse is not finite").
std::string at_step(std::int64_t step, const std::string& what) {
  const std::string said = fmt::format("step {}", step);
  if (what.rfind(said + ",", 0) == 0 || what.rfind(said + ":", 0) == 0) return what;
  return said + ": " + what;
}

}  // namespace

std::string describe_keys(const std::vector<std::string>& keys) {
  constexpr std::size_t kShown = 4;
  std::vector<std::string> shown(keys.begin(), keys.begin() + std::min(keys.size(), kShown));
  std::string text = fmt::format("{}", fmt::join(shown, ", "));
  if (keys.size() > kShown) text += fmt::format(" and {} more", keys.size() - kShown);
  return text;
}

Run::Run(ExperimentSetup& setup, RunOptions options)
    : setup_(setup), options_(std::move(options)), store_(setup.spec.database), name_(setup.spec.name) {
  const ExperimentSpec& spec = setup_.spec;
  if (!options_.fresh) existing_ = store_.find_run(name_);
  if (existing_ && existing_->alive)
    throw Error(fmt::format("run '{}' is already running (pid {} on {}); stop it first, or start another with --fresh",
                            name_, existing_->pid, existing_->host));
  // Its checkpoints count the run's batches, each of world size x batch_size examples: a
  // resume needs as many processes (the checkpoint says so too, at restore).
  const int world_size = setup_.world.size;
  if (existing_ && existing_->world_size != world_size &&
      !store::list_checkpoints(store_.database(), existing_->id).empty()) {
    const auto processes = [](std::int64_t n) { return n == 1 ? std::string("one process") : fmt::format("{} processes", n); };
    throw Error(fmt::format("run '{}' was trained by {}, and this is {}: resume it with as many (kiln run --nproc {}, "
                            "or torchrun's WORLD_SIZE={}), or start another run with --fresh",
                            name_, processes(existing_->world_size), processes(world_size), existing_->world_size,
                            existing_->world_size));
  }
  if (existing_) changed_ = store_.changed_params(existing_->id, spec.document->flatten());
  // Every file of the run goes in its directory, and the directory in the runs folder:
  // checked before anything is written. A fresh run's name is chosen when its row is made.
  if (!options_.fresh) {
    run_dir_ = existing_ && !existing_->run_dir.empty() ? fs::path(existing_->run_dir) : spec.runs_dir / name_;
    check_paths();
  }
}

void Run::check_paths() const {
  inside(setup_.spec.runs_dir, run_dir_, "run directory");
  inside(run_dir_, run_dir_ / "checkpoints", "checkpoint folder");
  inside(run_dir_, run_dir_ / "experiment.toml", "experiment copy");
}

Run::~Run() = default;

RunOutcome Run::execute() {
  if (auto done = already_done()) return *done;
  if (existing_ && !changed_.empty())
    spdlog::warn("run {} resumes with a changed experiment ({}); kiln run --fresh starts another run instead", name_,
                 describe_keys(changed_));
  if (auto failed = record_start()) return *failed;
  return train();
}

std::optional<RunOutcome> Run::already_done() {
  if (!existing_) return std::nullopt;
  const ExperimentSpec& spec = setup_.spec;
  const auto checkpoints = store::list_checkpoints(store_.database(), existing_->id);
  if (checkpoints.empty() || checkpoints.back().step < spec.max_steps) return std::nullopt;
  // A run whose process ended without recording its end (crashed, or still 'running' with
  // its process gone) completed if its final checkpoint is the one its row describes;
  // otherwise it resumes from an older one. Other statuses stand as they are.
  const bool ended_unrecorded = existing_->status == "crashed" || existing_->status == "running";
  if (ended_unrecorded && !final_checkpoint_verified(checkpoints.back())) return std::nullopt;
  RunOutcome outcome;
  outcome.name = name_;
  outcome.device = device_line_;
  outcome.run_dir = run_dir_;
  outcome.status = "done";
  outcome.step = checkpoints.back().step;
  // A run that already reached max_steps stays as it is: no events, no status change; but
  // one killed after its last checkpoint, before its status was written, did complete.
  if (ended_unrecorded) {
    store_.complete_run(existing_->id, outcome.step,
                        fmt::format("marked completed: its process ended (the run was {}) after saving its final "
                                    "checkpoint at step {}, which is verified, before recording the end",
                                    existing_->status, outcome.step),
                        unix_now());
    outcome.marked_completed = true;
  }
  return outcome;
}

std::optional<RunOutcome> Run::record_start() {
  const ExperimentSpec& spec = setup_.spec;
  // A trial of kiln sweep: a bad KILN_SWEEP_ID is refused before the run has a row.
  const std::optional<std::int64_t> sweep_id = store::sweep_id_from_environment();
  if (sweep_id) store::require_sweep_id(store_.database(), *sweep_id);
  const std::string config = spec.document->to_toml();
  store::RunRecord record;
  record.name = name_;
  record.experiment = spec.file.string();
  record.config = config;
  record.config_hash = sha256_hex(config);
  record.host = store::local_host_name();
  record.kiln_version = KILN_VERSION_STRING;
  record.pid = static_cast<std::int64_t>(getpid());
  record.started = unix_now();
  record.run_dir = run_dir_.string();
  if (options_.fresh) {
    // The free name is chosen and taken in one transaction: fresh runs started together
    // never collide.
    run_id_ = store_.create_fresh_run(record, spec.runs_dir);
    name_ = record.name;
    run_dir_ = record.run_dir;
  } else if (existing_) {
    run_id_ = existing_->id;
  }
  try {
    if (options_.fresh) check_paths();
    fs::create_directories(run_dir_);
    common::write_file_atomically(run_dir_ / "experiment.toml", config);
  } catch (const std::exception& e) {
    // A fresh run's row exists already; a resumed run was not touched yet and stays as it was.
    if (options_.fresh) store_.finish_run(run_id_, "failed", error_text(e), unix_now());
    throw;
  }
  // The run has a row from here on (a new one gets it now): whatever fails marks it failed.
  if (!run_id_) run_id_ = store_.create_run(record);
  try {
    if (existing_) store_.resume_run(run_id_, record, spec.document->flatten());
    else store_.record_params(run_id_, spec.document->flatten());
    store_.record_plugins(run_id_, setup_.host.records());
    store_.record_summary_rules(run_id_, setup_.summary_rules);
    const Trainer& trainer = setup_.trainer;
    const DeviceDescription device = describe(trainer.device(), trainer.precision());
    store::RunEnvironment environment;
    environment.device = device.device;
    environment.device_name = device.name;
    environment.device_memory = device.memory_bytes;
    environment.torch_version = device.torch_version;
    environment.cuda_version = device.cuda_version;
    environment.cudnn_version = device.cudnn_version;
    environment.precision = device.precision;
    environment.world_size = setup_.world.size;
    environment.backend = setup_.world.distributed() ? options_.backend : "";
    if (setup_.world.distributed()) environment.hosts = options_.hosts;
    const std::string changed = store_.record_environment(run_id_, environment, unix_now());
    if (sweep_id) store::set_run_sweep(store_.database(), run_id_, *sweep_id);
    device_line_ = describe_line(device);
    if (!changed.empty()) spdlog::warn("run {} resumes in another environment: {}", name_, changed);
  } catch (const StoreError& e) {
    RunOutcome outcome;
    outcome.name = name_;
    outcome.run_dir = run_dir_;
    outcome.status = "failed";
    outcome.error = at_step(setup_.trainer.global_step(), e.what());
    outcome.unrecorded = record_final_status(store_, nullptr, run_id_, "failed", outcome.error);
    return outcome;
  }
  return std::nullopt;
}

RunOutcome Run::train() {
  const ExperimentSpec& spec = setup_.spec;
  Trainer& trainer = setup_.trainer;
  writer_ = std::make_unique<store::Writer>(spec.database);
  recorder_ = std::make_unique<StoreRecorder>(*writer_, run_id_);
  trainer.attach(*recorder_, name_, run_dir_);
  if (existing_)
    recorder_->event("resume", std::nullopt,
                     fmt::format("resuming run {} (it was {}){}", name_, existing_->status,
                                 changed_.empty() ? "" : fmt::format(" with a changed experiment: {}", describe_keys(changed_))));
  if (setup_.saver) setup_.saver->bind(*writer_, run_id_, run_dir_ / "checkpoints", options_.clock);
  if (options_.handle_signals) install_signal_handlers();

  RunOutcome outcome;
  outcome.name = name_;
  outcome.device = device_line_;
  outcome.run_dir = run_dir_;
  outcome.status = "completed";
  const auto started = std::chrono::steady_clock::now();
  try {
    // Restored before any hook begins: every hook's begin() sees the run's real step.
    if (setup_.saver) setup_.saver->restore_or_initialize(trainer);
    trainer.run();
    if (trainer.stop_requested()) {
      outcome.status = "stopped";
      outcome.stop_reason = trainer.stop_reason();
    }
  } catch (const std::exception& e) {
    outcome.status = "failed";
    outcome.error = at_step(trainer.global_step(), error_text(e));
    if (const std::string hook = trainer.failed_hook(); !hook.empty()) outcome.error += fmt::format(" (in {})", hook);
    if (!changed_.empty() && dynamic_cast<const CheckpointError*>(&e))
      outcome.error += fmt::format(" (the experiment changed since this run began: {}; its checkpoints are intact, and "
                                   "kiln run --fresh starts another run)", describe_keys(changed_));
    recorder_->event("failure", trainer.global_step(), outcome.error);
    // A save may still be writing (end() never ran): it needs the writer, which goes first.
    try {
      if (setup_.saver) setup_.saver->wait();
    } catch (const std::exception& e) {
      recorder_->event("failure", trainer.global_step(), e.what());
    }
  }
  try {
    writer_->flush();
  } catch (const std::exception& e) {
    if (outcome.status != "failed")
      outcome.error = fmt::format("step {}: summaries could not be recorded: {}", trainer.global_step(), e.what());
    outcome.status = "failed";
  }
  // The run's fate is decided: a stop signal from here on cannot change the exit code.
  if (options_.handle_signals) finishing_run();
  outcome.unrecorded = record_final_status(store_, writer_.get(), run_id_, outcome.status, outcome.error);
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  outcome.step = trainer.global_step();
  outcome.steps_run = trainer.steps_run();
  return outcome;
}

}  // namespace kiln::runner
