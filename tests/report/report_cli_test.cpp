// `kiln report` end to end: two tiny pix2pix runs with different learning rates, their report
// opened in headless Chromium (screenshot and DOM), and the command's failure paths.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "chromium.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"
#include "png_support.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

/// experiments/pix2pix.toml at 32×32, 6 steps: eval every 3 steps, a checkpoint every 2 of
/// which the newest 2 stay, and an image grid every step (7 per run, more than the report embeds).
std::vector<std::string> tiny_pix2pix() {
  std::vector<std::string> args;
  for (const char* set : {"experiment.max_steps=6", "data.image_size=32", "data.load_size=36", "data.size=8",
                          "eval_data.image_size=32", "eval_data.size=4", "model.image_size=32", "model.ngf=8",
                          "model.ndf=8", "saver.every_steps=2", "saver.max_to_keep=2", "hooks.evaluate.every_steps=3",
                          "hooks.evaluate.count=4", "hooks.image_summaries.every_steps=1",
                          "hooks.image_summaries.count=2", "supervisor.summary_every_steps=1",
                          "supervisor.log_every_steps=0"})
    args.insert(args.end(), {"--set", set});
  return args;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

/// The <svg> element whose data-tag is `tag`, from its start to its end tag ("" if none).
std::string chart_of(const std::string& dom, const std::string& tag) {
  const auto at = dom.find("data-tag=\"" + tag + "\"");
  if (at == std::string::npos) return "";
  const auto start = dom.rfind("<svg", at);
  return dom.substr(start, dom.find("</svg>", at) + 6 - start);
}

/// "best eval/l1 0.4187 at step 3 (run pix2pix-2)", computed from the database directly, with
/// four significant digits or as many more (up to 8) as it takes to tell the runs' bests apart.
std::string expected_best(const fs::path& db, const std::vector<std::string>& runs) {
  std::vector<std::pair<double, long long>> bests;
  std::size_t winner = 0;
  for (const std::string& run : runs) {
    const std::string sql = "SELECT s.value, s.step FROM summaries s JOIN runs r ON r.id = s.run_id WHERE r.name = '" +
                            run + "' AND s.tag = 'eval/l1' ORDER BY s.value, s.step LIMIT 1";
    const auto row = sql_rows(db, sql).at(0);
    bests.emplace_back(std::stod(row[0]), std::stoll(row[1]));
    if (bests.back().first < bests[winner].first) winner = bests.size() - 1;
  }
  const auto text = [](double value, int digits) {
    char out[64];
    std::snprintf(out, sizeof(out), "%.*g", digits, value);
    return std::string(out);
  };
  int digits = 4;
  const double a = bests[0].first, b = bests[1].first;
  while (digits < 8 && a != b && text(a, digits) == text(b, digits)) ++digits;
  return "best eval/l1 " + text(bests[winner].first, digits) + " at step " + std::to_string(bests[winner].second) +
         " (run " + runs[winner] + ")";
}

/// Whether the RGB pixel at `pixel` is within `tolerance` of `hex` ("#4e79a7") on every channel.
bool near(const std::uint8_t* pixel, const std::string& hex, int tolerance) {
  for (int c = 0; c < 3; ++c)
    if (std::abs(pixel[c] - std::stoi(hex.substr(1 + 2 * c, 2), nullptr, 16)) > tolerance) return false;
  return true;
}

/// How many pixels of `image` are near one of `colours`.
std::size_t pixels_near(const RgbImage& image, const std::vector<std::string>& colours, int tolerance) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 2 < image.rgb.size(); i += 3)
    n += std::any_of(colours.begin(), colours.end(),
                     [&](const std::string& hex) { return near(&image.rgb[i], hex, tolerance); });
  return n;
}

HeadlessChromium chromium(const TempDir& dir) {
  const std::string binary = KILN_CHROMIUM;
  if (binary.empty() || !fs::exists(binary))
    throw std::runtime_error("headless Chromium is needed to test kiln report, and the build found none (\"" + binary +
                             "\"): install Debian's chromium package (apt-get install chromium, or scripts/setup.sh "
                             "as root), then re-run cmake");
  return HeadlessChromium(binary, dir.path());
}

class report_cli : public ::testing::Test {
 protected:
  void run_pix2pix(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"run", (source_dir() / "experiments/pix2pix.toml").string()};
    for (const auto& list : {tiny_pix2pix(), extra}) args.insert(args.end(), list.begin(), list.end());
    const KilnResult result = run_kiln(args, dir_.path());
    ASSERT_EQ(result.exit_code(), 0) << result.describe();
  }

  TempDir dir_;
  fs::path db_ = dir_ / "runs/kiln.db";
};

TEST_F(report_cli, two_pix2pix_runs_render_in_headless_chromium) {
  const HeadlessChromium browser = chromium(dir_);
  ASSERT_NO_FATAL_FAILURE(run_pix2pix({}));
  ASSERT_NO_FATAL_FAILURE(run_pix2pix({"--fresh", "--set", "optimizers.generator.lr=1e-3"}));
  ASSERT_EQ(sql_value(db_, "SELECT group_concat(name) FROM runs"), "pix2pix,pix2pix-2");
  // One image the first run recorded is gone: the report says so instead of a broken image.
  const std::string gone = sql_value(db_, "SELECT path FROM images WHERE run_id = 1 AND step = 0");
  ASSERT_TRUE(fs::remove(gone)) << gone;

  const KilnResult result = run_kiln({"report", "pix2pix", "pix2pix-2", "-o", "report.html"}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  // 7 images per run, 4 of each picked (steps 0, 2, 4, 6), one of them missing. Two of the
  // charts are the phases' learning rates (lr/generator, lr/discriminator).
  EXPECT_THAT(result.out,
              MatchesRegex("wrote report\\.html \\([0-9.]+ kB\\): 2 runs, 12 charts, 7 of 14 images embedded\n"));
  const fs::path report = dir_ / "report.html";
  const std::string html = read_file(report);
  EXPECT_THAT(html, Not(MatchesRegex("(.|\n)*https?:(.|\n)*"))) << "the report must load nothing from the network";
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_EQ(count(html, " src=\""), count(html, " src=\"data:image/png;base64,"));
  for (const auto& entry : fs::directory_iterator(dir_.path()))
    EXPECT_THAT(entry.path().filename().string(), Not(HasSubstr(".tmp-"))) << "a temp file was left behind";

  const ChromiumResult dom = browser.dump_dom(report);
  ASSERT_EQ(dom.exit_code, 0) << dom.command << "\n" << dom.err;
  EXPECT_THAT(dom.out, HasSubstr("data-images-loaded=\"7\"")) << "every embedded image decodes in the browser";
  EXPECT_EQ(count(dom.out, "<img class=\"summary\""), 7u);
  EXPECT_THAT(dom.out, HasSubstr("file missing: " + gone));
  EXPECT_THAT(dom.out, HasSubstr("7 images recorded, steps 0 to 6; 3 of them not shown"));
  const auto loss_tags = sql_rows(db_, "SELECT DISTINCT tag FROM summaries WHERE tag LIKE 'loss/%' ORDER BY tag");
  ASSERT_EQ(loss_tags.size(), 4u);
  for (const auto& row : loss_tags) {
    const std::string svg = chart_of(dom.out, row[0]);
    ASSERT_FALSE(svg.empty()) << "no chart for " << row[0];
    EXPECT_EQ(count(svg, "class=\"smooth\""), 2u) << row[0];
    EXPECT_EQ(count(svg, "class=\"raw\""), 2u) << row[0];
    EXPECT_THAT(svg, HasSubstr("data-run=\"pix2pix\"")) << row[0];
    EXPECT_THAT(svg, HasSubstr("data-run=\"pix2pix-2\"")) << row[0];
    EXPECT_THAT(svg, HasSubstr(">step</text>")) << row[0];
  }
  EXPECT_EQ(count(chart_of(dom.out, "eval/l1"), "class=\"marker\""), 2u);
  EXPECT_THAT(dom.out, HasSubstr(expected_best(db_, {"pix2pix", "pix2pix-2"})));
  EXPECT_THAT(dom.out, HasSubstr("lr = 0.001"));  // the second run's resolved config
  EXPECT_THAT(dom.out, HasSubstr("<td class=\"key\">optimizers.generator.lr</td>"));
  // Three checkpoints per run (steps 2, 4, 6): the newest two kept, the oldest deleted.
  EXPECT_EQ(count(dom.out, "class=\"ckpt kept\""), 4u);
  EXPECT_EQ(count(dom.out, "class=\"ckpt deleted\""), 2u);

  const fs::path shot = dir_ / "shot.png";
  const ChromiumResult screenshot = browser.screenshot(report, shot, 1280, 2400);
  ASSERT_EQ(screenshot.exit_code, 0) << screenshot.command << "\n" << screenshot.err;
  // KILN_REPORT_TEST_KEEP=DIR keeps the report and its screenshot there, to look at.
  if (const char* keep = std::getenv("KILN_REPORT_TEST_KEEP")) {
    fs::create_directories(keep);
    fs::copy_file(report, fs::path(keep) / "report.html", fs::copy_options::overwrite_existing);
    fs::copy_file(shot, fs::path(keep) / "shot.png", fs::copy_options::overwrite_existing);
  }
  const RgbImage image = read_png(shot);
  ASSERT_EQ(image.width, 1280);
  ASSERT_EQ(image.height, 2400);
  std::set<int> colours;
  for (std::size_t i = 0; i + 2 < image.rgb.size(); i += 3)
    colours.insert(image.rgb[i] << 16 | image.rgb[i + 1] << 8 | image.rgb[i + 2]);
  EXPECT_GT(colours.size(), 1000u) << "a blank or flat screenshot";
  // Ink: pixels that are neither the white of the cards nor the grey of the page around them.
  const std::size_t paper = pixels_near(image, {"#ffffff", "#f4f6f9"}, 8);
  const double ink = 1.0 - static_cast<double>(paper) / (image.width * image.height);
  EXPECT_GT(ink, 0.03) << "too few pixels drawn";
  // The runs' colours (the legend, the lines, the checkpoint markers).
  EXPECT_GT(pixels_near(image, {"#4e79a7"}, 6), 500u);
  EXPECT_GT(pixels_near(image, {"#f28e2b"}, 6), 500u);
}

class report_cli_mlp : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(dir_, "exp.toml", mlp_experiment());
    const KilnResult result = run_kiln({"run", "exp.toml"}, dir_.path());
    ASSERT_EQ(result.exit_code(), 0) << result.describe();
  }

  TempDir dir_;
};

TEST_F(report_cli_mlp, a_run_by_id_without_images_reports) {
  const KilnResult result = run_kiln({"report", "1", "--db", "runs/kiln.db", "-o", "one.html"}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out,
              MatchesRegex("wrote one\\.html \\([0-9.]+ kB\\): 1 run, [0-9]+ charts, 0 of 0 images embedded\n"));
  const std::string html = read_file(dir_ / "one.html");
  EXPECT_THAT(html, HasSubstr("data-tag=\"loss/mse\""));
  EXPECT_THAT(html, HasSubstr("No image summaries were recorded for these runs."));
  EXPECT_THAT(html, HasSubstr("<details class=\"config\" open>"));
}

TEST_F(report_cli_mlp, an_unknown_run_is_one_error_line) {
  const KilnResult result = run_kiln({"report", "t", "nope", "-o", "r.html"}, dir_.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_THAT(error_line(result), HasSubstr("no run named 'nope' in runs/kiln.db"));
  EXPECT_FALSE(fs::exists(dir_ / "r.html"));
}

TEST_F(report_cli_mlp, a_missing_database_is_one_error_line) {
  const KilnResult result = run_kiln({"report", "t", "--db", "elsewhere/kiln.db"}, dir_.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_THAT(error_line(result), HasSubstr("no run database at elsewhere/kiln.db"));
  EXPECT_FALSE(fs::exists(dir_ / "report.html"));
}

TEST_F(report_cli_mlp, an_unwritable_output_is_one_error_line_and_leaves_nothing) {
  const KilnResult no_dir = run_kiln({"report", "t", "-o", "no-such-dir/r.html"}, dir_.path());
  EXPECT_TRUE(fails_with_one_error_line(no_dir, 2));
  EXPECT_EQ(error_line(no_dir), "error: cannot write the report to no-such-dir/r.html: No such file or directory");

  fs::create_directory(dir_ / "a-folder");
  const KilnResult onto_dir = run_kiln({"report", "t", "-o", "a-folder"}, dir_.path());
  EXPECT_TRUE(fails_with_one_error_line(onto_dir, 2));
  EXPECT_EQ(error_line(onto_dir), "error: cannot write the report to a-folder: Is a directory");
  for (const auto& entry : fs::directory_iterator(dir_.path()))
    EXPECT_THAT(entry.path().filename().string(), Not(HasSubstr(".tmp-"))) << "a temp file was left behind";
}

}  // namespace
}  // namespace kiln::test
