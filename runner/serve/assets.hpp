// The dashboard's page, script and style, compiled into kiln (runner/serve/assets/).
#pragma once

#include <string_view>

namespace kiln::runner::serve {

/// One file the server sends as it is: its bytes and its Content-Type.
struct Asset {
  std::string_view body;
  std::string_view mime;
};

/// The asset called `name` ("index.html", "kiln.js" or "kiln.css"); nullptr for any other
/// name, so that a request cannot reach anything else.
const Asset* find_asset(std::string_view name);

}  // namespace kiln::runner::serve
