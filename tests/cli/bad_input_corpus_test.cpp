// The bad-input corpus: every experiment in tests/cli/bad_inputs/ and a few made at run time
// (too big to keep) goes through `kiln run` and `kiln validate`, and each must be refused the
// same way: exit 2, one "error:" line that starts as the case expects, no signal, no run
// created, within a time and a memory bound.
//
// A corpus file is an experiment whose first lines say why it is bad and what kiln says:
//   # a learning rate that is not a number
//   # expect: exp.toml:26:6: optimizers.adam.lr: must be a finite number, got nan
// The expected text is a prefix of the error line after "error: "; {dir} stands for the
// folder the case runs in, {plugins} for kiln's plugin folder. Add a case by adding a file.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::StartsWith;

/// Every refusal comes before anything slow; a kiln still running after this is killed.
constexpr std::chrono::seconds kTimeBound(30);
/// A refused experiment needs no more than kiln starting up (about 0.7 GB of address space with
/// a CPU LibTorch, most of it LibTorch's mappings; 3 to 4 GB with a CUDA one: the bound is
/// tests/cli/CMakeLists.txt's); a file that made kiln build a 6 GB document hits this.
constexpr rlim_t kAddressSpaceBound = rlim_t{KILN_TEST_ADDRESS_SPACE_MB} << 20;

struct Case {
  std::string name;
  /// Writes exp.toml (and whatever else the case needs) into the folder given.
  std::function<void(const fs::path&)> write;
  std::string expected;  ///< a prefix of the error line after "error: ", with {dir} and {plugins}
};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

fs::path corpus_dir() { return source_dir() / "tests/cli/bad_inputs"; }

std::vector<Case> file_cases() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(corpus_dir()))
    if (entry.path().extension() == ".toml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<Case> out;
  for (const fs::path& file : files) {
    const std::string text = read_file(file);
    const std::string marker = "\n# expect: ";
    const auto at = text.find(marker);
    const auto end = at == std::string::npos ? at : text.find('\n', at + 1);
    out.push_back({file.stem().string(), [file](const fs::path& dir) { fs::copy_file(file, dir / "exp.toml"); },
                   at == std::string::npos ? "(no '# expect:' line)" : text.substr(at + marker.size(), end - at - marker.size())});
  }
  return out;
}

/// The small valid experiment (tests/support/experiment_file.hpp) with one edit.
std::function<void(const fs::path&)> edited(const std::string& from, const std::string& to) {
  return [from, to](const fs::path& dir) { std::ofstream(dir / "exp.toml") << replace_once(mlp_experiment(), from, to); };
}

/// "exp.toml:LINE:COLUMN: " for the line of the small experiment that holds `needle`.
std::string at_line(const std::string& needle, int column) {
  return "exp.toml:" + std::to_string(line_of(mlp_experiment(), needle)) + ":" + std::to_string(column) + ": ";
}

std::vector<Case> generated_cases() {
  std::vector<Case> out;
  // A plugin library cut short: dlopen would map its segments past the end of the file.
  out.push_back({"truncated_plugin",
                 [](const fs::path& dir) {
                   std::ifstream in(kiln_plugin_dir() / "libmlp.so", std::ios::binary);
                   std::string head(4096, '\0');
                   in.read(head.data(), static_cast<std::streamsize>(head.size()));
                   std::ofstream(dir / "libtrunc.so", std::ios::binary) << head;
                   edited("plugin = \"mlp\"\n", "plugin = \"mlp\"\nlibrary = \"./libtrunc.so\"\n")(dir);
                 },
                 at_line("[model]", 1) + "{dir}/libtrunc.so is truncated: its segment "});
  // 50 MB of comments: refused by its size before it is parsed.
  out.push_back({"huge_file",
                 [](const fs::path& dir) {
                   std::ofstream file(dir / "exp.toml");
                   file << mlp_experiment();
                   const std::string line(99, '#');
                   for (int i = 0; i < 500000; ++i) file << line << '\n';
                 },
                 "exp.toml: too large (50"});
  // 100000 hidden layers: an array longer than any option needs.
  std::string layers = "hidden = [8";
  for (int i = 0; i < 100000; ++i) layers += ", 8";
  out.push_back({"huge_array", edited("hidden = [8]", layers + "]"),
                 at_line("hidden", 10) + "model.hidden: an array may hold at most 65536 elements, got 100001"});
  // 100000 nested arrays: toml++ would recurse until the stack ends.
  out.push_back({"deep_array", edited("hidden = [8]", "hidden = " + std::string(100000, '[') + std::string(100000, ']')),
                 at_line("hidden", 72) + "nested too deeply: "});
  return out;
}

std::vector<Case> all_cases() {
  std::vector<Case> out = file_cases();
  for (Case& c : generated_cases()) out.push_back(std::move(c));
  return out;
}

/// Names a case in gtest's messages (instead of a dump of its bytes).
void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

class bad_input_corpus : public ::testing::TestWithParam<Case> {};

TEST_P(bad_input_corpus, is_refused_by_run_and_validate_with_one_positioned_error) {
  const Case& c = GetParam();
  for (const std::string command : {"run", "validate"}) {
    SCOPED_TRACE("kiln " + command + " on " + c.name);
    TempDir dir;
    c.write(dir.path());
    std::unique_ptr<KilnProcess> kiln;
    {
      const ScopedResourceLimit memory(RLIMIT_AS, kAddressSpaceBound);
      kiln = std::make_unique<KilnProcess>(std::vector<std::string>{command, "exp.toml"}, dir.path());
    }
    const auto started = std::chrono::steady_clock::now();
    const KilnResult result = kiln->finish(kTimeBound);
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(fails_with_one_error_line(result, 2)) << result.describe();
    const std::string expected =
        replace_all(replace_all(c.expected, "{dir}", fs::canonical(dir.path()).string()), "{plugins}", kiln_plugin_dir().string());
    EXPECT_THAT(error_line(result), StartsWith("error: " + expected));
    EXPECT_EQ(result.out, "");
    EXPECT_FALSE(fs::exists(dir / "runs")) << "a refused experiment must create neither a run nor a database";
    EXPECT_LT(took, kTimeBound);
  }
}

INSTANTIATE_TEST_SUITE_P(cases, bad_input_corpus, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace kiln::test
