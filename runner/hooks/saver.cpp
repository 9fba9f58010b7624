// The built-in saver: restore-or-initialize, atomic checkpoints written in the background,
// and tf.train.Saver's retention with the store as the source of truth.
#include "hooks/saver.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include "hooks/checkpoint_file.hpp"
#include "hooks/retention.hpp"
#include "hooks/signals.hpp"
#include "common/atomic_file.hpp"
#include "store/checkpoints.hpp"
#include "store/run_ref.hpp"
#include "store/writer.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;

TensorMap to_map(CheckpointEntries entries) {
  TensorMap map("checkpoint");
  for (auto& [name, tensor] : entries) map.set(name, std::move(tensor));
  return map;
}

/// Writes `text` to `path` atomically; a failure is the saver's, a CheckpointError.
void replace_file(const fs::path& path, const std::string& text) {
  try {
    common::write_file_atomically(path, text);
  } catch (const Error& e) {
    throw CheckpointError(e.what());
  }
}

/// The first model tensor of a snapshot that holds a NaN or an infinity, or "".
std::string first_non_finite(const TensorMap& snapshot) {
  for (const auto& [name, tensor] : snapshot)
    if (name.rfind("model/", 0) == 0 && tensor.is_floating_point() && !torch::isfinite(tensor).all().item<bool>())
      return name;
  return "";
}

}  // namespace

Saver::Options Saver::Options::read(const Config& table) {
  Options options;
  options.enabled = table.get_or<bool>("enabled", true);
  options.every_steps = table.get_non_negative<std::int64_t>("every_steps", 0);
  options.every_secs = table.get_non_negative<double>("every_secs", options.every_steps > 0 ? 0.0 : 600.0);
  options.max_to_keep = table.get_non_negative<std::int64_t>("max_to_keep", 5);
  options.keep_every_hours = table.get_non_negative<double>("keep_every_hours", 0.0);
  return options;
}

Saver::Saver(Options options, SaverContext context) : options_(std::move(options)), context_(std::move(context)) {
  if (!context_.dir.empty()) context_.dir = fs::absolute(context_.dir);
}

Saver::~Saver() {
  if (writing_.joinable()) writing_.join();
}

double Saver::now() const {
  if (context_.clock) return context_.clock();
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Saver::event(std::int64_t step, const std::string& kind, const std::string& message) {
  context_.writer->event(context_.run_id, kind, step, message, now());
}

void Saver::bind(store::Writer& writer, std::int64_t run_id, fs::path dir, std::function<double()> clock) {
  context_.writer = &writer;
  context_.run_id = run_id;
  context_.dir = fs::absolute(dir);
  if (clock) context_.clock = std::move(clock);
}

void Saver::prepare(RunContext&) {
  if (!context_.init_from.source.empty()) init_from_checkpoint();
}

void Saver::restore_or_initialize(RunContext& run) {
  if (!context_.writer) throw Error("the saver restores a run only once the run has bound it");
  fs::create_directories(context_.dir);
  clean_leftovers();
  if (!restore_latest(run)) initialize(run);
}

void Saver::begin(RunContext& run) {
  if (!context_.writer) throw Error("the saver saves a run only once the run has bound it");
  last_saved_step_ = run.global_step();
  last_save_time_ = std::chrono::steady_clock::now();
  if (options_.keep_every_hours > 0) {
    // tf.train.Saver starts its keep-every-hours clock when it is created; kiln keeps that
    // deadline in the store, so a resumed run goes on with the same one.
    const double first_deadline = now() + options_.keep_every_hours * 3600.0;
    const std::int64_t run_id = context_.run_id;
    context_.writer->commit_durably([run_id, first_deadline](store::Database& db) {
      if (!store::next_keep_time(db, run_id)) store::set_next_keep_time(db, run_id, first_deadline);
    });
  }
}

void Saver::clean_leftovers() {
  // Temp files of writes a killed process never finished.
  for (const auto& entry : fs::directory_iterator(context_.dir))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) fs::remove(entry.path());
  // Files whose rows say deleted, when the process died between the row and the unlink.
  store::Database db(context_.database, store::OpenMode::read_only);
  for (const store::CheckpointRow& row : store::list_checkpoints(db, context_.run_id, /*include_deleted=*/true)) {
    std::error_code ec;
    if (row.deleted) fs::remove(row.path, ec);
  }
}

bool Saver::restore_latest(RunContext& run) {
  std::vector<store::CheckpointRow> rows;
  {
    store::Database db(context_.database, store::OpenMode::read_only);
    rows = store::list_checkpoints(db, context_.run_id);
  }
  for (auto row = rows.rbegin(); row != rows.rend(); ++row) {
    CheckpointEntries entries;
    try {
      entries = read_checkpoint(row->path, row->sha256);
    } catch (const CheckpointError& e) {
      // A corrupt or missing file is never trusted again: its row is marked deleted.
      event(row->step, "fallback", fmt::format("{}; falling back to an older checkpoint", e.what()));
      const std::int64_t run_id = context_.run_id, step = row->step;
      const double when = now();
      context_.writer->commit_durably(
          [run_id, step, when](store::Database& db) { store::mark_deleted(db, run_id, step, when); });
      std::error_code ec;
      fs::remove(row->path, ec);
      continue;
    }
    run.restore_state(to_map(std::move(entries)));
    restored_step_ = row->step;
    event(row->step, "restore", fmt::format("restored step {} from {}", row->step, row->path));
    return true;
  }
  return false;
}

std::pair<fs::path, std::string> Saver::init_from_checkpoint() const {
  const InitFromSpec& init = context_.init_from;
  if (fs::is_regular_file(init.source)) return {init.source, ""};
  // Not a file: a run's name, and its latest (or chosen) checkpoint.
  const auto missing = [&] {
    init.config.fail("init_from", fmt::format("no checkpoint file or run named '{}' (database {})", init.source,
                                              context_.database.string()));
  };
  if (!fs::is_regular_file(context_.database)) missing();
  store::Database db(context_.database, store::OpenMode::read_only);
  const std::optional<std::int64_t> source = store::find_run_id(db, init.source);
  if (!source) missing();
  const auto rows = store::list_checkpoints(db, *source);
  const store::CheckpointRow* chosen = nullptr;
  for (const auto& row : rows)
    if (!init.step || row.step == *init.step) chosen = &row;
  if (!chosen)
    init.config.fail("init_from", init.step ? fmt::format("run '{}' has no checkpoint at step {}", init.source, *init.step)
                                            : fmt::format("run '{}' has no checkpoint", init.source));
  return {chosen->path, chosen->sha256};
}

void Saver::initialize(RunContext& run) {
  const InitFromSpec& init = context_.init_from;
  if (init.source.empty()) {
    event(run.global_step(), "initialize", "no checkpoint yet: parameters initialized from the seed");
    return;
  }
  const auto [file, sha256] = init_from_checkpoint();
  const std::vector<std::string> skipped = run.load_model_weights(to_map(read_checkpoint(file, sha256)), init.strict);
  std::string message = fmt::format("no checkpoint yet: weights initialized from {}", file.string());
  if (!skipped.empty()) message += fmt::format("; skipped {}", fmt::join(skipped, ", "));
  event(run.global_step(), "init_from", message);
}

void Saver::after_step(Step& step) {
  RunContext& run = step.run();
  const std::int64_t k = run.global_step();
  std::string reason;
  if (take_snapshot_signal()) {
    event(k, "signal", "SIGHUP received: saving a snapshot");
    reason = "snapshot";
  } else if (options_.every_steps > 0 && k % options_.every_steps == 0) {
    reason = "steps";
  } else if (options_.every_secs > 0 &&
             std::chrono::duration<double>(std::chrono::steady_clock::now() - last_save_time_).count() >= options_.every_secs) {
    reason = "time";
  }
  if (!reason.empty()) save(run, reason);
}

void Saver::end(RunContext& run) {
  if (run.global_step() != last_saved_step_) save(run, run.stop_requested() ? "stop" : "end");
  wait();
}

void Saver::save(RunContext& run, const std::string& reason) {
  wait();
  TensorMap snapshot = run.capture_state();
  const std::int64_t step = run.global_step();
  const double created = now();
  last_saved_step_ = step;
  last_save_time_ = std::chrono::steady_clock::now();
  writing_ = std::thread([this, snapshot = std::move(snapshot), step, reason, created] {
    try {
      write(snapshot, step, reason, created);
    } catch (...) {
      write_error_ = std::current_exception();
    }
  });
}

void Saver::wait() {
  if (writing_.joinable()) writing_.join();
  if (write_error_) std::rethrow_exception(std::exchange(write_error_, nullptr));
}

void Saver::write(const TensorMap& snapshot, std::int64_t step, const std::string& reason, double created) {
  if (const std::string bad = first_non_finite(snapshot); !bad.empty()) {
    event(step, "nan", fmt::format("checkpoint at step {} not saved: {} is not finite", step, bad));
    return;
  }
  CheckpointEntries entries(snapshot.begin(), snapshot.end());
  const fs::path path = context_.dir / fmt::format("ckpt-{}.kiln", step);
  WrittenCheckpoint written;
  try {
    written = write_checkpoint(path, entries);
  } catch (const CheckpointError& e) {
    throw CheckpointError(fmt::format("checkpoint at step {} was not saved ({}); earlier checkpoints are intact",
                                      step, e.what()));
  }

  // The row commits after every summary queued before the snapshot, durably; retention is
  // decided in the same transaction, from the rows, so a crash leaves it consistent.
  std::vector<std::string> doomed;
  const Options options = options_;
  const std::int64_t run_id = context_.run_id;
  const auto record = [&](store::Database& db) {
    doomed.clear();  // a retried transaction runs this again
    store::CheckpointRow row;
    row.run_id = run_id;
    row.step = step;
    row.path = written.path.string();
    row.bytes = static_cast<std::int64_t>(written.bytes);
    row.sha256 = written.sha256;
    row.created = created;
    row.reason = reason;
    row.kept = "max_to_keep";
    store::insert_checkpoint(db, row);

    std::vector<RecentCheckpoint> recent;
    std::map<std::int64_t, std::string> paths;
    for (const store::CheckpointRow& r : store::list_checkpoints(db, run_id))
      if (r.kept == "max_to_keep") {
        recent.push_back({r.step, r.created});
        paths[r.step] = r.path;
      }
    const double deadline = store::next_keep_time(db, run_id).value_or(created + options.keep_every_hours * 3600.0);
    const RetentionDecision decision = apply_retention(recent, options.max_to_keep, options.keep_every_hours, deadline);
    for (std::int64_t s : decision.keep_hours) store::set_kept(db, run_id, s, "keep_every_hours");
    for (std::int64_t s : decision.remove) {
      store::mark_deleted(db, run_id, s, created);
      doomed.push_back(paths[s]);
    }
    if (options.keep_every_hours > 0) store::set_next_keep_time(db, run_id, decision.next_keep_time);
  };
  try {
    context_.writer->commit_durably(record);
  } catch (const StoreError& e) {
    // Nothing of the row is in the database: a file without one would be a checkpoint that
    // no restore trusts and no retention deletes. `latest` still names the previous one.
    std::error_code ec;
    fs::remove(written.path, ec);
    throw StoreError(fmt::format("checkpoint at step {} could not be recorded ({}); its file was removed and "
                                 "earlier checkpoints are intact", step, e.what()),
                     e.code());
  }
  for (const std::string& file : doomed) {
    std::error_code ec;
    fs::remove(file, ec);
  }
  replace_file(context_.dir / "latest", written.path.filename().string() + "\n");
  event(step, "save", fmt::format("saved step {} to {} ({:.1f} MB, {})", step, written.path.string(),
                                  static_cast<double>(written.bytes) / 1e6, reason));
}

}  // namespace kiln::runner
