// The report page from plain data and from a database: escaping, bad values, images, differences.
#include "report/page.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/temp_dir.hpp"
#include "png_support.hpp"
#include "report/images.hpp"
#include "report/report_data.hpp"
#include "store/schema.hpp"

namespace kiln::runner::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

/// A 4×2 PNG file of one colour.
void small_png(const std::filesystem::path& file) {
  kiln::test::RgbImage image{4, 2, {}};
  for (int i = 0; i < 8; ++i) image.rgb.insert(image.rgb.end(), {200, 40, 40});
  kiln::test::write_png(file, image);
}

RunData run(std::int64_t id, const std::string& name) {
  RunData r;
  r.info.id = id;
  r.info.name = name;
  r.info.experiment = "exp.toml";
  r.info.status = "completed";
  r.info.started = 1'700'000'000;
  r.info.ended = 1'700'000'192;
  return r;
}

class report_page : public ::testing::Test {
 protected:
  void SetUp() override {
    RunData a = run(1, "a");
    a.info.config = "[model]\nname = \"<unet>\"\n";
    a.summaries["loss/l1"] = {{0, 0.5}, {10, kNaN}, {20, 0.3}};
    a.summaries["eval/l1"] = {{0, 0.4}, {10, 0.25}, {20, 0.3}};
    a.summaries["time/step_ms"] = {{0, 4}, {10, 5}};
    a.params = {{"model.name", "<unet>"}, {"lr", "0.1"}, {"seed", "1"}};
    a.images = {{1, "images/eval", 0, (dir_ / "a-0.png").string(), 0}, {1, "images/eval", 10, (dir_ / "gone.png").string(), 0}};
    a.checkpoints.push_back({1, 10, "/r/ckpt-10.kiln", 4800, "x", 1'700'000'100, "steps", "", 1'700'000'150.0});
    a.checkpoints.push_back({1, 20, "/r/ckpt-20.kiln", 4800, "y", 1'700'000'190, "end", "max_to_keep", std::nullopt});
    a.events = {{1, "start", 0, "run a starts", 1'700'000'000}, {1, "save", 10, "saved", 1'700'000'100},
                {1, "stop", 20, "finished <ok>", 1'700'000'190}};
    small_png(dir_ / "a-0.png");

    RunData b = run(2, "<script>alert(1)</script>");
    b.info.status = "failed";
    b.info.ended.reset();
    b.info.error = "loss is <NaN> & gone";
    b.summaries["eval/l1"] = {{0, 0.41}, {20, 0.28}};
    b.params = {{"lr", "0.2"}, {"seed", "1"}};
    data_.database = "runs/kiln.db";
    data_.generated = 1'700'000'200;
    data_.runs = {a, b};
  }

  kiln::test::TempDir dir_;
  ReportData data_;
};

TEST_F(report_page, escapes_everything_from_the_database) {
  const std::string html = render_page(data_).html;
  EXPECT_THAT(html, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("error: loss is &lt;NaN&gt; &amp; gone"));
  EXPECT_THAT(html, HasSubstr("name = &quot;&lt;unet&gt;&quot;"));
  EXPECT_THAT(html, HasSubstr("finished &lt;ok&gt;"));
  EXPECT_EQ(count(html, "<script>"), 1u);  // the page's own
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
}

TEST_F(report_page, says_which_run_was_best_and_when) {
  const std::string html = render_page(data_).html;
  EXPECT_THAT(html, HasSubstr("best eval/l1 0.25 at step 10 (run a)"));
  // Bests that agree to four digits get as many more as it takes to tell them apart.
  data_.runs[1].summaries["eval/l1"] = {{0, 0.250012}};
  EXPECT_THAT(render_page(data_).html, HasSubstr("best eval/l1 0.25 at step 10 (run a)"));
  data_.runs[1].summaries["eval/l1"] = {{0, 0.2500012}};
  data_.runs[0].summaries["eval/l1"] = {{10, 0.2500011}};
  EXPECT_THAT(render_page(data_).html, HasSubstr("best eval/l1 0.2500011 at step 10 (run a)"));
  EXPECT_THAT(html, HasSubstr("best (lower is better)"));
  EXPECT_EQ(count(html, "class=\"marker\""), 2u);
}

TEST_F(report_page, a_tag_the_runs_declare_higher_is_better_picks_the_highest) {
  for (RunData& r : data_.runs) r.higher_is_better = {"eval/l1"};
  std::string html = render_page(data_).html;
  EXPECT_THAT(html, HasSubstr("best eval/l1 0.41 at step 0 (run &lt;script&gt;alert(1)&lt;/script&gt;)"));
  EXPECT_THAT(html, HasSubstr("best (higher is better)"));
  EXPECT_THAT(html, Not(HasSubstr("best (lower is better)")));
  // Runs that disagree: each run's own best, and no run is named the best.
  data_.runs[1].higher_is_better.clear();
  html = render_page(data_).html;
  EXPECT_THAT(html, HasSubstr("best (each run's own: they disagree whether lower or higher is better)"));
  EXPECT_THAT(html, Not(HasSubstr("best eval/l1")));
  EXPECT_THAT(html, Not(HasSubstr("class=\"winner\"")));
  EXPECT_EQ(count(html, "class=\"marker\""), 2u);  // a's highest, b's lowest
}

TEST_F(report_page, without_evaluations_the_smoothed_losses_say_which_run_is_ahead) {
  for (RunData& r : data_.runs) r.summaries.erase("eval/l1");
  // a's loss/l1 smoothed (weight 0.9): 0.5, then 0.075 / 0.19 = 0.3947 (the NaN is skipped).
  EXPECT_THAT(render_page(data_).html,
              HasSubstr("<li class=\"best\">lowest smoothed loss/l1 0.3947 at step 20 (run a)</li>"));
}

TEST_F(report_page, draws_one_chart_per_tag_with_one_line_per_run) {
  const Page page = render_page(data_);
  EXPECT_EQ(page.charts, 3u);
  EXPECT_EQ(count(page.html, "<svg class=\"chart\""), 3u);
  EXPECT_EQ(count(page.html, "<path class=\"smooth\" data-run=\"a\""), 2u);  // loss/l1, time/step_ms
  EXPECT_EQ(count(page.html, "<path class=\"points\""), 2u);                 // eval/l1, both runs
  EXPECT_THAT(page.html, HasSubstr("1 value not finite (first at step 10: nan)"));
}

TEST_F(report_page, embeds_images_and_notes_a_missing_one) {
  const Page page = render_page(data_);
  EXPECT_EQ(page.images_recorded, 2u);
  EXPECT_EQ(page.images_embedded, 1u);
  EXPECT_EQ(count(page.html, "<img class=\"summary\" src=\"data:image/png;base64,iVBORw0KGgo"), 1u);
  EXPECT_THAT(page.html, HasSubstr("width=\"16\" height=\"8\""));  // 4×2, enlarged 4 times at most
  EXPECT_THAT(page.html, HasSubstr("file missing: " + (dir_ / "gone.png").string()));
  EXPECT_THAT(page.html, HasSubstr("data-images-embedded=\"1\""));
}

TEST_F(report_page, lists_only_the_config_keys_that_differ) {
  const std::string html = render_page(data_).html;
  EXPECT_THAT(html, HasSubstr("2 keys that differ"));
  EXPECT_THAT(html, HasSubstr("<td class=\"key\">lr</td><td>0.1</td><td>0.2</td>"));
  EXPECT_THAT(html,
              HasSubstr("<td class=\"key\">model.name</td><td>&lt;unet&gt;</td><td class=\"absent\">(not set)</td>"));
  EXPECT_THAT(html, Not(HasSubstr("<td class=\"key\">seed</td>")));
}

TEST_F(report_page, shows_checkpoints_kept_and_deleted_and_compact_events) {
  const std::string html = render_page(data_).html;
  EXPECT_THAT(html, HasSubstr("2 checkpoints, 1 kept"));
  EXPECT_EQ(count(html, "class=\"ckpt deleted\""), 1u);
  EXPECT_EQ(count(html, "class=\"ckpt kept\""), 1u);
  EXPECT_THAT(html, HasSubstr("kept: max_to_keep"));
  EXPECT_THAT(html, HasSubstr("1 save event not listed"));
  EXPECT_THAT(html, HasSubstr("<span class=\"status failed\">failed</span>"));
}

TEST_F(report_page, marks_checkpoints_by_why_they_are_kept) {
  RunData& a = data_.runs[0];
  a.checkpoints.push_back({1, 30, "/r/ckpt-30.kiln", 4800, "z", 1'700'000'200, "steps", "best", std::nullopt});
  a.checkpoints.push_back({1, 40, "/r/ckpt-40.kiln", 4800, "w", 1'700'000'210, "steps", "keep_every_hours,best",
                           std::nullopt});
  const std::string html = render_page(data_).html;
  EXPECT_EQ(count(html, "class=\"ckpt kept\""), 1u);        // step 20, one of the newest
  EXPECT_EQ(count(html, "class=\"ckpt kept asked\""), 1u);  // step 30, early stopping's best
  EXPECT_EQ(count(html, "class=\"ckpt kept hours\""), 1u);  // step 40: keep_every_hours holds it for good
  EXPECT_THAT(html, HasSubstr("kept (keep_every_hours,best)"));
}

TEST_F(report_page, a_run_without_anything_recorded_still_renders) {
  data_.runs = {run(7, "empty")};
  const Page page = render_page(data_);
  EXPECT_EQ(page.charts, 0u);
  EXPECT_THAT(page.html, HasSubstr("No loss/* summaries were recorded"));
  EXPECT_THAT(page.html, HasSubstr("No image summaries were recorded"));
  EXPECT_THAT(page.html, HasSubstr("No checkpoints were recorded"));
  EXPECT_THAT(page.html, HasSubstr("<details class=\"config\" open>"));
}

TEST(report_images, picks_the_first_the_latest_and_evenly_between) {
  EXPECT_EQ(pick_images(13, 4), (std::vector<std::size_t>{0, 4, 8, 12}));
  EXPECT_EQ(pick_images(5, 4), (std::vector<std::size_t>{0, 1, 3, 4}));
  EXPECT_EQ(pick_images(3, 4), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(pick_images(5, 1), (std::vector<std::size_t>{4}));
  EXPECT_TRUE(pick_images(0, 4).empty());
}

TEST(report_images, says_why_a_file_is_not_embedded) {
  kiln::test::TempDir dir;
  EXPECT_EQ(load_image(dir / "nope.png", 1000).problem, "file missing");
  std::ofstream(dir / "text.png") << "not an image";
  EXPECT_EQ(load_image(dir / "text.png", 1000).problem, "not a PNG or JPEG file");
  small_png(dir / "ok.png");
  EXPECT_EQ(load_image(dir / "ok.png", 10).problem.rfind("too large to embed (", 0), 0u);
  const EmbeddedImage ok = load_image(dir / "ok.png", 100'000);
  EXPECT_EQ(ok.problem, "");
  EXPECT_EQ(ok.width, 4);
  EXPECT_EQ(ok.height, 2);
  EXPECT_EQ(ok.uri.rfind("data:image/png;base64,", 0), 0u);
}

TEST(report_data, loads_runs_by_name_or_id_with_nan_for_null) {
  kiln::test::TempDir dir;
  const auto path = dir / "kiln.db";
  {
    store::Database db(path);
    store::migrate(db);
    db.exec(R"sql(
      INSERT INTO runs (id, name, experiment, config, config_hash, status, started, ended, error)
        VALUES (1, 'first', 'e.toml', '[a]', 'h', 'completed', 100, 160, NULL),
               (2, 'second', 'e.toml', '[b]', 'h', 'failed', 200, NULL, 'boom');
      INSERT INTO summaries VALUES (1, 'loss/l1', 0, 0.5, 100), (1, 'loss/l1', 5, NULL, 101),
                                   (2, 'eval/l1', 3, 0.2, 201);
      INSERT INTO params VALUES (1, 'experiment.max_steps', '10'), (1, 'lr', '0.1');
      INSERT INTO images VALUES (2, 'images/eval', 3, '/x/3.png', 202);
      INSERT INTO events (run_id, time, step, kind, message) VALUES (2, 203, 7, 'failure', 'boom');
      INSERT INTO checkpoints (run_id, step, path, bytes, sha256, created, reason, kept)
        VALUES (1, 5, '/c/5', 10, 's', 150, 'steps', 'max_to_keep');
    )sql");
  }
  store::Database db(path, store::OpenMode::read_only);
  const ReportData data = load_report(db, {"second", "1", "second"});
  ASSERT_EQ(data.runs.size(), 2u);
  const RunData& second = data.runs[0];
  const RunData& first = data.runs[1];
  EXPECT_EQ(second.info.name, "second");
  EXPECT_EQ(second.info.error, "boom");
  EXPECT_FALSE(second.info.ended);
  EXPECT_EQ(second.last_step(), 7);  // from the failure event
  EXPECT_EQ(second.images.size(), 1u);
  EXPECT_EQ(second.images[0].path, "/x/3.png");
  EXPECT_FALSE(second.max_steps());
  EXPECT_EQ(first.info.name, "first");
  ASSERT_EQ(first.summaries.at("loss/l1").size(), 2u);
  EXPECT_TRUE(std::isnan(first.summaries.at("loss/l1")[1].value));
  EXPECT_EQ(first.max_steps(), 10);
  EXPECT_DOUBLE_EQ(first.duration(1000), 60);
  EXPECT_DOUBLE_EQ(second.duration(1000), 800);
  ASSERT_EQ(first.checkpoints.size(), 1u);
  EXPECT_EQ(first.checkpoints[0].kept, "max_to_keep");

  try {
    load_report(db, {"third"});
    FAIL() << "an unknown run loaded";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no run named 'third'"));
  }
}

}  // namespace
}  // namespace kiln::runner::report
