// A reader of TensorBoard events files for the tests, written apart from kiln's writer: it
// takes each record apart, checks both of its CRCs and parses the Event.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tensorboard/event.pb.h"

namespace kiln::test {

using TensorboardEvent = runner::tensorboard::proto::Event;

/// Every record of the events file `file`, parsed, in file order. Throws std::runtime_error
/// naming the record and its byte offset when a length or data CRC does not match, a record
/// is cut short, or its data is not an Event.
std::vector<TensorboardEvent> read_events(const std::filesystem::path& file);

/// Every events file ("tfevents" in its name) directly in `dir`, in name order, as TensorBoard
/// reads them.
std::vector<std::filesystem::path> events_files(const std::filesystem::path& dir);

/// One scalar value of an events file.
struct EventScalar {
  std::string tag;
  std::int64_t step = 0;
  float value = 0;
  double wall_time = 0;
};

/// One image value of an events file.
struct EventImage {
  std::string tag;
  std::int64_t step = 0;
  int height = 0;
  int width = 0;
  int colorspace = 0;
  std::string encoded;
  double wall_time = 0;
};

/// The scalar and image values of `events`, in order; each Summary value is one entry.
std::vector<EventScalar> scalars_of(const std::vector<TensorboardEvent>& events);
std::vector<EventImage> images_of(const std::vector<TensorboardEvent>& events);

}  // namespace kiln::test
