// `kiln report`: not written yet.
#include "cli/commands.hpp"
#include "kiln/error.hpp"

namespace kiln::runner::cli {

int report(const ReportArgs&) { throw Error("kiln report is not written yet"); }

}  // namespace kiln::runner::cli
