// What the plugin host's tests share: the fixture libraries, scratch folders, the environment.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "../support/temp_dir.hpp"
#include "document.hpp"
#include "kiln/config.hpp"
#include "kiln/error.hpp"

namespace kiln::runner::test_support {

/// The folder the fixture libraries are built into (tests/fixtures/lib).
inline const std::filesystem::path kFixtures = std::filesystem::canonical(KILN_FIXTURE_DIR);

/// The fixture library `name` in kFixtures: "fixture_good" -> .../libfixture_good.so.
inline std::filesystem::path fixture(const std::string& name) { return kFixtures / ("lib" + name + ".so"); }

using kiln::test::TempDir;

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
