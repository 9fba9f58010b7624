// The dashboard's assets by name: the files of runner/serve/assets/, embedded by assets/embed.cmake.
#include "serve/assets.hpp"

#include <array>
#include <utility>

namespace kiln::runner::serve {
namespace detail {

// Defined in the sources that assets/assets.cmake generates, one per file.
extern const std::string_view kAssetIndexHtml;
extern const std::string_view kAssetKilnJs;
extern const std::string_view kAssetKilnCss;

}  // namespace detail

const Asset* find_asset(std::string_view name) {
  static const std::array<std::pair<std::string_view, Asset>, 3> kAssets = {{
      {"index.html", {detail::kAssetIndexHtml, "text/html; charset=utf-8"}},
      {"kiln.js", {detail::kAssetKilnJs, "text/javascript; charset=utf-8"}},
      {"kiln.css", {detail::kAssetKilnCss, "text/css; charset=utf-8"}},
  }};
  for (const auto& [asset_name, asset] : kAssets)
    if (asset_name == name) return &asset;
  return nullptr;
}

}  // namespace kiln::runner::serve
