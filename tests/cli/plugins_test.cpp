// `kiln plugins`: the libraries on the search path, and --check saying exactly what is wrong.
#include <filesystem>
#include <fstream>
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
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

/// The fixtures for --check that would upset scans of fixture_dir(): tests/fixtures/check.
fs::path check_fixture(const std::string& name) {
  return fixture_dir().parent_path() / "check" / ("lib" + name + ".so");
}

fs::path fixture(const std::string& name) { return fixture_dir() / ("lib" + name + ".so"); }

/// The lines `kiln plugins` prints for a library that passes its handshake.
std::string good_block() {
  return fixture("fixture_good").string() +
         "\n"
         "  plugin    fixture_good 1.2.3\n"
         "  sdk abi   " KILN_TEST_SDK_ABI "\n"
         "  torch     ";
}

class cli_plugins : public ::testing::Test {
 protected:
  KilnResult kiln(const std::vector<std::string>& args, const EnvChanges& env = {}) {
    std::vector<std::string> all = {"plugins"};
    all.insert(all.end(), args.begin(), args.end());
    return run_kiln(all, dir_.path(), env);
  }

  /// `kiln plugins --check LIB` that must fail: exit code 2, nothing on stdout, one error line.
  std::string refused(const std::string& library) {
    const KilnResult result = kiln({"--check", library});
    EXPECT_TRUE(fails_with_one_error_line(result, 2));
    EXPECT_EQ(result.out, "");
    return error_line(result);
  }

  TempDir dir_;
};

// ---- --check: every way a library can be wrong ------------------------------------------

TEST_F(cli_plugins, check_refuses_another_sdk_abi_naming_both) {
  const std::string library = fixture("fixture_bad_abi").string();
  EXPECT_EQ(refused(library), "error: " + library +
                                  " was built for kiln SDK ABI 999 but this kiln has ABI " KILN_TEST_SDK_ABI "; rebuild the plugin against "
                                  "this kiln");
}

TEST_F(cli_plugins, check_refuses_another_torch_naming_both_versions) {
  EXPECT_THAT(refused(fixture("fixture_bad_torch").string()),
              MatchesRegex("error: .*libfixture_bad_torch\\.so was built for torch 0\\.0\\.0 but this kiln uses torch "
                           "[0-9]+\\.[0-9]+\\.[0-9]+; rebuild the plugin against this kiln"));
}

TEST_F(cli_plugins, check_refuses_another_string_abi) {
  EXPECT_THAT(refused(fixture("fixture_bad_cxx_abi").string()),
              HasSubstr("was built with _GLIBCXX_USE_CXX11_ABI=0 but this kiln uses _GLIBCXX_USE_CXX11_ABI=1"));
}

TEST_F(cli_plugins, check_refuses_a_file_that_is_not_a_shared_library) {
  const fs::path text = dir_ / "libnotes.so";
  std::ofstream(text) << "not a library\n";
  EXPECT_EQ(refused(text.string()),
            "error: " + text.string() + " is not a shared library (it does not start with an ELF header)");
  EXPECT_EQ(refused(dir_.path().string()), "error: " + dir_.path().string() + " is a directory, not a shared library");
}

TEST_F(cli_plugins, check_refuses_a_library_without_the_handshake_symbol) {
  const std::string library = fixture("fixture_not_kiln").string();
  EXPECT_EQ(refused(library), "error: " + library + " is not a kiln plugin: it has no 'kiln_plugin_info' symbol");
}

TEST_F(cli_plugins, check_names_the_missing_library_a_plugin_needs) {
  const std::string library = check_fixture("fixture_missing_dep").string();
  EXPECT_EQ(refused(library), "error: " + library +
                                  ": a library it needs is missing: libkiln_fixture_gone.so: cannot open shared object "
                                  "file: No such file or directory");
}

TEST_F(cli_plugins, check_reports_a_register_function_that_throws) {
  const std::string library = check_fixture("fixture_register_throws").string();
  EXPECT_EQ(refused(library), "error: " + library +
                                  " (plugin 'fixture_register_throws' 0.1.0) failed to register its names: no licence "
                                  "file found");
}

TEST_F(cli_plugins, check_of_a_file_that_is_not_there_says_where_it_looked) {
  EXPECT_EQ(refused("./nope.so"), "error: ./nope.so: no such file");
  EXPECT_EQ(refused("nope"),
            "error: nope: no such file, and no libnope.so or nope.so in the search path (" + kiln_plugin_dir().string() + ")");
}

TEST_F(cli_plugins, check_of_a_good_library_prints_what_it_registers) {
  const KilnResult result = kiln({"--check", fixture("fixture_good").string()});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.err, "");
  const std::vector<std::string> out = lines(result.out);
  ASSERT_EQ(out.size(), 8u) << result.out;
  EXPECT_THAT(out[0], MatchesRegex(".*libfixture_good\\.so: a kiln plugin this kiln can load \\(kiln [0-9.]+, SDK ABI "
                                   KILN_TEST_SDK_ABI ", torch [0-9.]+ with(out)? CUDA\\)"));
  EXPECT_EQ(out[1], "  plugin    fixture_good 1.2.3");
  EXPECT_EQ(out[2], "  sdk abi   " KILN_TEST_SDK_ABI);
  EXPECT_THAT(out[3], MatchesRegex("  torch     [0-9]+\\.[0-9]+\\.[0-9]+ with(out)? CUDA"));
  EXPECT_EQ(out[4], "  models    tiny");
  EXPECT_EQ(out[5], "  losses    half_sum");
  EXPECT_EQ(out[6], "  datasets  counting");
  EXPECT_EQ(out[7], "  hooks     noop");
}

TEST_F(cli_plugins, check_finds_a_library_by_name_on_the_search_path) {
  const KilnResult result = kiln({"--check", "fixture_good", "--path", fixture_dir().string()});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out, StartsWith(fixture("fixture_good").string() + ": a kiln plugin this kiln can load"));
}

// ---- the list -----------------------------------------------------------------------------

TEST_F(cli_plugins, lists_the_default_folder_of_the_kiln_that_runs) {
  const KilnResult result = kiln({});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  const std::vector<std::string> out = lines(result.out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front(), "search path: " + kiln_plugin_dir().string());
  EXPECT_THAT(result.out, HasSubstr(kiln_plugin_dir().string() + "/libmlp.so\n  plugin    mlp 1.0.0\n"));
  EXPECT_THAT(result.out, ContainsRegex("\n  losses    gan, l1, mse\n"));
  EXPECT_THAT(out.back(), MatchesRegex("[0-9]+ plugin libraries, [0-9]+ usable \\(kiln .*\\)"));
}

TEST_F(cli_plugins, lists_refused_libraries_with_the_reason_and_the_others_in_search_order) {
  const KilnResult result = kiln({"--path", fixture_dir().string()});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(lines(result.out).front(), "search path: " + fixture_dir().string() + ", " + kiln_plugin_dir().string());
  EXPECT_THAT(result.out, HasSubstr(good_block()));
  EXPECT_THAT(result.out, HasSubstr(fixture("fixture_bad_abi").string() + "\n  refused   " +
                                    fixture("fixture_bad_abi").string() +
                                    " was built for kiln SDK ABI 999 but this kiln has ABI " KILN_TEST_SDK_ABI));
  EXPECT_THAT(result.out, HasSubstr(fixture("fixture_not_kiln").string() + "\n  refused   "));
  // The --path folder's libraries come before the default folder's.
  EXPECT_LT(result.out.find(fixture("fixture_good").string()), result.out.find(kiln_plugin_dir().string() + "/libmlp.so"));
}

TEST_F(cli_plugins, searches_path_then_environment_then_default_like_kiln_run) {
  const fs::path first = dir_ / "first";
  fs::create_directories(first);
  const KilnResult result = kiln({"--path", "first"}, {{"KILN_PLUGIN_PATH", fixture_dir().string()}});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(lines(result.out).front(),
            "search path: " + first.string() + ", " + fixture_dir().string() + ", " + kiln_plugin_dir().string());
  EXPECT_THAT(result.out, HasSubstr(good_block()));
}

}  // namespace
}  // namespace kiln::test
