// `kiln compare`: not written yet.
#include "cli/commands.hpp"
#include "kiln/error.hpp"

namespace kiln::runner::cli {

int compare(const CompareArgs&) { throw Error("kiln compare is not written yet"); }

}  // namespace kiln::runner::cli
