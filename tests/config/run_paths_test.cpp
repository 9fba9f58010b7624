// inside(): the one check that every path kiln writes for a run stays under its root.
#include "config/run_paths.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "../support/temp_dir.hpp"
#include "kiln/error.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

TEST(run_paths, path_below_the_root_is_returned_resolved) {
  TempDir dir;
  EXPECT_EQ(inside(dir / "runs", dir / "runs/t", "run directory"), fs::canonical(dir.path()) / "runs/t");
  EXPECT_EQ(inside(dir / "runs/", dir / "runs/t/checkpoints/ckpt-5.kiln", "checkpoint"),
            fs::canonical(dir.path()) / "runs/t/checkpoints/ckpt-5.kiln");
  EXPECT_EQ(inside(dir / "runs", dir / "runs/a/../t", "run directory"), fs::canonical(dir.path()) / "runs/t");
}

TEST(run_paths, root_itself_counts_only_when_allowed) {
  TempDir dir;
  EXPECT_THROW(inside(dir / "runs", dir / "runs", "run directory"), Error);
  EXPECT_THROW(inside(dir / "runs", dir / "runs/.", "run directory"), Error);
  EXPECT_THROW(inside(dir / "runs", dir / "runs/t/..", "run directory"), Error);
  EXPECT_NO_THROW(inside(dir / "runs", dir / "runs/", "folder", /*allow_same=*/true));
  EXPECT_NO_THROW(inside(dir / "runs/", dir / "runs", "folder", /*allow_same=*/true));
}

TEST(run_paths, parent_sibling_and_prefix_lookalike_are_refused_naming_both) {
  TempDir dir;
  try {
    inside(dir / "runs", dir / "runs/..", "run directory");
    FAIL() << "runs/.. was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "run directory " + (dir / "runs/..").string() + " is not inside " +
                                         (fs::canonical(dir.path()) / "runs").string() +
                                         ": kiln writes a run's files only there");
  }
  EXPECT_THROW(inside(dir / "runs", dir / "other/t", "run directory"), Error);
  // "runs2" begins with "runs" but is not inside it: components are compared, not text.
  EXPECT_THROW(inside(dir / "runs", dir / "runs2/t", "run directory"), Error);
  EXPECT_THROW(inside(dir / "runs", "/etc/passwd", "image"), Error);
}

TEST(run_paths, symlink_out_of_the_root_is_refused) {
  TempDir dir;
  fs::create_directories(dir / "runs/t");
  fs::create_directories(dir / "elsewhere");
  fs::create_directory_symlink(dir / "elsewhere", dir / "runs/t/images");
  EXPECT_THROW(inside(dir / "runs/t", dir / "runs/t/images/a.png", "image"), Error);
  // A link that stays inside is fine.
  fs::create_directories(dir / "runs/t/real");
  fs::create_directory_symlink(dir / "runs/t/real", dir / "runs/t/alias");
  EXPECT_EQ(inside(dir / "runs/t", dir / "runs/t/alias/a.png", "image"), fs::canonical(dir.path()) / "runs/t/real/a.png");
}

TEST(run_paths, relative_paths_resolve_from_the_working_folder) {
  const fs::path here = fs::current_path();
  EXPECT_EQ(inside("runs", "runs/t", "run directory"), fs::weakly_canonical(here / "runs/t"));
  EXPECT_THROW(inside("runs", "..", "run directory"), Error);
}

}  // namespace
}  // namespace kiln::runner
