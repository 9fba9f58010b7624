// Writes kiln's checkpoint format through a synced temp file and reads it back, verified.
#include "hooks/checkpoint_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <new>
#include <set>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <c10/core/ScalarType.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "common/atomic_file.hpp"
#include "kiln/error.hpp"
#include "plugins/sha256.hpp"
#include "train/error_text.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "kiln checkpoints store little-endian numbers");

constexpr std::array<char, 8> kMagic = {'K', 'I', 'L', 'N', 'C', 'K', 'P', 'T'};
constexpr std::array<char, 8> kTrailerMagic = {'K', 'I', 'L', 'N', 'E', 'N', 'D', '\0'};
constexpr std::uint32_t kFormatVersion = 2;
/// The first format version that records the LibTorch version of its writer.
constexpr std::uint32_t kFirstVersionWithTorch = 2;
/// A recorded LibTorch version longer than this is a corrupt length.
constexpr std::uint32_t kMaxTorchVersionBytes = 64;

/// Small fields collect in a buffer this large before one write().
constexpr std::size_t kBufferBytes = std::size_t{1} << 20;
/// Payloads this large go to write() straight from the tensor's memory.
constexpr std::size_t kDirectPayloadBytes = kBufferBytes / 4;
/// Bytes are hashed and written (or read and hashed) in chunks this large, so the second
/// pass over a chunk finds it in cache.
constexpr std::size_t kChunkBytes = kBufferBytes;
/// An entry's smallest size: name length, dtype, ndim, payload size.
constexpr std::size_t kMinEntryBytes = 4 + 1 + 1 + 8;

// The file stores c10::ScalarType's numbers, so a torch that renumbered them must not build.
static_assert(static_cast<int>(torch::kByte) == 0 && static_cast<int>(torch::kChar) == 1 &&
              static_cast<int>(torch::kShort) == 2 && static_cast<int>(torch::kInt) == 3 &&
              static_cast<int>(torch::kLong) == 4 && static_cast<int>(torch::kHalf) == 5 &&
              static_cast<int>(torch::kFloat) == 6 && static_cast<int>(torch::kDouble) == 7 &&
              static_cast<int>(torch::kBool) == 11 && static_cast<int>(torch::kBFloat16) == 15,
              "c10::ScalarType numbering changed; the checkpoint format depends on it");

constexpr std::array<torch::ScalarType, 10> kDtypes = {
    torch::kFloat, torch::kDouble, torch::kHalf,  torch::kBFloat16, torch::kChar,
    torch::kShort, torch::kInt,    torch::kLong,  torch::kByte,     torch::kBool};
constexpr const char* kDtypeNames = "Float, Double, Half, BFloat16, Char, Short, Int, Long, Byte or Bool";

bool is_stored_dtype(int code) {
  return std::any_of(kDtypes.begin(), kDtypes.end(),
                     [code](torch::ScalarType dtype) { return static_cast<int>(dtype) == code; });
}

/// A file descriptor, closed when it goes out of scope unless close() was called.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return fd_; }

  /// Closes now: 0, or close()'s errno. Linux frees the descriptor even on EINTR, so no retry.
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result == 0 || errno == EINTR ? 0 : errno;
  }

 private:
  int fd_;
};

// ---- writing ----

[[noreturn]] void fail_write(const fs::path& path, const std::string& why) {
  throw CheckpointError(fmt::format("cannot write checkpoint {}: {}", path.string(), why));
}

/// Collects small fields into few large write() calls and hashes every byte it writes.
class HashingWriter {
 public:
  explicit HashingWriter(common::AtomicFile& file) : file_(file) { buffer_.reserve(kBufferBytes); }

  void put(const void* data, std::size_t size) {
    if (buffer_.size() + size > kBufferBytes) flush();
    if (size > kBufferBytes) return write_hashed(data, size);
    const char* bytes = static_cast<const char*>(data);
    buffer_.insert(buffer_.end(), bytes, bytes + size);
  }

  template <typename T>
  void put_value(T value) {
    put(&value, sizeof value);
  }

  void put_payload(const void* data, std::size_t size) {
    if (size < kDirectPayloadBytes) return put(data, size);
    flush();
    write_hashed(data, size);
  }

  void flush() {
    write_hashed(buffer_.data(), buffer_.size());
    buffer_.clear();
  }

  /// Bytes written so far (flush() first to count the buffer).
  std::uint64_t bytes() const { return bytes_; }
  std::string hex_digest() { return sha_.hex_digest(); }

 private:
  void write_hashed(const void* data, std::size_t size) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
      const std::size_t chunk = std::min(size, kChunkBytes);
      sha_.update(bytes, chunk);
      file_.write(bytes, chunk);
      bytes_ += chunk;
      bytes += chunk;
      size -= chunk;
    }
  }

  common::AtomicFile& file_;
  std::vector<char> buffer_;
  std::uint64_t bytes_ = 0;
  Sha256 sha_;
};

/// Refuses what the format cannot hold before a temp file exists.
void check_writable(const fs::path& path, const CheckpointEntries& entries) {
  if (entries.size() > UINT32_MAX) fail_write(path, fmt::format("{} tensors is too many", entries.size()));
  std::set<std::string_view> names;
  for (const auto& [name, tensor] : entries) {
    if (!names.insert(name).second) fail_write(path, fmt::format("the name '{}' appears twice", name));
    if (name.size() > UINT32_MAX) fail_write(path, fmt::format("a name of {} bytes is too long", name.size()));
    if (!tensor.defined()) fail_write(path, fmt::format("tensor '{}' is undefined", name));
    if (tensor.layout() != torch::kStrided)
      fail_write(path, fmt::format("tensor '{}' is not dense; a checkpoint holds strided tensors", name));
    if (!is_stored_dtype(static_cast<int>(tensor.scalar_type())))
      fail_write(path, fmt::format("tensor '{}' has dtype {}; a checkpoint holds {}", name,
                                   c10::toString(tensor.scalar_type()), kDtypeNames));
    if (tensor.dim() > UINT8_MAX)
      fail_write(path, fmt::format("tensor '{}' has {} dimensions; at most 255 fit", name, tensor.dim()));
  }
}

/// The tensor's elements as the file stores them: contiguous, on the CPU, detached. A view
/// of `tensor` itself when it already is all that, otherwise a copy: `tensor` never changes.
torch::Tensor storable_form(const fs::path& path, const std::string& name, const torch::Tensor& tensor) {
  try {
    return tensor.detach().to(torch::kCPU).contiguous();
  } catch (const c10::Error& e) {
    const std::string why = error_text(e);
    fail_write(path, fmt::format("tensor '{}': {}", name, why.substr(0, why.find('\n'))));
  } catch (const std::bad_alloc&) {
    fail_write(path, fmt::format("tensor '{}': out of memory for its contiguous copy", name));
  }
}

/// The file's bytes, through an AtomicFile (whose errors are kiln::Errors).
WrittenCheckpoint write_entries(const fs::path& path, const CheckpointEntries& entries) {
  common::AtomicFile file(path, "checkpoint");
  HashingWriter out(file);
  out.put(kMagic.data(), kMagic.size());
  out.put_value(kFormatVersion);
  out.put_value(static_cast<std::uint32_t>(entries.size()));
  constexpr std::string_view torch_version = TORCH_VERSION;
  static_assert(torch_version.size() <= kMaxTorchVersionBytes);
  out.put_value(static_cast<std::uint32_t>(torch_version.size()));
  out.put(torch_version.data(), torch_version.size());
  for (const auto& [name, tensor] : entries) {
    const torch::Tensor stored = storable_form(path, name, tensor);
    out.put_value(static_cast<std::uint32_t>(name.size()));
    out.put(name.data(), name.size());
    out.put_value(static_cast<std::int8_t>(stored.scalar_type()));
    out.put_value(static_cast<std::uint8_t>(stored.dim()));
    for (const std::int64_t dim : stored.sizes()) out.put_value(dim);
    out.put_value(static_cast<std::uint64_t>(stored.nbytes()));
    out.put_payload(stored.data_ptr(), stored.nbytes());
  }
  out.put(kTrailerMagic.data(), kTrailerMagic.size());
  out.put_value(static_cast<std::uint64_t>(entries.size()));
  out.flush();
  file.commit();
  return WrittenCheckpoint{path, out.bytes(), out.hex_digest()};
}

// ---- reading ----

[[noreturn]] void fail_read(const fs::path& path, const std::string& why) {
  throw CheckpointError(fmt::format("cannot read checkpoint {}: {}", path.string(), why));
}

[[noreturn]] void fail_corrupt(const fs::path& path, const std::string& why) {
  throw CheckpointError(fmt::format("checkpoint {} is corrupt: {}", path.string(), why));
}

[[noreturn]] void fail_not_checkpoint(const fs::path& path) {
  throw CheckpointError(fmt::format("{} is not a kiln checkpoint (it does not start with KILNCKPT)", path.string()));
}

/// A checkpoint file opened for reading, and the size it had when opened.
class InputFile {
 public:
  explicit InputFile(const fs::path& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_.get() < 0) fail_read(path_, std::strerror(errno));
    struct stat status {};
    if (::fstat(fd_.get(), &status) != 0) fail_read(path_, std::strerror(errno));
    if (!S_ISREG(status.st_mode)) fail_read(path_, "not a regular file");
    size_ = static_cast<std::uint64_t>(status.st_size);
  }

  const fs::path& path() const { return path_; }
  std::uint64_t size() const { return size_; }

  /// Up to `size` bytes at `offset`; 0 only at the end of the file.
  std::size_t read_at(std::uint64_t offset, void* out, std::size_t size) const {
    for (;;) {
      const ssize_t got = ::pread(fd_.get(), out, size, static_cast<off_t>(offset));
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) fail_read(path_, std::strerror(errno));
    }
  }

 private:
  fs::path path_;
  FileDescriptor fd_;
  std::uint64_t size_ = 0;
};

std::string sha256_of(const InputFile& file) {
  std::vector<char> chunk(kChunkBytes);
  Sha256 sha;
  std::uint64_t offset = 0;
  while (const std::size_t got = file.read_at(offset, chunk.data(), chunk.size())) {
    sha.update(chunk.data(), got);
    offset += got;
  }
  return sha.hex_digest();
}

/// Takes a checkpoint's fields in order: small ones through a buffer, large ones straight
/// into the caller's memory (a tensor's). Running out of bytes means the file was cut.
class FieldReader {
 public:
  explicit FieldReader(const InputFile& file) : file_(file), buffer_(kBufferBytes) {}

  /// What is being read, for messages: "entry 3 ('conv.weight')", or "" past the entries.
  void set_entry(std::string entry) { entry_ = std::move(entry); }
  const std::string& entry() const { return entry_; }

  /// Throws "truncated" unless the file holds `size` more bytes: call before allocating them.
  void require(std::uint64_t size, const char* field) const {
    if (size > remaining()) fail_truncated(fmt::format("needs {} bytes at offset {}, the file has {}", size, offset_,
                                                       file_.size()), field);
  }

  void take_bytes(void* out, std::uint64_t size, const char* field) {
    require(size, field);
    char* bytes = static_cast<char*>(out);
    while (size > 0) {
      std::size_t got = 0;
      if (begin_ == end_ && size >= buffer_.size()) {
        got = read_more(bytes, static_cast<std::size_t>(size), field);
      } else {
        if (begin_ == end_) {
          end_ = read_more(buffer_.data(), buffer_.size(), field);
          begin_ = 0;
        }
        got = static_cast<std::size_t>(std::min<std::uint64_t>(size, end_ - begin_));
        std::memcpy(bytes, buffer_.data() + begin_, got);
        begin_ += got;
      }
      bytes += got;
      size -= got;
      offset_ += got;
    }
  }

  template <typename T>
  T take(const char* field) {
    T value;
    take_bytes(&value, sizeof value, field);
    return value;
  }

  std::string take_string(std::uint32_t size, const char* field) {
    require(size, field);
    std::string text(size, '\0');
    take_bytes(text.data(), size, field);
    return text;
  }

  std::uint64_t offset() const { return offset_; }
  std::uint64_t remaining() const { return file_.size() - offset_; }

 private:
  /// Reads at offset_ (the buffer is empty when this is called). The end of the file is an
  /// error here, because require() said the bytes exist: the file shrank while being read.
  std::size_t read_more(void* out, std::size_t size, const char* field) {
    const std::size_t got = file_.read_at(offset_, out, size);
    if (got == 0) fail_truncated(fmt::format("the file ended at offset {} while being read", offset_), field);
    return got;
  }

  [[noreturn]] void fail_truncated(const std::string& why, const char* field) const {
    throw CheckpointError(fmt::format("checkpoint {} is truncated: {}{}{} {}", file_.path().string(), entry_,
                                      entry_.empty() ? "" : ": ", field, why));
  }

  const InputFile& file_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  ///< buffer_[begin_, end_) holds the bytes at offset_ onwards
  std::size_t end_ = 0;
  std::uint64_t offset_ = 0;
  std::string entry_;
};

/// Checks that `dims` of `dtype` need exactly `payload` bytes, without overflowing.
void check_payload_size(const fs::path& path, const FieldReader& in, const std::vector<std::int64_t>& dims,
                        torch::ScalarType dtype, std::uint64_t payload) {
  std::uint64_t needed = c10::elementSize(dtype);
  for (const std::int64_t dim : dims) {
    if (dim < 0) fail_corrupt(path, fmt::format("{} has a negative dimension {}", in.entry(), dim));
    if (__builtin_mul_overflow(needed, static_cast<std::uint64_t>(dim), &needed))
      fail_corrupt(path, fmt::format("{} has a shape [{}] too large to hold", in.entry(), fmt::join(dims, ", ")));
  }
  if (needed != payload) {
    fail_corrupt(path, fmt::format("{} has shape [{}] of {} ({} bytes) but {} payload bytes", in.entry(),
                                   fmt::join(dims, ", "), c10::toString(dtype), needed, payload));
  }
}

/// "entry 3 ('conv.weight')"; a corrupt length may make a name huge, so only its start shows.
std::string entry_label(std::uint32_t index, const std::string& name) {
  constexpr std::size_t kShownNameBytes = 80;
  return fmt::format("entry {} ('{}{}')", index, name.substr(0, kShownNameBytes),
                     name.size() > kShownNameBytes ? "..." : "");
}

/// What precedes the entries.
struct Header {
  std::uint32_t count = 0;
  std::string torch_version;  ///< "" in format 1
};

Header read_header(const InputFile& file, FieldReader& in) {
  const fs::path& path = file.path();
  std::array<char, kMagic.size()> magic{};
  const auto magic_bytes = static_cast<std::size_t>(std::min<std::uint64_t>(file.size(), kMagic.size()));
  in.take_bytes(magic.data(), magic_bytes, "the magic");
  if (std::memcmp(magic.data(), kMagic.data(), magic_bytes) != 0) fail_not_checkpoint(path);
  in.take_bytes(magic.data() + magic_bytes, kMagic.size() - magic_bytes, "the magic");  // a prefix: truncated
  const auto version = in.take<std::uint32_t>("the format version");
  if (version < 1 || version > kFormatVersion) {
    throw CheckpointError(fmt::format("checkpoint {} has format version {}; this kiln reads versions 1 to {}",
                                      path.string(), version, kFormatVersion));
  }
  Header header;
  header.count = in.take<std::uint32_t>("the entry count");
  if (version >= kFirstVersionWithTorch) {
    const auto size = in.take<std::uint32_t>("the LibTorch version's length");
    if (size > kMaxTorchVersionBytes)
      fail_corrupt(path, fmt::format("its LibTorch version is {} bytes long; at most {} fit", size, kMaxTorchVersionBytes));
    header.torch_version = in.take_string(size, "the LibTorch version");
  }
  return header;
}

/// The LibTorch version `file` records, or "" when it records none or its header is unreadable:
/// for an error's message, so it never throws.
std::string recorded_torch_version(const InputFile& file) noexcept {
  try {
    FieldReader in(file);
    return read_header(file, in).torch_version;
  } catch (...) {
    return "";
  }
}

CheckpointEntries parse(const InputFile& file) {
  const fs::path& path = file.path();
  FieldReader in(file);
  const auto count = read_header(file, in).count;

  CheckpointEntries entries;
  entries.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(count, in.remaining() / kMinEntryBytes)));
  std::set<std::string> names;
  for (std::uint32_t index = 0; index < count; ++index) {
    in.set_entry(fmt::format("entry {}", index));
    std::string name = in.take_string(in.take<std::uint32_t>("the name length"), "the name");
    in.set_entry(entry_label(index, name));
    const auto dtype_code = in.take<std::int8_t>("the dtype");
    if (!is_stored_dtype(dtype_code)) {
      throw CheckpointError(fmt::format("checkpoint {} has unknown dtype {} in {}; this kiln reads {}", path.string(),
                                        dtype_code, in.entry(), kDtypeNames));
    }
    const auto dtype = static_cast<torch::ScalarType>(dtype_code);
    std::vector<std::int64_t> dims(in.take<std::uint8_t>("the dimension count"));
    for (std::int64_t& dim : dims) dim = in.take<std::int64_t>("the shape");
    const auto payload_size = in.take<std::uint64_t>("the payload size");
    check_payload_size(path, in, dims, dtype, payload_size);
    in.require(payload_size, "the payload");  // before allocating what a cut file lacks
    if (!names.insert(name).second) fail_corrupt(path, fmt::format("the name '{}' appears twice", name));

    torch::Tensor tensor = torch::empty(dims, torch::TensorOptions().dtype(dtype));
    in.take_bytes(tensor.data_ptr(), payload_size, "the payload");
    entries.emplace_back(std::move(name), std::move(tensor));
  }

  in.set_entry("");
  const std::uint64_t trailer_offset = in.offset();
  std::array<char, kTrailerMagic.size()> trailer{};
  in.take_bytes(trailer.data(), trailer.size(), "the trailer");
  if (trailer != kTrailerMagic)
    fail_corrupt(path, fmt::format("no KILNEND trailer at offset {}, after {} entries", trailer_offset, count));
  const auto trailer_count = in.take<std::uint64_t>("the trailer's entry count");
  if (trailer_count != count)
    fail_corrupt(path, fmt::format("the trailer counts {} entries, the header {}", trailer_count, count));
  if (in.remaining() != 0) fail_corrupt(path, fmt::format("{} bytes follow the trailer", in.remaining()));
  return entries;
}

}  // namespace

WrittenCheckpoint write_checkpoint(const fs::path& path, const CheckpointEntries& entries) {
  check_writable(path, entries);
  try {
    return write_entries(path, entries);
  } catch (const CheckpointError&) {
    throw;
  } catch (const Error& e) {
    throw CheckpointError(e.what());  // AtomicFile's: it names the checkpoint and the reason
  }
}

CheckpointEntries read_checkpoint(const fs::path& path, const std::string& expected_sha256) {
  const InputFile file(path);
  try {
    if (!expected_sha256.empty()) {
      // A first pass, so that nothing is built from bytes that do not match.
      const std::string actual = sha256_of(file);
      if (actual != expected_sha256) {
        throw CheckpointError(
            fmt::format("checkpoint {} is corrupt: sha256 {}, expected {}", path.string(), actual, expected_sha256));
      }
    }
    return parse(file);
  } catch (const CheckpointError& e) {
    // Written by a kiln on another LibTorch: the reader should know, whatever went wrong.
    const std::string writer = recorded_torch_version(file);
    if (writer.empty() || writer == TORCH_VERSION) throw;
    throw CheckpointError(fmt::format("{} (written with LibTorch {}; this kiln uses LibTorch {})", e.what(), writer,
                                      TORCH_VERSION));
  }
}

std::string checkpoint_torch_version(const fs::path& path) {
  const InputFile file(path);
  FieldReader in(file);
  return read_header(file, in).torch_version;
}

}  // namespace kiln::runner
