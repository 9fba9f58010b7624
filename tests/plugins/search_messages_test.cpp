// What the plugin host says when it cannot find something: the folders it searched, the
// libraries it found there and what they register; a library that registers a name twice;
// the registry filing each name under its kind.
#include "plugins/plugin_host.hpp"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kiln/kiln.hpp"
#include "plugin_test_support.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;

using test_support::fixture;
using test_support::kFixtures;
using test_support::model_table;
using test_support::plugin_error;
using test_support::ScopedEnv;
using test_support::TempDir;

/// The fixture that registers a name twice, in a folder of its own (tests/fixtures/twice).
const fs::path kTwice = kFixtures.parent_path() / "twice/libfixture_registers_twice.so";

/// `folder` holding a link to each fixture library in `names`: a search path with exactly
/// those libraries (each is loaded from its one real file).
void link_fixtures(const TempDir& folder, const std::vector<std::string>& names) {
  for (const std::string& name : names) fs::create_symlink(fixture(name), folder.path() / ("lib" + name + ".so"));
}

class plugin_search : public test_support::PluginHostTest {};

// ---- a [plugins] paths or $KILN_PLUGIN_PATH entry that is not a folder --------------------

TEST_F(plugin_search, missing_folder_is_marked_in_the_folders_searched) {
  const fs::path missing = empty_.path() / "build/plugin";
  PluginHost host({missing}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_model("sine_net", "", model_table()); }),
            "exp.toml:1:1: no plugin library provides model 'sine_net' (searched: " + missing.string() +
                " (missing), " + empty_.path().string() + ") (found no plugin library there)");
}

TEST_F(plugin_search, library_file_given_as_a_folder_says_to_give_its_folder_or_use_library) {
  const fs::path file = fixture("fixture_good");
  PluginHost host({file}, empty_.path());
  EXPECT_EQ(host.searched(), file.string() + " (a file, not a folder: give its folder, or name the file with library = \"" +
                                 file.string() + "\"), " + empty_.path().string());
  // What the file registers is not found through it: it is not searched as a folder.
  EXPECT_THAT(plugin_error([&] { host.make_model("tiny", "", model_table()); }),
              ::testing::StartsWith("exp.toml:1:1: no plugin library provides model 'tiny' (searched: " + file.string() +
                                    " (a file, not a folder: "));
}

TEST_F(plugin_search, other_file_given_as_a_folder_is_marked) {
  const fs::path notes = empty_.write("notes.txt", "plugins live elsewhere\n");
  PluginHost host({notes}, empty_.path());
  EXPECT_EQ(host.searched(), notes.string() + " (a file, not a folder), " + empty_.path().string());
}

TEST_F(plugin_search, missing_kiln_plugin_path_folder_is_marked_and_the_search_goes_on) {
  const fs::path gone = empty_.path() / "gone";
  ScopedEnv env("KILN_PLUGIN_PATH", gone.string() + ":" + kFixtures.string());
  PluginHost host({}, empty_.path());
  EXPECT_EQ(host.searched(), gone.string() + " (missing), " + kFixtures.string() + ", " + empty_.path().string());
  EXPECT_TRUE(host.make_model("tiny", "fixture_good", model_table()));
}

// ---- library = "X" that is not on the search path ----------------------------------------

TEST_F(plugin_search, named_library_not_found_suggests_a_close_library_and_lists_them) {
  TempDir folder;
  folder.write("libsine.so", "");
  folder.write("libmlp.so", "");
  folder.write("notes.txt", "");  // not a plugin library: not listed
  PluginHost host({folder.path()}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_model("sine_net", "sin", model_table()); }),
            "exp.toml:1:1: plugin library 'libsin.so' not found (searched: " + folder.path().string() + ", " +
                empty_.path().string() + "); did you mean 'sine'? (found 2 libraries: mlp, sine)");
  // Written as a file name, the suggestion is still the value to write.
  EXPECT_THAT(plugin_error([&] { host.make_model("sine_net", "libsin.so", model_table()); }),
              ::testing::HasSubstr("; did you mean 'sine'? (found 2 libraries: mlp, sine)"));
}

TEST_F(plugin_search, named_library_not_found_lists_only_the_first_ten_libraries) {
  TempDir folder;
  for (int i = 0; i < 12; ++i) folder.write("libp" + std::to_string(10 + i) + ".so", "");
  PluginHost host({folder.path()}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_model("sine_net", "zzzzzz", model_table()); }),
            "exp.toml:1:1: plugin library 'libzzzzzz.so' not found (searched: " + folder.path().string() + ", " +
                empty_.path().string() +
                ") (found 12 libraries: p10, p11, p12, p13, p14, p15, p16, p17, p18, p19, and 2 more)");
}

// ---- a name no library registers ----------------------------------------------------------

TEST_F(plugin_search, unregistered_name_shows_what_each_library_found_registers) {
  TempDir folder;
  link_fixtures(folder, {"fixture_good", "fixture_throws"});
  PluginHost host({folder.path()}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_hook("best_loss", "", model_table()); }),
            "exp.toml:1:1: no plugin library provides hook 'best_loss' (searched: " + folder.path().string() + ", " +
                empty_.path().string() +
                ") (found 2 libraries: [libfixture_good.so registers hooks: noop; models: tiny; losses: half_sum; "
                "datasets: counting] [libfixture_throws.so registers hooks: none; models: broken])");
}

TEST_F(plugin_search, unregistered_name_lists_usable_and_skipped_libraries_apart) {
  TempDir folder;
  link_fixtures(folder, {"fixture_config_error", "fixture_bad_torch"});
  PluginHost host({folder.path()}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_loss("needs_widht", "", model_table()); }),
            "exp.toml:1:1: no plugin library provides loss 'needs_widht' (searched: " + folder.path().string() + ", " +
                empty_.path().string() +
                ") (found 1 library: [libfixture_config_error.so registers losses: none; models: needs_width]) "
                "(skipped 1 unusable library: [" + fixture("fixture_bad_torch").string() +
                " was built for torch 0.0.0 but this kiln uses torch " TORCH_VERSION
                "; rebuild the plugin against this kiln])");
}

// ---- one name registered twice --------------------------------------------------------------

TEST_F(plugin_search, library_registering_a_name_twice_is_refused_naming_both) {
  EXPECT_EQ(plugin_error([&] { PluginHost::inspect(kTwice); }),
            kTwice.string() +
                " (plugin 'fixture_registers_twice' 0.1.0) failed to register its names: model 'twin' is registered twice");
  PluginHost host({}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_model("twin", kTwice.string(), model_table()); }),
            "exp.toml:1:1: " + kTwice.string() +
                " (plugin 'fixture_registers_twice' 0.1.0) failed to register its names: model 'twin' is registered twice");
}

TEST_F(plugin_search, a_name_registered_twice_in_a_searched_library_is_said_first) {
  // No `library = ...`: the host searches every library for the name, and the one that
  // registers it twice is refused while registering; that is the error, before the search.
  TempDir folder;
  link_fixtures(folder, {"fixture_good"});
  fs::create_symlink(kTwice, folder.path() / kTwice.filename());
  PluginHost host({folder.path()}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_model("twin", "", model_table()); }),
            "exp.toml:1:1: " + fs::canonical(kTwice).string() +
                " (plugin 'fixture_registers_twice' 0.1.0) failed to register its names: model 'twin' is registered "
                "twice; no other plugin library provides model 'twin' (searched: " + folder.path().string() + ", " +
                empty_.path().string() + ") (found 1 library: [libfixture_good.so registers models: tiny; losses: "
                "half_sum; datasets: counting; hooks: noop])");
  // A name another library provides is found as before: the broken library stands in no one's way.
  EXPECT_NE(host.make_model("tiny", "", model_table()), nullptr);
}

TEST_F(plugin_search, registry_refuses_a_second_name_of_one_kind_and_allows_it_for_another) {
  const Registry::Factory<Model> model = [](const Config&) { return std::shared_ptr<Model>(); };
  const Registry::Factory<Hook> hook = [](const Config&) { return std::shared_ptr<Hook>(); };
  Registry registry;
  registry.add("x", model);
  EXPECT_EQ(plugin_error([&] { registry.add("x", model); }), "model 'x' is registered twice");
  EXPECT_EQ(plugin_error([&] { registry.add("x", hook); }), "no error");
  EXPECT_EQ(plugin_error([&] { registry.add("x", hook); }), "hook 'x' is registered twice");
  EXPECT_EQ(registry.names(Kind::model), std::vector<std::string>{"x"});
  EXPECT_EQ(registry.names(Kind::hook), std::vector<std::string>{"x"});
}

/// A hook that says what built it; a class of one kind, as plugins write them.
class Named : public Hook {
 public:
  explicit Named(const Config& config) : name(config.get_or<std::string>("name", "none")) {}
  std::string name;
};

TEST_F(plugin_search, registry_files_a_class_or_a_factory_under_the_kind_it_implements) {
  static_assert(kind_of<Named> == Kind::hook && kind_of<Model> == Kind::model);
  static_assert(std::is_same_v<interface_of<Named>, Hook>);
  Registry registry;
  registry.add<Named>("class");
  registry.add("factory", [](const Config&) { return std::make_shared<Named>(model_table()); });
  registry.add_hook<Named>("shorthand");
  EXPECT_EQ(registry.names(Kind::hook), (std::vector<std::string>{"class", "factory", "shorthand"}));
  EXPECT_EQ(registry.names(Kind::model), std::vector<std::string>{});
  EXPECT_TRUE(registry.contains(Kind::hook, "class"));
  EXPECT_FALSE(registry.contains(Kind::model, "class"));
  const auto hook = registry.build<Hook>("class", model_table());
  ASSERT_NE(dynamic_cast<Named*>(hook.get()), nullptr);
  EXPECT_EQ(plugin_error([&] { registry.build<Model>("class", model_table()); }), "no model 'class' is registered");
}

TEST_F(plugin_search, every_kind_has_its_words_in_enum_order) {
  std::vector<std::string> words;
  for (const KindInfo& kind : kKinds) words.push_back(std::string(kind_name(kind.kind)) + "/" + kind.plural);
  EXPECT_EQ(words, (std::vector<std::string>{"model/models", "loss/losses", "dataset/datasets", "hook/hooks",
                                              "schedule/schedules"}));
  EXPECT_THROW(kind_info(static_cast<Kind>(99)), Error);
}

TEST_F(plugin_search, two_libraries_registering_one_name_the_first_in_the_search_path_wins) {
  TempDir first, second;
  fs::copy_file(fixture("fixture_good"), first.path() / "libalpha.so");
  fs::copy_file(fixture("fixture_good"), second.path() / "libbeta.so");
  const auto provider = [&](std::vector<fs::path> order) {
    PluginHost host(std::move(order), empty_.path());
    host.make_model("tiny", "", model_table());
    return fs::path(host.records().at(0).path).filename().string();
  };
  EXPECT_EQ(provider({first.path(), second.path()}), "libalpha.so");
  EXPECT_EQ(provider({second.path(), first.path()}), "libbeta.so");
}

}  // namespace
}  // namespace kiln::runner
