// check_elf_file() on a real plugin cut short at several sizes and on doctored headers, and
// the plugin host that meets a truncated library: refused with one message, never SIGBUS.
#include "plugins/elf_check.hpp"

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <elf.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kiln/kiln.hpp"
#include "plugin_test_support.hpp"
#include "plugins/plugin_host.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;
using detail::check_elf_file;
using test_support::fixture;
using test_support::model_table;
using test_support::plugin_error;
using test_support::TempDir;

std::string bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// A real plugin's bytes and headers, read here with <elf.h> to say what each cut breaks.
struct RealPlugin {
  std::string bytes = bytes_of(fixture("fixture_good"));
  Elf64_Ehdr header() const {
    Elf64_Ehdr header;
    std::memcpy(&header, bytes.data(), sizeof header);
    return header;
  }
  std::vector<Elf64_Phdr> segments() const {
    std::vector<Elf64_Phdr> segments(header().e_phnum);
    std::memcpy(segments.data(), bytes.data() + header().e_phoff, segments.size() * sizeof(Elf64_Phdr));
    return segments;
  }

  /// What check_elf_file says of these bytes cut to `size` (a size past the ELF header
  /// and the program headers): the first loadable segment that ends past the cut, else the
  /// section headers.
  std::string truncation(const fs::path& file, std::size_t size) const {
    const std::string cut = " but the file has " + std::to_string(size) + " bytes";
    const std::vector<Elf64_Phdr> all = segments();
    for (std::size_t i = 0; i < all.size(); ++i)
      if (all[i].p_type == PT_LOAD && all[i].p_offset + all[i].p_filesz > size)
        return file.string() + " is truncated: its segment " + std::to_string(i) + " ends at byte " +
               std::to_string(all[i].p_offset + all[i].p_filesz) + cut;
    return file.string() + " is truncated: its section headers end at byte " +
           std::to_string(header().e_shoff + header().e_shnum * sizeof(Elf64_Shdr)) + cut;
  }
};

std::string check_error(const fs::path& file) {
  return plugin_error([&] { check_elf_file(file); });
}

class elf_check : public test_support::PluginHostTest {
 protected:
  /// The real plugin's first `size` bytes, as libcut.so.
  fs::path cut(std::size_t size) const { return empty_.write("libcut.so", plugin_.bytes.substr(0, size)); }

  /// The real plugin with its header changed by `edit`, as libedited.so.
  template <class Edit>
  fs::path edited(Edit edit) const {
    Elf64_Ehdr header = plugin_.header();
    edit(header);
    std::string bytes = plugin_.bytes;
    std::memcpy(bytes.data(), &header, sizeof header);
    return empty_.write("libedited.so", bytes);
  }

  RealPlugin plugin_;
};

TEST_F(elf_check, the_fixture_is_a_64_bit_shared_library_with_sections_after_its_segments) {
  ASSERT_GT(plugin_.bytes.size(), 8192u);
  EXPECT_EQ(plugin_.header().e_ident[EI_CLASS], ELFCLASS64);
  EXPECT_EQ(plugin_.header().e_type, ET_DYN);
  EXPECT_EQ(plugin_.header().e_phoff, sizeof(Elf64_Ehdr));
  EXPECT_EQ(plugin_.header().e_shoff + plugin_.header().e_shnum * sizeof(Elf64_Shdr), plugin_.bytes.size());
}

TEST_F(elf_check, empty_and_three_byte_files_have_no_elf_header) {
  for (std::size_t size : {0, 3}) {
    const fs::path file = cut(size);
    EXPECT_EQ(check_error(file), file.string() + " is not a shared library (it does not start with an ELF header)")
        << size << " bytes";
  }
}

TEST_F(elf_check, file_cut_inside_the_elf_header_is_truncated) {
  for (std::size_t size : {4, 16, 63}) {
    const fs::path file = cut(size);
    EXPECT_EQ(check_error(file),
              file.string() + " is truncated: its ELF header needs 64 bytes but the file has " + std::to_string(size) +
                  " bytes");
  }
}

TEST_F(elf_check, file_of_its_elf_header_alone_is_truncated_at_the_program_headers) {
  const fs::path file = cut(64);
  EXPECT_EQ(check_error(file), file.string() + " is truncated: its program headers end at byte " +
                                   std::to_string(64 + 56 * plugin_.header().e_phnum) +
                                   " but the file has 64 bytes");
}

TEST_F(elf_check, file_cut_inside_a_segment_names_the_segment_and_where_it_ends) {
  EXPECT_EQ(check_error(cut(4096)), plugin_.truncation(empty_.path() / "libcut.so", 4096));
  EXPECT_THAT(check_error(cut(4096)), ::testing::HasSubstr(" is truncated: its segment "));

  const std::size_t half = plugin_.bytes.size() / 2;
  EXPECT_EQ(check_error(cut(half)), plugin_.truncation(empty_.path() / "libcut.so", half));
}

TEST_F(elf_check, file_cut_after_its_segments_is_truncated_at_the_section_headers) {
  const std::size_t size = plugin_.bytes.size() - 1;
  const fs::path file = cut(size);
  EXPECT_EQ(check_error(file), file.string() + " is truncated: its section headers end at byte " +
                                   std::to_string(size + 1) + " but the file has " + std::to_string(size) + " bytes");
}

TEST_F(elf_check, whole_file_passes) {
  EXPECT_EQ(check_error(cut(plugin_.bytes.size())), "no error");
  EXPECT_EQ(check_error(fixture("fixture_good")), "no error");
}

TEST_F(elf_check, text_file_is_not_a_shared_library) {
  const fs::path file = empty_.write("libnotes.so", "notes, not a library, and long enough to fill an ELF header\n");
  EXPECT_EQ(check_error(file), file.string() + " is not a shared library (it does not start with an ELF header)");
}

TEST_F(elf_check, other_class_byte_order_and_type_are_named) {
  fs::path file = edited([](Elf64_Ehdr& header) { header.e_ident[EI_CLASS] = ELFCLASS32; });
  EXPECT_EQ(check_error(file), file.string() + " is a 32-bit ELF file; this kiln loads 64-bit libraries");
  file = edited([](Elf64_Ehdr& header) { header.e_ident[EI_DATA] = ELFDATA2MSB; });
  EXPECT_EQ(check_error(file), file.string() + " is a big-endian ELF file; this kiln is little-endian");
  file = edited([](Elf64_Ehdr& header) { header.e_type = ET_EXEC; });
  EXPECT_EQ(check_error(file), file.string() + " is an executable, not a shared library");
  file = edited([](Elf64_Ehdr& header) { header.e_type = ET_REL; });
  EXPECT_EQ(check_error(file), file.string() + " is an object file (.o), not a shared library");
}

TEST_F(elf_check, other_machine_is_named) {
#if defined(__x86_64__)
  const fs::path file = edited([](Elf64_Ehdr& header) { header.e_machine = EM_AARCH64; });
  EXPECT_EQ(check_error(file), file.string() + " is built for AArch64 but this kiln runs on x86-64");
#else
  GTEST_SKIP() << "written for an x86-64 kiln";
#endif
}

TEST_F(elf_check, program_header_table_past_the_end_is_truncated) {
  const fs::path file = edited([](Elf64_Ehdr& header) { header.e_phoff = UINT64_MAX - 8; });
  EXPECT_EQ(check_error(file), file.string() + " is truncated: its program headers end at byte " +
                                   std::to_string(UINT64_MAX) + " but the file has " +
                                   std::to_string(plugin_.bytes.size()) + " bytes");
}

TEST_F(elf_check, folder_and_missing_file_are_named) {
  EXPECT_EQ(check_error(empty_.path()), empty_.path().string() + " is a directory, not a shared library");
  const fs::path missing = empty_.path() / "libmissing.so";
  EXPECT_EQ(check_error(missing), missing.string() + ": cannot be read (No such file or directory)");
}

// ---- the plugin host -----------------------------------------------------------------------

TEST_F(elf_check, host_refuses_a_truncated_library_by_path_with_one_message) {
  const fs::path file = cut(4096);
  PluginHost host({}, empty_.path());
  EXPECT_EQ(plugin_error([&] { host.make_model("tiny", file.string(), model_table()); }),
            "exp.toml:1:1: " + plugin_.truncation(file, 4096));
  EXPECT_EQ(plugin_error([&] { PluginHost::inspect(file); }), plugin_.truncation(file, 4096));
}

TEST_F(elf_check, truncated_library_in_the_search_path_does_not_stop_a_scan_for_another) {
  // Sorted before the good one, so the scan for 'tiny' opens it first.
  TempDir folder;
  const fs::path truncated = folder.write("libaaa.so", plugin_.bytes.substr(0, 4096));
  const fs::path good = folder.write("libfixture_good.so", plugin_.bytes);
  PluginHost host({folder.path()}, empty_.path());

  EXPECT_TRUE(host.make_model("tiny", "", model_table()));
  ASSERT_EQ(host.records().size(), 1u);
  EXPECT_EQ(host.records()[0].path, good.string());
  EXPECT_EQ(host.failures().at(truncated), plugin_.truncation(truncated, 4096));

  const std::vector<PluginHost::Found> found = host.list();
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].info.path, truncated);
  EXPECT_EQ(found[0].error, plugin_.truncation(truncated, 4096));
  EXPECT_EQ(found[1].error, "");
}

}  // namespace
}  // namespace kiln::runner
