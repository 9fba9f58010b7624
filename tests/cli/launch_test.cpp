// The launcher of `kiln run --nproc N` (cli/launch.hpp): /bin/sh scripts as its workers, and
// the real kiln for what the front decides.
#include "cli/launch.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using kiln::runner::cli::launch_local;
using kiln::runner::cli::LaunchOptions;
using kiln::runner::cli::without_nproc;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::MatchesRegex;
using ::testing::UnorderedElementsAre;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// Polls `condition` until it holds or `timeout` passes; returns whether it holds.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// Workers that run `script` with /bin/sh, the test's folder as $1.
LaunchOptions sh_workers(int nproc, const std::string& script, const TempDir& dir) {
  LaunchOptions options;
  options.nproc = nproc;
  options.program = "/bin/sh";
  options.argv = {"sh", "-c", script, "sh", dir.path().string()};
  return options;
}

/// launch_local() in a forked child of the test, as kiln's front runs it: the only thread of
/// its process, SIGINT, SIGTERM and SIGHUP at their defaults, stderr into a file.
class Launcher {
 public:
  Launcher(const LaunchOptions& options, const fs::path& stderr_file, const EnvChanges& env = {}) {
    std::fflush(nullptr);  // the child must not write this process's buffered output again
    pid_ = fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ > 0) return;
    const int fd = open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(98);
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) std::signal(signal, SIG_DFL);
    for (const auto& [name, value] : env) {
      if (value) setenv(name.c_str(), value->c_str(), 1);
      else unsetenv(name.c_str());
    }
    int code = 99;
    try {
      code = launch_local(options);
    } catch (...) {
    }
    std::fflush(nullptr);
    _exit(code);
  }
  ~Launcher() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);  // its workers get SIGTERM (PR_SET_PDEATHSIG)
      waitpid(pid_, nullptr, 0);
    }
  }
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  pid_t pid() const { return pid_; }

  /// The launcher's wait status once it has ended; one still running after `timeout` is
  /// killed, which shows as death by SIGKILL.
  int wait(std::chrono::milliseconds timeout = 10s) {
    int status = 0;
    const bool ended = eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!ended) {
      ADD_FAILURE() << "the launcher still runs after " << timeout.count() << " ms";
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

std::string exit_description(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

/// The worker pids the scripts wrote to pid.RANK, once all `nproc` are there.
std::vector<pid_t> worker_pids(const TempDir& dir, int nproc) {
  std::vector<pid_t> pids;
  const bool ready = eventually([&] {
    for (int rank = 0; rank < nproc; ++rank)
      if (!fs::exists(dir / ("pid." + std::to_string(rank)))) return false;
    return true;
  });
  if (!ready) {
    ADD_FAILURE() << "the workers did not all start";
    return pids;
  }
  for (int rank = 0; rank < nproc; ++rank) pids.push_back(std::stoi(read_file(dir / ("pid." + std::to_string(rank)))));
  return pids;
}

/// A script's line that writes its pid to pid.$RANK at once (no half-written file is seen).
const std::string kWritePid = "echo $$ > \"$1/pid.$RANK.tmp\" && mv \"$1/pid.$RANK.tmp\" \"$1/pid.$RANK\"\n";

/// The head of a script's waiting loop. Should the launcher fail to stop its workers, they end
/// once it is gone, rather than outlive the test and hold ctest's output pipe open.
const std::string kWhileLauncherLives = "while kill -0 \"$KILN_LAUNCHER_PID\" 2>/dev/null";

std::size_t line_count(const fs::path& file) { return fs::exists(file) ? lines(read_file(file)).size() : 0; }

/// True when `pid` has ended: gone, or a zombie of whoever adopted it.
bool has_ended(pid_t pid) {
  if (kill(pid, 0) != 0) return errno == ESRCH;
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto state = stat.rfind(") ");
  return state != std::string::npos && stat.compare(state + 2, 1, "Z") == 0;
}

TEST(launch, each_worker_gets_its_place_in_torchruns_variables) {
  TempDir dir;
  const std::string script =
      "printf '%s\\n' \"$RANK\" \"$WORLD_SIZE\" \"$LOCAL_RANK\" \"$LOCAL_WORLD_SIZE\" \"$MASTER_ADDR\" \"$MASTER_PORT\" "
      "\"$KILN_LAUNCHER_PID\" > \"$1/env.$RANK\"";
  // The launcher's own RANK and WORLD_SIZE are never what a worker sees.
  Launcher launcher(sh_workers(3, script, dir), dir / "launcher.err",
                    {{"MASTER_ADDR", "10.1.2.3"}, {"MASTER_PORT", "29555"}, {"RANK", "7"}, {"WORLD_SIZE", "9"}});
  const pid_t pid = launcher.pid();
  const int status = launcher.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << exit_description(status);
  for (const std::string rank : {"0", "1", "2"})
    EXPECT_THAT(lines(read_file(dir / ("env." + rank))),
                ElementsAre(rank, "3", rank, "3", "10.1.2.3", "29555", std::to_string(pid)))
        << "rank " << rank;
  EXPECT_EQ(read_file(dir / "launcher.err"), "");
}

TEST(launch, without_master_variables_workers_meet_on_a_free_local_port) {
  TempDir dir;
  const std::string script = "printf '%s\\n' \"$MASTER_ADDR\" \"$MASTER_PORT\" > \"$1/env.$RANK\"";
  Launcher launcher(sh_workers(2, script, dir), dir / "launcher.err",
                    {{"MASTER_ADDR", std::nullopt}, {"MASTER_PORT", std::nullopt}});
  const int status = launcher.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << exit_description(status);
  const std::vector<std::string> rank0 = lines(read_file(dir / "env.0"));
  ASSERT_EQ(rank0.size(), 2u);
  EXPECT_EQ(rank0[0], "127.0.0.1");
  ASSERT_THAT(rank0[1], MatchesRegex("[1-9][0-9]*"));
  EXPECT_LE(std::stoi(rank0[1]), 65535);
  EXPECT_EQ(lines(read_file(dir / "env.1")), rank0);
}

TEST(launch, options_name_the_master_before_the_environment) {
  TempDir dir;
  LaunchOptions options = sh_workers(1, "printf '%s\\n' \"$MASTER_ADDR\" \"$MASTER_PORT\" > \"$1/env\"", dir);
  options.master_addr = "192.0.2.7";
  options.master_port = "31000";
  Launcher launcher(options, dir / "launcher.err", {{"MASTER_ADDR", "10.1.2.3"}, {"MASTER_PORT", "29555"}});
  const int status = launcher.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << exit_description(status);
  EXPECT_THAT(lines(read_file(dir / "env")), ElementsAre("192.0.2.7", "31000"));
}

TEST(launch, argv_passes_through_unchanged) {
  TempDir dir;
  LaunchOptions options;
  options.nproc = 2;
  options.program = "/bin/sh";
  // The worker's whole argv as the kernel holds it, argv[0] included.
  options.argv = {"kiln-worker", "-c", "tr '\\0' '\\n' < /proc/$$/cmdline > \"$1/args.$RANK\"", "zeroth",
                  dir.path().string(), "--nproc", "2", "with space", "", "--nproc=3", "*"};
  Launcher launcher(options, dir / "launcher.err");
  const int status = launcher.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << exit_description(status);
  for (const std::string rank : {"0", "1"})
    EXPECT_THAT(lines(read_file(dir / ("args." + rank))), ElementsAreArray(options.argv)) << "rank " << rank;
}

TEST(launch_command_line, drops_nproc_and_its_value_and_nothing_else) {
  using Args = std::vector<std::string>;
  EXPECT_EQ(without_nproc({"kiln", "run", "exp.toml", "--nproc", "4", "--fresh"}),
            (Args{"kiln", "run", "exp.toml", "--fresh"}));
  EXPECT_EQ(without_nproc({"kiln", "run", "--nproc=4", "exp.toml", "--set", "a=1"}),
            (Args{"kiln", "run", "exp.toml", "--set", "a=1"}));
  EXPECT_EQ(without_nproc({"kiln", "run", "exp.toml"}), (Args{"kiln", "run", "exp.toml"}));
  EXPECT_EQ(without_nproc({"kiln", "run", "exp.toml", "--set", "name=--nproc=2", "--nproc", "2"}),
            (Args{"kiln", "run", "exp.toml", "--set", "name=--nproc=2"}));
  // After "--" every argument is a positional one, kept as it is.
  EXPECT_EQ(without_nproc({"kiln", "run", "--nproc", "2", "--", "--nproc", "3"}),
            (Args{"kiln", "run", "--", "--nproc", "3"}));
}

TEST(launch, forwards_each_signal_once_to_every_worker_in_a_process_group_of_their_own) {
  TempDir dir;
  const std::string script = R"(trap 'echo "$RANK TERM" >> "$1/signals"' TERM
trap 'echo "$RANK INT" >> "$1/signals"' INT
trap 'echo "$RANK HUP" >> "$1/signals"' HUP
)" + kWritePid + kWhileLauncherLives + R"( && [ ! -e "$1/release" ]; do sleep 0.02 & wait $!; done
)";
  Launcher launcher(sh_workers(3, script, dir), dir / "launcher.err");
  const std::vector<pid_t> pids = worker_pids(dir, 3);
  ASSERT_EQ(pids.size(), 3u);
  // A terminal's Ctrl-C goes to the launcher's group alone; the workers' is rank 0's.
  for (const pid_t pid : pids) EXPECT_EQ(getpgid(pid), pids[0]);
  EXPECT_NE(getpgid(launcher.pid()), pids[0]);

  std::size_t expected = 0;
  for (const int signal : {SIGTERM, SIGINT, SIGHUP}) {
    kill(launcher.pid(), signal);
    expected += 3;
    ASSERT_TRUE(eventually([&] { return line_count(dir / "signals") >= expected; }))
        << "signal " << signal << ":\n" << read_file(dir / "signals");
  }
  std::ofstream(dir / "release").flush();
  const int status = launcher.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << exit_description(status);
  EXPECT_THAT(lines(read_file(dir / "signals")),
              UnorderedElementsAre("0 TERM", "1 TERM", "2 TERM", "0 INT", "1 INT", "2 INT", "0 HUP", "1 HUP", "2 HUP"));
  EXPECT_EQ(read_file(dir / "launcher.err"), "");
}

/// Runs `script` in `nproc` workers to its end; the launcher's wait status and its stderr.
std::pair<int, std::string> launch_to_end(int nproc, const std::string& script, double grace_seconds = 300,
                                          double kill_seconds = 15) {
  TempDir dir;
  LaunchOptions options = sh_workers(nproc, script, dir);
  options.grace_seconds = grace_seconds;
  options.kill_seconds = kill_seconds;
  Launcher launcher(options, dir / "launcher.err");
  const int status = launcher.wait();
  return {status, read_file(dir / "launcher.err")};
}

TEST(launch, a_failed_worker_other_than_rank_0_gives_its_exit_code) {
  const auto [status, err] = launch_to_end(3, "[ \"$RANK\" = 1 ] && exit 3; exit 0");
  ASSERT_TRUE(WIFEXITED(status)) << exit_description(status);
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_THAT(lines(err), ElementsAre(MatchesRegex("kiln: rank 1 \\(pid [0-9]+\\) exited with status 3")));
}

TEST(launch, rank_0_killed_by_sigkill_gives_137) {
  const auto [status, err] = launch_to_end(2, "[ \"$RANK\" = 0 ] && kill -KILL $$; exit 0");
  ASSERT_TRUE(WIFEXITED(status)) << exit_description(status);
  EXPECT_EQ(WEXITSTATUS(status), 137);
  EXPECT_THAT(lines(err), ElementsAre(MatchesRegex("kiln: rank 0 \\(pid [0-9]+\\) was killed by SIGKILL")));
}

TEST(launch, rank_0s_failure_comes_before_the_others) {
  const auto [status, err] = launch_to_end(2, "[ \"$RANK\" = 0 ] && exit 5; exit 3");
  ASSERT_TRUE(WIFEXITED(status)) << exit_description(status);
  EXPECT_EQ(WEXITSTATUS(status), 5);
  EXPECT_THAT(lines(err), UnorderedElementsAre(MatchesRegex("kiln: rank 0 \\(pid [0-9]+\\) exited with status 5"),
                                               MatchesRegex("kiln: rank 1 \\(pid [0-9]+\\) exited with status 3")));
}

TEST(launch, workers_that_all_succeed_give_0_and_say_nothing) {
  const auto [status, err] = launch_to_end(3, "exit 0");
  ASSERT_TRUE(WIFEXITED(status)) << exit_description(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(err, "");
}

TEST(launch, a_worker_still_running_a_grace_after_a_failure_gets_sigterm) {
  const auto start = Clock::now();
  const auto [status, err] = launch_to_end(2, "[ \"$RANK\" = 0 ] && exit 3; exec sleep 30", /*grace_seconds=*/0.3);
  const auto elapsed = Clock::now() - start;
  ASSERT_TRUE(WIFEXITED(status)) << exit_description(status);
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_GE(elapsed, 300ms);
  EXPECT_THAT(lines(err), ElementsAre(MatchesRegex("kiln: rank 0 \\(pid [0-9]+\\) exited with status 3"),
                                      "kiln: rank 1 still running 0.3 s after rank 0 ended: sending SIGTERM",
                                      MatchesRegex("kiln: rank 1 \\(pid [0-9]+\\) was killed by SIGTERM")));
}

TEST(launch, a_worker_ignoring_sigterm_gets_sigkill) {
  const auto [status, err] =
      launch_to_end(2, "[ \"$RANK\" = 0 ] && exit 3; trap '' TERM; exec sleep 30", /*grace_seconds=*/0.1,
                    /*kill_seconds=*/0.2);
  ASSERT_TRUE(WIFEXITED(status)) << exit_description(status);
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_THAT(lines(err), ElementsAre(MatchesRegex("kiln: rank 0 \\(pid [0-9]+\\) exited with status 3"),
                                      "kiln: rank 1 still running 0.1 s after rank 0 ended: sending SIGTERM",
                                      "kiln: rank 1 still running 0.2 s after SIGTERM: sending SIGKILL",
                                      MatchesRegex("kiln: rank 1 \\(pid [0-9]+\\) was killed by SIGKILL")));
}

TEST(launch, workers_get_sigterm_when_the_launcher_is_killed) {
  TempDir dir;
  const std::string script = "trap 'echo \"$RANK\" >> \"$1/term\"; kill $! 2>/dev/null; exit 0' TERM\n" + kWritePid +
                             kWhileLauncherLives + "; do sleep 0.02 & wait $!; done\n";
  Launcher launcher(sh_workers(2, script, dir), dir / "launcher.err");
  const std::vector<pid_t> pids = worker_pids(dir, 2);
  ASSERT_EQ(pids.size(), 2u);
  kill(launcher.pid(), SIGKILL);
  const int status = launcher.wait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << exit_description(status);

  EXPECT_TRUE(eventually([&] { return line_count(dir / "term") == 2; })) << read_file(dir / "term");
  for (const pid_t pid : pids) EXPECT_TRUE(eventually([&] { return has_ended(pid); })) << "worker " << pid << " lives on";
  EXPECT_THAT(lines(read_file(dir / "term")), UnorderedElementsAre("0", "1"));
}

TEST(launch, a_program_that_cannot_run_is_one_error_and_exit_code_1) {
  TempDir dir;
  const fs::path not_executable = dir.write("not-executable", "#!/bin/sh\nexit 0\n");
  fs::permissions(not_executable, fs::perms::owner_read | fs::perms::owner_write);
  for (const auto& [program, reason] : {std::pair<fs::path, std::string>{dir / "missing", "No such file or directory"},
                                        {not_executable, "Permission denied"}}) {
    LaunchOptions options = sh_workers(2, "exit 0", dir);
    options.program = program.string();
    Launcher launcher(options, dir / "launcher.err");
    const int status = launcher.wait();
    ASSERT_TRUE(WIFEXITED(status)) << exit_description(status);
    EXPECT_EQ(WEXITSTATUS(status), 1);
    EXPECT_EQ(read_file(dir / "launcher.err"), "error: cannot start rank 0: " + program.string() + ": " + reason + "\n");
  }
}

// The front, through the real kiln.

TEST(cli_launch, refuses_nproc_where_rank_is_already_set) {
  TempDir dir;
  const KilnResult result = run_kiln({"run", "exp.toml", "--nproc", "2"}, dir.path(), {{"RANK", "0"}});
  ASSERT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(error_line(result), "error: --nproc starts its own processes; under torchrun or srun, leave it out");
  EXPECT_EQ(result.out, "");
}

TEST(cli_launch, refuses_nproc_below_1) {
  TempDir dir;
  const KilnResult result = run_kiln({"run", "exp.toml", "--nproc", "0"}, dir.path());
  ASSERT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_THAT(error_line(result), ::testing::HasSubstr("--nproc"));
}

TEST(cli_launch, a_missing_experiment_is_one_error_from_the_launcher_and_no_worker_starts) {
  TempDir dir;
  // The launcher reads the file (and --set) before it starts anything: one line, not one per
  // worker. (That each worker runs the command line without --nproc, whose RANK would make it
  // refuse, the distributed tests' `--nproc 2` runs show.)
  const KilnResult result = run_kiln({"run", "missing.toml", "--nproc=2"}, dir.path(), {{"RANK", std::nullopt}});
  ASSERT_TRUE(result.exited()) << result.describe();
  EXPECT_EQ(result.exit_code(), 2) << result.describe();
  EXPECT_THAT(message_lines(result.err), ElementsAre("error: missing.toml: no such file")) << result.describe();
}

}  // namespace
}  // namespace kiln::test
