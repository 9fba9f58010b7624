// What the plugin host's tests share: the fixture libraries, scratch folders, the environment.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "document.hpp"
#include "kiln/config.hpp"
#include "kiln/error.hpp"

namespace kiln::runner::test_support {

/// The folder the fixture libraries are built into (tests/fixtures/lib).
inline const std::filesystem::path kFixtures = std::filesystem::canonical(KILN_FIXTURE_DIR);

/// The fixture library `name` in kFixtures: "fixture_good" -> .../libfixture_good.so.
inline std::filesystem::path fixture(const std::string& name) { return kFixtures / ("lib" + name + ".so"); }

/// A fresh directory under the system temp path, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() / ("kiln-plugin-test-" + std::to_string(getpid()) + "-" +
                                                      std::to_string(ticks) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
    path_ = std::filesystem::canonical(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

/// Sets (or, with nullopt, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value->c_str(), 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

/// The [model] table of a one-table experiment "exp.toml", written on line 1.
inline Config model_table(const std::string& body = "") {
  return kiln::detail::Document::parse("[model]\n" + body, "exp.toml")->root().table("model");
}

/// The message of the PluginError `action` throws; "no error" when it throws none.
inline std::string plugin_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const PluginError& e) {
    return e.what();
  }
  return "no error";
}

/// Every test starts without $KILN_PLUGIN_PATH, whatever the shell running ctest has, and
/// with an empty folder to stand for kiln's own plugin folder.
class PluginHostTest : public ::testing::Test {
 protected:
  ScopedEnv no_plugin_path_{"KILN_PLUGIN_PATH", std::nullopt};
  TempDir empty_;
};

}  // namespace kiln::runner::test_support
