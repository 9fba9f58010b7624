// Headless Chromium for the report tests: a page's screenshot and its DOM after it ran.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kiln::test {

/// How one Chromium process ended and what it printed.
struct ChromiumResult {
  int exit_code = -1;  ///< 124 when it ran out of time
  std::string out;
  std::string err;
  std::string command;  ///< the shell command, for assertion messages
};

/// The flags every headless Chromium of the tests starts with: headless, no GPU, its own
/// profile folder `profile` (so two can run at once), no sandbox when running as root.
std::vector<std::string> headless_flags(const std::filesystem::path& profile);

/// Runs Debian's chromium headless on local files, with its own profile folder (so two
/// tests can run at once), no sandbox when running as root, and a time limit.
class HeadlessChromium {
 public:
  HeadlessChromium(std::filesystem::path binary, std::filesystem::path work_dir);

  /// A `width`×`height` PNG of the page at `html`, written to `png`.
  ChromiumResult screenshot(const std::filesystem::path& html, const std::filesystem::path& png, int width,
                            int height) const;
  /// The page's DOM, serialized after its scripts and its load event ran (on stdout).
  ChromiumResult dump_dom(const std::filesystem::path& html) const;

 private:
  ChromiumResult run(const std::vector<std::string>& args, const std::filesystem::path& html) const;

  std::filesystem::path binary_;
  std::filesystem::path work_dir_;
};

}  // namespace kiln::test
