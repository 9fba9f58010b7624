// kiln serve in a build without cpp-httplib: says so, and serves nothing.
#include "kiln/error.hpp"
#include "serve/server.hpp"

namespace kiln::runner::serve {

void serve_dashboard(const ServeOptions&) { throw Error(kServerUnavailable); }

bool server_available() { return false; }

}  // namespace kiln::runner::serve
