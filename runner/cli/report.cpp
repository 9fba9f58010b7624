// `kiln report RUN... -o FILE`: one self-contained HTML file about the runs, written atomically.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "kiln/error.hpp"
#include "report/html.hpp"
#include "report/page.hpp"
#include "report/report_data.hpp"
#include "store/database.hpp"
#include "store/sweeps.hpp"

namespace kiln::runner::cli {
namespace {

namespace fs = std::filesystem;

/// Writes `text` to `path` by way of a synced temp file beside it and a rename, so `path`
/// is either the old file or the whole new one.
void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path temp = path.string() + ".tmp-" + std::to_string(getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(fmt::format("cannot write the report to {}: {}", path.string(), std::strerror(errno)));
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const bool ok = written == text.size() && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    const int cause = ok ? errno : saved_errno;
    std::error_code ec;
    fs::remove(temp, ec);
    throw Error(fmt::format("cannot write the report to {}: {}", path.string(), std::strerror(cause)));
  }
}

}  // namespace

int report(const ReportArgs& args) {
  if (args.sweep.empty() && args.runs.empty())
    throw Error("kiln report needs one or more runs, by name or id (or --sweep NAME: a sweep's trials)");
  report::ReportData data;
  {
    store::Database db = store::open_existing(args.database);
    // A sweep's trials first, best first, then the runs named (load_report takes each once).
    std::vector<std::string> refs = args.sweep.empty() ? std::vector<std::string>() : store::sweep_runs(db, args.sweep);
    if (refs.empty() && args.runs.empty())
      throw Error(fmt::format("kiln report: sweep {} has no trial with a run yet", args.sweep));
    refs.insert(refs.end(), args.runs.begin(), args.runs.end());
    data = report::load_report(db, refs);
  }
  const report::Page page = report::render_page(data);
  write_atomically(args.out, page.html);
  fmt::print("wrote {} ({}): {} run{}, {} charts, {} of {} images embedded\n", args.out.string(),
             report::format_bytes(static_cast<std::int64_t>(page.html.size())), data.runs.size(),
             data.runs.size() == 1 ? "" : "s", page.charts, page.images_embedded, page.images_recorded);
  return kExitOk;
}

}  // namespace kiln::runner::cli
