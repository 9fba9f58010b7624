// serve/json_writer.hpp: commas, escaping, numbers that read back the same, NaN as null.
#include <cmath>
#include <limits>
#include <optional>

#include <gtest/gtest.h>

#include "json_value.hpp"
#include "serve/json_writer.hpp"

namespace kiln::runner::serve {
namespace {

TEST(json_writer, separates_members_and_items_with_commas) {
  JsonWriter json;
  json.begin_object().key("a").begin_array().value(std::int64_t{1}).begin_object().end_object().begin_array().end_array();
  json.end_array().key("b").null().key("c").value(true).end_object();
  EXPECT_EQ(json.text(), R"({"a":[1,{},[]],"b":null,"c":true})");
}

TEST(json_writer, escapes_strings_and_writes_non_finite_numbers_as_null) {
  JsonWriter json;
  json.begin_array().value("q\"b\\s\n\t\x01/é").value(std::numeric_limits<double>::quiet_NaN());
  json.value(-std::numeric_limits<double>::infinity()).value(std::optional<double>{}).value(std::optional<std::int64_t>{7});
  json.end_array();
  EXPECT_EQ(json.text(), "[\"q\\\"b\\\\s\\n\\t\\u0001/é\",null,null,null,7]");
  const kiln::test::JsonValue parsed = kiln::test::JsonValue::parse(json.text());
  EXPECT_EQ(parsed[0].string(), "q\"b\\s\n\t\x01/é");
}

TEST(json_writer, doubles_read_back_as_the_same_value) {
  for (const double value : {0.1, 1.0 / 3.0, 1e-300, 6.02214076e23, -2.5, 0.0, 1796448497.5, 0.15986114740371704}) {
    JsonWriter json;
    json.begin_array().value(value).end_array();
    EXPECT_EQ(kiln::test::JsonValue::parse(json.text())[0].number(), value) << json.text();
  }
}

TEST(json_writer, an_error_is_one_member) {
  EXPECT_EQ(error_json("no run named 'x'"), R"({"error":"no run named 'x'"})");
}

}  // namespace
}  // namespace kiln::runner::serve
