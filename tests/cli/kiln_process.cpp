// KilnProcess: posix_spawn with stdout and stderr on pipes or a pseudo-terminal, drained with poll(2).
#include "kiln_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <spawn.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char** environ;

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

/// "NAME=value" entries: this process's environment without kiln's own variables, then `changes`.
std::vector<std::string> child_environment(const EnvChanges& changes) {
  std::map<std::string, std::optional<std::string>> variables = {{"KILN_DB", std::nullopt},
                                                                 {"KILN_PLUGIN_PATH", std::nullopt}};
  for (const auto& [name, value] : changes) variables[name] = value;
  std::vector<std::string> out;
  for (char** entry = environ; *entry; ++entry) {
    const std::string text = *entry;
    if (variables.count(text.substr(0, text.find('='))) == 0) out.push_back(text);
  }
  for (const auto& [name, value] : variables)
    if (value) out.push_back(name + "=" + *value);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long long>(0, left));
}

/// One output stream of the child: the end the test reads and the end the child writes.
struct Channel {
  int read = -1;
  int write = -1;
};

void close_channel(Channel& channel) {
  for (int* fd : {&channel.read, &channel.write}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

Channel open_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) fail("pipe2");
  return {fds[0], fds[1]};
}

/// A pseudo-terminal `columns` wide in raw mode, so the bytes read are the bytes written.
Channel open_terminal(unsigned short columns) {
  termios raw{};
  cfmakeraw(&raw);
  winsize size{};
  size.ws_row = 24;
  size.ws_col = columns;
  Channel terminal;
  if (openpty(&terminal.read, &terminal.write, nullptr, &raw, &size) != 0) fail("openpty");
  // Like the pipes: no other child (tests may start several at once) inherits either end.
  for (int fd : {terminal.read, terminal.write}) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return terminal;
}

/// Owns the file actions and attributes of one posix_spawn call.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

bool KilnResult::exited() const { return WIFEXITED(wait_status); }

int KilnResult::exit_code() const { return exited() ? WEXITSTATUS(wait_status) : -1; }

std::string KilnResult::describe() const {
  std::string status;
  if (WIFEXITED(wait_status)) status = "exit code " + std::to_string(WEXITSTATUS(wait_status));
  else if (WIFSIGNALED(wait_status))
    status = std::string("killed by signal ") + strsignal(WTERMSIG(wait_status)) +
             (WCOREDUMP(wait_status) ? " (core dumped)" : "");
  else status = "wait status " + std::to_string(wait_status);
  return status + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
}

KilnProcess::KilnProcess(const std::vector<std::string>& args, const fs::path& cwd, const EnvChanges& env,
                         const KilnOptions& options) {
  Channel out;
  Channel err;
  try {
    if (options.streams != Streams::terminal) out = open_pipe();
    err = options.streams == Streams::pipes ? open_pipe() : open_terminal(options.columns);
  } catch (...) {
    close_channel(out);
    close_channel(err);
    throw;
  }
  out_fd_ = out.read;
  err_fd_ = err.read;

  SpawnSetup setup;
  // dup2 onto 1 and 2 clears close-on-exec there; every other end closes at exec.
  posix_spawn_file_actions_adddup2(&setup.actions, out.write >= 0 ? out.write : err.write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err.write, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addchdir_np(&setup.actions, cwd.c_str());
  // A test runner started in the background may ignore SIGINT; kiln must see the default.
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, signal);
  sigset_t no_mask;
  sigemptyset(&no_mask);
  posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
  posix_spawnattr_setsigmask(&setup.attributes, &no_mask);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> argv_strings = {KILN_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = child_environment(env);
  std::vector<char*> argv = c_strings(argv_strings);
  std::vector<char*> envp = c_strings(env_strings);
  const int error = posix_spawn(&pid_, KILN_BINARY, &setup.actions, &setup.attributes, argv.data(), envp.data());
  // The child holds the writing ends now: reads end (EOF on a pipe, EIO on a terminal) when it does.
  if (out.write >= 0) close(out.write);
  close(err.write);
  if (error != 0) {
    pid_ = -1;
    errno = error;
    fail(std::string("posix_spawn ") + KILN_BINARY);
  }
}

KilnProcess::~KilnProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

bool KilnProcess::read_some(int timeout_ms) {
  pollfd fds[2];
  nfds_t count = 0;
  for (int fd : {out_fd_, err_fd_})
    if (fd >= 0) fds[count++] = pollfd{fd, POLLIN, 0};
  if (count == 0) return false;
  const int ready = poll(fds, count, timeout_ms);
  if (ready < 0 && errno != EINTR) fail("poll");
  for (nfds_t i = 0; ready > 0 && i < count; ++i) {
    if (fds[i].revents == 0) continue;
    int& fd = fds[i].fd == out_fd_ ? out_fd_ : err_fd_;
    std::string& text = fds[i].fd == out_fd_ ? out_ : err_;
    char buffer[65536];
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      close(fd);
      fd = -1;
    }
  }
  return out_fd_ >= 0 || err_fd_ >= 0;
}

bool KilnProcess::wait_until(const std::function<bool(const KilnProcess&)>& ready,
                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!ready(*this)) {
    if (Clock::now() >= deadline || !read_some(remaining_ms(deadline))) return ready(*this);
  }
  return true;
}

void KilnProcess::send_signal(int signal) {
  if (pid_ <= 0 || kill(pid_, signal) != 0) fail("kill");
}

KilnResult KilnProcess::finish(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  bool killed = false;
  while (read_some(killed ? 1000 : remaining_ms(deadline))) {
    if (!killed && Clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      killed = true;
    }
  }
  KilnResult result;
  while (waitpid(pid_, &result.wait_status, 0) < 0) {
    if (errno != EINTR) fail("waitpid");
  }
  pid_ = -1;
  result.out = std::move(out_);
  result.err = std::move(err_);
  return result;
}

KilnResult run_kiln(const std::vector<std::string>& args, const fs::path& cwd, const EnvChanges& env,
                    const KilnOptions& options) {
  return KilnProcess(args, cwd, env, options).finish();
}

}  // namespace kiln::test
