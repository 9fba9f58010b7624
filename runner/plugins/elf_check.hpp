// A plugin file checked against its own ELF headers before the loader maps it.
#pragma once

#include <filesystem>

namespace kiln::runner::detail {

/// Throws a PluginError naming `file` and what is wrong when it cannot be a shared library
/// for this kiln: a folder; no ELF magic; another class, byte order or machine; not a shared
/// object; or cut short, so that its ELF header, its program headers, a loadable segment or
/// its section headers end past the end of the file. The loader maps segments without
/// looking at the file's size, and touching a page past the end of the file is SIGBUS:
///
///     check_elf_file("plugins/libtrunc.so");
///     // plugins/libtrunc.so is truncated: its segment 2 ends at byte 123456 but the file has 4096 bytes
void check_elf_file(const std::filesystem::path& file);

}  // namespace kiln::runner::detail
