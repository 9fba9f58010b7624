// kiln::Config and the experiment document: typed reads, positions, --set, unread keys.
#include <functional>
#include <memory>
#include <string>
#include <vector>

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

// Checked lookups: each refuses at the value's position and says what is valid.

/// The root table of a one-table document, "[t]" then `body`.
Config table_of(const std::shared_ptr<Document>& doc) { return doc->root().table("t"); }

TEST(config_checks, positive_refuses_zero_negative_and_wrong_type_at_the_value) {
  auto doc = Document::parse("[t]\nzero = 0\nneg = -2.5\ntext = \"x\"\n", "exp.toml");
  const Config t = table_of(doc);
  EXPECT_EQ(message_of([&] { t.get_positive<std::int64_t>("zero"); }),
            "exp.toml:2:8: t.zero: must be greater than 0, got 0");
  EXPECT_EQ(message_of([&] { t.get_positive<double>("neg", 1.0); }),
            "exp.toml:3:7: t.neg: must be greater than 0, got -2.5");
  EXPECT_EQ(message_of([&] { t.get_positive<int>("text", 1); }), "exp.toml:4:8: t.text: expected an integer, got a string");
}

TEST(config_checks, positive_returns_the_value_or_the_unchecked_fallback) {
  auto doc = Document::parse("[t]\nn = 3\nx = 0.5\n", "exp.toml");
  const Config t = table_of(doc);
  EXPECT_EQ(t.get_positive<std::int64_t>("n"), 3);
  EXPECT_EQ(t.get_positive<int>("n", 9), 3);
  EXPECT_DOUBLE_EQ(t.get_positive<double>("x"), 0.5);
  EXPECT_FLOAT_EQ(t.get_positive<float>("x", 2.0f), 0.5f);
  EXPECT_EQ(t.get_positive<std::int64_t>("absent", 0), 0);  // the fallback is the caller's own
  EXPECT_EQ(message_of([&] { t.get_positive<std::int64_t>("absent"); }),
            "exp.toml:1:1: [t]: missing key 'absent' (has: n, x)");
}

TEST(config_checks, non_negative_takes_zero_and_refuses_below) {
  auto doc = Document::parse("[t]\nzero = 0\nneg = -1\n", "exp.toml");
  const Config t = table_of(doc);
  EXPECT_EQ(t.get_non_negative<std::int64_t>("zero"), 0);
  EXPECT_DOUBLE_EQ(t.get_non_negative<double>("zero", 5.0), 0.0);
  EXPECT_EQ(message_of([&] { t.get_non_negative<int>("neg", 0); }), "exp.toml:3:7: t.neg: must be 0 or more, got -1");
}

TEST(config_checks, in_range_says_which_ends_belong_to_the_range) {
  auto doc = Document::parse("[t]\nlo = 0\nhi = 1\nmid = 0.5\nbig = 5000\n", "exp.toml");
  const Config t = table_of(doc);
  EXPECT_EQ(t.get_in_range<std::int64_t>("big", 16, 4096 * 2), 5000);
  EXPECT_DOUBLE_EQ(t.get_in_range<double>("mid", 0.0, 1.0, Bounds::open), 0.5);
  EXPECT_DOUBLE_EQ(t.get_in_range<double>("lo", 0.5, 0.0, 1.0, Bounds::closed_open), 0.0);
  EXPECT_DOUBLE_EQ(t.get_in_range<double>("hi", 0.5, 0.0, 1.0, Bounds::open_closed), 1.0);
  EXPECT_EQ(message_of([&] { t.get_in_range<std::int64_t>("big", 256, 16, 4096); }),
            "exp.toml:5:7: t.big: must be between 16 and 4096, got 5000");
  EXPECT_EQ(message_of([&] { t.get_in_range<double>("hi", 0.5, 0, 1, Bounds::closed_open); }),
            "exp.toml:3:6: t.hi: must be in [0, 1), got 1");
  EXPECT_EQ(message_of([&] { t.get_in_range<double>("lo", 0, 1, Bounds::open_closed); }),
            "exp.toml:2:6: t.lo: must be in (0, 1], got 0");
  EXPECT_EQ(message_of([&] { t.get_in_range<float>("hi", 0.5f, 0.0f, 1.0f, Bounds::open); }),
            "exp.toml:3:6: t.hi: must be in (0, 1), got 1");
  EXPECT_EQ(t.get_in_range<int>("absent", 7, 0, 3), 7);
}

TEST(config_checks, array_elements_are_checked_one_by_one_at_their_positions) {
  auto doc = Document::parse("[t]\nwidths = [64, 0, 8]\nbetas = [0.5, 1.0]\n", "exp.toml");
  const Config t = table_of(doc);
  EXPECT_EQ(message_of([&] { t.get_positive<std::vector<std::int64_t>>("widths", {}); }),
            "exp.toml:2:15: t.widths[1]: must be greater than 0, got 0");
  EXPECT_EQ(message_of([&] { t.get_in_range<std::vector<double>>("betas", 0, 1, Bounds::closed_open); }),
            "exp.toml:3:15: t.betas[1]: must be in [0, 1), got 1");
  EXPECT_EQ(t.get_non_negative<std::vector<std::int64_t>>("widths"), (std::vector<std::int64_t>{64, 0, 8}));
}

TEST(config_checks, choice_lists_the_choices_and_suggests_a_close_one) {
  auto doc = Document::parse("[t]\nmode = \"lsgn\"\nother = \"wgan\"\nn = 3\nok = \"bce\"\n", "exp.toml");
  const Config t = table_of(doc);
  EXPECT_EQ(t.get_choice("ok", {"bce", "lsgan"}), "bce");
  EXPECT_EQ(t.get_choice("absent", "lsgan", {"bce", "lsgan"}), "lsgan");
  EXPECT_EQ(message_of([&] { t.get_choice("mode", "bce", {"bce", "lsgan"}); }),
            "exp.toml:2:8: t.mode: expected \"bce\" or \"lsgan\", got \"lsgn\"; did you mean \"lsgan\"?");
  EXPECT_EQ(message_of([&] { t.get_choice("other", {"auto", "line", "log", "off"}); }),
            "exp.toml:3:9: t.other: expected \"auto\", \"line\", \"log\" or \"off\", got \"wgan\"");
  EXPECT_EQ(message_of([&] { t.get_choice("n", {"a"}); }), "exp.toml:4:5: t.n: expected a string, got an integer");
}

TEST(config_checks, choice_quotes_the_value_so_the_message_stays_on_one_line) {
  auto doc = Document::parse("[t]\nmode = \"st\\nop\\u0001\"\n", "exp.toml");
  EXPECT_EQ(message_of([&] { table_of(doc).get_choice("mode", {"stop", "skip"}); }),
            "exp.toml:2:8: t.mode: expected \"stop\" or \"skip\", got \"st\\nop\\u0001\"; did you mean \"stop\"?");
}

TEST(config_checks, every_float_read_refuses_nan_and_infinities) {
  auto doc = Document::parse("[t]\na = nan\nb = inf\nc = -inf\nd = [1.0, nan]\ne = 1e300\n", "exp.toml");
  const Config t = table_of(doc);
  EXPECT_EQ(message_of([&] { t.get<double>("a"); }), "exp.toml:2:5: t.a: must be a finite number, got nan");
  EXPECT_EQ(message_of([&] { t.get_or<double>("b", 1.0); }), "exp.toml:3:5: t.b: must be a finite number, got inf");
  EXPECT_EQ(message_of([&] { t.find<float>("c"); }), "exp.toml:4:5: t.c: must be a finite number, got -inf");
  EXPECT_EQ(message_of([&] { t.get<std::vector<double>>("d"); }),
            "exp.toml:5:11: t.d[1]: must be a finite number, got nan");
  // Before any range: nan <= 0 is false, so a range alone would let it through.
  EXPECT_EQ(message_of([&] { t.get_positive<double>("a", 1.0); }), "exp.toml:2:5: t.a: must be a finite number, got nan");
  EXPECT_EQ(message_of([&] { t.get_non_negative<double>("b"); }), "exp.toml:3:5: t.b: must be a finite number, got inf");
  EXPECT_EQ(message_of([&] { t.get_in_range<double>("c", 0.5, 0, 1); }),
            "exp.toml:4:5: t.c: must be a finite number, got -inf");
  EXPECT_DOUBLE_EQ(t.get<double>("e"), 1e300);
  EXPECT_EQ(message_of([&] { t.get<float>("e"); }), "exp.toml:6:5: t.e: 1e+300 is out of range for a 32-bit float");
}

TEST(config_checks, nan_set_on_the_command_line_is_refused_at_the_assignment) {
  auto doc = Document::parse("[t]\nlr = 0.1\n", "exp.toml");
  doc->set("t.lr=nan");
  EXPECT_EQ(message_of([&] { table_of(doc).get_positive<double>("lr"); }),
            "--set t.lr=nan: t.lr: must be a finite number, got nan");
}

TEST(config_checks, an_array_longer_than_the_limit_is_refused_at_the_array) {
  std::string text = "[t]\nwide = [0";
  for (std::size_t i = 1; i <= Config::kMaxArrayLength; ++i) text += ", 0";
  auto doc = Document::parse(text + "]\nok = [1]\n", "exp.toml");
  const Config t = table_of(doc);
  EXPECT_EQ(message_of([&] { t.get<std::vector<std::int64_t>>("wide"); }),
            "exp.toml:2:8: t.wide: an array may hold at most 65536 elements, got 65537");
  EXPECT_EQ(t.get<std::vector<std::int64_t>>("ok"), (std::vector<std::int64_t>{1}));
}

// Document limits: size and nesting, both checked before toml++ parses.

TEST(document_limits, a_document_over_the_size_limit_is_refused_before_parsing) {
  const std::string text(Document::kMaxBytes + 1, '#');
  EXPECT_EQ(message_of([&] { Document::parse(text, "exp.toml"); }),
            "exp.toml: too large (4194305 bytes); an experiment file may be at most 4194304 bytes (4 MiB)");
  EXPECT_NO_THROW(Document::parse(std::string(Document::kMaxBytes, '#'), "exp.toml"));
}

/// `open` `depth` times, then `middle`, then `close` as many times.
std::string nested(const std::string& open, int depth, const std::string& middle, const std::string& close) {
  std::string out;
  for (int i = 0; i < depth; ++i) out += open;
  out += middle;
  for (int i = 0; i < depth; ++i) out += close;
  return out;
}

const std::string kTooDeep =
    "nested too deeply: tables, dotted keys, arrays and inline tables may nest at most 64 levels together";

TEST(document_limits, deep_arrays_inline_tables_dotted_keys_and_headers_are_refused_without_recursing) {
  // 100000 levels: toml++ alone overflows the stack on dotted keys and headers this deep.
  EXPECT_EQ(message_of([] { Document::parse("a = " + nested("[", 100000, "", "]") + "\n", "exp.toml"); }),
            "exp.toml:1:68: " + kTooDeep);
  EXPECT_EQ(message_of([] { Document::parse("a = " + nested("{b = ", 100000, "1", "}") + "\n", "exp.toml"); }),
            "exp.toml:1:320: " + kTooDeep);
  EXPECT_EQ(message_of([] { Document::parse("a" + nested(".a", 100000, " = 1", "") + "\n", "exp.toml"); }),
            "exp.toml:1:128: " + kTooDeep);
  EXPECT_EQ(message_of([] { Document::parse("x = 1\n[a" + nested(".a", 100000, "]", "") + "\n", "exp.toml"); }),
            "exp.toml:2:129: " + kTooDeep);
}

TEST(document_limits, levels_add_up_across_headers_keys_and_values) {
  // [a...] 30 deep, then a key 30 deep holding an array of arrays: 30 + 30 + 2 = 62, then 65.
  const std::string header = "[a" + nested(".a", 29, "]\n", "");
  const std::string key = "k" + nested(".k", 29, "", "");
  EXPECT_NO_THROW(Document::parse(header + key + " = [[1]]\n", "exp.toml"));
  EXPECT_EQ(message_of([&] { Document::parse(header + key + " = [[[[[1]]]]]\n", "exp.toml"); }),
            "exp.toml:2:67: " + kTooDeep);
  // 64 levels exactly is allowed.
  EXPECT_NO_THROW(Document::parse("a = " + nested("[", 63, "1", "]") + "\n", "exp.toml"));
}

TEST(document_limits, brackets_in_strings_and_comments_do_not_count) {
  const std::string deep = nested("[", 100, "", "") + nested("{", 100, "", "") + nested(".", 100, "", "");
  const std::string text = "a = \"" + deep + "\"\n" +         // a basic string
                           "b = '" + deep + "'\n" +            // a literal string
                           "c = \"\"\"\n" + deep + "\n\"\"\"\n" +  // a multi-line basic string
                           "d = '''" + deep + "'''\n" +        // a multi-line literal string
                           "# " + deep + "\n" +                // a comment
                           "\"" + deep + "\" = 1\n" +          // a quoted key
                           "e = [ # " + deep + "\n  1,\n  2, # ]]]\n]\n";
  auto doc = Document::parse(text, "exp.toml");
  EXPECT_EQ(doc->root().get<std::string>("a"), deep);
  EXPECT_EQ(doc->root().get<std::vector<std::int64_t>>("e"), (std::vector<std::int64_t>{1, 2}));
}

TEST(document_limits, a_deep_value_or_key_set_on_the_command_line_is_refused) {
  auto doc = Document::parse("[t]\nx = 1\n", "exp.toml");
  EXPECT_EQ(message_of([&] { doc->set("t.x=" + nested("[", 1000, "", "]")); }),
            "--set t.x=" + nested("[", 1000, "", "]") + ": " + kTooDeep);
  const std::string key = "t" + nested(".a", 100000, "", "");
  EXPECT_EQ(message_of([&] { doc->set(key + "=1"); }), "--set " + key + "=1: " + kTooDeep);
}

TEST(config, closest_suggests_only_near_words) {
  EXPECT_EQ(detail::closest("hiden", {"hidden", "inputs"}), "hidden");
  EXPECT_EQ(detail::closest("zzzzzz", {"hidden", "inputs"}), "");
}

}  // namespace
}  // namespace kiln
