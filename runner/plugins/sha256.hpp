// SHA-256 of a file, as lowercase hex: for plugin libraries and checkpoints.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace kiln::runner {

/// An incremental SHA-256: feed bytes as they are written or read, then take the digest.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  /// Lowercase hex; the object cannot be updated afterwards.
  std::string hex_digest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

/// The SHA-256 of some bytes, as lowercase hex.
std::string sha256_hex(std::string_view bytes);

/// Streams the file through SHA-256; a kiln::Error naming the file when it cannot be read.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace kiln::runner
