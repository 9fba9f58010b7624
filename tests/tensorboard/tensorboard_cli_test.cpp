// TensorBoard events files from real runs: the tensorboard hook while a run trains (and when
// it resumes), and `kiln export tensorboard` afterwards, each read back record by record and
// compared with the run database, which is read with SQLite itself.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "event_reader.hpp"
#include "image/pixels.hpp"
#include "kiln_process.hpp"
#include "tensorboard/event_writer.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// A summary row of the database, its value exactly as stored (NULL as NaN).
struct DbScalar {
  double value = 0;
  double wall_time = 0;
};
using Key = std::pair<std::string, std::int64_t>;  // tag, step

/// The run's summaries (or image rows: path in `paths`) read with SQLite's own API, so that
/// values are the stored doubles, not their text.
std::map<Key, DbScalar> db_summaries(const fs::path& db, const std::string& run) {
  sqlite3* handle = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* select = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(handle,
                               "SELECT s.tag, s.step, s.value, s.wall_time FROM summaries s JOIN runs r ON r.id = "
                               "s.run_id WHERE r.name = ?1",
                               -1, &select, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(select, 1, run.c_str(), -1, SQLITE_TRANSIENT);
  std::map<Key, DbScalar> rows;
  while (sqlite3_step(select) == SQLITE_ROW) {
    const double value = sqlite3_column_type(select, 2) == SQLITE_NULL ? std::nan("") : sqlite3_column_double(select, 2);
    rows[{reinterpret_cast<const char*>(sqlite3_column_text(select, 0)), sqlite3_column_int64(select, 1)}] = {
        value, sqlite3_column_double(select, 3)};
  }
  sqlite3_finalize(select);
  sqlite3_close(handle);
  return rows;
}

/// The run's image rows: (tag, step) -> the file.
std::map<Key, fs::path> db_images(const fs::path& db, const std::string& run) {
  std::map<Key, fs::path> rows;
  for (const auto& row : sql_rows(db, "SELECT i.tag, i.step, i.path FROM images i JOIN runs r ON r.id = i.run_id "
                                      "WHERE r.name = '" + run + "'"))
    rows[{row[0], std::stoll(row[1])}] = row[2];
  return rows;
}

/// The scalars of every events file in `dir`, in the order TensorBoard reads them; a later
/// value of the same tag and step replaces an earlier one, as the database's row does.
std::map<Key, EventScalar> file_scalars(const fs::path& dir) {
  std::map<Key, EventScalar> scalars;
  for (const fs::path& file : events_files(dir))
    for (const EventScalar& scalar : scalars_of(read_events(file))) scalars[{scalar.tag, scalar.step}] = scalar;
  return scalars;
}

std::map<Key, EventImage> file_images(const fs::path& dir) {
  std::map<Key, EventImage> images;
  for (const fs::path& file : events_files(dir))
    for (const EventImage& image : images_of(read_events(file))) images[{image.tag, image.step}] = image;
  return images;
}

/// Each database summary has its value in the files, as a float, exactly (NaN as NaN), and
/// the files hold no other; with `same_times`, the wall times are the database's too.
void expect_scalars_match(const std::map<Key, EventScalar>& files, const std::map<Key, DbScalar>& db,
                          bool same_times) {
  ASSERT_FALSE(db.empty());
  ASSERT_EQ(files.size(), db.size());
  for (const auto& [key, row] : db) {
    const auto it = files.find(key);
    ASSERT_NE(it, files.end()) << key.first << " at step " << key.second << " is not in the events files";
    const float expected = static_cast<float>(row.value);
    if (std::isnan(expected)) EXPECT_TRUE(std::isnan(it->second.value)) << key.first << " " << key.second;
    else EXPECT_EQ(it->second.value, expected) << key.first << " at step " << key.second;
    if (same_times) EXPECT_EQ(it->second.wall_time, row.wall_time) << key.first << " at step " << key.second;
    else EXPECT_NEAR(it->second.wall_time, row.wall_time, 10.0) << key.first << " at step " << key.second;
  }
}

/// Each database image is in the files with the file's bytes, and its stated size is the
/// decoded image's.
void expect_images_match(const std::map<Key, EventImage>& files, const std::map<Key, fs::path>& db) {
  ASSERT_FALSE(db.empty());
  ASSERT_EQ(files.size(), db.size());
  for (const auto& [key, path] : db) {
    const auto it = files.find(key);
    ASSERT_NE(it, files.end()) << key.first << " at step " << key.second << " is not in the events files";
    EXPECT_EQ(it->second.encoded, read_file(path)) << path;
    const image::Pixels decoded = image::decode_pixels(it->second.encoded.data(), it->second.encoded.size(), path);
    EXPECT_EQ(it->second.width, decoded.width) << path;
    EXPECT_EQ(it->second.height, decoded.height) << path;
    EXPECT_EQ(it->second.colorspace, 3) << path;  // image_summaries writes RGB grids
  }
}

/// experiments/pix2pix.toml at 32×32 with the tensorboard hook: a summary of every loss
/// every step, eval/l1 every 2 steps and an image grid every 2 steps.
std::string tiny_pix2pix_with_hook() {
  return read_file(source_dir() / "experiments/pix2pix.toml") +
         "\n[[hooks]]\nplugin = \"tensorboard\"\nflush_secs = 0.2\n";
}

std::vector<std::string> tiny_pix2pix_args(int max_steps) {
  std::vector<std::string> args = {"run", "exp.toml"};
  for (const std::string& set :
       {"experiment.max_steps=" + std::to_string(max_steps), std::string("data.image_size=32"),
        std::string("data.load_size=36"), std::string("data.size=8"), std::string("eval_data.image_size=32"),
        std::string("eval_data.size=4"), std::string("model.image_size=32"), std::string("model.ngf=8"),
        std::string("model.ndf=8"), std::string("saver.every_steps=2"), std::string("hooks.evaluate.every_steps=2"),
        std::string("hooks.evaluate.count=4"), std::string("hooks.image_summaries.every_steps=2"),
        std::string("hooks.image_summaries.count=2"), std::string("supervisor.summary_every_steps=1"),
        std::string("supervisor.log_every_steps=0")})
    args.insert(args.end(), {"--set", set});
  return args;
}

TEST(tensorboard_hook, writes_what_the_run_records_and_a_resume_adds_a_file) {
  TempDir dir;
  dir.write("exp.toml", tiny_pix2pix_with_hook());
  const fs::path db = dir / "runs/kiln.db";
  const fs::path events = dir / "runs/pix2pix/tensorboard";

  const KilnResult first = run_kiln(tiny_pix2pix_args(4), dir.path());
  ASSERT_EQ(first.exit_code(), 0) << first.describe();
  ASSERT_EQ(events_files(events).size(), 1u);
  EXPECT_EQ(read_events(events_files(events)[0]).at(0).file_version(), "brain.Event:2");
  expect_scalars_match(file_scalars(events), db_summaries(db, "pix2pix"), /*same_times=*/false);
  expect_images_match(file_images(events), db_images(db, "pix2pix"));
  EXPECT_EQ(file_scalars(events).count({"loss/l1", 3}), 1u);
  EXPECT_EQ(file_scalars(events).count({"eval/l1", 4}), 1u);

  // Resumed to step 8: a second file beside the first, which stays as it was.
  const std::string first_file = read_file(events_files(events)[0]);
  const KilnResult resumed = run_kiln(tiny_pix2pix_args(8), dir.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  const std::vector<fs::path> files = events_files(events);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(read_file(files[0]), first_file);
  const std::vector<EventScalar> added = scalars_of(read_events(files[1]));
  ASSERT_FALSE(added.empty());
  EXPECT_GE(std::min_element(added.begin(), added.end(),
                             [](const EventScalar& a, const EventScalar& b) { return a.step < b.step; })
                ->step,
            4);
  expect_scalars_match(file_scalars(events), db_summaries(db, "pix2pix"), /*same_times=*/false);
  expect_images_match(file_images(events), db_images(db, "pix2pix"));
  EXPECT_EQ(file_scalars(events).count({"loss/l1", 7}), 1u);
}

TEST(tensorboard_hook, a_running_run_is_in_its_file_within_flush_secs) {
  TempDir dir;
  write_text(dir, "exp.toml",
             mlp_experiment("[supervisor]\nsummary_every_steps = 1\nlog_every_steps = 20\n"
                            "[[hooks]]\nplugin = \"tensorboard\"\nflush_secs = 0.2\n",
                            100000000));
  const fs::path events = dir / "runs/t/tensorboard";
  KilnProcess kiln({"run", "exp.toml"}, dir.path());
  // Read while it trains: whole records are there, up to the last flush.
  const auto has_scalars = [&](const KilnProcess&) {
    try {
      const std::vector<fs::path> files = events_files(events);
      return files.size() == 1 && scalars_of(read_events(files[0])).size() >= 20;
    } catch (const std::exception&) {
      return false;  // no folder yet, or a record cut short by a write under way
    }
  };
  ASSERT_TRUE(kiln.wait_until(has_scalars, std::chrono::seconds(60))) << kiln.err();
  kiln.send_signal(SIGINT);
  const KilnResult stopped = kiln.finish();
  ASSERT_EQ(stopped.exit_code(), 0) << stopped.describe();
  expect_scalars_match(file_scalars(events), db_summaries(dir / "runs/kiln.db", "t"), /*same_times=*/false);
}

TEST(tensorboard_hook, writes_once_in_a_run_of_two_processes) {
  TempDir dir;
  write_text(dir, "exp.toml",
             mlp_experiment("[supervisor]\nsummary_every_steps = 2\n[[hooks]]\nplugin = \"tensorboard\"\n", 10));
  const KilnResult run = run_kiln({"run", "exp.toml", "--nproc", "2"}, dir.path());
  ASSERT_EQ(run.exit_code(), 0) << run.describe();
  const std::vector<fs::path> files = events_files(dir / "runs/t/tensorboard");
  ASSERT_EQ(files.size(), 1u);
  expect_scalars_match(file_scalars(dir / "runs/t/tensorboard"), db_summaries(dir / "runs/kiln.db", "t"),
                       /*same_times=*/false);
}

TEST(tensorboard_hook, an_absolute_dir_is_a_logdir_with_a_folder_per_run) {
  TempDir dir;
  const fs::path logdir = dir / "shared-logdir";
  write_text(dir, "exp.toml",
             mlp_experiment("[supervisor]\nsummary_every_steps = 5\n[[hooks]]\nplugin = \"tensorboard\"\ndir = \"" +
                                logdir.string() + "\"\n",
                            10));
  const KilnResult run = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(run.exit_code(), 0) << run.describe();
  EXPECT_FALSE(fs::exists(dir / "runs/t/tensorboard"));
  ASSERT_EQ(events_files(logdir / "t").size(), 1u);
  expect_scalars_match(file_scalars(logdir / "t"), db_summaries(dir / "runs/kiln.db", "t"), /*same_times=*/false);
}

TEST(tensorboard_hook, its_keys_are_checked_where_they_are_written) {
  struct Case {
    std::string line;
    std::string error;
  };
  for (const Case& c :
       {Case{"dir = \"../elsewhere\"", "hooks.tensorboard.dir: \"../elsewhere\" leaves the run directory; give a "
                                       "folder inside it (\"tensorboard\") or an absolute logdir"},
        Case{"dir = \"\"", "hooks.tensorboard.dir: must name a folder"},
        Case{"flush_secs = 0", "hooks.tensorboard.flush_secs: must be in (0, 3600], got 0"},
        Case{"flush_secs = 1e12", "hooks.tensorboard.flush_secs: must be in (0, 3600], got 1000000000000"},
        Case{"images = \"yes\"", "hooks.tensorboard.images: expected a boolean (true or false), got a string"},
        Case{"dri = \"tb\"", "unknown key 'dri' in [hooks.tensorboard] (plugin 'tensorboard'); did you mean 'dir'?"}}) {
    TempDir dir;
    const std::string text = mlp_experiment("[[hooks]]\nplugin = \"tensorboard\"\n" + c.line + "\n");
    write_text(dir, "exp.toml", text);
    const KilnResult validated = run_kiln({"validate", "exp.toml"}, dir.path());
    EXPECT_TRUE(fails_with_one_error_line(validated, 2)) << c.line;
    const std::string at = "error: exp.toml:" + std::to_string(line_of(text, c.line)) + ":";
    EXPECT_THAT(error_line(validated), StartsWith(at)) << c.line;
    EXPECT_THAT(error_line(validated), HasSubstr(c.error)) << c.line;
  }
}

class tensorboard_export : public ::testing::Test {
 protected:
  /// A tiny pix2pix run (without the hook) to export.
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    dir_->write("exp.toml", read_file(source_dir() / "experiments/pix2pix.toml"));
    const KilnResult run = run_kiln(tiny_pix2pix_args(4), dir_->path());
    ASSERT_EQ(run.exit_code(), 0) << run.describe();
  }
  static void TearDownTestSuite() { delete dir_; }

  static KilnResult kiln_export(const std::vector<std::string>& runs, const std::string& out) {
    std::vector<std::string> args = {"export", "tensorboard"};
    args.insert(args.end(), runs.begin(), runs.end());
    args.insert(args.end(), {"--out", out});
    return run_kiln(args, dir_->path());
  }

  static TempDir* dir_;
  fs::path db_ = dir_->path() / "runs/kiln.db";
};

TempDir* tensorboard_export::dir_ = nullptr;

TEST_F(tensorboard_export, writes_every_summary_and_image_of_the_run_as_the_database_holds_them) {
  const KilnResult exported = kiln_export({"pix2pix"}, "tb");
  ASSERT_EQ(exported.exit_code(), 0) << exported.describe();
  EXPECT_EQ(exported.err, "");
  const fs::path out = dir_->path() / "tb/pix2pix";
  const std::vector<fs::path> files = events_files(out);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_THAT(exported.out, HasSubstr("pix2pix: " + std::to_string(db_summaries(db_, "pix2pix").size()) +
                                      " scalars, " + std::to_string(db_images(db_, "pix2pix").size()) +
                                      " images -> tb/pix2pix/" + files[0].filename().string()));
  EXPECT_THAT(files[0].filename().string(), StartsWith("events.out.tfevents."));
  EXPECT_EQ(read_events(files[0]).at(0).file_version(), "brain.Event:2");
  expect_scalars_match(file_scalars(out), db_summaries(db_, "pix2pix"), /*same_times=*/true);
  expect_images_match(file_images(out), db_images(db_, "pix2pix"));
  // Named after the run's start and host.
  const auto run = sql_rows(db_, "SELECT CAST(started AS INTEGER), host FROM runs WHERE name = 'pix2pix'").at(0);
  EXPECT_EQ(files[0].filename().string(), "events.out.tfevents." + run[0] + "." + run[1]);

  // Exported again: the new file replaces the first, so TensorBoard shows each value once;
  // another writer's file in the folder stays.
  const fs::path other = runner::tensorboard::EventFileWriter::create_in(out, 1.0).path();
  const std::string other_bytes = read_file(other);
  ASSERT_EQ(kiln_export({"pix2pix"}, "tb").exit_code(), 0);
  EXPECT_EQ(events_files(out), (std::vector<fs::path>{other, files[0]}));
  EXPECT_EQ(read_file(other), other_bytes);
  EXPECT_FALSE(fs::exists(out / ".kiln-export.partial"));
  fs::remove(other);
  expect_scalars_match(file_scalars(out), db_summaries(db_, "pix2pix"), /*same_times=*/true);
}

TEST_F(tensorboard_export, leaves_out_a_missing_image_with_a_warning_that_counts_them) {
  const std::map<Key, fs::path> images = db_images(db_, "pix2pix");
  ASSERT_GE(images.size(), 2u);
  const fs::path gone = images.begin()->second;
  const std::string saved = read_file(gone);
  fs::remove(gone);
  const KilnResult exported = kiln_export({"pix2pix"}, "tb-missing");
  dir_->write(fs::relative(gone, dir_->path()).string(), saved);
  ASSERT_EQ(exported.exit_code(), 0) << exported.describe();
  EXPECT_EQ(exported.err, "warning: run 'pix2pix': 1 of " + std::to_string(images.size()) +
                              " images left out (file missing: " + gone.string() + ")\n");
  const std::map<Key, EventImage> written = file_images(dir_->path() / "tb-missing/pix2pix");
  EXPECT_EQ(written.size(), images.size() - 1);
  EXPECT_EQ(written.count(images.begin()->first), 0u);
}

TEST_F(tensorboard_export, an_unknown_run_is_one_error_and_writes_nothing) {
  const KilnResult exported = kiln_export({"pix2pix", "pix2px"}, "tb-unknown");
  EXPECT_TRUE(fails_with_one_error_line(exported, 2));
  EXPECT_THAT(error_line(exported), StartsWith("error: no run named 'pix2px'"));
  EXPECT_EQ(exported.out, "");
  EXPECT_FALSE(fs::exists(dir_->path() / "tb-unknown"));
}

TEST_F(tensorboard_export, an_out_that_cannot_be_a_folder_is_one_error) {
  dir_->write("a-file", "");
  const KilnResult exported = kiln_export({"pix2pix"}, "a-file");
  EXPECT_TRUE(fails_with_one_error_line(exported, 2));
  EXPECT_EQ(error_line(exported), "error: cannot write to --out a-file: Not a directory");
  const KilnResult below = kiln_export({"pix2pix"}, "a-file/tb");
  EXPECT_TRUE(fails_with_one_error_line(below, 2));
  EXPECT_THAT(error_line(below), StartsWith("error: cannot write to --out a-file/tb: "));
}

}  // namespace
}  // namespace kiln::test
