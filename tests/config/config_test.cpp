// kiln::Config and the experiment document: typed reads, positions, --set, unread keys.
#include <gtest/gtest.h>

#include "document.hpp"
#include "kiln/config.hpp"

namespace kiln {
namespace {

using detail::Document;

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(config, syntax_error_has_file_line_and_column) {
  const std::string what = message_of([] { Document::parse("[model]\nwidth = = 3\n", "exp.toml"); });
  EXPECT_EQ(what.rfind("exp.toml:2:", 0), 0u) << what;
}

TEST(config, missing_file_says_so) {
  EXPECT_EQ(message_of([] { Document::parse_file("/nonexistent/exp.toml"); }), "/nonexistent/exp.toml: no such file");
}

TEST(config, wrong_type_names_key_position_and_types) {
  auto doc = Document::parse("[model]\nwidth = \"wide\"\n", "exp.toml");
  const Config model = doc->root().table("model");
  EXPECT_EQ(message_of([&] { model.get<std::int64_t>("width"); }),
            "exp.toml:2:9: model.width: expected an integer, got a string");
}

TEST(config, missing_key_lists_the_keys_present) {
  auto doc = Document::parse("[model]\nplugin = \"mlp\"\nwidth = 3\n", "exp.toml");
  const Config model = doc->root().table("model");
  EXPECT_EQ(message_of([&] { model.get<std::int64_t>("depth"); }),
            "exp.toml:1:1: [model]: missing key 'depth' (has: plugin, width)");
}

TEST(config, array_element_of_wrong_type_points_at_the_element) {
  auto doc = Document::parse("hidden = [64, \"x\", 3]\n", "exp.toml");
  EXPECT_EQ(message_of([&] { doc->root().get<std::vector<std::int64_t>>("hidden"); }),
            "exp.toml:1:15: hidden[1]: expected an integer, got a string");
}

TEST(config, int_out_of_range_is_an_error) {
  auto doc = Document::parse("n = 5000000000\n", "exp.toml");
  EXPECT_NE(message_of([&] { doc->root().get<int>("n"); }).find("out of range"), std::string::npos);
}

TEST(config, reads_typed_values_and_defaults) {
  auto doc = Document::parse("a = 1\nb = 2.5\nc = true\nd = \"x\"\ne = [1, 2]\nf = [\"p\", \"q\"]\n", "exp.toml");
  const Config root = doc->root();
  EXPECT_EQ(root.get<std::int64_t>("a"), 1);
  EXPECT_DOUBLE_EQ(root.get<double>("a"), 1.0);  // an integer is a valid float
  EXPECT_DOUBLE_EQ(root.get<double>("b"), 2.5);
  EXPECT_TRUE(root.get<bool>("c"));
  EXPECT_EQ(root.get<std::string>("d"), "x");
  EXPECT_EQ(root.get<std::vector<std::int64_t>>("e"), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(root.get<std::vector<std::string>>("f"), (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(root.get_or<std::int64_t>("missing", 7), 7);
  EXPECT_FALSE(root.find<double>("missing").has_value());
}

TEST(config, unread_key_is_rejected_with_did_you_mean) {
  auto doc = Document::parse("[model]\nplugin = \"mlp\"\nhiden = 3\nhidden = 4\n", "exp.toml");
  const Config model = doc->root().table("model");
  model.get<std::string>("plugin");
  model.get<std::int64_t>("hidden");
  EXPECT_EQ(message_of([&] { doc->root().reject_unread(""); }),
            "exp.toml:3:1: unknown key 'hiden' in [model] (plugin 'mlp'); did you mean 'hidden'? "
            "(known keys: hidden, plugin)");
}

TEST(config, unknown_top_level_table_suggests_the_known_one) {
  auto doc = Document::parse("[model]\nplugin = \"mlp\"\n[modle]\nx = 1\n", "exp.toml");
  doc->root().table("model").get<std::string>("plugin");
  const std::string what = message_of([&] { doc->root().reject_unread(""); });
  EXPECT_NE(what.find("unknown key 'modle'"), std::string::npos) << what;
  EXPECT_NE(what.find("did you mean 'model'?"), std::string::npos) << what;
}

TEST(config, optional_keys_asked_for_and_absent_are_known_keys) {
  auto doc = Document::parse("[modle]\nx = 1\n", "exp.toml");
  const Config root = doc->root();
  EXPECT_FALSE(root.contains("model"));
  EXPECT_FALSE(root.has_table("saver"));
  EXPECT_EQ(root.table_or_empty("supervisor").get_or<int>("every", 3), 3);
  EXPECT_TRUE(root.tables("hooks").empty());
  EXPECT_EQ(message_of([&] { root.reject_unread(""); }),
            "exp.toml:1:2: unknown key 'modle'; did you mean 'model'? (known keys: hooks, model, saver, supervisor)");
}

TEST(config, all_keys_read_passes) {
  auto doc = Document::parse("[a]\nx = 1\n[[b]]\nname = \"p\"\n", "exp.toml");
  doc->root().table("a").get<int>("x");
  for (const Config& b : doc->root().tables("b")) b.get<std::string>("name");
  EXPECT_NO_THROW(doc->root().reject_unread(""));
}

TEST(config, set_overrides_by_element_name) {
  auto doc = Document::parse("[[optimizers]]\nname = \"gen\"\nlr = 2e-4\n[[optimizers]]\nname = \"disc\"\nlr = 2e-4\n",
                             "exp.toml");
  doc->set("optimizers.gen.lr=1e-4");
  const auto optimizers = doc->root().tables("optimizers");
  EXPECT_DOUBLE_EQ(optimizers.at(0).get<double>("lr"), 1e-4);
  EXPECT_DOUBLE_EQ(optimizers.at(1).get<double>("lr"), 2e-4);
  EXPECT_EQ(optimizers.at(0).path(), "optimizers.gen");
}

TEST(config, set_adds_keys_and_tables_and_takes_bare_strings) {
  auto doc = Document::parse("[experiment]\nname = \"a\"\n", "exp.toml");
  doc->set("experiment.name=b");
  doc->set("supervisor.summary_every_steps=5");
  doc->set("model.hidden=[8, 8]");
  const Config root = doc->root();
  EXPECT_EQ(root.table("experiment").get<std::string>("name"), "b");
  EXPECT_EQ(root.table("supervisor").get<int>("summary_every_steps"), 5);
  EXPECT_EQ(root.table("model").get<std::vector<std::int64_t>>("hidden"), (std::vector<std::int64_t>{8, 8}));
}

TEST(config, set_value_errors_point_at_the_command_line) {
  auto doc = Document::parse("[model]\nwidth = 3\n", "exp.toml");
  doc->set("model.width=\"wide\"");
  const std::string what = message_of([&] { doc->root().table("model").get<std::int64_t>("width"); });
  EXPECT_EQ(what, "--set model.width=\"wide\": model.width: expected an integer, got a string");
}

TEST(config, set_rejects_bad_assignments) {
  auto doc = Document::parse("[[optimizers]]\nname = \"gen\"\n", "exp.toml");
  EXPECT_EQ(message_of([&] { doc->set("no_equals_sign"); }),
            "--set no_equals_sign: expected KEY=VALUE, e.g. --set optimizers.gen.lr=1e-4");
  EXPECT_EQ(message_of([&] { doc->set("optimizers.dis.lr=1"); }),
            "--set optimizers.dis.lr=1: 'optimizers' has no element 'dis' (has: gen)");
}

TEST(config, flatten_addresses_array_elements_by_name) {
  auto doc = Document::parse("[experiment]\nseed = 1\n[[losses]]\nplugin = \"mse\"\nw = [1, 2]\n", "exp.toml");
  const auto flat = doc->flatten();
  ASSERT_EQ(flat.size(), 3u);
  EXPECT_EQ(flat[0], (std::pair<std::string, std::string>{"experiment.seed", "1"}));
  EXPECT_EQ(flat[1], (std::pair<std::string, std::string>{"losses.mse.plugin", "mse"}));
  EXPECT_EQ(flat[2], (std::pair<std::string, std::string>{"losses.mse.w", "[ 1, 2 ]"}));
}

TEST(config, to_toml_round_trips) {
  auto doc = Document::parse("[experiment]\nname = \"x\"\nseed = 3\n", "exp.toml");
  doc->set("experiment.seed=4");
  auto again = Document::parse(doc->to_toml(), "resolved.toml");
  EXPECT_EQ(again->root().table("experiment").get<std::int64_t>("seed"), 4);
}

TEST(config, closest_suggests_only_near_words) {
  EXPECT_EQ(detail::closest("hiden", {"hidden", "inputs"}), "hidden");
  EXPECT_EQ(detail::closest("zzzzzz", {"hidden", "inputs"}), "");
}

}  // namespace
}  // namespace kiln
