// kiln serve's HTTP server: routes, the token, the pages, until SIGINT or SIGTERM.
#pragma once

#include <filesystem>
#include <string>

namespace kiln::runner::serve {

struct ServeOptions {
  std::filesystem::path database;
  std::string host = "127.0.0.1";
  int port = 6006;      ///< 0: any free port (the printed URL says which)
  std::string token;    ///< required of every request when set
};

/// Serves docs/serve.md's pages and JSON API over `options.database`, read-only, until
/// SIGINT or SIGTERM; prints one line with the URL (the token in it, if there is one) once
/// it listens. A kiln::Error when the database is not there or the address cannot be bound,
/// and, in a kiln built without cpp-httplib, always, saying so.
void serve_dashboard(const ServeOptions& options);

/// Whether this kiln was built with cpp-httplib, so that serve_dashboard() can serve.
bool server_available();

/// What serve_dashboard() says in a kiln built without cpp-httplib.
inline constexpr const char* kServerUnavailable =
    "kiln serve needs cpp-httplib, which this kiln was built without: install libcpp-httplib-dev "
    "(Debian, Ubuntu) and build kiln again";

}  // namespace kiln::runner::serve
