// The pages' files as kiln serves them: each is its file in runner/serve/assets/, and no other name is served.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include "serve/assets.hpp"

namespace kiln::test {
namespace {

using runner::serve::Asset;
using runner::serve::find_asset;
using ::testing::StartsWith;

const std::filesystem::path kAssets = source_dir() / "runner/serve/assets";

TEST(serve_assets, a_name_that_is_not_one_of_the_three_files_is_nothing) {
  for (const char* name : {"", "index", "kiln.js.map", "js/base.js", "base.js", "../assets.hpp", "/kiln.js",
                           "assets.cmake", "embed.cmake", "KILN.JS"})
    EXPECT_EQ(find_asset(name), nullptr) << name;
}

TEST(serve_assets, the_page_and_the_style_are_their_files_byte_for_byte) {
  const Asset* page = find_asset("index.html");
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(page->body, read_file(kAssets / "index.html"));
  EXPECT_EQ(page->mime, "text/html; charset=utf-8");
  const Asset* style = find_asset("kiln.css");
  ASSERT_NE(style, nullptr);
  EXPECT_EQ(style->body, read_file(kAssets / "kiln.css"));
  EXPECT_EQ(style->mime, "text/css; charset=utf-8");
}

TEST(serve_assets, the_script_is_the_js_files_in_order_inside_one_function) {
  const Asset* script = find_asset("kiln.js");
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->mime, "text/javascript; charset=utf-8");
  const std::string body(script->body);
  const std::string opening = "(function () {\n'use strict';\n";
  std::size_t at = body.find(opening);
  ASSERT_NE(at, std::string::npos) << body.substr(0, 300);
  at += opening.size();
  for (const char* file : {"base.js", "chart.js", "curves.js", "run_list.js", "run_page.js", "compare.js", "sql.js",
                           "main.js"}) {
    const std::string text = read_file(kAssets / "js" / file);
    ASSERT_EQ(body.compare(at, text.size(), text), 0) << file << " is not next, whole, in kiln.js";
    at += text.size();
  }
  EXPECT_EQ(body.substr(at), "})();\n");
  EXPECT_THAT(body, StartsWith("// kiln serve's script: base.js, chart.js"));
}

}  // namespace
}  // namespace kiln::test
