// Headless Chromium driven over the DevTools protocol, for pages that must run in real time.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace kiln::test {

/// One headless Chromium with one page, driven through --remote-debugging-pipe (JSON messages
/// ended by '\0' on the child's fds 3 and 4). Why not `chromium --dump-dom`: it serializes the
/// DOM at the load event, and --virtual-time-budget, the one flag that makes it wait longer,
/// fast-forwards the page's clock, so a page that polls once a second makes ten polls in a
/// fraction of a real second, while a run writing in the background is frozen in comparison.
/// Here the page runs on the wall clock and the test waits for a condition in the page itself.
///
///     DevToolsBrowser browser(KILN_CHROMIUM, dir.path());
///     browser.open("http://127.0.0.1:6006/run/1");
///     const std::string dom = browser.dom_when("document.body.dataset.ready === '1'", 30s);
class DevToolsBrowser {
 public:
  /// Starts Chromium (with tests/report/chromium.hpp's flags and a profile under `work_dir`,
  /// its stderr in a file there) and attaches to a blank page; throws if it cannot.
  DevToolsBrowser(const std::filesystem::path& binary, const std::filesystem::path& work_dir);
  /// Closes the browser, and kills it if it does not end.
  ~DevToolsBrowser();
  DevToolsBrowser(const DevToolsBrowser&) = delete;
  DevToolsBrowser& operator=(const DevToolsBrowser&) = delete;

  /// Navigates the page to `url` and returns once its load event fired.
  void open(const std::string& url, std::chrono::milliseconds timeout = std::chrono::seconds(60));

  /// The page's serialized DOM once the JavaScript expression `condition` is true, checked
  /// every 50 ms of real time; throws after `timeout`, with the DOM as it was then.
  std::string dom_when(const std::string& condition, std::chrono::milliseconds timeout);

  /// The string the JavaScript `expression` gives (awaited when it is a promise).
  std::string evaluate(const std::string& expression, std::chrono::milliseconds timeout);

 private:
  /// Sends a command (to the page's session unless `browser_level`) and returns its response.
  std::string call(const std::string& method, const std::string& params, std::chrono::milliseconds timeout,
                   bool browser_level = false);
  /// The next whole message, waiting up to `deadline`.
  std::string next_message(std::chrono::steady_clock::time_point deadline);
  /// Skips messages until an event `method` of the page's session arrives.
  void wait_for_event(const std::string& method, std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  std::string pending_;              // bytes read past the last whole message
  std::vector<std::string> events_;  // events that arrived while call() waited for its answer
  std::string session_;
  int next_id_ = 1;
  std::filesystem::path log_;
};

}  // namespace kiln::test
