// `kiln serve`: a live web dashboard over the run database (docs/serve.md).
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "kiln/error.hpp"
#include "serve/access.hpp"
#include "serve/server.hpp"

namespace kiln::runner::cli {

int serve(const ServeArgs& args) {
  if (!runner::serve::server_available()) return fail(kExitUsage, runner::serve::kServerUnavailable);
  runner::serve::ServeOptions options{args.database, args.host, args.port, args.token};
  // Beyond this machine a token is a must: one is made up when none is given, and the
  // printed URL carries it.
  if (options.token.empty() && !runner::serve::is_loopback(options.host)) options.token = runner::serve::random_token();
  runner::serve::serve_dashboard(options);
  return kExitOk;
}

}  // namespace kiln::runner::cli
