// Headless Chromium over the DevTools protocol on a pipe: open a page, wait for a condition in it.
#include "devtools_browser.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../report/chromium.hpp"
#include "store/json_text.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using runner::store::json_string;

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The string value of the first `"key":"..."` in a DevTools message (compact JSON, as
/// Chromium writes it), unescaped; none when the message has no such string field.
std::optional<std::string> string_field(const std::string& message, const std::string& key) {
  const std::string opening = "\"" + key + "\":\"";
  const auto start = message.find(opening);
  if (start == std::string::npos) return std::nullopt;
  auto end = start + opening.size();
  while (end < message.size() && message[end] != '"') end += message[end] == '\\' ? 2 : 1;
  // The token is one JSON string: the store's reader of string arrays unescapes it.
  const auto strings = runner::store::parse_json_string_array(
      "[" + message.substr(start + opening.size() - 1, end - start - opening.size() + 2) + "]");
  if (!strings || strings->size() != 1) return std::nullopt;
  return strings->front();
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

void write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("DevTools pipe: write failed: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

DevToolsBrowser::DevToolsBrowser(const fs::path& binary, const fs::path& work_dir)
    : log_(work_dir / "devtools-chromium.log") {
  // A browser that died must fail a write with EPIPE, not end the test process.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args = {binary.string()};
  for (const std::string& flag : headless_flags(work_dir / "devtools-profile")) args.push_back(flag);
  args.push_back("--remote-debugging-pipe");
  args.push_back("about:blank");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("DevTools pipe: ") + std::strerror(errno));
  const std::string log = log_.string();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    // The protocol's fds are 3 (commands in) and 4 (answers out); moved up first so that
    // dup2 never meets an fd already there, and dup2 clears close-on-exec on the copies.
    const int in = ::fcntl(to_child[0], F_DUPFD_CLOEXEC, 10);
    const int out = ::fcntl(from_child[1], F_DUPFD_CLOEXEC, 10);
    if (in < 0 || out < 0 || ::dup2(in, 3) < 0 || ::dup2(out, 4) < 0) ::_exit(126);
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0)
      ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  to_browser_ = to_child[1];
  from_browser_ = from_child[0];

  const auto timeout = std::chrono::seconds(60);  // a cold start on a busy two-core machine
  const std::string target = call("Target.createTarget", R"({"url":"about:blank"})", timeout, true);
  const auto target_id = string_field(target, "targetId");
  if (!target_id) throw std::runtime_error("DevTools: no targetId in " + target);
  const std::string attached =
      call("Target.attachToTarget", R"({"targetId":)" + json_string(*target_id) + R"(,"flatten":true})", timeout, true);
  const auto session = string_field(attached, "sessionId");
  if (!session) throw std::runtime_error("DevTools: no sessionId in " + attached);
  session_ = *session;
  call("Page.enable", "{}", timeout);
}

DevToolsBrowser::~DevToolsBrowser() {
  if (pid_ <= 0) return;
  try {
    call("Browser.close", "{}", std::chrono::seconds(10), true);
  } catch (const std::exception&) {
    // Killed below.
  }
  ::close(to_browser_);
  ::close(from_browser_);
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string DevToolsBrowser::next_message(Clock::time_point deadline) {
  for (;;) {
    const auto end = pending_.find('\0');
    if (end != std::string::npos) {
      std::string message = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      return message;
    }
    pollfd ready{from_browser_, POLLIN, 0};
    const int n = ::poll(&ready, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) throw std::runtime_error("DevTools: no answer in time; Chromium's log:\n" + slurp(log_));
    char buffer[65536];
    const ssize_t got = ::read(from_browser_, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw std::runtime_error("DevTools: Chromium closed its pipe; its log:\n" + slurp(log_));
    pending_.append(buffer, static_cast<std::size_t>(got));
  }
}

std::string DevToolsBrowser::call(const std::string& method, const std::string& params,
                                  std::chrono::milliseconds timeout, bool browser_level) {
  const int id = next_id_++;
  std::string message =
      "{\"id\":" + std::to_string(id) + ",\"method\":" + json_string(method) + ",\"params\":" + params;
  if (!browser_level) message += ",\"sessionId\":" + json_string(session_);
  write_all(to_browser_, message + "}" + std::string(1, '\0'));
  // Answers begin with their id; events (with "method" first) that arrive meanwhile are kept
  // for wait_for_event.
  const std::string prefix = "{\"id\":" + std::to_string(id) + ",";
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::string answer = next_message(deadline);
    if (answer.compare(0, prefix.size(), prefix) != 0) {
      if (answer.compare(0, 10, "{\"method\":") == 0) events_.push_back(std::move(answer));
      continue;
    }
    if (answer.compare(prefix.size(), 8, "\"error\":") == 0)
      throw std::runtime_error("DevTools: " + method + " failed: " + answer);
    return answer;
  }
}

void DevToolsBrowser::wait_for_event(const std::string& method, Clock::time_point deadline) {
  const std::string prefix = "{\"method\":" + json_string(method) + ",";
  const auto wanted = [&](const std::string& message) {
    return message.compare(0, prefix.size(), prefix) == 0 && string_field(message, "sessionId") == session_;
  };
  for (auto kept = events_.begin(); kept != events_.end(); ++kept)
    if (wanted(*kept)) {
      events_.erase(events_.begin(), kept + 1);
      return;
    }
  events_.clear();
  while (!wanted(next_message(deadline))) {
  }
}

void DevToolsBrowser::open(const std::string& url, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  events_.clear();  // the last page's, which must not count as this one's load
  const std::string answer = call("Page.navigate", R"({"url":)" + json_string(url) + "}", timeout);
  if (const auto error = string_field(answer, "errorText"))
    throw std::runtime_error("cannot open " + url + ": " + *error);
  wait_for_event("Page.loadEventFired", deadline);
}

std::string DevToolsBrowser::evaluate(const std::string& expression, std::chrono::milliseconds timeout) {
  const std::string answer =
      call("Runtime.evaluate",
           R"({"expression":)" + json_string(expression) + R"(,"awaitPromise":true,"returnByValue":true})", timeout);
  if (answer.find("\"exceptionDetails\":") != std::string::npos)
    throw std::runtime_error("the page threw evaluating " + expression + ": " + answer);
  const auto value = string_field(answer, "value");
  if (!value) throw std::runtime_error("not a string: " + expression + " gave " + answer);
  return *value;
}

std::string DevToolsBrowser::dom_when(const std::string& condition, std::chrono::milliseconds timeout) {
  // The page checks on its own clock and answers either way; the call's own timeout is a
  // margin above that, for a page too busy to answer at all.
  const std::string marker = "condition still false: ";
  const std::string wait =
      "new Promise((resolve) => { const until = Date.now() + " + std::to_string(timeout.count()) +
      "; const check = () => { let holds = false; try { holds = !!(" + condition +
      "); } catch (e) {} const dom = document.documentElement.outerHTML; if (holds) resolve(dom); else if "
      "(Date.now() > until) resolve(" + json_string(marker) + " + dom); else setTimeout(check, 50); }; check(); })";
  std::string dom = evaluate(wait, timeout + std::chrono::seconds(30));
  if (dom.compare(0, marker.size(), marker) == 0)
    throw std::runtime_error("after " + std::to_string(timeout.count()) + " ms, " + condition +
                             " is still false; the page:\n" + dom.substr(marker.size()));
  return dom;
}

}  // namespace kiln::test
