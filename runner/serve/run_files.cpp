// The files kiln serve hands out: a run's images, only from inside the run's own directory.
#include "serve/run_files.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "serve/api.hpp"

namespace kiln::runner::serve {
namespace fs = std::filesystem;
namespace {

std::string lowercase_extension(const fs::path& file) {
  std::string extension = file.extension().string();
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension;
}

/// Whether `path` is `dir` or under it, both canonical.
bool is_under(const fs::path& dir, const fs::path& path) {
  auto d = dir.begin();
  auto p = path.begin();
  for (; d != dir.end(); ++d, ++p)
    if (p == path.end() || *p != *d) return false;
  return true;
}

}  // namespace

fs::path resolve_recorded(const fs::path& recorded, const fs::path& db) {
  if (recorded.is_absolute()) return recorded;
  std::error_code ec;
  if (fs::exists(recorded, ec)) return fs::absolute(recorded, ec);
  const fs::path beside_db = fs::absolute(db, ec).parent_path().parent_path() / recorded;
  if (fs::exists(beside_db, ec)) return beside_db;
  return fs::absolute(recorded, ec);
}

std::optional<std::string> path_inside(const std::string& run_dir, const std::string& image) {
  if (run_dir.empty() || image.empty()) return std::nullopt;
  const fs::path dir = fs::path(run_dir).lexically_normal();
  const fs::path file = fs::path(image).lexically_normal();
  fs::path inside;
  if (dir.is_absolute() == file.is_absolute()) {
    inside = file.lexically_relative(dir);
  } else if (file.is_absolute()) {
    // kiln run records its run directory as written ("runs/a") and images absolute
    // ("/home/me/exp/runs/a/images/x.png"): the part after the directory's own parts.
    const std::vector<fs::path> parts(file.begin(), file.end());
    const std::vector<fs::path> dir_parts(dir.begin(), dir.end());
    for (std::size_t end = parts.size() - 1; end >= dir_parts.size() && inside.empty(); --end) {
      if (!std::equal(dir_parts.begin(), dir_parts.end(), parts.begin() + static_cast<long>(end - dir_parts.size())))
        continue;
      for (std::size_t i = end; i < parts.size(); ++i) inside /= parts[i];
    }
  }
  if (inside.empty() || *inside.begin() == ".." || inside == ".") return std::nullopt;
  return inside.generic_string();
}

std::string url_path(const std::string& path) {
  std::string out;
  for (const char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') out += c;
    else out += fmt::format("%{:02X}", byte);
  }
  return out;
}

fs::path image_inside(const fs::path& run_dir, const std::string& relative) {
  const fs::path request(relative);
  if (relative.empty() || request.is_absolute() || relative.front() == '/')
    throw ApiError(403, fmt::format("'{}' is not a path inside the run's directory", relative));
  for (const fs::path& part : request)
    if (part == "..")
      throw ApiError(403, fmt::format("'{}' leads out of the run's directory: '..' is refused", relative));
  std::error_code ec;
  const fs::path dir = fs::canonical(run_dir, ec);
  if (ec) throw ApiError(404, fmt::format("the run's directory {} is not there", run_dir.string()));
  const fs::path file = fs::canonical(dir / request, ec);
  if (ec) throw ApiError(404, fmt::format("no file '{}' in the run's directory", relative));
  // A symlink inside the folder may still lead anywhere: what counts is where it ends.
  if (!is_under(dir, file) || file == dir)
    throw ApiError(403, fmt::format("'{}' leads out of the run's directory", relative));
  if (!fs::is_regular_file(file, ec)) throw ApiError(404, fmt::format("'{}' is not a file", relative));
  if (image_mime(file).empty())
    throw ApiError(403, fmt::format("'{}' is not an image: only PNG and JPEG files are served", relative));
  return file;
}

std::string image_mime(const fs::path& file) {
  const std::string extension = lowercase_extension(file);
  if (extension == ".png") return "image/png";
  if (extension == ".jpg" || extension == ".jpeg") return "image/jpeg";
  return "";
}

}  // namespace kiln::runner::serve
