// StatusLine: one line of progress redrawn in place on a terminal, and the log sink that
// prints log lines above it instead of through it.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/sinks/sink.h>

namespace kiln::runner {

/// A line redrawn in place on `stream` ("\r", the text cut to the terminal's width, erase
/// to the end of the line), as progress bars do. Thread-safe. Anything else printed to the
/// same stream must go through print_above(), which clears the line, prints, and draws it
/// again; StatusLineSink does that for log messages.
///
///     StatusLine& line = StatusLine::on_stderr();
///     line.show("step 10/100  ETA 0:00:09");  // replaces what the line showed
///     line.finish();                          // ends it with a newline
class StatusLine {
 public:
  /// The width used when the stream is not a terminal or the terminal does not say.
  static constexpr int kDefaultWidth = 80;

  explicit StatusLine(std::FILE* stream) : stream_(stream) {}
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;

  /// The line on stderr that the supervisor draws and install_stderr_logger()'s logger avoids.
  static StatusLine& on_stderr();

  /// True when the stream is a terminal (isatty).
  bool is_terminal() const;
  /// The terminal's width in columns (TIOCGWINSZ), read on each call so a resize counts;
  /// kDefaultWidth when there is none.
  int width() const;

  /// Draws `text` in place of what the line showed. It is cut one column short of the
  /// width, since writing the last column makes some terminals wrap.
  void show(std::string text);
  /// Ends a shown line with a newline, so it stays on screen and what follows starts
  /// below it; the next show() starts a new line. Does nothing when nothing is shown.
  void finish();

  /// Runs `write` (which prints to the same stream) with the line cleared, then draws it again.
  template <class Write>
  void print_above(Write&& write) {
    std::lock_guard lock(mutex_);
    clear_locked();
    write();
    draw_locked();
  }

 private:
  void draw_locked();
  void clear_locked();
  void put_locked(const std::string& bytes);

  std::FILE* stream_;
  std::mutex mutex_;
  std::string text_;    // what show() asked for; empty once finished
  bool shown_ = false;  // the cursor is at the end of a drawn line
};

/// A log sink that writes through another one with a StatusLine out of the way: the line is
/// cleared before each message and drawn again after it, from whichever thread logs.
class StatusLineSink final : public spdlog::sinks::sink {
 public:
  StatusLineSink(std::shared_ptr<spdlog::sinks::sink> inner, StatusLine& line)
      : inner_(std::move(inner)), line_(line) {}

  void log(const spdlog::details::log_msg& message) override;
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
  StatusLine& line_;
};

/// Makes spdlog's default logger, named `name`, print to stderr (in color on a terminal)
/// around StatusLine::on_stderr(), so log lines and the supervisor's status line never mix.
void install_stderr_logger(const std::string& name);

}  // namespace kiln::runner
