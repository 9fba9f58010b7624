// PluginHost against the fixture libraries: every refusal, the search path, lifetime, records.
#include "plugins/plugin_host.hpp"

#include <string>

#include <dlfcn.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "kiln/kiln.hpp"
#include "plugin_test_support.hpp"
#include "plugins/sha256.hpp"
#include "train/null_run.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using test_support::fixture;
using test_support::kFixtures;
using test_support::model_table;
using test_support::plugin_error;
using test_support::ScopedEnv;
using test_support::TempDir;

/// A run that only answers what the fixtures ask.
using kiln::runner::NullRun;

class plugin_host : public test_support::PluginHostTest {};

// ---- 1. library not found -------------------------------------------------------------

TEST_F(plugin_host, named_library_not_found_lists_every_folder_searched) {
  TempDir a, b;
  PluginHost host({a.path(), b.path()}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_model("tiny", "foo", model_table()); }),
            "exp.toml:1:1: plugin library 'libfoo.so' not found (searched: " + a.path().string() + ", " +
                b.path().string() + ", " + empty_.path().string() + ") (found no plugin library there)");
}

TEST_F(plugin_host, library_path_not_found_names_the_path) {
  PluginHost host({}, empty_.path());
  const std::string missing = (empty_.path() / "libmissing.so").string();
  EXPECT_EQ(plugin_error([&] { host.make_model("tiny", missing, model_table()); }),
            "exp.toml:1:1: plugin library '" + missing + "' not found");
}

TEST_F(plugin_host, scan_that_finds_no_provider_suggests_the_closest_name) {
  PluginHost host({kFixtures}, empty_.path());
  const std::string message = plugin_error([&] { host.make_model("tinny", "", model_table()); });
  EXPECT_THAT(message, StartsWith("exp.toml:1:1: no plugin library provides model 'tinny' (searched: " +
                                  kFixtures.string() + ", " + empty_.path().string() +
                                  "); did you mean 'tiny'?"));
  // Libraries that failed their handshake are named, in case the model was in one of them.
  EXPECT_THAT(message, HasSubstr("[" + fixture("fixture_bad_abi").string() + " was built for kiln SDK ABI 999"));
  EXPECT_THAT(message, HasSubstr("[" + fixture("fixture_not_kiln").string() + " is not a kiln plugin"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST_F(plugin_host, scan_without_a_close_name_makes_no_suggestion) {
  PluginHost host({}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_hook("zzz", "", model_table()); }),
            "exp.toml:1:1: no plugin library provides hook 'zzz' (searched: " + empty_.path().string() +
                ") (found no plugin library there)");
}

// ---- 2. not a kiln plugin ----------------------------------------------------------------

TEST_F(plugin_host, library_without_the_entry_symbol_is_not_a_kiln_plugin) {
  const fs::path path = fixture("fixture_not_kiln");
  EXPECT_EQ(plugin_error([&] { PluginHost::inspect(path); }),
            path.string() + " is not a kiln plugin: it has no 'kiln_plugin_info' symbol");
  PluginHost host({kFixtures}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_model("tiny", "fixture_not_kiln", model_table()); }),
            "exp.toml:1:1: " + path.string() + " is not a kiln plugin: it has no 'kiln_plugin_info' symbol");
}

TEST_F(plugin_host, file_that_is_not_a_shared_library_is_refused_before_the_loader) {
  const fs::path path = empty_.write("libgarbage.so", "not an elf file\n");
  EXPECT_EQ(plugin_error([&] { PluginHost::inspect(path); }),
            path.string() + " is not a shared library (it does not start with an ELF header)");
  const fs::path short_file = empty_.write("libshort.so", "\x7f");
  EXPECT_EQ(plugin_error([&] { PluginHost::inspect(short_file); }),
            short_file.string() + " is not a shared library (it does not start with an ELF header)");
}

TEST_F(plugin_host, start_of_an_elf_header_is_refused_before_the_loader) {
  // The loader would say "file too short"; elf_check_test.cpp has the other cuts.
  const fs::path path = empty_.write("libtruncated.so", std::string("\x7f" "ELF\x02\x01\x01", 7));
  EXPECT_EQ(plugin_error([&] { PluginHost::inspect(path); }),
            path.string() + " is truncated: its ELF header needs 64 bytes but the file has 7 bytes");
}

TEST_F(plugin_host, missing_dependency_is_named_after_the_library_that_needs_it) {
  const fs::path path = kFixtures.parent_path() / "check/libfixture_missing_dep.so";
  EXPECT_EQ(plugin_error([&] { PluginHost::inspect(path); }),
            path.string() + ": a library it needs is missing: libkiln_fixture_gone.so: cannot open shared object file: "
                            "No such file or directory");
}

TEST_F(plugin_host, register_function_that_throws_names_the_plugin_and_the_reason) {
  const fs::path path = kFixtures.parent_path() / "check/libfixture_register_throws.so";
  EXPECT_EQ(plugin_error([&] { PluginHost::inspect(path); }),
            path.string() + " (plugin 'fixture_register_throws' 0.1.0) failed to register its names: no licence file found");
}

// ---- 3. handshake mismatches -------------------------------------------------------------

TEST_F(plugin_host, abi_mismatch_names_both_abis_and_is_checked_first) {
  const fs::path path = fixture("fixture_bad_abi");
  // Its torch version and string ABI are wrong too: only the ABI may be reported.
  EXPECT_EQ(plugin_error([&] { PluginHost::inspect(path); }),
            path.string() + " was built for kiln SDK ABI 999 but this kiln has ABI " +
                std::to_string(KILN_SDK_ABI) + "; rebuild the plugin against this kiln");
}

TEST_F(plugin_host, torch_mismatch_names_both_versions) {
  const fs::path path = fixture("fixture_bad_torch");
  EXPECT_EQ(plugin_error([&] { PluginHost::inspect(path); }),
            path.string() + " was built for torch 0.0.0 but this kiln uses torch " TORCH_VERSION
                            "; rebuild the plugin against this kiln");
}

TEST_F(plugin_host, cxx11_abi_mismatch_names_both_values) {
  const fs::path path = fixture("fixture_bad_cxx_abi");
  EXPECT_EQ(plugin_error([&] { PluginHost::inspect(path); }),
            path.string() + " was built with _GLIBCXX_USE_CXX11_ABI=" + std::to_string(!_GLIBCXX_USE_CXX11_ABI) +
                " but this kiln uses _GLIBCXX_USE_CXX11_ABI=" + std::to_string(_GLIBCXX_USE_CXX11_ABI) +
                "; rebuild the plugin against this kiln");
}

TEST_F(plugin_host, handshake_failure_from_a_table_carries_its_position) {
  PluginHost host({kFixtures}, empty_.path());
  const std::string message = plugin_error([&] { host.make_model("tiny", "fixture_bad_abi", model_table()); });
  EXPECT_THAT(message, StartsWith("exp.toml:1:1: " + fixture("fixture_bad_abi").string() + " was built for kiln SDK ABI 999"));
  // A failed library is remembered, and refused again with the same message.
  EXPECT_EQ(plugin_error([&] { host.make_model("tiny", "fixture_bad_abi", model_table()); }), message);
  EXPECT_EQ(host.failures().count(fixture("fixture_bad_abi")), 1u);
}

// ---- 4. name not registered --------------------------------------------------------------

TEST_F(plugin_host, unknown_name_suggests_and_lists_the_registered_ones) {
  PluginHost host({kFixtures}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_model("tinny", "fixture_good", model_table()); }),
            "exp.toml:1:1: " + fixture("fixture_good").string() +
                " (plugin 'fixture_good' 1.2.3) has no model 'tinny'; did you mean 'tiny'? (models: tiny)");
}

TEST_F(plugin_host, unknown_name_of_a_kind_the_library_lacks_says_so) {
  PluginHost host({kFixtures}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_loss("mse", "fixture_throws", model_table()); }),
            "exp.toml:1:1: " + fixture("fixture_throws").string() +
                " (plugin 'fixture_throws' 0.1.0) has no loss 'mse' (it registers no losses)");
}

// ---- 5. the factory throws ---------------------------------------------------------------

TEST_F(plugin_host, factory_exception_becomes_a_plugin_error_naming_plugin_and_object) {
  PluginHost host({kFixtures}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_model("broken", "fixture_throws", model_table()); }),
            "exp.toml:1:1: plugin 'fixture_throws' failed to build model 'broken': weights file missing");
  EXPECT_TRUE(host.records().empty());
}

TEST_F(plugin_host, config_error_from_the_factory_propagates_unchanged) {
  PluginHost host({kFixtures}, empty_.path());
  const Config table = model_table("depth = 2\n");
  try {
    host.make_model("needs_width", "fixture_config_error", table);
    FAIL() << "built a model without its width";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), StartsWith("exp.toml:1:1: "));
    EXPECT_THAT(e.what(), HasSubstr("width"));
    EXPECT_THAT(e.what(), HasSubstr("depth"));  // the keys the table does have
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("plugin 'fixture_config_error'")));
  }
}

// ---- the good path -----------------------------------------------------------------------

TEST_F(plugin_host, builds_every_kind_and_runs_the_model_on_a_batch) {
  PluginHost host({kFixtures}, empty_.path());
  auto model = host.make_model("tiny", "fixture_good", model_table("inputs = 3\n"));
  auto loss = host.make_loss("half_sum", "fixture_good", model_table());
  auto dataset = host.make_dataset("counting", "fixture_good", model_table("size = 5\n"));
  auto hook = host.make_hook("noop", "fixture_good", model_table());
  ASSERT_TRUE(model && loss && dataset && hook);

  EXPECT_EQ(dataset->size(), 5);
  const Batch batch = dataset->get_batch({{0, 0}, {1, 0}, {4, 0}});
  ASSERT_EQ(batch.at("x").sizes(), (std::vector<std::int64_t>{3, 3}));

  NullRun run;
  Step step(run, 0);
  const Outputs outputs = model->forward(batch, step);
  EXPECT_EQ(outputs.at("y").sizes(), (std::vector<std::int64_t>{3, 2}));
  const torch::Tensor value = loss->compute(outputs, batch, step);
  EXPECT_FLOAT_EQ(value.item<float>(), outputs.at("y").sum().item<float>() / 2);
  EXPECT_EQ(hook->default_priority(), 7);
  EXPECT_EQ(model->parameters().size(), 2u);  // the Linear's weight and bias
}

TEST_F(plugin_host, library_named_by_path_is_used) {
  PluginHost host({}, empty_.path());
  auto model = host.make_model("tiny", fixture("fixture_good").string(), model_table());
  EXPECT_TRUE(model);
}

TEST_F(plugin_host, scan_finds_a_name_that_has_no_library_of_its_own) {
  PluginHost host({kFixtures}, empty_.path());
  auto loss = host.make_loss("half_sum", "", model_table());
  ASSERT_TRUE(loss);
  ASSERT_EQ(host.records().size(), 1u);
  EXPECT_EQ(host.records()[0].path, fixture("fixture_good").string());
}

TEST_F(plugin_host, object_outlives_its_host_and_keeps_its_library_loaded) {
  std::shared_ptr<Model> model;
  std::shared_ptr<Hook> hook;
  {
    PluginHost host({kFixtures}, empty_.path());
    model = host.make_model("tiny", "", model_table());
    hook = host.make_hook("noop", "", model_table());
  }
  void* still_loaded = ::dlopen(fixture("fixture_good").c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(still_loaded, nullptr);
  ::dlclose(still_loaded);

  EXPECT_EQ(hook->default_priority(), 7);
  NullRun run;
  Step step(run, 0);
  Batch batch("batch");
  batch.set("x", torch::ones({2, 3}));
  EXPECT_EQ(model->forward(batch, step).at("y").sizes(), (std::vector<std::int64_t>{2, 2}));
}

TEST_F(plugin_host, records_carry_the_library_and_its_sha256) {
  TempDir dir;
  EXPECT_EQ(sha256_file(dir.write("abc.txt", "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  PluginHost host({kFixtures}, empty_.path());
  host.make_model("tiny", "fixture_good", model_table());
  host.make_model("tiny", "fixture_good", model_table());  // recorded once
  host.make_loss("half_sum", "", model_table());
  const std::vector<PluginRecord> records = host.records();
  ASSERT_EQ(records.size(), 2u);
  const std::string path = fixture("fixture_good").string();
  const std::string sha256 = sha256_file(path);
  EXPECT_EQ(sha256.size(), 64u);
  EXPECT_EQ(records[0].kind, "model");
  EXPECT_EQ(records[0].name, "tiny");
  EXPECT_EQ(records[1].kind, "loss");
  EXPECT_EQ(records[1].name, "half_sum");
  for (const PluginRecord& record : records) {
    EXPECT_EQ(record.library, "fixture_good");
    EXPECT_EQ(record.path, path);
    EXPECT_EQ(record.sha256, sha256);
    EXPECT_EQ(record.version, "1.2.3");
    EXPECT_EQ(record.abi, KILN_SDK_ABI);
  }
}

TEST_F(plugin_host, sha256_of_an_unreadable_file_names_it) {
  const fs::path missing = empty_.path() / "missing.so";
  try {
    sha256_file(missing);
    FAIL() << "hashed a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot compute the sha256 of " + missing.string() + ": No such file or directory");
  }
}

// ---- the search path ---------------------------------------------------------------------

TEST_F(plugin_host, search_path_is_experiment_then_environment_then_default) {
  ScopedEnv env("KILN_PLUGIN_PATH", "/b::/c/");
  PluginHost host({"/a"}, "/d");
  EXPECT_EQ(host.search_path(), (std::vector<fs::path>{"/a", "/b", "/c", "/d"}));
  PluginHost same({"/a"}, "/a");  // a folder listed twice is searched once
  EXPECT_EQ(same.search_path(), (std::vector<fs::path>{"/a", "/b", "/c"}));
}

TEST_F(plugin_host, kiln_plugin_path_is_searched) {
  ScopedEnv env("KILN_PLUGIN_PATH", empty_.path().string() + ":" + kFixtures.string());
  PluginHost host({}, KILN_PLUGIN_DIR);
  EXPECT_EQ(host.search_path(),
            (std::vector<fs::path>{empty_.path(), kFixtures, fs::path(KILN_PLUGIN_DIR).lexically_normal()}));
  EXPECT_TRUE(host.make_model("tiny", "fixture_good", model_table()));
}

TEST_F(plugin_host, scan_lists_loadable_libraries_and_remembers_the_others) {
  PluginHost host({kFixtures}, empty_.path());
  const std::vector<PluginHost::LibraryInfo> libraries = host.scan();
  std::vector<std::string> names;
  for (const auto& library : libraries) names.push_back(library.plugin_name);
  // Every loadable fixture (other tests add their own to the folder), and not the broken ones.
  EXPECT_THAT(names, IsSupersetOf({"fixture_config_error", "fixture_good", "fixture_throws"}));
  for (const char* broken : {"fixture_bad_abi", "fixture_bad_torch", "fixture_bad_cxx_abi", "fixture_not_kiln"})
    EXPECT_THAT(names, Not(Contains(broken)));

  const auto good_at = std::find(names.begin(), names.end(), "fixture_good") - names.begin();
  const auto& good = libraries.at(static_cast<std::size_t>(good_at));
  EXPECT_EQ(good.path, fixture("fixture_good"));
  EXPECT_EQ(good.version, "1.2.3");
  EXPECT_EQ(good.torch_version, TORCH_VERSION);
  EXPECT_EQ(good.abi, static_cast<std::uint32_t>(KILN_SDK_ABI));
  EXPECT_EQ(good.names.at(Kind::model), std::vector<std::string>{"tiny"});
  EXPECT_EQ(good.names.at(Kind::loss), std::vector<std::string>{"half_sum"});
  EXPECT_EQ(good.names.at(Kind::dataset), std::vector<std::string>{"counting"});
  EXPECT_EQ(good.names.at(Kind::hook), std::vector<std::string>{"noop"});

  EXPECT_EQ(host.failures().size(), 4u);
  EXPECT_THAT(host.failures().at(fixture("fixture_bad_torch")), HasSubstr("torch 0.0.0"));
}

}  // namespace
}  // namespace kiln::runner
