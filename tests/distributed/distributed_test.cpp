// Data-parallel runs of real kiln processes, two ranks on loopback with Gloo: what two ranks
// compute against one process with their run's batch, faults (a rank killed, a stop sent to
// the launcher or to one rank), resume, torchrun's variables set by hand, two runs at once.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include "../cli/cli_support.hpp"
#include "../resume/resume_support.hpp"
#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "hooks/checkpoint_file.hpp"
#include "train/torch_compat.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Rows = std::vector<std::vector<std::string>>;
using namespace std::chrono_literals;

/// The MLP experiment with the chaos hooks' folder, a kill_at hook that does nothing unless
/// told (its `step` set), summaries every step, and a rendezvous that gives up after 30 s.
std::string experiment(long max_steps, const std::string& extra = "") {
  return chaos_experiment("[supervisor]\nsummary_every_steps = 1\nlog_every_steps = 0\n"
                          "[distributed]\ntimeout = 30\n"
                          "[[hooks]]\nplugin = \"kill_at\"\nstep = -1\n" + extra,
                          max_steps);
}

/// A TCP port nobody listens on now (the kernel's choice for port 0).
std::string free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    throw std::runtime_error("no free port");
  }
  close(fd);
  return std::to_string(ntohs(address.sin_port));
}

/// torchrun's variables for rank `rank` of 2 on this machine.
EnvChanges torchrun_env(int rank, const std::string& port) {
  return {{"RANK", std::to_string(rank)},       {"WORLD_SIZE", "2"},          {"LOCAL_RANK", std::to_string(rank)},
          {"LOCAL_WORLD_SIZE", "2"},            {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", port}};
}

std::map<std::int64_t, double> losses(const fs::path& db, const std::string& run = "t") {
  std::map<std::int64_t, double> out;
  for (const auto& row : sql_rows(db, "SELECT s.step, s.value FROM summaries s JOIN runs r ON r.id = s.run_id "
                                      "WHERE r.name = '" + run + "' AND s.tag = 'loss/mse' ORDER BY s.step"))
    out[std::stoll(row[0])] = std::stod(row[1]);
  return out;
}

std::map<std::string, torch::Tensor> checkpoint_at(const fs::path& db, std::int64_t step) {
  const CheckpointRecord record = record_at(checkpoint_records(db), step);
  const runner::CheckpointEntries entries = runner::read_checkpoint(record.path, record.sha256);
  return {entries.begin(), entries.end()};
}

bool has_progress(const KilnProcess& p) { return has_progress_line(p.out()) || has_progress_line(p.err()); }

TEST(distributed, two_ranks_of_batch_b_compute_what_one_process_of_batch_2b_does) {
  TempDir one, two;
  write_text(one, "exp.toml", experiment(200));
  write_text(two, "exp.toml", experiment(200));
  const KilnResult alone = run_kiln({"run", "exp.toml", "--set", "data.batch_size=16"}, one.path());
  ASSERT_EQ(alone.exit_code(), 0) << alone.describe();
  const KilnResult pair = run_kiln({"run", "exp.toml", "--nproc", "2", "--set", "data.batch_size=8"}, two.path());
  ASSERT_EQ(pair.exit_code(), 0) << pair.describe();
  EXPECT_THAT(pair.out, HasSubstr("run t completed: step 200 of 200 (200 steps in"));
  EXPECT_THAT(pair.out, HasSubstr("  processes      2 (gloo) on "));

  // Every step's loss, and the weights, the EMA's shadows and Adam's moments at the end.
  const auto a = losses(one / "runs/kiln.db"), b = losses(two / "runs/kiln.db");
  ASSERT_EQ(a.size(), 200u);
  ASSERT_EQ(b.size(), 200u);
  for (const auto& [step, value] : a) EXPECT_NEAR(b.at(step), value, 1e-5) << "loss at step " << step;
  const auto end_a = checkpoint_at(one / "runs/kiln.db", 200), end_b = checkpoint_at(two / "runs/kiln.db", 200);
  int compared = 0;
  for (const auto& [name, tensor] : end_a) {
    if (name.rfind("model/", 0) != 0 && name.rfind("hook/ema/", 0) != 0 && name.rfind("optim/", 0) != 0) continue;
    ASSERT_TRUE(end_b.count(name)) << name;
    EXPECT_TRUE(torch::allclose(tensor.to(torch::kDouble), end_b.at(name).to(torch::kDouble), /*rtol=*/0, /*atol=*/1e-5))
        << name << " differs by " << (tensor.to(torch::kDouble) - end_b.at(name).to(torch::kDouble)).abs().max().item<double>();
    ++compared;
  }
  EXPECT_GE(compared, 12);
  // The checkpoint says how many trained it; one process does not resume it.
  EXPECT_EQ(end_b.at("distributed/world_size").item<std::int64_t>(), 2);
  EXPECT_EQ(end_a.count("distributed/world_size"), 0u);
  EXPECT_EQ(sql_rows(two / "runs/kiln.db", "SELECT world_size, backend, json_array_length(hosts) FROM runs"),
            (Rows{{"2", "gloo", "2"}}));
  EXPECT_THAT(sql_value(two / "runs/kiln.db", "SELECT message FROM events WHERE kind = 'distributed'"),
              StartsWith("2 processes (gloo): 200 steps in "));

  const KilnResult other = run_kiln({"run", "exp.toml", "--set", "experiment.max_steps=210"}, two.path());
  EXPECT_TRUE(fails_with_one_error_line(other, 2)) << other.describe();
  EXPECT_EQ(error_line(other),
            "error: run 't' was trained by 2 processes, and this is one process: resume it with as many (kiln run "
            "--nproc 2, or torchrun's WORLD_SIZE=2), or start another run with --fresh");
  EXPECT_EQ(sql_value(two / "runs/kiln.db", "SELECT status FROM runs"), "completed");
}

TEST(distributed, gradients_sent_during_the_backward_pass_average_the_same_with_accumulation) {
  // [distributed] overlap = "on" (the default on CUDA): each bucket leaves as the pass makes its
  // gradients, the earlier micro-batches' sum added; buckets of 1/16 MiB make several.
  TempDir one, two;
  write_text(one, "exp.toml", experiment(100));
  write_text(two, "exp.toml", experiment(100));
  const std::vector<std::string> wide = {"--set", "model.hidden=[64, 64]", "--set", "experiment.accumulate=2"};
  std::vector<std::string> alone = {"run", "exp.toml", "--set", "data.batch_size=16"};
  alone.insert(alone.end(), wide.begin(), wide.end());
  std::vector<std::string> pair = {"run", "exp.toml", "--nproc", "2", "--set", "data.batch_size=8",
                                   "--set", "distributed.overlap=\"on\"", "--set", "distributed.bucket_mb=0.0625"};
  pair.insert(pair.end(), wide.begin(), wide.end());
  const KilnResult a = run_kiln(alone, one.path());
  ASSERT_EQ(a.exit_code(), 0) << a.describe();
  const KilnResult b = run_kiln(pair, two.path());
  ASSERT_EQ(b.exit_code(), 0) << b.describe();
  const auto la = losses(one / "runs/kiln.db"), lb = losses(two / "runs/kiln.db");
  ASSERT_EQ(la.size(), 100u);
  for (const auto& [step, value] : la) EXPECT_NEAR(lb.at(step), value, 1e-5) << "loss at step " << step;
  const auto end_a = checkpoint_at(one / "runs/kiln.db", 100), end_b = checkpoint_at(two / "runs/kiln.db", 100);
  for (const auto& [name, tensor] : end_a) {
    if (name.rfind("model/", 0) != 0) continue;
    EXPECT_TRUE(torch::allclose(tensor, end_b.at(name), /*rtol=*/0, /*atol=*/1e-5)) << name;
  }
}

TEST(distributed, a_killed_rank_fails_the_other_at_once_and_the_run_resumes_exactly) {
  TempDir straight, killed;
  write_text(straight, "exp.toml", experiment(200, "[saver]\nevery_steps = 50\n"));
  write_text(killed, "exp.toml", experiment(200, "[saver]\nevery_steps = 50\n"));
  const std::vector<std::string> run = {"run", "exp.toml", "--nproc", "2", "--set", "data.batch_size=8"};
  const KilnResult uninterrupted = run_kiln(run, straight.path());
  ASSERT_EQ(uninterrupted.exit_code(), 0) << uninterrupted.describe();

  // Rank 1 dies at step 130, once rank 0's save of step 100 is complete.
  std::vector<std::string> kill = run;
  for (const char* set : {"hooks.kill_at.step=130", "hooks.kill_at.after_save=100", "hooks.kill_at.rank=1"})
    kill.insert(kill.end(), {"--set", set});
  const auto started = std::chrono::steady_clock::now();
  const KilnResult died = run_kiln(kill, killed.path());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(died.exit_code(), 1) << died.describe();
  EXPECT_LT(seconds, 30) << "rank 0 waited for the timeout instead of seeing its peer go";
  EXPECT_THAT(died.err, HasSubstr("was killed by SIGKILL"));
  EXPECT_THAT(died.err, HasSubstr("error: run t failed at step 130: "));
  EXPECT_THAT(died.err, HasSubstr("another process of this run ended"));
  const fs::path db = killed / "runs/kiln.db";
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "failed");
  EXPECT_EQ(steps_of(checkpoint_records(db)), (std::vector<std::int64_t>{50, 100}));

  // The same command again resumes from step 100 and ends where the uninterrupted run did,
  // bit for bit: weights, moments, EMA, the data cursor.
  const KilnResult resumed = run_kiln(run, killed.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("run t completed: step 200 of 200 (100 steps in"));
  const auto a = checkpoint_at(straight / "runs/kiln.db", 200), b = checkpoint_at(db, 200);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    if (name.rfind("rng/", 0) == 0) continue;  // each rank's generators are seeded per step; rank 0's state differs by history
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name << " differs after the resume";
  }
  const auto losses_a = losses(straight / "runs/kiln.db"), losses_b = losses(db);
  for (std::int64_t step = 100; step < 200; ++step) EXPECT_EQ(losses_b.at(step), losses_a.at(step)) << step;
}

TEST(distributed, a_killed_rank_0_leaves_a_crashed_run_that_the_same_command_resumes) {
  TempDir dir;
  write_text(dir, "exp.toml", experiment(120, "[saver]\nevery_steps = 50\n"));
  const std::vector<std::string> run = {"run", "exp.toml", "--nproc", "2", "--set", "data.batch_size=8"};
  std::vector<std::string> kill = run;
  for (const char* set : {"hooks.kill_at.step=70", "hooks.kill_at.after_save=50", "hooks.kill_at.rank=0"})
    kill.insert(kill.end(), {"--set", set});
  const KilnResult died = run_kiln(kill, dir.path());
  // The launcher's status is rank 0's: killed by SIGKILL. Rank 1 says why it stopped.
  EXPECT_EQ(died.exit_code(), 128 + SIGKILL) << died.describe();
  EXPECT_THAT(died.err, HasSubstr("kiln: rank 0 (pid "));
  EXPECT_THAT(died.err, HasSubstr("error: rank 1: failed at step 70: "));
  // Nobody recorded the end: kiln runs sees the process gone.
  const KilnResult runs = run_kiln({"runs", "--status", "crashed"}, dir.path());
  EXPECT_THAT(runs.out, HasSubstr(" t ")) << runs.describe();

  const KilnResult resumed = run_kiln(run, dir.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("run t completed: step 120 of 120 (70 steps in"));
}

TEST(distributed, sigterm_to_the_launcher_stops_both_ranks_after_one_step_with_one_checkpoint) {
  TempDir dir;
  write_text(dir, "exp.toml",
             chaos_experiment("[supervisor]\nlog_every_steps = 1\n[distributed]\ntimeout = 30\n", 1000000000));
  KilnProcess kiln({"run", "exp.toml", "--nproc", "2"}, dir.path());
  ASSERT_TRUE(kiln.wait_until(has_progress, 60s)) << kiln.out() << kiln.err();
  kiln.send_signal(SIGTERM);
  const KilnResult result = kiln.finish(60s);
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  const fs::path db = dir / "runs/kiln.db";
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "stopped");
  const auto saved = checkpoint_records(db, "t", /*include_deleted=*/true);
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].reason, "stop");
  EXPECT_TRUE(file_matches_row(saved[0]));

  const std::string end = std::to_string(saved[0].step + 5);
  const KilnResult resumed =
      run_kiln({"run", "exp.toml", "--nproc", "2", "--set", "experiment.max_steps=" + end}, dir.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("run t completed: step " + end + " of " + end + " (5 steps in"));
}

TEST(distributed, torchruns_variables_by_hand_and_a_stop_sent_to_one_rank_stops_both) {
  TempDir dir;
  write_text(dir, "exp.toml",
             chaos_experiment("[supervisor]\nlog_every_steps = 1\n[distributed]\ntimeout = 30\n", 1000000000));
  const std::string port = free_port();
  KilnProcess rank0({"run", "exp.toml"}, dir.path(), torchrun_env(0, port));
  KilnProcess rank1({"run", "exp.toml"}, dir.path(), torchrun_env(1, port));
  ASSERT_TRUE(rank0.wait_until(has_progress, 60s)) << rank0.out() << rank0.err() << rank1.err();
  rank1.send_signal(SIGTERM);
  const KilnResult first = rank0.finish(60s), second = rank1.finish(60s);
  ASSERT_EQ(first.exit_code(), 0) << first.describe();
  ASSERT_EQ(second.exit_code(), 0) << second.describe();
  // Rank 1 trains and says nothing; rank 0 reports and records.
  EXPECT_EQ(second.out, "");
  EXPECT_FALSE(has_progress_line(second.err)) << second.err;
  EXPECT_THAT(first.out, HasSubstr(", rank 1: SIGTERM\n"));
  const fs::path db = dir / "runs/kiln.db";
  EXPECT_EQ(sql_rows(db, "SELECT status, world_size, backend FROM runs"), (Rows{{"stopped", "2", "gloo"}}));
  const auto saved = checkpoint_records(db, "t", /*include_deleted=*/true);
  ASSERT_EQ(saved.size(), 1u);
  // At the step rank 0 stopped after, which it says.
  EXPECT_THAT(first.out, HasSubstr("run t stopped: step " + std::to_string(saved[0].step) + " of 1000000000 ("));
}

TEST(distributed, under_torchruns_agent_rank_0_uses_the_agents_store) {
  // torchrun's agent serves the store at MASTER_PORT and tells its workers so
  // (TORCHELASTIC_USE_AGENT_STORE=True); a restarted attempt's workers find it still there,
  // with the keys of the attempt before. This test is the agent.
  TempDir dir;
  write_text(dir, "exp.toml", experiment(30));
  c10d::TCPStoreOptions options;
  options.port = 0;  // any free one
  options.isServer = true;
  options.waitWorkers = false;
  std::unique_ptr<c10d::TCPStore> agent;
  try {
    agent = std::make_unique<c10d::TCPStore>("127.0.0.1", options);
  } catch (const std::exception& e) {
#if KILN_TORCH_AT_LEAST(2, 2)
    // A LibTorch without libuv refuses 2.4's default backend, as kiln's rendezvous finds too.
    if (std::string(e.what()).find("libuv") == std::string::npos) throw;
    options.useLibUV = false;
    agent = std::make_unique<c10d::TCPStore>("127.0.0.1", options);
#else
    throw;
#endif
  }
  const std::string port = std::to_string(agent->getPort());
  for (const std::string attempt : {"0", "1"}) {
    std::vector<std::unique_ptr<KilnProcess>> ranks;
    for (int rank = 0; rank < 2; ++rank) {
      EnvChanges env = torchrun_env(rank, port);
      env["TORCHELASTIC_USE_AGENT_STORE"] = "True";
      env["TORCHELASTIC_RESTART_COUNT"] = attempt;
      ranks.push_back(std::make_unique<KilnProcess>(
          std::vector<std::string>{"run", "exp.toml", "--fresh", "--set", "data.batch_size=8"}, dir.path(), env));
    }
    for (auto& rank : ranks) {
      const KilnResult result = rank->finish(120s);
      EXPECT_EQ(result.exit_code(), 0) << "attempt " << attempt << ": " << result.describe();
    }
  }
  EXPECT_EQ(sql_rows(dir / "runs/kiln.db", "SELECT name, status, world_size FROM runs ORDER BY id"),
            (Rows{{"t", "completed", "2"}, {"t-2", "completed", "2"}}));
}

TEST(distributed, two_runs_at_once_on_their_own_ports_do_not_meet) {
  TempDir a, b;
  write_text(a, "exp.toml", experiment(100));
  write_text(b, "exp.toml", experiment(100));
  const std::vector<std::string> args = {"run", "exp.toml", "--nproc", "2", "--set", "data.batch_size=8"};
  KilnProcess first(args, a.path()), second(args, b.path());
  const KilnResult one = first.finish(120s), other = second.finish(120s);
  ASSERT_EQ(one.exit_code(), 0) << one.describe();
  ASSERT_EQ(other.exit_code(), 0) << other.describe();
  // The same experiment: the same numbers, each computed by its own pair of processes.
  EXPECT_EQ(losses(a / "runs/kiln.db"), losses(b / "runs/kiln.db"));
  EXPECT_EQ(losses(a / "runs/kiln.db").size(), 100u);
}

TEST(distributed, pix2pix_trains_on_two_ranks_and_rank_0_alone_writes) {
  TempDir dir;
  const std::vector<std::string> args = {
      "run", (source_dir() / "experiments/pix2pix.toml").string(), "--nproc", "2",
      "--set", "experiment.max_steps=4",   "--set", "data.image_size=32",      "--set", "data.load_size=36",
      "--set", "data.size=8",              "--set", "eval_data.image_size=32", "--set", "eval_data.size=4",
      "--set", "model.image_size=32",      "--set", "model.ngf=8",             "--set", "model.ndf=8",
      "--set", "saver.every_steps=2",      "--set", "hooks.evaluate.every_steps=2",
      "--set", "hooks.evaluate.count=4",   "--set", "hooks.image_summaries.every_steps=2",
      "--set", "hooks.image_summaries.count=2", "--set", "supervisor.log_every_steps=0",
      "--set", "supervisor.summary_every_steps=1", "--set", "distributed.timeout=60"};
  const KilnResult result = run_kiln(args, dir.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  const fs::path db = dir / "runs/kiln.db";
  EXPECT_EQ(sql_rows(db, "SELECT name, status, world_size FROM runs"), (Rows{{"pix2pix", "completed", "2"}}));
  EXPECT_EQ(steps_of(checkpoint_records(db, "pix2pix")), (std::vector<std::int64_t>{2, 4}));
  // The discriminator's and the generator's losses, averaged over the ranks, every step.
  EXPECT_EQ(sql_value(db, "SELECT COUNT(DISTINCT step) FROM summaries WHERE tag LIKE 'loss/%'"), "4");
  EXPECT_NE(sql_value(db, "SELECT COUNT(*) FROM summaries WHERE tag LIKE 'eval/%'"), "0");
  // One image per summary step, from rank 0: no file written twice, none outside the run.
  EXPECT_EQ(sql_value(db, "SELECT COUNT(*) FROM images"), sql_value(db, "SELECT COUNT(DISTINCT path) FROM images"));
}

}  // namespace
}  // namespace kiln::test
