// fail(): how every command's error reaches the user, in the front and in libkiln_train.so.
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "hooks/status_line.hpp"

namespace kiln::runner::cli {

int fail(int code, const std::string& message) {
  StatusLine::on_stderr().finish();
  fmt::print(stderr, "error: {}\n", message);
  return code;
}

}  // namespace kiln::runner::cli
