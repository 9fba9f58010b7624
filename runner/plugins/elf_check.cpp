// check_elf_file(): the ELF header, program headers and section headers against the file's size.
#include "plugins/elf_check.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "kiln/error.hpp"

namespace kiln::runner::detail {
namespace {

namespace fs = std::filesystem;

// The ELF flavour this kiln is built as: only such a library can be loaded into it.
constexpr bool k64Bit = sizeof(void*) == 8;
using Ehdr = std::conditional_t<k64Bit, Elf64_Ehdr, Elf32_Ehdr>;
using Phdr = std::conditional_t<k64Bit, Elf64_Phdr, Elf32_Phdr>;
using Shdr = std::conditional_t<k64Bit, Elf64_Shdr, Elf32_Shdr>;
constexpr unsigned char kClass = k64Bit ? ELFCLASS64 : ELFCLASS32;
constexpr unsigned char kByteOrder = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
#if defined(__x86_64__)
constexpr unsigned kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kMachine = EM_AARCH64;
#elif defined(__i386__)
constexpr unsigned kMachine = EM_386;
#elif defined(__arm__)
constexpr unsigned kMachine = EM_ARM;
#elif defined(__riscv)
constexpr unsigned kMachine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr unsigned kMachine = EM_PPC64;
#elif defined(__s390x__)
constexpr unsigned kMachine = EM_S390;
#else
constexpr unsigned kMachine = EM_NONE;  // unknown here: the loader checks it
#endif

std::string machine_name(unsigned machine) {
  switch (machine) {
    case EM_X86_64: return "x86-64";
    case EM_AARCH64: return "AArch64";
    case EM_386: return "i386";
    case EM_ARM: return "ARM";
    case EM_RISCV: return "RISC-V";
    case EM_PPC64: return "PowerPC64";
    case EM_S390: return "s390";
    default: return fmt::format("ELF machine {}", machine);
  }
}

std::string class_name(unsigned char elf_class) {
  switch (elf_class) {
    case ELFCLASS32: return "a 32-bit ELF file";
    case ELFCLASS64: return "a 64-bit ELF file";
    default: return fmt::format("an ELF file of unknown class {}", elf_class);
  }
}

std::string byte_order_name(unsigned char byte_order) {
  switch (byte_order) {
    case ELFDATA2LSB: return "a little-endian ELF file";
    case ELFDATA2MSB: return "a big-endian ELF file";
    default: return fmt::format("an ELF file of unknown byte order {}", byte_order);
  }
}

const char* type_name(unsigned type) {
  switch (type) {
    case ET_REL: return "an object file (.o)";
    case ET_EXEC: return "an executable";
    case ET_CORE: return "a core dump";
    default: return "an ELF file of an unknown type";
  }
}

/// An open file descriptor, closed when it goes.
class File {
 public:
  explicit File(const fs::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  int fd() const { return fd_; }

 private:
  int fd_;
};

class Checker {
 public:
  explicit Checker(fs::path path) : path_(std::move(path)), file_(path_) {
    struct stat status {};
    if (file_.fd() < 0 || ::fstat(file_.fd(), &status) != 0)
      fail(fmt::format("{}: cannot be read ({})", path_.string(), std::strerror(errno)));
    if (S_ISDIR(status.st_mode)) fail(fmt::format("{} is a directory, not a shared library", path_.string()));
    size_ = static_cast<std::uint64_t>(status.st_size);
  }

  void check() {
    const std::vector<unsigned char> ident = read(0, std::min<std::uint64_t>(EI_NIDENT, size_));
    if (ident.size() < SELFMAG || std::memcmp(ident.data(), ELFMAG, SELFMAG) != 0)
      fail(fmt::format("{} is not a shared library (it does not start with an ELF header)", path_.string()));
    const std::string header_size = fmt::format("its ELF header needs {} bytes", sizeof(Ehdr));
    if (ident.size() < EI_NIDENT) truncated(header_size);
    if (ident[EI_CLASS] != kClass)
      fail(fmt::format("{} is {}; this kiln loads {}-bit libraries", path_.string(), class_name(ident[EI_CLASS]),
                       k64Bit ? 64 : 32));
    if (ident[EI_DATA] != kByteOrder)
      fail(fmt::format("{} is {}; this kiln is {}", path_.string(), byte_order_name(ident[EI_DATA]),
                       kByteOrder == ELFDATA2LSB ? "little-endian" : "big-endian"));
    if (size_ < sizeof(Ehdr)) truncated(header_size);

    Ehdr header;
    read_into(0, &header, sizeof header);
    if (header.e_type != ET_DYN)
      fail(fmt::format("{} is {}, not a shared library", path_.string(), type_name(header.e_type)));
    if (kMachine != EM_NONE && header.e_machine != kMachine)
      fail(fmt::format("{} is built for {} but this kiln runs on {}", path_.string(), machine_name(header.e_machine),
                       machine_name(kMachine)));

    check_program_headers(header);
    check_section_headers(header);
  }

 private:
  [[noreturn]] static void fail(const std::string& message) { throw PluginError(message); }

  [[noreturn]] void truncated(const std::string& what) const {
    fail(fmt::format("{} is truncated: {} but the file has {} bytes", path_.string(), what, size_));
  }

  /// Whether `count` entries of `entry_size` bytes from `offset` run past the end of the
  /// file; `end` is set to where they end either way (UINT64_MAX when that overflows).
  bool ends_past_the_file(std::uint64_t offset, std::uint64_t count, std::uint64_t entry_size,
                          std::uint64_t& end) const {
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(count, entry_size, &bytes) || __builtin_add_overflow(offset, bytes, &end)) {
      end = UINT64_MAX;
      return true;
    }
    return end > size_;
  }

  void check_program_headers(const Ehdr& header) {
    if (header.e_phnum == 0) fail(fmt::format("{} is not a shared library: it has no program headers", path_.string()));
    if (header.e_phentsize != sizeof(Phdr))
      fail(fmt::format("{} is damaged: its program header entries are {} bytes, not {}", path_.string(),
                       header.e_phentsize, sizeof(Phdr)));
    std::uint64_t end = 0;
    if (ends_past_the_file(header.e_phoff, header.e_phnum, sizeof(Phdr), end))
      truncated(fmt::format("its program headers end at byte {}", end));

    std::vector<Phdr> segments(header.e_phnum);
    read_into(header.e_phoff, segments.data(), segments.size() * sizeof(Phdr));
    for (std::size_t i = 0; i < segments.size(); ++i) {
      if (segments[i].p_type != PT_LOAD) continue;
      if (ends_past_the_file(segments[i].p_offset, 1, segments[i].p_filesz, end))
        truncated(fmt::format("its segment {} ends at byte {}", i, end));
    }
  }

  void check_section_headers(const Ehdr& header) {
    if (header.e_shoff == 0) return;  // no section header table: the loader does not need one
    if (header.e_shentsize != sizeof(Shdr))
      fail(fmt::format("{} is damaged: its section header entries are {} bytes, not {}", path_.string(),
                       header.e_shentsize, sizeof(Shdr)));
    // With 0xff00 sections or more, e_shnum is 0 and the first entry holds the count.
    const std::uint64_t count = header.e_shnum != 0 ? header.e_shnum : 1;
    std::uint64_t end = 0;
    if (ends_past_the_file(header.e_shoff, count, sizeof(Shdr), end))
      truncated(fmt::format("its section headers end at byte {}", end));
  }

  std::vector<unsigned char> read(std::uint64_t offset, std::uint64_t bytes) const {
    std::vector<unsigned char> data(bytes);
    read_into(offset, data.data(), bytes);
    return data;
  }

  void read_into(std::uint64_t offset, void* data, std::uint64_t bytes) const {
    auto* out = static_cast<unsigned char*>(data);
    while (bytes > 0) {
      const ssize_t got = ::pread(file_.fd(), out, bytes, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail(fmt::format("{}: cannot be read ({})", path_.string(), std::strerror(errno)));
      // The file shrank since fstat: it is being written; say so rather than read garbage.
      if (got == 0) fail(fmt::format("{} is truncated: it got shorter while kiln read it", path_.string()));
      out += got;
      offset += static_cast<std::uint64_t>(got);
      bytes -= static_cast<std::uint64_t>(got);
    }
  }

  fs::path path_;
  File file_;
  std::uint64_t size_ = 0;
};

}  // namespace

void check_elf_file(const fs::path& file) { Checker(file).check(); }

}  // namespace kiln::runner::detail
