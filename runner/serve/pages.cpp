// The dashboard's pages: the embedded assets (runner/serve/assets/), or a placeholder without them.
#include "serve/pages.hpp"

#ifdef KILN_SERVE_ASSETS
#include "serve/assets.hpp"
#endif

namespace kiln::runner::serve {

std::optional<Page> find_page(std::string_view name) {
#ifdef KILN_SERVE_ASSETS
  const Asset* asset = find_asset(name);
  if (asset == nullptr) return std::nullopt;
  return Page{asset->body, asset->mime};
#else
  constexpr Page kPlaceholder{
      "<!doctype html><meta charset=\"utf-8\"><title>kiln serve</title>"
      "<p>This kiln was built without the dashboard's pages. Its JSON API answers: "
      "<a href=\"/api/runs\">/api/runs</a> (docs/serve.md).</p>\n",
      "text/html; charset=utf-8"};
  if (name == "index.html") return kPlaceholder;
  return std::nullopt;
#endif
}

}  // namespace kiln::runner::serve
