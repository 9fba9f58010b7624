// A real `kiln serve` for the server's tests, and HTTP requests to it with cpp-httplib's client.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <httplib.h>

#include "json_value.hpp"
#include "kiln_process.hpp"

namespace kiln::test {

/// `kiln serve --port 0 ARGS...` started in `cwd`; the constructor waits for the line with
/// its URL and reads the port from it (it throws when none comes within 30 s):
///
///     ServeProcess serve(dir.path(), {"--db", "runs/kiln.db"});
///     Answer runs = serve.get("/api/runs");
class ServeProcess {
 public:
  explicit ServeProcess(const std::filesystem::path& cwd, const std::vector<std::string>& args = {});

  int port() const { return port_; }
  /// The line kiln serve printed: "kiln serve: http://127.0.0.1:PORT/ (database ...)".
  const std::string& line() const { return line_; }
  KilnProcess& process() { return process_; }

  /// One request on a connection of its own; the body as it came, undecoded.
  httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) const;
  httplib::Result post(const std::string& path, const std::string& body, const std::string& type) const;

 private:
  KilnProcess process_;
  int port_ = 0;
  std::string line_;
};

/// A client for 127.0.0.1:`port` that sends paths as they are written (no encoding, so
/// "%2e%2e" and ".." reach the server as such), with generous timeouts.
httplib::Client client_for(int port);

/// The answer's body parsed, after checking its status and that it is JSON; throws with the
/// status and body otherwise.
JsonValue json_of(const httplib::Result& result, int status = 200);

}  // namespace kiln::test
