// `kiln show` prints a run's environment (schema 5) in its header, with its processes when
// several trained it (schema 7), and nothing for runs an older kiln made, on a real database of
// schema 4 (tests/store/data/kiln_v4.sql) before and after its upgrade.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class cli_show_environment : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "runs");
    std::ifstream dump(source_dir() / "tests/store/data/kiln_v4.sql");
    std::stringstream text;
    text << dump.rdbuf();
    ASSERT_GT(text.str().size(), 1000u);
    sql_exec(db(), text.str());
  }

  KilnResult kiln(const std::vector<std::string>& args) { return run_kiln(args, dir_.path()); }
  fs::path db() const { return dir_ / "runs/kiln.db"; }

  TempDir dir_;
};

TEST_F(cli_show_environment, an_older_database_shows_no_device_line_and_is_left_as_it_was) {
  const KilnResult shown = kiln({"show", "mlp"});
  ASSERT_EQ(shown.exit_code(), 0) << shown.describe();
  EXPECT_THAT(shown.out, HasSubstr("\n  kiln       0.1.0\n"));
  EXPECT_THAT(shown.out, Not(HasSubstr("device")));
  EXPECT_EQ(sql_value(db(), "PRAGMA user_version"), "4");  // show reads; it does not upgrade
}

TEST_F(cli_show_environment, a_recorded_environment_is_one_line_of_the_header) {
  const KilnResult runs = kiln({"runs"});  // upgrades the database
  ASSERT_EQ(runs.exit_code(), 0) << runs.describe();
  ASSERT_EQ(sql_value(db(), "PRAGMA user_version"), "8");
  sql_exec(db(), "UPDATE runs SET device = 'cuda:0', device_name = 'NVIDIA H200', device_memory = 150110000000, "
                 "torch_version = '2.11.0', cuda_version = '13.0', cudnn_version = '9.1', precision = 'tf32' "
                 "WHERE name = 'mlp'; "
                 "UPDATE runs SET device = 'cpu', torch_version = '1.13.1', precision = 'fp32' WHERE name = 'mlp-2'");

  const KilnResult gpu = kiln({"show", "mlp"});
  ASSERT_EQ(gpu.exit_code(), 0) << gpu.describe();
  EXPECT_THAT(gpu.out, HasSubstr(" (pid 20780)\n  device     cuda:0 (NVIDIA H200, 139.8 GiB), torch 2.11.0, CUDA 13.0, "
                                 "cuDNN 9.1, precision tf32\n"));
  const KilnResult cpu = kiln({"show", "mlp-2"});
  ASSERT_EQ(cpu.exit_code(), 0) << cpu.describe();
  EXPECT_THAT(cpu.out, HasSubstr("\n  device     cpu, torch 1.13.1, precision fp32\n"));
  const KilnResult none = kiln({"show", "mlp-3"});  // made by an older kiln: its columns are NULL
  ASSERT_EQ(none.exit_code(), 0) << none.describe();
  EXPECT_THAT(none.out, Not(HasSubstr("device")));
}

TEST_F(cli_show_environment, a_run_of_several_processes_shows_them_under_its_device) {
  const KilnResult runs = kiln({"runs"});  // upgrades the database
  ASSERT_EQ(runs.exit_code(), 0) << runs.describe();
  // As RunStore::record_environment writes them: 3 ranks on 2 hosts; 1 process (world_size 1,
  // no backend or hosts); mlp-3 keeps the NULLs of an older kiln's run.
  sql_exec(db(), "UPDATE runs SET device = 'cuda:0', device_name = 'NVIDIA H200', device_memory = 150110000000, "
                 "torch_version = '2.11.0', precision = 'bf16', world_size = 3, backend = 'gloo', "
                 "hosts = '[\"node1\",\"node1\",\"node2\"]' WHERE name = 'mlp'; "
                 "UPDATE runs SET device = 'cpu', torch_version = '1.13.1', precision = 'fp32', world_size = 1 "
                 "WHERE name = 'mlp-2'");

  const KilnResult three = kiln({"show", "mlp"});
  ASSERT_EQ(three.exit_code(), 0) << three.describe();
  EXPECT_THAT(three.out, HasSubstr("\n  device     cuda:0 (NVIDIA H200, 139.8 GiB), torch 2.11.0, precision bf16\n"
                                   "  processes  3 (gloo) on node1 ×2, node2 ×1\n"));
  for (const char* single : {"mlp-2", "mlp-3"}) {
    const KilnResult shown = kiln({"show", single});
    ASSERT_EQ(shown.exit_code(), 0) << shown.describe();
    EXPECT_THAT(shown.out, Not(HasSubstr("processes"))) << single;
  }
  EXPECT_THAT(kiln({"show", "mlp-2"}).out, HasSubstr("\n  device     cpu, torch 1.13.1, precision fp32\n  ended"));

  // `kiln runs` says where each trained: processes by the device's type, hosts when several.
  const KilnResult listed = kiln({"runs"});
  ASSERT_EQ(listed.exit_code(), 0) << listed.describe();
  const std::vector<std::string> rows = lines(listed.out);
  ASSERT_EQ(rows.size(), 6u) << listed.out;
  const std::size_t column = rows[0].find("device");
  ASSERT_NE(column, std::string::npos) << listed.out;
  EXPECT_EQ(rows[2].substr(column, 17), "                 ") << listed.out;  // mlp-3: none recorded
  EXPECT_EQ(rows[3].substr(column, 17), "cpu              ") << listed.out;
  EXPECT_EQ(rows[4].substr(column, 17), "3 x cuda, 2 hosts") << listed.out;
}

}  // namespace
}  // namespace kiln::test
