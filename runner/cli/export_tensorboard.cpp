// `kiln export tensorboard`: runs' summaries and images as TensorBoard event files.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "kiln/error.hpp"
#include "store/database.hpp"
#include "store/history.hpp"
#include "store/run_ref.hpp"
#include "store/schema.hpp"
#include "tensorboard/event_writer.hpp"
#include "tensorboard/image_header.hpp"

namespace kiln::runner::cli {
namespace {

namespace fs = std::filesystem;
using tensorboard::EventFileWriter;

// The schema version that added the images table (store/schema.cpp).
constexpr int kImagesSince = 3;

// Written under this name and renamed when complete, so that a TensorBoard watching --out
// never reads half an export: it reads only files whose names hold "tfevents".
constexpr const char* kPartialName = ".kiln-export.partial";

/// What one run's export wrote, and the images it left out.
struct Exported {
  fs::path file;
  std::int64_t scalars = 0;
  std::int64_t images = 0;
  std::int64_t images_left_out = 0;
  std::string first_left_out;  ///< "file missing: /runs/x/images/0001.png"
};

/// The bytes of the image file `path`, or why they cannot go in an events file.
std::string read_image(const fs::path& path, std::string& problem) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    problem = fs::exists(path, ec) ? "not a file" : "file missing";
    return "";
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) problem = "file cannot be read";
  return bytes;
}

void add_images(store::Database& db, const store::RunRow& run, EventFileWriter& events, Exported& exported) {
  for (const store::ImageRow& row : store::run_images(db, run.id)) {
    std::string problem;
    const std::string bytes = read_image(row.path, problem);
    const auto header = problem.empty() ? tensorboard::read_image_header(bytes) : std::nullopt;
    if (problem.empty() && !header) problem = "not a PNG or JPEG file";
    if (!problem.empty()) {
      if (exported.images_left_out++ == 0) exported.first_left_out = fmt::format("{}: {}", problem, row.path);
      continue;
    }
    events.image(row.tag, row.step, bytes, *header, row.wall_time);
    ++exported.images;
  }
}

Exported export_run(store::Database& db, const store::RunRow& run, const fs::path& dir, bool has_images) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("cannot write to --out: cannot make {}: {}", dir.string(), ec.message()));
  const fs::path partial = dir / kPartialName;
  fs::remove(partial, ec);  // a crashed export's
  Exported exported;
  {
    EventFileWriter events(partial, run.started);
    store::for_each_summary(db, run.id, [&](const store::SummaryRow& row) {
      // TensorBoard's scalars are floats; NaN stays NaN.
      events.scalar(row.tag, row.step, static_cast<float>(row.value), row.wall_time);
      ++exported.scalars;
    });
    if (has_images) add_images(db, run, events, exported);
    events.close();
  }
  // Named after the run's start and host, not this export: an export of the run again
  // replaces the earlier one's file, which TensorBoard would read beside it (every value
  // twice), and leaves other writers' files alone.
  exported.file = dir / tensorboard::events_file_name(run.started, run.host);
  fs::rename(partial, exported.file, ec);
  if (ec) throw Error(fmt::format("cannot write to --out: cannot rename {} to {}: {}", partial.string(),
                                  exported.file.string(), ec.message()));
  return exported;
}

}  // namespace

int export_tensorboard(const ExportTensorboardArgs& args) {
  store::Database db = store::open_existing(args.database);
  // Every run is found before anything is written: an unknown one writes nothing.
  std::vector<store::RunRow> runs;
  for (const std::string& ref : args.runs) {
    const store::RunRef found = store::find_run_ref(db, ref);
    if (std::none_of(runs.begin(), runs.end(), [&](const store::RunRow& run) { return run.id == found.id; }))
      runs.push_back(store::run_row(db, found.id));
  }
  std::error_code ec;
  fs::create_directories(args.out, ec);
  if (ec || !fs::is_directory(args.out, ec))
    throw Error(fmt::format("cannot write to --out {}: {}", args.out.string(),
                            ec ? ec.message() : std::string("it is not a folder")));
  const bool has_images = store::schema_version(db) >= kImagesSince;
  for (const store::RunRow& run : runs) {
    // A run's name is a folder name already (config/experiment.cpp allows [A-Za-z0-9._-]).
    const Exported exported = export_run(db, run, args.out / run.name, has_images);
    fmt::print("{}: {} scalar{}, {} image{} -> {}\n", run.name, exported.scalars, exported.scalars == 1 ? "" : "s",
               exported.images, exported.images == 1 ? "" : "s", exported.file.string());
    if (exported.images_left_out > 0)
      fmt::print(stderr, "warning: run '{}': {} of {} images left out ({}{})\n", run.name, exported.images_left_out,
                 exported.images + exported.images_left_out, exported.first_left_out,
                 exported.images_left_out > 1 ? ", ..." : "");
  }
  fmt::print("see them with: tensorboard --logdir {}\n", args.out.string());
  return kExitOk;
}

}  // namespace kiln::runner::cli
