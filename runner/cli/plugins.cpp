// `kiln plugins`: not written yet.
#include "cli/commands.hpp"
#include "kiln/error.hpp"

namespace kiln::runner::cli {

int plugins(const PluginsArgs&) { throw Error("kiln plugins is not written yet"); }

}  // namespace kiln::runner::cli
