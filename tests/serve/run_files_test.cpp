// serve/run_files.hpp: image paths inside a run's directory, and the requests refused.
#include <filesystem>

#include <gtest/gtest.h>

#include "../support/temp_dir.hpp"
#include "serve/api.hpp"
#include "serve/run_files.hpp"

namespace kiln::runner::serve {
namespace {

namespace fs = std::filesystem;
using kiln::test::TempDir;

int status_of(const fs::path& dir, const std::string& request) {
  try {
    image_inside(dir, request);
    return 200;
  } catch (const ApiError& e) {
    return e.status();
  }
}

TEST(run_files, an_image_path_inside_the_run_directory_as_recorded) {
  EXPECT_EQ(path_inside("runs/a", "runs/a/images/x-3.png"), "images/x-3.png");
  EXPECT_EQ(path_inside("runs/a", "runs/./a/images/../images/x.png"), "images/x.png");
  EXPECT_EQ(path_inside("/w/runs/a", "/w/runs/a/x.png"), "x.png");
  // kiln run records its directory relative and its images absolute.
  EXPECT_EQ(path_inside("runs/a", "/home/me/exp/runs/a/images/x.png"), "images/x.png");
  EXPECT_EQ(path_inside("runs/a", "/home/runs/a/runs/a/x.png"), "x.png");
  EXPECT_EQ(path_inside("runs/a", "runs/b/x.png"), std::nullopt);
  EXPECT_EQ(path_inside("runs/a", "runs/a"), std::nullopt);
  EXPECT_EQ(path_inside("runs/a", "/elsewhere/x.png"), std::nullopt);
  EXPECT_EQ(path_inside("/w/runs/a", "runs/a/x.png"), std::nullopt);
  EXPECT_EQ(path_inside("", "x.png"), std::nullopt);
}

TEST(run_files, url_paths_encode_what_a_url_would_misread) {
  EXPECT_EQ(url_path("images/val 3#a?.png"), "images/val%203%23a%3F.png");
  EXPECT_EQ(url_path("images/x-1_a~.PNG"), "images/x-1_a~.PNG");
  EXPECT_EQ(url_path("%"), "%25");
}

TEST(run_files, only_images_inside_the_directory_are_served) {
  TempDir dir;
  fs::create_directories(dir / "run/images");
  dir.write("run/images/a.png", "png");
  dir.write("run/images/b.JPG", "jpeg");
  dir.write("run/notes.txt", "text");
  dir.write("outside.png", "secret");
  fs::create_symlink("../../outside.png", dir / "run/images/out.png");
  fs::create_symlink("a.png", dir / "run/images/in.png");
  const fs::path run = dir / "run";
  EXPECT_EQ(image_inside(run, "images/a.png"), fs::canonical(dir / "run/images/a.png"));
  EXPECT_EQ(image_inside(run, "images/in.png"), fs::canonical(dir / "run/images/a.png"));
  EXPECT_EQ(image_mime(image_inside(run, "images/b.JPG")), "image/jpeg");
  EXPECT_EQ(status_of(run, "../outside.png"), 403);
  EXPECT_EQ(status_of(run, "images/../../outside.png"), 403);
  EXPECT_EQ(status_of(run, (dir / "outside.png").string()), 403);
  EXPECT_EQ(status_of(run, "/etc/passwd"), 403);
  EXPECT_EQ(status_of(run, "images/out.png"), 403);
  EXPECT_EQ(status_of(run, "notes.txt"), 403);
  EXPECT_EQ(status_of(run, "images"), 404);
  EXPECT_EQ(status_of(run, "images/none.png"), 404);
  EXPECT_EQ(status_of(run, ""), 403);
  EXPECT_EQ(status_of(dir / "gone", "a.png"), 404);
}

TEST(run_files, a_relative_run_directory_is_found_from_here_else_beside_the_database) {
  TempDir dir;
  fs::create_directories(dir / "project/runs/a");
  const fs::path db = dir / "project/runs/kiln.db";
  EXPECT_EQ(resolve_recorded("runs/a", db), dir / "project/runs/a");
  EXPECT_EQ(resolve_recorded("/abs/runs/a", db), "/abs/runs/a");
  EXPECT_EQ(resolve_recorded("runs/none", db), fs::absolute("runs/none"));
}

}  // namespace
}  // namespace kiln::runner::serve
