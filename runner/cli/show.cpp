// `kiln show`: not written yet.
#include "cli/commands.hpp"
#include "kiln/error.hpp"

namespace kiln::runner::cli {

int show(const ShowArgs&) { throw Error("kiln show is not written yet"); }

}  // namespace kiln::runner::cli
