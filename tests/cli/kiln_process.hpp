// Runs the `kiln` executable as a child process and collects its stdout, stderr and status.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace kiln::test {

/// How a finished kiln process ended and what it printed on each stream.
struct KilnResult {
  int wait_status = 0;  ///< as waitpid reports it
  std::string out;
  std::string err;

  /// True when the process called exit: no signal ended it, so no crash and no core dump.
  bool exited() const;
  /// The exit code, or -1 when the process did not exit normally.
  int exit_code() const;
  /// The status and both streams, for assertion messages.
  std::string describe() const;
};

/// Environment changes for one child: a value sets the variable, nullopt removes it.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

/// Where a child's stdout and stderr go.
enum class Streams {
  pipes,            ///< each on its own pipe: out() and err()
  stderr_terminal,  ///< stderr on a pseudo-terminal, stdout on a pipe
  terminal,         ///< both on one pseudo-terminal, as in a shell: everything is in err()
};

/// How a child starts, beyond its arguments and environment.
struct KilnOptions {
  Streams streams = Streams::pipes;
  /// The terminal's width, as TIOCGWINSZ reports it to the child.
  unsigned short columns = 100;
};

/// A running `kiln` with its stdout and stderr on pipes (or a pseudo-terminal) that this
/// object drains. The terminal is raw: the child's bytes arrive as written, "\n" is not
/// turned into "\r\n".
///
///     KilnProcess kiln({"run", "exp.toml"}, dir.path());
///     kiln.wait_until([](const KilnProcess& p) { return has_progress_line(p.err()); }, 60s);
///     kiln.send_signal(SIGINT);
///     KilnResult result = kiln.finish();
class KilnProcess {
 public:
  /// Starts the kiln binary with `args` in `cwd`. The child starts without $KILN_DB and
  /// $KILN_PLUGIN_PATH, so the shell that runs the tests cannot change what they see;
  /// `env` sets or removes variables on top of that.
  KilnProcess(const std::vector<std::string>& args, const std::filesystem::path& cwd,
              const EnvChanges& env = {}, const KilnOptions& options = {});
  /// Kills and reaps a child that is still running, so no test leaves a process behind.
  ~KilnProcess();
  KilnProcess(const KilnProcess&) = delete;
  KilnProcess& operator=(const KilnProcess&) = delete;

  /// Reads both pipes until `ready` holds or `timeout` passes; returns whether it holds.
  bool wait_until(const std::function<bool(const KilnProcess&)>& ready, std::chrono::milliseconds timeout);
  void send_signal(int signal);
  /// Reads both pipes to their end and reaps the child. A child still running after
  /// `timeout` is killed, which shows in the result as death by SIGKILL.
  KilnResult finish(std::chrono::milliseconds timeout = std::chrono::seconds(120));

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  /// Waits up to `timeout_ms` for output and appends what is there; false once both pipes ended.
  bool read_some(int timeout_ms);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
};

/// Runs kiln to completion with `args` in `cwd`.
KilnResult run_kiln(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                    const EnvChanges& env = {}, const KilnOptions& options = {});

}  // namespace kiln::test
