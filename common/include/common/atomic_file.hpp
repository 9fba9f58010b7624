// Writing a file atomically and durably: the one way kiln replaces a file it may be reading.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace kiln::common {

/// A file being written in place of `path`: the bytes go to a temp file beside it
/// (`path` + ".tmp-<pid>"); commit() fsyncs it, renames it over `path` and fsyncs the
/// directory, so a reader finds the old file or the complete new one, even after a crash or a
/// power cut. Destroyed without commit(), it removes the temp file and `path` is unchanged.
/// One writer per `path` at a time: two in one process would share the temp file.
///
/// Every failure throws a kiln::Error naming `path` (with `what` before it when given) and
/// the reason, "cannot write checkpoint runs/a/ckpt-100.kiln: No space left on device". Only a
/// failed fsync of the directory comes after the rename: the new file is then in place but
/// may not survive a power cut.
///
///   AtomicFile file(dir / "latest");
///   file.write(text.data(), text.size());
///   file.commit();
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path, std::string what = "");
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Appends `size` bytes; a short write is retried, which reports its cause (ENOSPC, EFBIG).
  void write(const void* data, std::size_t size);

  /// Makes the bytes durable, then replaces `path` with them.
  void commit();

  /// Throws the error every failure gives: "cannot write <what> <path>: <why>".
  [[noreturn]] void fail(const std::string& why) const;

 private:
  std::filesystem::path path_;
  std::string what_;
  std::filesystem::path temp_;
  int fd_ = -1;
  bool renamed_ = false;
};

/// Replaces `path` with `bytes` through an AtomicFile.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace kiln::common
