// Writing a file atomically and durably: temp file, fsync, rename, fsync of the directory.
#include "common/atomic_file.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "kiln/error.hpp"

namespace kiln::common {
namespace {

namespace fs = std::filesystem;

int fsync_retrying(int fd) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

}  // namespace

AtomicFile::AtomicFile(fs::path path, std::string what)
    : path_(std::move(path)), what_(std::move(what)), temp_(path_.string() + ".tmp-" + std::to_string(::getpid())) {
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!renamed_) ::unlink(temp_.c_str());
}

void AtomicFile::fail(const std::string& why) const {
  throw Error(fmt::format("cannot write {}{}{}: {}", what_, what_.empty() ? "" : " ", path_.string(), why));
}

void AtomicFile::write(const void* data, std::size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t wrote = ::write(fd_, bytes, size);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      fail(std::strerror(errno));
    }
    if (wrote == 0) fail("write() made no progress");
    bytes += wrote;
    size -= static_cast<std::size_t>(wrote);
  }
}

void AtomicFile::commit() {
  if (const int error = fsync_retrying(fd_)) fail(std::strerror(error));
  // Linux frees the descriptor even when close() fails with EINTR: no retry.
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0 && errno != EINTR) fail(std::strerror(errno));
  if (::rename(temp_.c_str(), path_.c_str()) != 0) fail(std::strerror(errno));
  renamed_ = true;
  // Without this the rename itself may not survive a power cut.
  const fs::path directory = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int error = dir < 0 ? errno : fsync_retrying(dir);
  if (dir >= 0) ::close(dir);
  if (error) fail(fmt::format("cannot sync its directory: {}", std::strerror(error)));
}

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace kiln::common
