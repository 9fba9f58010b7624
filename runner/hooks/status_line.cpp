// StatusLine: one line of progress redrawn in place on a terminal, and the log sink that
// prints log lines above it instead of through it.
#include "hooks/status_line.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "hooks/progress.hpp"

namespace kiln::runner {
namespace {

constexpr const char* kEraseToEnd = "\x1b[K";

}  // namespace

StatusLine& StatusLine::on_stderr() {
  static StatusLine line(stderr);
  return line;
}

bool StatusLine::is_terminal() const { return isatty(fileno(stream_)) == 1; }

int StatusLine::width() const {
  winsize size{};
  if (ioctl(fileno(stream_), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return kDefaultWidth;
}

void StatusLine::show(std::string text) {
  std::lock_guard lock(mutex_);
  text_ = std::move(text);
  draw_locked();
}

void StatusLine::finish() {
  std::lock_guard lock(mutex_);
  if (shown_) put_locked("\n");
  shown_ = false;
  text_.clear();
}

void StatusLine::draw_locked() {
  if (text_.empty()) return;
  put_locked("\r" + fit_to_width(text_, width() - 1) + kEraseToEnd);
  shown_ = true;
}

void StatusLine::clear_locked() {
  if (!shown_) return;
  put_locked(std::string("\r") + kEraseToEnd);
  shown_ = false;
}

void StatusLine::put_locked(const std::string& bytes) {
  // One fwrite on an unbuffered stream is one write(2): the terminal never sees half a line.
  std::fwrite(bytes.data(), 1, bytes.size(), stream_);
  std::fflush(stream_);
}

void StatusLineSink::log(const spdlog::details::log_msg& message) {
  if (!inner_->should_log(message.level)) return;
  line_.print_above([&] {
    inner_->log(message);
    inner_->flush();
  });
}

void StatusLineSink::flush() { inner_->flush(); }

void StatusLineSink::set_pattern(const std::string& pattern) { inner_->set_pattern(pattern); }

void StatusLineSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  inner_->set_formatter(std::move(formatter));
}

void install_stderr_logger(const std::string& name) {
  auto inner = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto sink = std::make_shared<StatusLineSink>(std::move(inner), StatusLine::on_stderr());
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(name, std::move(sink)));
}

}  // namespace kiln::runner
