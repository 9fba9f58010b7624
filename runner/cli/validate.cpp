// `kiln validate`: not written yet.
#include "cli/commands.hpp"
#include "kiln/error.hpp"

namespace kiln::runner::cli {

int validate(const ValidateArgs&) { throw Error("kiln validate is not written yet"); }

}  // namespace kiln::runner::cli
