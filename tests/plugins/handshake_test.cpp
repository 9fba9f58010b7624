// The loader's refusals as open_library() words them (C++ symbols demangled), and what a handshake
// says about the library's build.
#include "plugins/handshake.hpp"

#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "kiln/error.hpp"
#include "kiln/plugin.hpp"

namespace kiln::runner::detail {
namespace {

namespace fs = std::filesystem;

/// The fixtures that would upset scans of the fixture folder: tests/fixtures/check.
fs::path check_fixture(const std::string& name) {
  return fs::canonical(KILN_FIXTURE_DIR).parent_path() / "check" / ("lib" + name + ".so");
}

TEST(handshake, undefined_cxx_symbol_is_demangled_with_its_mangled_name_after_it) {
  EXPECT_EQ(demangle_undefined_symbols("/p/libsine.so: undefined symbol: _ZN4sine8add_lossERN4kiln8RegistryE"),
            "/p/libsine.so: undefined symbol: sine::add_loss(kiln::Registry&) (_ZN4sine8add_lossERN4kiln8RegistryE)");
  // A class whose first virtual function has no definition lacks its vtable.
  EXPECT_EQ(demangle_undefined_symbols("libx.so: undefined symbol: _ZTVN4sine4HookE"),
            "libx.so: undefined symbol: vtable for sine::Hook (_ZTVN4sine4HookE)");
}

TEST(handshake, versioned_undefined_symbol_keeps_its_version) {
  EXPECT_EQ(demangle_undefined_symbols("libx.so: undefined symbol: _ZNSt6chrono3_V212system_clock3nowEv, version "
                                       "GLIBCXX_3.4.19"),
            "libx.so: undefined symbol: std::chrono::_V2::system_clock::now() "
            "(_ZNSt6chrono3_V212system_clock3nowEv), version GLIBCXX_3.4.19");
}

TEST(handshake, c_symbols_invalid_names_and_other_messages_are_left_as_they_are) {
  EXPECT_EQ(demangle_undefined_symbols("libx.so: undefined symbol: sqlite3_open"),
            "libx.so: undefined symbol: sqlite3_open");
  EXPECT_EQ(demangle_undefined_symbols("libx.so: undefined symbol: _Z"), "libx.so: undefined symbol: _Z");
  EXPECT_EQ(demangle_undefined_symbols("libx.so: undefined symbol: "), "libx.so: undefined symbol: ");
  EXPECT_EQ(demangle_undefined_symbols("liby.so: cannot open shared object file: No such file or directory"),
            "liby.so: cannot open shared object file: No such file or directory");
  EXPECT_EQ(demangle_undefined_symbols(""), "");
}

TEST(handshake, every_undefined_symbol_in_a_message_is_demangled) {
  EXPECT_EQ(demangle_undefined_symbols("undefined symbol: _Z1fv; undefined symbol: _Z1gi"),
            "undefined symbol: f() (_Z1fv); undefined symbol: g(int) (_Z1gi)");
}

TEST(handshake, library_with_an_undefined_cxx_symbol_is_refused_naming_it_demangled) {
  const fs::path path = check_fixture("fixture_undefined_symbol");
  ASSERT_TRUE(fs::is_regular_file(path)) << path;
  try {
    open_library(path);
    FAIL() << "open_library accepted " << path;
  } catch (const PluginError& error) {
    EXPECT_EQ(std::string(error.what()), path.string() +
                                             ": undefined symbol: fixture::add_missing(kiln::Registry&) "
                                             "(_ZN7fixture11add_missingERN4kiln8RegistryE)");
  }
}

/// The fixtures whose handshake says something else about their build: tests/fixtures/build_info.
fs::path build_info_fixture(const std::string& name) {
  return fs::canonical(KILN_FIXTURE_DIR).parent_path() / "build_info" / ("lib" + name + ".so");
}

TEST(handshake, records_whether_the_library_s_libtorch_has_cuda) {
  const auto good = open_library(fs::path(KILN_FIXTURE_DIR) / "libfixture_good.so");
  EXPECT_EQ(good->info.torch_cuda, std::optional<bool>(KILN_WITH_CUDA != 0));  // built like kiln
  EXPECT_EQ(open_library(build_info_fixture("fixture_cuda_build"))->info.torch_cuda, std::optional<bool>(true));
}

TEST(handshake, a_library_from_before_the_build_entry_loads_with_cuda_not_recorded) {
  const auto old = open_library(build_info_fixture("fixture_old_handshake"));
  EXPECT_EQ(old->info.plugin_name, "fixture_old_handshake");
  EXPECT_EQ(old->info.torch_version, TORCH_VERSION);
  EXPECT_EQ(old->info.torch_cuda, std::nullopt);
}

}  // namespace
}  // namespace kiln::runner::detail
