// format_table, format_csv, format_json: exact output for small results.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "store/query.hpp"

namespace kiln::runner::store {
namespace {

QueryResult sample() {
  QueryResult result;
  result.columns = {"name", "step", "value"};
  result.rows = {{std::string("hello"), int64_t{1200}, 0.123456789},
                 {std::string("a"), int64_t{7}, std::monostate{}},
                 {std::string("long-name"), std::monostate{}, 3.0}};
  return result;
}

TEST(format_table, aligns_columns_and_counts_rows) {
  EXPECT_EQ(format_table(sample()),
            "name       step     value\n"
            "---------  ----  --------\n"
            "hello      1200  0.123457\n"
            "a             7\n"
            "long-name               3\n"
            "(3 rows)\n");
}

TEST(format_table, cuts_cells_to_max_width) {
  EXPECT_EQ(format_table(sample(), 4),
            "name  step  val…\n"
            "----  ----  ----\n"
            "hel…  1200  0.1…\n"
            "a        7\n"
            "lon…           3\n"
            "(3 rows)\n");
}

TEST(format_table, keeps_each_row_on_one_line) {
  QueryResult result;
  result.columns = {"message"};
  result.rows = {{std::string("two\nlines\tand ü")}};
  EXPECT_EQ(format_table(result),
            "message\n"
            "-----------------\n"
            "two\\nlines\\tand ü\n"
            "(1 row)\n");
}

TEST(format_table, prints_the_header_of_an_empty_result) {
  QueryResult result;
  result.columns = {"name", "status"};
  EXPECT_EQ(format_table(result),
            "name  status\n"
            "----  ------\n"
            "(0 rows)\n");
}

TEST(format_csv, quotes_commas_quotes_and_newlines) {
  QueryResult result;
  result.columns = {"text", "n"};
  result.rows = {{std::string("plain"), int64_t{1}},
                 {std::string("a,b"), 2.5},
                 {std::string("say \"hi\""), std::monostate{}},
                 {std::string("two\nlines"), int64_t{-3}},
                 {std::string(""), int64_t{0}}};
  EXPECT_EQ(format_csv(result),
            "text,n\n"
            "plain,1\n"
            "\"a,b\",2.5\n"
            "\"say \"\"hi\"\"\",\n"
            "\"two\nlines\",-3\n"
            "\"\",0\n");
}

TEST(format_json, escapes_strings_and_writes_null) {
  QueryResult result;
  result.columns = {"s", "i", "r", "n"};
  result.rows = {{std::string("quote \" backslash \\ newline \n tab \t bell \a"), int64_t{-4},
                  0.1, std::monostate{}},
                 {std::string("ü"), int64_t{0}, std::numeric_limits<double>::infinity(),
                  std::nan("")}};
  EXPECT_EQ(format_json(result),
            "[\n"
            "  {\"s\": \"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007\", "
            "\"i\": -4, \"r\": 0.1, \"n\": null},\n"
            "  {\"s\": \"ü\", \"i\": 0, \"r\": null, \"n\": null}\n"
            "]\n");
}

TEST(format_json, writes_an_empty_array_for_no_rows) {
  QueryResult result;
  result.columns = {"name"};
  EXPECT_EQ(format_json(result), "[]\n");
}

}  // namespace
}  // namespace kiln::runner::store
