// docs/writing-plugins.md against examples/plugin-template: every file the guide shows is the
// template's file, whole and exact, and it shows every file, so the guide alone is enough.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

const fs::path kSource = KILN_SOURCE_DIR;
const fs::path kGuide = kSource / "docs/writing-plugins.md";
const fs::path kTemplate = kSource / "examples/plugin-template";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The code blocks of a Markdown text whose opening fence names a file, as in
/// "```cpp file=src/model.cpp", by that file; a file shown twice keeps its first block.
std::map<std::string, std::string> file_blocks(const std::string& markdown) {
  std::map<std::string, std::string> blocks;
  std::istringstream lines(markdown);
  std::string line, file, body;
  bool inside = false;
  while (std::getline(lines, line)) {
    if (line.rfind("```", 0) == 0) {
      if (inside) {
        if (!file.empty()) blocks.emplace(file, body);
        inside = false;
        continue;
      }
      inside = true;
      body.clear();
      const auto at = line.find(" file=");
      file = at == std::string::npos ? "" : line.substr(at + 6);
      continue;
    }
    if (inside) body += line + "\n";
  }
  return blocks;
}

/// The template's files, relative to it, leaving out what a build or a run leaves there.
std::set<std::string> template_files() {
  std::set<std::string> files;
  for (auto it = fs::recursive_directory_iterator(kTemplate); it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name == "build" || name == "runs")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.insert(it->path().lexically_relative(kTemplate).string());
  }
  return files;
}

TEST(plugin_guide, finds_the_file_blocks_of_a_markdown_text) {
  const auto blocks = file_blocks("text\n```cpp file=a.cpp\nint a;\n\nint b;\n```\n```sh\nls\n```\n```toml file=b.toml\nx = 1\n```\n");
  EXPECT_EQ(blocks, (std::map<std::string, std::string>{{"a.cpp", "int a;\n\nint b;\n"}, {"b.toml", "x = 1\n"}}));
}

TEST(plugin_guide, shows_every_template_file) {
  const auto blocks = file_blocks(read_file(kGuide));
  ASSERT_FALSE(blocks.empty()) << kGuide << " shows no file (```cpp file=src/x.cpp)";
  for (const std::string& file : template_files()) EXPECT_EQ(blocks.count(file), 1u) << kGuide << " does not show " << file;
}

TEST(plugin_guide, shows_each_file_exactly_as_the_template_has_it) {
  for (const auto& [file, body] : file_blocks(read_file(kGuide))) {
    const fs::path path = kTemplate / file;
    ASSERT_TRUE(fs::is_regular_file(path)) << kGuide << " shows " << file << ", which the template does not have";
    EXPECT_EQ(body, read_file(path)) << kGuide << "'s " << file << " differs from " << path;
  }
}

}  // namespace
