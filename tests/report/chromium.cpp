// Headless Chromium for the report tests, run through the shell with coreutils' timeout.
#include "chromium.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include <sys/wait.h>
#include <unistd.h>

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

// Long enough for a cold start on a busy two-core machine.
constexpr int kTimeoutSeconds = 120;

std::string quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

std::vector<std::string> headless_flags(const fs::path& profile) {
  std::vector<std::string> flags = {"--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                                    "--no-default-browser-check", "--disable-dev-shm-usage", "--mute-audio",
                                    "--user-data-dir=" + profile.string()};
  // Chromium refuses to run as root with its sandbox on.
  if (geteuid() == 0) flags.push_back("--no-sandbox");
  return flags;
}

HeadlessChromium::HeadlessChromium(fs::path binary, fs::path work_dir)
    : binary_(std::move(binary)), work_dir_(std::move(work_dir)) {}

ChromiumResult HeadlessChromium::run(const std::vector<std::string>& args, const fs::path& html) const {
  static int calls = 0;
  const std::string id = std::to_string(calls++);
  std::vector<std::string> all = headless_flags(work_dir_ / ("chromium-profile-" + id));
  all.insert(all.end(), args.begin(), args.end());
  all.push_back("file://" + fs::absolute(html).string());

  ChromiumResult result;
  result.command = "timeout " + std::to_string(kTimeoutSeconds) + " " + quote(binary_.string());
  for (const std::string& arg : all) result.command += " " + quote(arg);
  const fs::path out = work_dir_ / ("chromium-" + id + ".out"), err = work_dir_ / ("chromium-" + id + ".err");
  const int status = std::system((result.command + " >" + quote(out.string()) + " 2>" + quote(err.string())).c_str());
  result.exit_code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = slurp(out);
  result.err = slurp(err);
  return result;
}

ChromiumResult HeadlessChromium::screenshot(const fs::path& html, const fs::path& png, int width, int height) const {
  return run({"--screenshot=" + fs::absolute(png).string(),
              "--window-size=" + std::to_string(width) + "," + std::to_string(height), "--virtual-time-budget=10000"},
             html);
}

ChromiumResult HeadlessChromium::dump_dom(const fs::path& html) const {
  return run({"--dump-dom", "--virtual-time-budget=10000"}, html);
}

}  // namespace kiln::test
