// The built-in tensorboard hook: the run's summaries and images as TensorBoard event files, live.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kiln/config.hpp"
#include "kiln/hook.hpp"
#include "train/recorder.hpp"

namespace kiln::runner {

namespace tensorboard {
class EventFileWriter;
}

/// Writes every scalar summary and image summary the run records to a TensorBoard events
/// file while it trains, as tf.summary.FileWriter did: a new file each time the run begins
/// (a resume adds one; TensorBoard reads every file of the folder, and drops the values a
/// resumed run recorded again), written and flushed by a thread of its own every
/// `flush_secs`, so that `tensorboard --logdir` shows the run live and the training thread
/// never waits for the disk. Only the main process writes (rank 0 of a data-parallel run).
/// Declared as a hook without a `library`:
///
///     [[hooks]]
///     plugin = "tensorboard"
///     dir = "tensorboard"   # relative: inside the run directory; absolute: a shared logdir,
///                           # which gets a folder per run (<dir>/<run name>)
///     flush_secs = 2        # at most this long between a value and its flush (up to 3600)
///     images = true         # image summaries too, not only scalars
///
/// A write that fails (a full disk) fails the run at its next step, naming the file.
class TensorboardHook final : public Hook, public RecordListener {
 public:
  /// The `plugin` name that declares it (with no `library`).
  static constexpr const char* kPlugin = "tensorboard";
  /// After every built-in hook (kiln::priority), so that its end() comes after theirs and
  /// writes what they record in their own.
  static constexpr int kPriority = priority::threads + 100;

  struct Options {
    std::filesystem::path dir = "tensorboard";
    double flush_secs = 2;
    bool images = true;

    /// The hook's [[hooks]] table; a bad value is a ConfigError at its key.
    static Options read(const Config& table);
  };

  explicit TensorboardHook(Options options);
  /// Writes what is still queued when end() did not run (a failed run), errors ignored.
  ~TensorboardHook() override;

  int default_priority() const override { return kPriority; }
  /// Opens a new events file and starts the writing thread, which writes first what was
  /// recorded before (the other hooks' begin(): an image grid of step 0). On a process other
  /// than the main one, drops it and records nothing.
  void begin(RunContext& run) override;
  /// Rethrows the writing thread's error, if it had one.
  void after_step(Step& step) override;
  /// Writes what is queued, syncs and closes the file.
  void end(RunContext& run) override;

  // RecordListener: queue, never write, on the recording thread.
  void recorded_summary(std::string_view tag, std::int64_t step, double value) override;
  void recorded_image(std::string_view tag, std::int64_t step, const std::string& path) override;

  /// The folder it writes to for `run_dir` and `run_name`.
  std::filesystem::path folder(const std::filesystem::path& run_dir, const std::string& run_name) const;
  /// The file this process writes (empty before begin() and on other ranks).
  std::filesystem::path file() const;

 private:
  struct Item {
    bool image = false;
    std::string tag;
    std::int64_t step = 0;
    double value = 0;
    std::string path;  ///< an image's file
    double wall_time = 0;
  };

  void write_loop();
  /// Writes `items` to the file and flushes it; on the writing thread.
  void write(const std::vector<Item>& items);
  void write_image(const Item& item);
  /// Stops the thread after it wrote what is queued; rethrows its error when `rethrow`.
  void stop(bool rethrow);
  void rethrow_error();

  Options options_;
  std::unique_ptr<tensorboard::EventFileWriter> events_;  // the writing thread's once begun
  std::thread thread_;
  mutable std::mutex mutex_;  // guards the members below
  std::condition_variable wake_;
  std::vector<Item> queue_;
  bool accepting_ = true;  // queue what is recorded: from the start until stopped, on the main process
  bool stopping_ = false;
  std::exception_ptr error_;
  std::filesystem::path file_;
  std::int64_t images_left_out_ = 0;
};

}  // namespace kiln::runner
