// The files kiln serve hands out: a run's images, only from inside the run's own directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace kiln::runner::serve {

/// Where a path that a run recorded relative (its run_dir, its images) is: relative to the
/// current folder, as `kiln report` reads it, else, when nothing is there, relative to the
/// folder above the database's (the default layout: runs/kiln.db beside runs/<name>/).
std::filesystem::path resolve_recorded(const std::filesystem::path& recorded, const std::filesystem::path& db);

/// `image`'s path inside `run_dir`, both as the run recorded them ("images/val-3.png" for
/// "runs/a/images/val-3.png" or "/home/me/runs/a/images/val-3.png" in "runs/a"); none when it
/// is not inside.
std::optional<std::string> path_inside(const std::string& run_dir, const std::string& image);

/// `path` ("images/val 3.png") with every byte but letters, digits, '/', '-', '.', '_' and
/// '~' percent-encoded, for a URL ("images/val%203.png").
std::string url_path(const std::string& path);

/// An image file the request `relative` names inside `run_dir` (an existing folder), its
/// symlinks resolved. An ApiError 403 for a path with "..", an absolute one, one that leads
/// out of the folder (a symlink), or a file that is not a PNG or JPEG; 404 when there is no
/// such file.
std::filesystem::path image_inside(const std::filesystem::path& run_dir, const std::string& relative);

/// The MIME type of an image file kiln serves, by its extension ("image/png").
std::string image_mime(const std::filesystem::path& file);

}  // namespace kiln::runner::serve
