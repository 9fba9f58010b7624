// A run's environment (schema 5): RunStore::record_environment on a start and on a resume on
// another device, how it reads back (run_row, list_runs, run_environment, also from an older
// database), and how it is worded for `kiln show` and the 'environment' event.
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

void expect_same(const std::optional<RunEnvironment>& read, const RunEnvironment& written) {
  ASSERT_TRUE(read);
  EXPECT_EQ(read->device, written.device);
  EXPECT_EQ(read->device_name, written.device_name);
  EXPECT_EQ(read->device_memory, written.device_memory);
  EXPECT_EQ(read->torch_version, written.torch_version);
  EXPECT_EQ(read->cuda_version, written.cuda_version);
  EXPECT_EQ(read->cudnn_version, written.cudnn_version);
  EXPECT_EQ(read->precision, written.precision);
}

const std::string kColumns =
    "SELECT device, device_name, device_memory, torch_version, cuda_version, cudnn_version, precision FROM runs ";

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
