// format_table, format_csv, format_json: exact output for small results; the row writers
// behind them print rows as they come.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/query.hpp"
#include "store/query_writer.hpp"

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

/// What a writer has printed, piece by piece.
struct Printed {
  std::vector<std::string> pieces;
  TextSink sink() {
    return [this](std::string_view text) { pieces.emplace_back(text); };
  }
  std::string text() const {
    std::string all;
    for (const std::string& piece : pieces) all += piece;
    return all;
  }
};

TEST(table_writer, sizes_columns_by_the_first_rows_then_prints_each_row_as_it_comes) {
  Printed printed;
  TableStyle style;
  style.sized_by_rows = 2;
  const auto writer = table_writer({"name", "step"}, style, printed.sink());
  writer->row({std::string("a"), int64_t{7}});
  EXPECT_EQ(printed.text(), "") << "the first rows wait for the column widths";
  writer->row({std::string("hello"), int64_t{1200}});
  EXPECT_EQ(printed.text(),
            "name   step\n"
            "-----  ----\n"
            "a         7\n"
            "hello  1200\n");
  printed.pieces.clear();
  writer->row({std::string("long-name"), int64_t{123456}});
  EXPECT_EQ(printed.text(), "long-name  123456\n") << "a wider cell pushes the rest of its line right";
  writer->row({std::string("b"), std::monostate{}});
  writer->finish("--limit 4");
  EXPECT_EQ(printed.text(),
            "long-name  123456\n"
            "b\n"
            "(first 4 rows; --limit 4)\n");
}

TEST(table_writer, flush_prints_the_rows_held_without_a_row_count) {
  Printed printed;
  TableStyle style;
  style.sized_by_rows = 1000;
  const auto writer = table_writer({"x"}, style, printed.sink());
  writer->flush();
  EXPECT_EQ(printed.text(), "") << "no row, nothing to print";
  writer->row({int64_t{10}});
  writer->row({int64_t{2}});
  writer->flush();
  EXPECT_EQ(printed.text(), " x\n--\n10\n 2\n");
}

TEST(csv_writer, prints_each_row_at_once_and_the_header_with_the_first) {
  Printed printed;
  const auto writer = csv_writer({"a", "b"}, printed.sink());
  writer->flush();
  EXPECT_EQ(printed.text(), "");
  writer->row({int64_t{1}, std::string("x,y")});
  EXPECT_EQ(printed.text(), "a,b\n1,\"x,y\"\n");
  writer->row({int64_t{2}, std::monostate{}});
  EXPECT_EQ(printed.pieces.size(), 2u);
  writer->finish("--limit 2");
  EXPECT_EQ(printed.text(), "a,b\n1,\"x,y\"\n2,\n");
}

TEST(json_writer, prints_each_row_at_once_and_closes_the_array_at_the_end) {
  Printed printed;
  const auto writer = json_writer({"x"}, printed.sink());
  writer->row({int64_t{1}});
  EXPECT_EQ(printed.text(), "[\n  {\"x\": 1}");
  writer->row({int64_t{2}});
  writer->flush();
  EXPECT_EQ(printed.text(), "[\n  {\"x\": 1},\n  {\"x\": 2}") << "a failed query's JSON stays unclosed";
  writer->finish();
  EXPECT_EQ(printed.text(), "[\n  {\"x\": 1},\n  {\"x\": 2}\n]\n");
}

TEST(csv_writer, prints_the_header_of_an_empty_result) {
  Printed printed;
  csv_writer({"a", "b"}, printed.sink())->finish();
  EXPECT_EQ(printed.text(), "a,b\n");
}

}  // namespace
}  // namespace kiln::runner::store
