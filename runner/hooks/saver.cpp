// The built-in saver: restore-or-initialize, atomic checkpoints written in the background,
// and tf.train.Saver's retention with the store as the source of truth.
#include "hooks/saver.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "hooks/checkpoint_file.hpp"
#include "hooks/retention.hpp"
#include "hooks/signals.hpp"
#include "common/atomic_file.hpp"
#include "store/checkpoints.hpp"
#include "store/run_ref.hpp"
#include "store/writer.hpp"
#include "train/state.hpp"

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

/// tf.train.Saver's retention over the run's recent checkpoints (kept = "max_to_keep"), in
/// the caller's transaction; the files to delete once it commits.
std::vector<std::string> retain(store::Database& db, std::int64_t run_id, const Saver::Options& options,
                                double created) {
  std::vector<RecentCheckpoint> recent;
  std::map<std::int64_t, std::string> paths;
  for (const store::CheckpointRow& r : store::list_checkpoints(db, run_id))
    if (r.kept == store::kKeptRecent) {
      recent.push_back({r.step, r.created});
      paths[r.step] = r.path;
    }
  const double deadline = store::next_keep_time(db, run_id).value_or(created + options.keep_every_hours * 3600.0);
  const RetentionDecision decision = apply_retention(recent, options.max_to_keep, options.keep_every_hours, deadline);
  for (std::int64_t s : decision.keep_hours) store::set_kept(db, run_id, s, "keep_every_hours");
  std::vector<std::string> doomed;
  for (std::int64_t s : decision.remove) {
    store::mark_deleted(db, run_id, s, created);
    doomed.push_back(paths[s]);
  }
  if (options.keep_every_hours > 0) store::set_next_keep_time(db, run_id, decision.next_keep_time);
  return doomed;
}

void remove_files(const std::vector<std::string>& files) {
  for (const std::string& file : files) {
    std::error_code ec;
    fs::remove(file, ec);
  }
}

/// A reason to keep a checkpoint for: a word of its own, not one of retention's.
void check_keep_reason(std::string_view reason) {
  const bool word = !reason.empty() && std::all_of(reason.begin(), reason.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!word || reason == store::kKeptRecent || reason == "keep_every_hours")
    throw Error(fmt::format("cannot keep a checkpoint for '{}': a reason is a lowercase word (a-z, 0-9, _) other "
                            "than max_to_keep and keep_every_hours, such as \"best\"", reason));
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

void Saver::prepare(RunContext& run) {
  const InitFromSpec& init = context_.init_from;
  if (init.source.empty()) return;
  const auto [file, sha256] = init_from_checkpoint();
  // A strict init_from must fit the model: found now, before the run's row exists (and by
  // kiln validate), not when the run begins. A run that resumes from its own checkpoints
  // does not use it. The weights read are kept for initialize().
  if (!init.strict || run_has_checkpoints()) return;
  init_weights_ = to_map(read_checkpoint(file, sha256));
  if (const std::string misfit = model_misfit(run.model(), *init_weights_); !misfit.empty())
    init.config.fail(init.config.contains("from") ? "from" : "init_from",
                     fmt::format("the checkpoint {} does not fit this experiment's model; {} (strict = false loads "
                                 "what fits and skips the rest)",
                                 file.string(), misfit));
}

bool Saver::run_has_checkpoints() const {
  if (context_.run_name.empty() || !fs::is_regular_file(context_.database)) return false;
  store::Database db(context_.database, store::OpenMode::read_only);
  const std::optional<std::int64_t> id = store::find_run_id(db, context_.run_name);
  return id && !store::list_checkpoints(db, *id).empty();
}

void Saver::restore_or_initialize(RunContext& run) {
  if (!context_.writer) throw Error("the saver restores a run only once the run has bound it");
  fs::create_directories(context_.dir);
  clean_leftovers();
  if (!restore_latest(run)) initialize(run);
}

void Saver::begin(RunContext& run) {
  if (!context_.writer) throw Error("the saver saves a run only once the run has bound it");
  run_ = &run;
  last_saved_step_ = run.global_step();
  turn_step_ = run.global_step();
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
  if (fs::is_regular_file(init.source)) {
    if (init.best)
      init.config.fail("best", fmt::format("best = true takes a run's name in `from`, and '{}' is a file",
                                           init.source));
    return {init.source, ""};
  }
  // Not a file: a run's name, and its latest (or chosen) checkpoint. An error about the name
  // is at `init_from = "run"`, or at the table's `from`.
  const std::string from_key = init.config.contains("from") ? "from" : "init_from";
  const auto missing = [&] {
    init.config.fail(from_key, fmt::format("no checkpoint file or run named '{}' (database {})", init.source,
                                           context_.database.string()));
  };
  if (!fs::is_regular_file(context_.database)) missing();
  store::Database db(context_.database, store::OpenMode::read_only);
  const std::optional<std::int64_t> source = store::find_run_id(db, init.source);
  if (!source) missing();
  if (init.best) {
    const std::optional<store::CheckpointRow> best = store::kept_checkpoint(db, *source, store::kKeptBest);
    if (!best)
      init.config.fail("best", fmt::format("run '{}' has no checkpoint kept as best (an [early_stopping] table with "
                                           "keep_best = true keeps one)", init.source));
    return {best->path, best->sha256};
  }
  const auto rows = store::list_checkpoints(db, *source);
  const store::CheckpointRow* chosen = nullptr;
  for (const auto& row : rows)
    if (!init.step || row.step == *init.step) chosen = &row;
  if (!chosen) {
    if (init.step) init.config.fail("step", fmt::format("run '{}' has no checkpoint at step {}", init.source, *init.step));
    init.config.fail(from_key, fmt::format("run '{}' has no checkpoint", init.source));
  }
  return {chosen->path, chosen->sha256};
}

void Saver::initialize(RunContext& run) {
  const InitFromSpec& init = context_.init_from;
  if (init.source.empty()) {
    event(run.global_step(), "initialize", "no checkpoint yet: parameters initialized from the seed");
    return;
  }
  const auto [file, sha256] = init_from_checkpoint();
  const TensorMap weights = init_weights_ ? std::move(*init_weights_) : to_map(read_checkpoint(file, sha256));
  init_weights_.reset();
  const std::vector<std::string> skipped = run.load_model_weights(weights, init.strict);
  std::string message = fmt::format("no checkpoint yet: weights initialized from {}", file.string());
  if (!skipped.empty()) message += fmt::format("; skipped {}", fmt::join(skipped, ", "));
  event(run.global_step(), "init_from", message);
}

void Saver::keep(std::int64_t step, std::string_view reason) {
  check_keep_reason(reason);
  if (step <= turn_step_) {
    // Asked after the saver's turn at that step: the checkpoint it saved there, or one
    // written now when that step is the current one.
    if (step == last_saved_step_) keep_written(step, {std::string(reason)});
    else if (step == turn_step_ && run_ && run_->global_step() == step) save(*run_, std::string(reason), {std::string(reason)});
    else throw Error(fmt::format("cannot keep a checkpoint of step {} for '{}': the run is past that step and saved "
                                 "none at it", step, reason));
    return;
  }
  if (step != keep_step_) {
    keeps_.clear();
    keep_step_ = step;
  }
  if (std::find(keeps_.begin(), keeps_.end(), reason) == keeps_.end()) keeps_.emplace_back(reason);
}

std::vector<std::string> Saver::take_keeps(std::int64_t step) {
  std::vector<std::string> keeps;
  if (keep_step_ == step) keeps = std::move(keeps_);
  keeps_.clear();
  keep_step_ = -1;
  return keeps;
}

void Saver::after_step(Step& step) {
  RunContext& run = step.run();
  const std::int64_t k = run.global_step();
  std::vector<std::string> keeps = take_keeps(k);
  turn_step_ = k;
  std::string reason;
  if (take_snapshot_signal()) {
    event(k, "signal", "SIGHUP received: saving a snapshot");
    reason = "snapshot";
  } else if (options_.every_steps > 0 && k % options_.every_steps == 0) {
    reason = "steps";
  } else if (options_.every_secs > 0 &&
             std::chrono::duration<double>(std::chrono::steady_clock::now() - last_save_time_).count() >= options_.every_secs) {
    reason = "time";
  } else if (!keeps.empty()) {
    reason = keeps.front();
  }
  if (!reason.empty()) save(run, reason, std::move(keeps));
}

void Saver::end(RunContext& run) {
  const std::int64_t k = run.global_step();
  std::vector<std::string> keeps = take_keeps(k);
  turn_step_ = k;
  if (k != last_saved_step_) save(run, run.stop_requested() ? "stop" : "end", std::move(keeps));
  else if (!keeps.empty()) keep_written(k, keeps);
  wait();
}

void Saver::save(RunContext& run, const std::string& reason, std::vector<std::string> keeps) {
  wait();
  TensorMap snapshot = run.capture_state();
  const std::int64_t step = run.global_step();
  const double created = now();
  last_saved_step_ = step;
  last_save_time_ = std::chrono::steady_clock::now();
  writing_ = std::thread([this, snapshot = std::move(snapshot), step, reason, keeps = std::move(keeps), created] {
    try {
      write(snapshot, step, reason, keeps, created);
    } catch (...) {
      write_error_ = std::current_exception();
    }
  });
}

void Saver::keep_written(std::int64_t step, const std::vector<std::string>& keeps) {
  wait();  // the checkpoint's row is recorded once its write ends
  std::vector<std::string> doomed;
  bool found = true;
  const Options options = options_;
  const std::int64_t run_id = context_.run_id;
  const double when = now();
  context_.writer->commit_durably([&](store::Database& db) {
    doomed.clear();  // a retried transaction runs this again
    found = true;
    for (const std::string& reason : keeps) found = store::keep_for(db, run_id, step, reason) && found;
    if (found) doomed = retain(db, run_id, options, when);
  });
  remove_files(doomed);
  if (!found)
    event(step, "keep", fmt::format("no checkpoint of step {} to keep for {}: none was saved at that step", step,
                                    fmt::join(keeps, ", ")));
}

void Saver::wait() {
  if (writing_.joinable()) writing_.join();
  if (write_error_) std::rethrow_exception(std::exchange(write_error_, nullptr));
}

void Saver::write(const TensorMap& snapshot, std::int64_t step, const std::string& reason,
                  const std::vector<std::string>& keeps, double created) {
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

  // The row commits after every summary queued before the snapshot, durably; what is kept
  // (the reasons hooks asked for move to this checkpoint) and retention are decided in the
  // same transaction, from the rows, so a crash leaves it consistent and a failed write
  // leaves the checkpoints kept before intact.
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
    row.kept = store::kKeptRecent;
    store::insert_checkpoint(db, row);
    for (const std::string& keep : keeps) store::keep_for(db, run_id, step, keep);
    doomed = retain(db, run_id, options, created);
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
  remove_files(doomed);
  replace_file(context_.dir / "latest", written.path.filename().string() + "\n");
  event(step, "save", fmt::format("saved step {} to {} ({:.1f} MB, {}{})", step, written.path.string(),
                                  static_cast<double>(written.bytes) / 1e6, reason,
                                  keeps.empty() ? "" : fmt::format(", kept as {}", fmt::join(keeps, ", "))));
}

}  // namespace kiln::runner
