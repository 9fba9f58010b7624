// SHA-256 of a file through OpenSSL's EVP interface, read in fixed-size chunks.
#include "plugins/sha256.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "kiln/error.hpp"

namespace kiln::runner {
namespace {

/// A file descriptor opened for reading, closed when it goes out of scope.
class ReadOnlyFile {
 public:
  explicit ReadOnlyFile(const std::filesystem::path& file)
      : fd_(::open(file.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~ReadOnlyFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;

  int fd() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& why) {
  throw Error(fmt::format("cannot compute the sha256 of {}: {}", file.string(), why));
}

std::string to_hex(const unsigned char* bytes, unsigned int length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[bytes[i] >> 4]);
    hex.push_back(kHex[bytes[i] & 0xf]);
  }
  return hex;
}

}  // namespace

struct Sha256::Context {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Context() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  if (!context_->md || EVP_DigestInit_ex(context_->md, EVP_sha256(), nullptr) != 1)
    throw Error("openssl could not start a sha256 digest");
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, std::size_t size) {
  if (EVP_DigestUpdate(context_->md, data, size) != 1) throw Error("openssl could not update a sha256 digest");
}

std::string Sha256::hex_digest() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest;
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_->md, digest.data(), &length) != 1)
    throw Error("openssl could not finish a sha256 digest");
  return to_hex(digest.data(), length);
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  return sha.hex_digest();
}

std::string sha256_file(const std::filesystem::path& file) {
  ReadOnlyFile in(file);
  if (in.fd() < 0) fail(file, std::strerror(errno));
  Sha256 sha;
  std::array<unsigned char, 1 << 16> buffer;
  for (;;) {
    const ssize_t got = ::read(in.fd(), buffer.data(), buffer.size());
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      fail(file, std::strerror(errno));
    }
    sha.update(buffer.data(), static_cast<std::size_t>(got));
  }
  return sha.hex_digest();
}

}  // namespace kiln::runner
