// A run's environment (schema 5; its processes from schema 7): RunStore::record_environment on
// a start and on a resume on another device or in other processes, how it reads back (run_row,
// list_runs, run_environment, also from an older database), and how it is worded for `kiln
// show` and the 'environment' event.
#include <gtest/gtest.h>

#include "store/history.hpp"
#include "store/query.hpp"
#include "store/run_store.hpp"
#include "store/schema.hpp"
#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

namespace fs = std::filesystem;
using test_support::load_dump;
using test_support::query_int;
using test_support::sample_run;
using test_support::TempDir;
using Rows = std::vector<std::vector<Value>>;

constexpr std::int64_t kH200Memory = 150'110'000'000;  // 139.8 GiB

RunEnvironment cpu() {
  RunEnvironment environment;
  environment.device = "cpu";
  environment.torch_version = "1.13.1";
  environment.precision = "fp32";
  return environment;
}

RunEnvironment gpu() {
  RunEnvironment environment;
  environment.device = "cuda:0";
  environment.device_name = "NVIDIA H200";
  environment.device_memory = kH200Memory;
  environment.torch_version = "2.11.0";
  environment.cuda_version = "13.0";
  environment.cudnn_version = "9.1";
  environment.precision = "tf32";
  return environment;
}

/// gpu() trained by 3 processes with NCCL: two ranks on node1, one on node2.
RunEnvironment three_ranks() {
  RunEnvironment environment = gpu();
  environment.world_size = 3;
  environment.backend = "nccl";
  environment.hosts = {"node1", "node1", "node2"};
  return environment;
}

void expect_same(const std::optional<RunEnvironment>& read, const RunEnvironment& written) {
  ASSERT_TRUE(read);
  EXPECT_EQ(read->device, written.device);
  EXPECT_EQ(read->device_name, written.device_name);
  EXPECT_EQ(read->device_memory, written.device_memory);
  EXPECT_EQ(read->torch_version, written.torch_version);
  EXPECT_EQ(read->cuda_version, written.cuda_version);
  EXPECT_EQ(read->cudnn_version, written.cudnn_version);
  EXPECT_EQ(read->precision, written.precision);
  EXPECT_EQ(read->world_size, written.world_size);
  EXPECT_EQ(read->backend, written.backend);
  EXPECT_EQ(read->hosts, written.hosts);
}

const std::string kColumns =
    "SELECT device, device_name, device_memory, torch_version, cuda_version, cudnn_version, precision FROM runs ";
const std::string kProcessesColumns = "SELECT world_size, backend, hosts FROM runs ";

class environment : public ::testing::Test {
 protected:
  Rows rows(const std::string& sql) { return query_readonly(path_, sql).rows; }
  Rows environment_events() { return rows("SELECT run_id, time, step, message FROM events WHERE kind = 'environment' ORDER BY id"); }

  TempDir dir_;
  fs::path path_ = dir_ / "kiln.db";
  RunStore store_{path_};
};

TEST_F(environment, a_first_record_sets_the_columns_without_an_event) {
  const int64_t id = store_.create_run(sample_run("gpu"));
  EXPECT_EQ(store_.record_environment(id, gpu(), 1700000001.0), "");
  EXPECT_EQ(rows(kColumns + "WHERE id = " + std::to_string(id)),
            (Rows{{std::string("cuda:0"), std::string("NVIDIA H200"), kH200Memory, std::string("2.11.0"),
                   std::string("13.0"), std::string("9.1"), std::string("tf32")}}));
  EXPECT_EQ(environment_events(), Rows{});

  // On the CPU the columns it does not have are NULL, not empty.
  const int64_t on_cpu = store_.create_run(sample_run("cpu"));
  EXPECT_EQ(store_.record_environment(on_cpu, cpu(), 1700000002.0), "");
  EXPECT_EQ(rows(kColumns + "WHERE id = " + std::to_string(on_cpu)),
            (Rows{{std::string("cpu"), std::monostate{}, std::monostate{}, std::string("1.13.1"), std::monostate{},
                   std::monostate{}, std::string("fp32")}}));
}

TEST_F(environment, run_row_list_runs_and_run_environment_read_it_back) {
  const int64_t with = store_.create_run(sample_run("with"));
  const int64_t without = store_.create_run(sample_run("without"));
  store_.record_environment(with, gpu(), 1700000001.0);

  Database db = open_existing(path_);
  expect_same(run_row(db, with).environment, gpu());
  expect_same(run_environment(db, with), gpu());
  EXPECT_FALSE(run_row(db, without).environment);  // not recorded: a run of an older kiln
  EXPECT_FALSE(run_environment(db, without));
  EXPECT_FALSE(run_environment(db, 99));
  const std::vector<RunListing> listing = list_runs(db);
  ASSERT_EQ(listing.size(), 2u);
  EXPECT_FALSE(listing[0].run.environment);
  expect_same(listing[1].run.environment, gpu());
  EXPECT_EQ(run_row(db, with).config, sample_run("with").config);  // after the environment's columns
}

TEST_F(environment, a_resume_on_another_device_overwrites_it_and_records_what_changed) {
  const int64_t id = store_.create_run(sample_run("moved"));
  store_.record_environment(id, cpu(), 1700000001.0);
  const std::string changes = store_.record_environment(id, gpu(), 1700000500.5);
  EXPECT_EQ(changes,
            "device cpu -> cuda:0; device name none -> NVIDIA H200; device memory none -> 139.8 GiB; "
            "torch 1.13.1 -> 2.11.0; CUDA none -> 13.0; cuDNN none -> 9.1; precision fp32 -> tf32");
  EXPECT_EQ(environment_events(), (Rows{{id, 1700000500.5, std::monostate{}, changes}}));
  expect_same(run_environment(store_.database(), id), gpu());

  // Back on the CPU: every column it does not have is NULL again.
  EXPECT_EQ(store_.record_environment(id, cpu(), 1700000900.0),
            "device cuda:0 -> cpu; device name NVIDIA H200 -> none; device memory 139.8 GiB -> none; "
            "torch 2.11.0 -> 1.13.1; CUDA 13.0 -> none; cuDNN 9.1 -> none; precision tf32 -> fp32");
  EXPECT_EQ(rows(kColumns), (Rows{{std::string("cpu"), std::monostate{}, std::monostate{}, std::string("1.13.1"),
                                   std::monostate{}, std::monostate{}, std::string("fp32")}}));
  EXPECT_EQ(environment_events().size(), 2u);
}

TEST_F(environment, processes_are_recorded_and_read_back) {
  const int64_t one = store_.create_run(sample_run("one"));
  const int64_t three = store_.create_run(sample_run("three"));
  EXPECT_EQ(store_.record_environment(one, gpu(), 1700000001.0), "");
  EXPECT_EQ(store_.record_environment(three, three_ranks(), 1700000002.0), "");
  // One process: world_size 1, no backend or hosts (NULL, not empty).
  EXPECT_EQ(rows(kProcessesColumns + "WHERE id = " + std::to_string(one)),
            (Rows{{int64_t{1}, std::monostate{}, std::monostate{}}}));
  EXPECT_EQ(rows(kProcessesColumns + "WHERE id = " + std::to_string(three)),
            (Rows{{int64_t{3}, std::string("nccl"), std::string(R"(["node1","node1","node2"])")}}));
  // hosts is JSON that SQLite reads: one row per rank.
  EXPECT_EQ(rows("SELECT h.key, h.value FROM runs, json_each(runs.hosts) AS h WHERE runs.id = " + std::to_string(three)),
            (Rows{{int64_t{0}, std::string("node1")}, {int64_t{1}, std::string("node1")}, {int64_t{2}, std::string("node2")}}));

  Database db = open_existing(path_);
  expect_same(run_row(db, one).environment, gpu());
  expect_same(run_row(db, three).environment, three_ranks());
  expect_same(run_environment(db, three), three_ranks());
  const std::vector<RunListing> listing = list_runs(db);
  ASSERT_EQ(listing.size(), 2u);
  expect_same(listing[0].run.environment, three_ranks());
  expect_same(listing[1].run.environment, gpu());
  EXPECT_EQ(run_row(db, three).config, sample_run("three").config);  // after the processes' columns
}

TEST_F(environment, a_resume_in_other_processes_records_what_changed) {
  const int64_t id = store_.create_run(sample_run("scaled"));
  store_.record_environment(id, three_ranks(), 1700000001.0);
  RunEnvironment two_gloo = three_ranks();
  two_gloo.world_size = 2;
  two_gloo.backend = "gloo";
  two_gloo.hosts = {"node3", "node4"};
  EXPECT_EQ(store_.record_environment(id, two_gloo, 1700000100.0), "processes 3 (nccl) -> 2 (gloo)");
  EXPECT_EQ(store_.record_environment(id, gpu(), 1700000200.0), "processes 2 (gloo) -> 1");
  EXPECT_EQ(rows(kProcessesColumns), (Rows{{int64_t{1}, std::monostate{}, std::monostate{}}}));
  // Other hosts alone are no other environment, as another host of rank 0 is not.
  RunEnvironment moved = three_ranks();
  EXPECT_EQ(store_.record_environment(id, moved, 1700000300.0), "processes 1 -> 3 (nccl)");
  moved.hosts = {"node7", "node8", "node9"};
  EXPECT_EQ(store_.record_environment(id, moved, 1700000400.0), "");
  expect_same(run_environment(store_.database(), id), moved);
  // With another device too, each change is named.
  RunEnvironment on_cpu = cpu();
  EXPECT_EQ(store_.record_environment(id, on_cpu, 1700000500.0),
            "device cuda:0 -> cpu; device name NVIDIA H200 -> none; device memory 139.8 GiB -> none; "
            "torch 2.11.0 -> 1.13.1; CUDA 13.0 -> none; cuDNN 9.1 -> none; precision tf32 -> fp32; "
            "processes 3 (nccl) -> 1");
  EXPECT_EQ(rows("SELECT time, message FROM events WHERE kind = 'environment' ORDER BY id"),
            (Rows{{1700000100.0, std::string("processes 3 (nccl) -> 2 (gloo)")},
                  {1700000200.0, std::string("processes 2 (gloo) -> 1")},
                  {1700000300.0, std::string("processes 1 -> 3 (nccl)")},
                  {1700000500.0, std::string("device cuda:0 -> cpu; device name NVIDIA H200 -> none; device memory "
                                             "139.8 GiB -> none; torch 2.11.0 -> 1.13.1; CUDA 13.0 -> none; cuDNN 9.1 "
                                             "-> none; precision tf32 -> fp32; processes 3 (nccl) -> 1")}}));
}

TEST_F(environment, a_world_size_under_1_or_hosts_not_one_per_rank_are_refused_and_change_nothing) {
  const int64_t id = store_.create_run(sample_run("kept"));
  store_.record_environment(id, three_ranks(), 1.0);
  RunEnvironment none = three_ranks();
  none.world_size = 0;
  none.hosts.clear();
  try {
    store_.record_environment(id, none, 2.0);
    FAIL() << "recorded a world size of 0";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path_.string() + ": a run's world size is 0; it needs at least 1 process");
    EXPECT_EQ(e.code(), 19);  // SQLITE_CONSTRAINT
  }
  RunEnvironment short_hosts = three_ranks();
  short_hosts.hosts.pop_back();
  try {
    store_.record_environment(id, short_hosts, 2.0);
    FAIL() << "recorded 2 hosts for 3 processes";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path_.string() + ": a run of 3 processes has 2 hosts (node1, node1); it needs one per rank, "
                                         "or none");
    EXPECT_EQ(e.code(), 19);
  }
  expect_same(run_environment(store_.database(), id), three_ranks());
  EXPECT_EQ(query_int(path_, "SELECT count(*) FROM events"), 0);

  // Hosts unknown (none given) are NULL.
  RunEnvironment unknown_hosts = three_ranks();
  unknown_hosts.hosts.clear();
  EXPECT_EQ(store_.record_environment(id, unknown_hosts, 3.0), "");
  EXPECT_EQ(rows(kProcessesColumns), (Rows{{int64_t{3}, std::string("nccl"), std::monostate{}}}));
}

TEST_F(environment, the_same_environment_again_records_no_event) {
  const int64_t id = store_.create_run(sample_run("same"));
  store_.record_environment(id, gpu(), 1.0);
  EXPECT_EQ(store_.record_environment(id, gpu(), 2.0), "");
  RunEnvironment other_gpu = gpu();
  other_gpu.device = "cuda:1";
  EXPECT_EQ(store_.record_environment(id, other_gpu, 3.0), "device cuda:0 -> cuda:1");
  EXPECT_EQ(rows("SELECT message FROM events WHERE kind = 'environment'"), (Rows{{std::string("device cuda:0 -> cuda:1")}}));
}

TEST_F(environment, a_run_of_an_older_kiln_gets_its_first_environment_without_an_event) {
  const int64_t id = store_.create_run(sample_run("old"));  // columns NULL, as after the migration
  EXPECT_EQ(store_.record_environment(id, gpu(), 1.0), "");
  EXPECT_EQ(environment_events(), Rows{});
  expect_same(run_environment(store_.database(), id), gpu());
}

TEST_F(environment, an_empty_device_or_an_unknown_run_is_refused_and_changes_nothing) {
  const int64_t id = store_.create_run(sample_run("kept"));
  store_.record_environment(id, cpu(), 1.0);
  RunEnvironment no_device = gpu();
  no_device.device.clear();
  try {
    store_.record_environment(id, no_device, 2.0);
    FAIL() << "recorded an environment without a device";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path_.string() + ": a run's environment needs its device (cpu, cuda:0, ...)");
    EXPECT_EQ(e.code(), 19);  // SQLITE_CONSTRAINT
  }
  try {
    store_.record_environment(99, gpu(), 2.0);
    FAIL() << "recorded the environment of a run that does not exist";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path_.string() + ": no run with id 99");
    EXPECT_EQ(e.code(), 12);  // SQLITE_NOTFOUND
  }
  expect_same(run_environment(store_.database(), id), cpu());
  EXPECT_EQ(query_int(path_, "SELECT count(*) FROM events"), 0);
  EXPECT_EQ(query_int(path_, "SELECT count(*) FROM runs WHERE device IS NOT NULL"), 1);
}

TEST(environment_text, describe_environment_says_what_it_has) {
  EXPECT_EQ(describe_environment(gpu()), "cuda:0 (NVIDIA H200, 139.8 GiB), torch 2.11.0, CUDA 13.0, cuDNN 9.1, precision tf32");
  EXPECT_EQ(describe_environment(cpu()), "cpu, torch 1.13.1, precision fp32");
  RunEnvironment named_cpu = cpu();
  named_cpu.device_name = "AMD EPYC 9654";
  named_cpu.precision.clear();
  EXPECT_EQ(describe_environment(named_cpu), "cpu (AMD EPYC 9654), torch 1.13.1");
  RunEnvironment bare;
  bare.device = "cuda:3";
  bare.device_memory = int64_t{1} << 30;
  EXPECT_EQ(describe_environment(bare), "cuda:3 (1.0 GiB)");
}

TEST(environment_text, describe_processes_groups_the_hosts_in_rank_order) {
  EXPECT_EQ(describe_processes(gpu()), "");  // one process: nothing to say
  EXPECT_EQ(describe_processes(three_ranks()), "3 (nccl) on node1 ×2, node2 ×1");
  RunEnvironment four = gpu();
  four.world_size = 4;
  four.backend = "gloo";
  four.hosts = {"node1", "node1", "node2", "node2"};
  EXPECT_EQ(describe_processes(four), "4 (gloo) on node1 ×2, node2 ×2");
  four.hosts = {"node2", "node1", "node2", "node1"};  // each host where its first rank is
  EXPECT_EQ(describe_processes(four), "4 (gloo) on node2 ×2, node1 ×2");
  RunEnvironment one_host = four;
  one_host.world_size = 2;
  one_host.hosts = {"node1", "node1"};
  EXPECT_EQ(describe_processes(one_host), "2 (gloo) on node1");
  one_host.hosts.clear();  // not known
  EXPECT_EQ(describe_processes(one_host), "2 (gloo)");
}

TEST(environment_text, environment_changes_names_each_field_that_differs) {
  EXPECT_EQ(environment_changes(gpu(), gpu()), "");
  RunEnvironment newer = gpu();
  newer.torch_version = "2.12.0";
  newer.cudnn_version = "";
  EXPECT_EQ(environment_changes(gpu(), newer), "torch 2.11.0 -> 2.12.0; cuDNN 9.1 -> none");
  // Memory that differs by less than the 0.1 GiB shown is said in bytes.
  RunEnvironment smaller = gpu();
  smaller.device_memory = kH200Memory - 1024;
  EXPECT_EQ(environment_changes(gpu(), smaller), "device memory 150110000000 -> 150109998976 bytes");
}

TEST(environment_migration, a_version_6_database_reads_its_runs_as_one_process_each) {
  TempDir dir;
  const fs::path path = dir / "kiln.db";
  load_dump(path, "kiln_v6.sql");
  Database db = open_existing(path);  // read-only: not migrated, as kiln show, compare and report read it
  ASSERT_EQ(schema_version(db), 6);
  RunEnvironment recorded;  // what kiln 0.1.0 recorded for each run of the dump
  recorded.device = "cpu";
  recorded.torch_version = "1.13.0";
  recorded.precision = "fp32";
  expect_same(run_row(db, 1).environment, recorded);
  expect_same(run_environment(db, 2), recorded);
  const std::vector<RunListing> listing = list_runs(db);
  ASSERT_EQ(listing.size(), 3u);
  for (const RunListing& line : listing) expect_same(line.run.environment, recorded);
  EXPECT_NE(run_row(db, 1).config.find("[experiment]"), std::string::npos);
  EXPECT_EQ(schema_version(db), 6);
}

TEST(environment_migration, a_version_4_database_reads_without_an_environment) {
  TempDir dir;
  const fs::path path = dir / "kiln.db";
  load_dump(path, "kiln_v4.sql");
  Database db = open_existing(path);  // read-only: not migrated, as kiln show, compare and report read it
  ASSERT_EQ(schema_version(db), 4);
  const RunRow run = run_row(db, 1);
  EXPECT_EQ(run.name, "mlp");
  EXPECT_FALSE(run.environment);
  EXPECT_NE(run.config.find("[experiment]"), std::string::npos);
  EXPECT_FALSE(run_environment(db, 1));
  const std::vector<RunListing> listing = list_runs(db);
  ASSERT_EQ(listing.size(), 3u);
  for (const RunListing& line : listing) EXPECT_FALSE(line.run.environment) << line.run.name;

  // A query of the new columns says how to get them.
  try {
    query_readonly(path, "SELECT name, device FROM runs");
    FAIL() << "a version 4 database has no device column";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()),
              path.string() + ": no such column: device (SQLITE_ERROR) (this database has schema version 4, this kiln " +
                  std::to_string(kSchemaVersion) + ": any kiln run or kiln runs on it upgrades it)");
  }
}

}  // namespace
}  // namespace kiln::runner::store
