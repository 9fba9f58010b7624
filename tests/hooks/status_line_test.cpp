// StatusLine and StatusLineSink: the line redrawn in place, and log messages printed above it
// from any thread without ever mixing with it.
#include "hooks/status_line.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

namespace kiln::runner {
namespace {

const std::string kErase = "\x1b[K";

/// Writes formatted messages to a FILE*, the way spdlog's stderr sinks do.
class FileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit FileSink(std::FILE* file) : file_(file) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    spdlog::memory_buf_t text;
    formatter_->format(message, text);
    std::fwrite(text.data(), 1, text.size(), file_);
  }
  void flush_() override { std::fflush(file_); }

 private:
  std::FILE* file_;
};

/// A StatusLine and a logger through StatusLineSink, both on one temporary file.
class Screen {
 public:
  Screen() : file_(std::tmpfile()), line_(file_), inner_(std::make_shared<FileSink>(file_)) {
    logger_ = std::make_shared<spdlog::logger>("test", std::make_shared<StatusLineSink>(inner_, line_));
    logger_->set_pattern("%v");
    logger_->set_level(spdlog::level::trace);
  }
  ~Screen() { std::fclose(file_); }

  StatusLine& line() { return line_; }
  spdlog::logger& log() { return *logger_; }
  /// The sink StatusLineSink writes through.
  spdlog::sinks::sink& inner() { return *inner_; }

  /// Everything written so far.
  std::string text() {
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file_)) > 0;) out.append(buffer, n);
    std::fseek(file_, 0, SEEK_END);
    return out;
  }

 private:
  std::FILE* file_;
  StatusLine line_;
  std::shared_ptr<FileSink> inner_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST(status_line, draws_each_text_in_place_of_the_last) {
  Screen screen;
  screen.line().show("step 1/10");
  screen.line().show("step 2/10");
  EXPECT_EQ(screen.text(), "\rstep 1/10" + kErase + "\rstep 2/10" + kErase);
}

TEST(status_line, without_a_terminal_cuts_one_column_short_of_the_default_width) {
  Screen screen;
  EXPECT_FALSE(screen.line().is_terminal());
  EXPECT_EQ(screen.line().width(), StatusLine::kDefaultWidth);
  screen.line().show(std::string(100, 'x'));
  EXPECT_EQ(screen.text(), "\r" + std::string(StatusLine::kDefaultWidth - 1, 'x') + kErase);
}

TEST(status_line, finish_ends_a_shown_line_once_and_nothing_else) {
  Screen screen;
  screen.line().finish();
  EXPECT_EQ(screen.text(), "");
  screen.line().show("done");
  screen.line().finish();
  screen.line().finish();
  EXPECT_EQ(screen.text(), "\rdone" + kErase + "\n");
}

TEST(status_line, a_log_message_clears_the_line_prints_and_draws_it_again) {
  Screen screen;
  screen.line().show("step 5/10");
  screen.log().warn("checkpoint saved");
  EXPECT_EQ(screen.text(), "\rstep 5/10" + kErase + "\r" + kErase + "checkpoint saved\n\rstep 5/10" + kErase);
}

TEST(status_line, log_messages_before_and_after_the_line_print_alone) {
  Screen screen;
  screen.log().info("before");
  screen.line().show("step 10/10");
  screen.line().finish();
  screen.log().info("after");
  EXPECT_EQ(screen.text(), "before\n\rstep 10/10" + kErase + "\nafter\n");
}

TEST(status_line, a_message_the_inner_sink_filters_out_leaves_the_line_alone) {
  Screen screen;
  screen.inner().set_level(spdlog::level::warn);
  screen.line().show("step 1/2");
  screen.log().info("hidden");  // no clear and redraw for nothing: the line would flicker
  screen.log().warn("shown");
  EXPECT_EQ(screen.text(), "\rstep 1/2" + kErase + "\r" + kErase + "shown\n\rstep 1/2" + kErase);
}

TEST(status_line, messages_from_many_threads_never_mix_with_the_line) {
  Screen screen;
  screen.line().show("step 0/200");
  constexpr int kThreads = 3;
  constexpr int kMessages = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kMessages; ++i) screen.log().info("thread {} message {}", t, i);
    });
  for (int i = 1; i <= 200; ++i) screen.line().show("step " + std::to_string(i) + "/200");
  for (std::thread& thread : threads) thread.join();
  screen.line().finish();

  // The output is only whole draws ("\r<text>\x1b[K"), clears ("\r\x1b[K") and whole
  // messages ("<text>\n"), and every message comes right after a clear.
  const std::string text = screen.text();
  const std::regex token("\r([^\r\n\x1b]*)\x1b\\[K|([^\r\n\x1b]+)\n|\n");
  std::set<std::string> messages;
  bool cleared = false;
  std::size_t at = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), token), end; it != end; ++it) {
    ASSERT_EQ(static_cast<std::size_t>(it->position()), at) << "garbled output at byte " << at << ": "
                                                            << text.substr(at, 80);
    at += static_cast<std::size_t>(it->length());
    if ((*it)[2].matched) {
      EXPECT_TRUE(cleared) << "a message printed over the line: " << (*it)[2];
      EXPECT_TRUE(messages.insert((*it)[2]).second) << "printed twice: " << (*it)[2];
    }
    cleared = (*it)[1].matched && (*it)[1].length() == 0;
  }
  EXPECT_EQ(at, text.size());
  EXPECT_EQ(messages.size(), static_cast<std::size_t>(kThreads * kMessages));
  const std::string last = "\rstep 200/200" + kErase + "\n";
  EXPECT_EQ(text.substr(text.size() - std::min(text.size(), last.size())), last);
}

}  // namespace
}  // namespace kiln::runner
