// default_plugin_dir() from an executable's place, and PluginHost::list() in search order.
#include "plugins/search_path.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugins/plugin_host.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

/// A fresh folder under the system temp path, removed with everything in it.
class Scratch {
 public:
  Scratch() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("kiln-search-path-test-" + std::to_string(getpid()) + "-" +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "-" +
             std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

/// The layout CMake writes for this build, but with a build tree of the test's own.
PluginDirLayout layout(const fs::path& build_dir) {
  return PluginDirLayout{"plugins/lib", "../lib/kiln/plugins", build_dir, build_dir / "plugins/lib"};
}

TEST(default_plugin_dir, of_a_build_trees_kiln_is_plugins_lib_beside_it) {
  Scratch tree;
  fs::create_directories(tree / "build/plugins/lib");
  EXPECT_EQ(default_plugin_dir(tree / "build/kiln", layout(tree / "elsewhere")), tree / "build/plugins/lib");
}

TEST(default_plugin_dir, of_an_installed_kiln_is_lib_kiln_plugins_of_its_prefix) {
  Scratch prefix;
  fs::create_directories(prefix / "lib/kiln/plugins");
  fs::create_directories(prefix / "bin");
  EXPECT_EQ(default_plugin_dir(prefix / "bin/kiln", layout("/nonexistent/build")), prefix / "lib/kiln/plugins");
}

TEST(default_plugin_dir, of_another_program_in_the_build_tree_is_the_build_trees) {
  Scratch tree;
  EXPECT_EQ(default_plugin_dir(tree / "build/tests/cli/kiln_cli_tests", layout(tree / "build")),
            tree / "build/plugins/lib");
}

TEST(default_plugin_dir, of_a_kiln_without_plugins_is_where_an_installed_one_would_have_them) {
  Scratch prefix;
  EXPECT_EQ(default_plugin_dir(prefix / "bin/kiln", layout("/nonexistent/build")), prefix / "lib/kiln/plugins");
}

TEST(default_plugin_dir, of_this_test_is_the_build_trees_plugin_folder) {
  EXPECT_EQ(default_plugin_dir(current_executable()), fs::path(KILN_PLUGIN_DIR).lexically_normal());
  EXPECT_EQ(current_executable().filename(), "kiln_plugin_tests");
}

TEST(plugin_host_list, lists_every_library_file_in_search_order_with_the_reason_for_each_refusal) {
  Scratch empty;
  fs::create_directories(empty / "d");
  ::unsetenv("KILN_PLUGIN_PATH");
  PluginHost host({fs::canonical(KILN_FIXTURE_DIR)}, empty / "d");
  const std::vector<PluginHost::Found> found = host.list();
  std::vector<std::string> names;
  for (const auto& library : found) names.push_back(library.info.path.filename().string());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  const auto find = [&](const std::string& file) {
    const auto at = std::find(names.begin(), names.end(), file);
    EXPECT_NE(at, names.end()) << file;
    return found.at(static_cast<std::size_t>(at - names.begin()));
  };
  const PluginHost::Found good = find("libfixture_good.so");
  EXPECT_EQ(good.error, "");
  EXPECT_EQ(good.info.plugin_name, "fixture_good");
  EXPECT_EQ(good.info.names.at(Kind::hook), std::vector<std::string>{"noop"});
  const PluginHost::Found bad = find("libfixture_bad_abi.so");
  EXPECT_THAT(bad.error, HasSubstr("was built for kiln SDK ABI 999 but this kiln has ABI " + std::to_string(KILN_SDK_ABI)));
  EXPECT_EQ(bad.info.path, fs::canonical(KILN_FIXTURE_DIR) / "libfixture_bad_abi.so");
  EXPECT_THAT(find("libfixture_not_kiln.so").error, HasSubstr("has no 'kiln_plugin_info' symbol"));
  EXPECT_EQ(host.scan().size() + host.failures().size(), found.size());
}

}  // namespace
}  // namespace kiln::runner
