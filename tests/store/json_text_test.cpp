// JSON text: strings and arrays of strings written as SQLite's JSON functions read them, and
// read back from what SQLite or another program wrote; anything else is refused, not misread.
#include "store/json_text.hpp"

#include <gtest/gtest.h>

#include "store/database.hpp"

namespace kiln::runner::store {
namespace {

using Strings = std::vector<std::string>;

TEST(json_text, other_json_or_a_malformed_array_is_refused) {
  for (const char* text : {"", "node1", "\"node1\"", "[", "[\"node1\"", "[\"node1\",]", "[,]", "[node1]",
                           "[\"a\" \"b\"]", "[1]", "[null]", "[\"a\"] x", "{\"a\": 1}", "[\"\\x\"]",
                           "[\"\\u12\"]", "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"tab\there\"]"})
    EXPECT_FALSE(parse_json_string_array(text)) << text;
}

TEST(json_text, a_string_array_round_trips) {
  const Strings hosts = {"node1", "node1", "gpu-07.cluster.example"};
  EXPECT_EQ(json_string_array(hosts), R"(["node1","node1","gpu-07.cluster.example"])");
  EXPECT_EQ(parse_json_string_array(json_string_array(hosts)), hosts);
  EXPECT_EQ(json_string_array({}), "[]");
  EXPECT_EQ(parse_json_string_array("[]"), Strings{});
  EXPECT_EQ(parse_json_string_array(" [ \"a\" ,\n\"b\" ] "), (Strings{"a", "b"}));
  const Strings odd = {"quote \" backslash \\ slash /", "line\nfeed\ttab\x01", "h\xc3\xa9te"};
  EXPECT_EQ(json_string_array(odd), R"(["quote \" backslash \\ slash /","line\nfeed\ttab\u0001","h)"
                                    "\xc3\xa9"
                                    R"(te"])");
  EXPECT_EQ(parse_json_string_array(json_string_array(odd)), odd);
}

TEST(json_text, escapes_read_as_sqlite_reads_them) {
  const std::string text = R"(["\u00e9\u20ac\ud83d\ude00", "a\/b", "\b\f\r"])";
  Database db(":memory:");
  Statement select(db, "SELECT value FROM json_each(?1) ORDER BY key");
  select.bind(1, text);
  Strings sqlite;
  while (select.step()) sqlite.push_back(select.column_text(0));
  EXPECT_EQ(sqlite, (Strings{"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "a/b", "\b\f\r"}));
  EXPECT_EQ(parse_json_string_array(text), sqlite);
}

}  // namespace
}  // namespace kiln::runner::store
