// The dashboard's pages, scripts and styles, as the kiln binary holds them.
#pragma once

#include <optional>
#include <string_view>

namespace kiln::runner::serve {

/// A file the dashboard serves from memory.
struct Page {
  std::string_view body;
  std::string_view mime;
};

/// The embedded file `name` ("index.html", "kiln.js"); none when there is none. In a
/// build without the pages (runner/serve/assets/), "index.html" is a short placeholder
/// that points to the JSON API.
std::optional<Page> find_page(std::string_view name);

}  // namespace kiln::runner::serve
