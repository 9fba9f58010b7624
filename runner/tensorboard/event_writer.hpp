// EventFileWriter: one TensorBoard events file, written record by record.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "tensorboard/image_header.hpp"

namespace kiln::runner::tensorboard {

/// The first record's file_version, which TensorBoard checks.
inline constexpr const char* kFileVersion = "brain.Event:2";

/// The name TensorBoard's own writers give an events file started at `wall_time` (unix
/// seconds) by this process: "events.out.tfevents.<seconds>.<host>.<pid>". TensorBoard reads
/// every file of a folder whose name holds "tfevents", in name order.
std::string events_file_name(double wall_time);
/// The same without the pid, for a file about a run started at `wall_time` on `host` (this
/// machine's name when empty): "events.out.tfevents.<seconds>.<host>", the same name each
/// time the same run is exported.
std::string events_file_name(double wall_time, const std::string& host);

/// Writes one events file: the file-version record first, then one Event per scalar or
/// image, each framed as a TFRecord (record.hpp). Records are buffered; flush() hands them to
/// the kernel, so a TensorBoard reading the file sees whole records up to there. Every
/// failure is a kiln::Error naming the file. Not thread-safe.
///
///     EventFileWriter events(dir / events_file_name(now), now);
///     events.scalar("loss/l1", 10, 0.25f, now);
///     events.close();
class EventFileWriter {
 public:
  /// Creates `path`, which must not exist yet (so that two writers never share a file), and
  /// writes the file-version record at `wall_time`.
  EventFileWriter(std::filesystem::path path, double wall_time);
  /// A new file in `dir` (made with its parents when missing), named events_file_name();
  /// ".1", ".2", ... are appended while that name is taken.
  static EventFileWriter create_in(const std::filesystem::path& dir, double wall_time);

  EventFileWriter(EventFileWriter&& other) noexcept;
  EventFileWriter& operator=(EventFileWriter&&) = delete;
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;
  /// Closes the file, writing what is buffered; errors are lost here: call close() to see them.
  ~EventFileWriter();

  void scalar(std::string_view tag, std::int64_t step, float value, double wall_time);
  /// `encoded`: a PNG or JPEG file's bytes, whose `header` says its size and colour layout.
  void image(std::string_view tag, std::int64_t step, std::string_view encoded, const ImageHeader& header,
             double wall_time);

  /// Writes the buffered records to the file.
  void flush();
  /// Flushes, syncs to disk and closes. Nothing may be written after it.
  void close();

  const std::filesystem::path& path() const { return path_; }
  /// Records written so far (buffered ones included), the file-version record included.
  std::int64_t records() const { return records_; }
  /// Bytes written so far, buffered ones included.
  std::int64_t bytes() const { return bytes_; }

 private:
  void append(const std::string& event);
  [[noreturn]] void fail(std::string_view doing, int error) const;

  std::filesystem::path path_;
  int fd_ = -1;
  std::string buffer_;
  std::int64_t records_ = 0;
  std::int64_t bytes_ = 0;
};

}  // namespace kiln::runner::tensorboard
