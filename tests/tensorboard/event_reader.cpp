// A reader of TensorBoard events files for the tests: each record taken apart and checked.
#include "event_reader.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "tensorboard/crc32c.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

std::uint64_t little_endian(const std::string& bytes, std::size_t at, int count) {
  std::uint64_t value = 0;
  for (int i = count - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

std::uint32_t masked(std::string_view bytes) {
  return runner::tensorboard::mask_crc(runner::tensorboard::crc32c(bytes));
}

std::runtime_error bad_record(const fs::path& file, std::size_t index, std::size_t at, const std::string& what) {
  return std::runtime_error(file.string() + ": record " + std::to_string(index) + " at byte " + std::to_string(at) +
                            ": " + what);
}

}  // namespace

std::vector<TensorboardEvent> read_events(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + file.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<TensorboardEvent> events;
  std::size_t at = 0;
  while (at < bytes.size()) {
    const std::size_t index = events.size();
    // uint64 length, uint32 masked CRC of the length, the data, uint32 masked CRC of the data.
    if (bytes.size() - at < 12) throw bad_record(file, index, at, "header cut short");
    const std::uint64_t length = little_endian(bytes, at, 8);
    if (little_endian(bytes, at + 8, 4) != masked(std::string_view(bytes).substr(at, 8)))
      throw bad_record(file, index, at, "length CRC mismatch");
    if (bytes.size() - at - 12 < length + 4) throw bad_record(file, index, at, "data cut short");
    const std::string_view data = std::string_view(bytes).substr(at + 12, length);
    if (little_endian(bytes, at + 12 + length, 4) != masked(data)) throw bad_record(file, index, at, "data CRC mismatch");
    TensorboardEvent event;
    if (!event.ParseFromArray(data.data(), static_cast<int>(data.size())))
      throw bad_record(file, index, at, "not an Event");
    events.push_back(std::move(event));
    at += 12 + length + 4;
  }
  return events;
}

std::vector<fs::path> events_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find("tfevents") != std::string::npos) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<EventScalar> scalars_of(const std::vector<TensorboardEvent>& events) {
  std::vector<EventScalar> out;
  for (const TensorboardEvent& event : events)
    for (const auto& value : event.summary().value())
      if (value.has_simple_value()) out.push_back({value.tag(), event.step(), value.simple_value(), event.wall_time()});
  return out;
}

std::vector<EventImage> images_of(const std::vector<TensorboardEvent>& events) {
  std::vector<EventImage> out;
  for (const TensorboardEvent& event : events)
    for (const auto& value : event.summary().value())
      if (value.has_image())
        out.push_back({value.tag(), event.step(), value.image().height(), value.image().width(),
                       value.image().colorspace(), value.image().encoded_image_string(), event.wall_time()});
  return out;
}

}  // namespace kiln::test
