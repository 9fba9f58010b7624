// The built-in tensorboard hook: the run's summaries and images as TensorBoard event files, live.
#include "hooks/tensorboard.hpp"

#include <chrono>
#include <fstream>
#include <iterator>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "tensorboard/event_writer.hpp"
#include "tensorboard/image_header.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TensorboardHook::Options TensorboardHook::Options::read(const Config& table) {
  Options options;
  const std::string dir = table.get_or<std::string>("dir", options.dir.string());
  if (dir.empty()) table.fail("dir", "must name a folder, such as \"tensorboard\" (inside the run directory)");
  options.dir = fs::path(dir).lexically_normal();
  // A relative folder stays inside the run directory, as everything the run writes does.
  if (options.dir.is_relative() && (*options.dir.begin() == ".." || options.dir == "."))
    table.fail("dir", fmt::format("\"{}\" leaves the run directory; give a folder inside it (\"tensorboard\") or "
                                  "an absolute logdir shared by runs (\"/data/tensorboard\")",
                                  dir));
  // At most an hour: a longer wait overflows the clock's nanoseconds, and TensorBoard would
  // show nothing live anyway.
  options.flush_secs = table.get_in_range<double>("flush_secs", options.flush_secs, 0, 3600, Bounds::open_closed);
  options.images = table.get_or<bool>("images", options.images);
  return options;
}

TensorboardHook::TensorboardHook(Options options) : options_(std::move(options)) {}

TensorboardHook::~TensorboardHook() {
  try {
    stop(/*rethrow=*/false);
  } catch (const std::exception&) {
  }
}

fs::path TensorboardHook::folder(const fs::path& run_dir, const std::string& run_name) const {
  return options_.dir.is_absolute() ? options_.dir / run_name : run_dir / options_.dir;
}

fs::path TensorboardHook::file() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return file_;
}

void TensorboardHook::begin(RunContext& run) {
  if (!run.is_main_process()) {  // rank 0 writes; the others record nothing either
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
    queue_.clear();
    return;
  }
  if (thread_.joinable()) stop(/*rethrow=*/true);  // a second begin() in one process: a new file
  // Its own file each time the run begins: a resumed run adds one beside the earlier ones.
  events_ = std::make_unique<tensorboard::EventFileWriter>(
      tensorboard::EventFileWriter::create_in(folder(run.run_dir(), run.run_name()), unix_seconds()));
  events_->flush();  // the file version: TensorBoard lists the run from the start
  {
    std::lock_guard<std::mutex> lock(mutex_);
    file_ = events_->path();
    accepting_ = true;
    stopping_ = false;
  }
  thread_ = std::thread([this] { write_loop(); });
}

void TensorboardHook::after_step(Step&) { rethrow_error(); }

void TensorboardHook::end(RunContext&) { stop(/*rethrow=*/true); }

void TensorboardHook::recorded_summary(std::string_view tag, std::int64_t step, double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (accepting_) queue_.push_back({false, std::string(tag), step, value, {}, unix_seconds()});
}

void TensorboardHook::recorded_image(std::string_view tag, std::int64_t step, const std::string& path) {
  if (!options_.images) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (accepting_) queue_.push_back({true, std::string(tag), step, 0, path, unix_seconds()});
}

void TensorboardHook::write_loop() {
  const auto period = std::chrono::duration<double>(options_.flush_secs);
  std::vector<Item> items;
  for (bool last = false; !last;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, period, [this] { return stopping_; });
      last = stopping_;
      items.swap(queue_);
    }
    try {
      write(items);
      if (last) events_->close();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      accepting_ = false;  // nothing more is queued: the run fails at its next step
      return;
    }
    items.clear();
  }
}

void TensorboardHook::write(const std::vector<Item>& items) {
  for (const Item& item : items) {
    if (item.image) write_image(item);
    else events_->scalar(item.tag, item.step, static_cast<float>(item.value), item.wall_time);
  }
  events_->flush();
}

void TensorboardHook::write_image(const Item& item) {
  std::ifstream in(item.path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto header = in ? tensorboard::read_image_header(bytes) : std::nullopt;
  if (!header) {
    // An image is a picture of the run, not its record: a file gone or not PNG/JPEG is left
    // out with one warning, not a failed run.
    if (images_left_out_++ == 0)
      spdlog::warn("tensorboard: left out image '{}' at step {}: {} is not a readable PNG or JPEG file", item.tag,
                   item.step, item.path);
    return;
  }
  events_->image(item.tag, item.step, bytes, *header, item.wall_time);
}

void TensorboardHook::stop(bool rethrow) {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
    queue_.clear();
  }
  events_.reset();
  if (rethrow) rethrow_error();
}

void TensorboardHook::rethrow_error() {
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    error = std::exchange(error_, nullptr);
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace kiln::runner
