// EventFileWriter: one TensorBoard events file, written record by record.
#include "tensorboard/event_writer.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "kiln/error.hpp"
#include "tensorboard/event.pb.h"
#include "tensorboard/record.hpp"

namespace kiln::runner::tensorboard {
namespace {

namespace fs = std::filesystem;

// Buffered records are written once they pass this, so an export of a long run stays small
// in memory and a live file lags by at most this much between flushes.
constexpr std::size_t kBufferBytes = 1 << 20;

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

std::string events_file_name(double wall_time) {
  return fmt::format("{}.{}", events_file_name(wall_time, host_name()), ::getpid());
}

std::string events_file_name(double wall_time, const std::string& host) {
  // A host name never holds '/'; one that did would name another folder.
  const bool usable = !host.empty() && host.find('/') == std::string::npos;
  return fmt::format("events.out.tfevents.{}.{}", static_cast<long long>(std::floor(wall_time)),
                     usable ? host : host_name());
}

EventFileWriter::EventFileWriter(fs::path path, double wall_time) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("create", errno);
  proto::Event event;
  event.set_wall_time(wall_time);
  event.set_file_version(kFileVersion);
  append(event.SerializeAsString());
}

EventFileWriter EventFileWriter::create_in(const fs::path& dir, double wall_time) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("cannot make the TensorBoard folder {}: {}", dir.string(), ec.message()));
  const std::string name = events_file_name(wall_time);
  for (int suffix = 0;; ++suffix) {
    const fs::path path = dir / (suffix == 0 ? name : fmt::format("{}.{}", name, suffix));
    // Taken by an earlier file of this process from the same second (a run resumed in-process).
    if (fs::exists(path, ec)) continue;
    return EventFileWriter(path, wall_time);
  }
}

EventFileWriter::EventFileWriter(EventFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      records_(other.records_),
      bytes_(other.bytes_) {}

EventFileWriter::~EventFileWriter() {
  if (fd_ < 0) return;
  try {
    flush();
  } catch (const std::exception&) {
  }
  ::close(fd_);
}

void EventFileWriter::scalar(std::string_view tag, std::int64_t step, float value, double wall_time) {
  proto::Event event;
  event.set_wall_time(wall_time);
  event.set_step(step);
  proto::Summary::Value* entry = event.mutable_summary()->add_value();
  entry->set_tag(std::string(tag));
  entry->set_simple_value(value);
  append(event.SerializeAsString());
}

void EventFileWriter::image(std::string_view tag, std::int64_t step, std::string_view encoded,
                            const ImageHeader& header, double wall_time) {
  proto::Event event;
  event.set_wall_time(wall_time);
  event.set_step(step);
  proto::Summary::Value* entry = event.mutable_summary()->add_value();
  entry->set_tag(std::string(tag));
  proto::Summary::Image* image = entry->mutable_image();
  image->set_height(header.height);
  image->set_width(header.width);
  image->set_colorspace(header.colorspace);
  image->set_encoded_image_string(std::string(encoded));
  append(event.SerializeAsString());
}

void EventFileWriter::append(const std::string& event) {
  if (fd_ < 0) throw Error(fmt::format("the TensorBoard events file {} is closed", path_.string()));
  const std::string record = frame_record(event);
  buffer_ += record;
  ++records_;
  bytes_ += static_cast<std::int64_t>(record.size());
  if (buffer_.size() >= kBufferBytes) flush();
}

void EventFileWriter::flush() {
  std::size_t written = 0;
  while (written < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      buffer_.erase(0, written);
      fail("write", errno);
    }
    written += static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

void EventFileWriter::close() {
  if (fd_ < 0) return;
  flush();
  const bool synced = ::fsync(fd_) == 0;
  const int error = errno;
  ::close(std::exchange(fd_, -1));
  if (!synced) fail("sync", error);
}

void EventFileWriter::fail(std::string_view doing, int error) const {
  throw Error(fmt::format("cannot {} the TensorBoard events file {}: {}", doing, path_.string(), std::strerror(error)));
}

}  // namespace kiln::runner::tensorboard
