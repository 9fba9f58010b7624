// How the history commands fit the terminal.
#include "cli/text.hpp"

#include <algorithm>
#include <cstdio>

#include <sys/ioctl.h>
#include <unistd.h>

namespace kiln::runner::cli {

int terminal_columns() {
  if (!isatty(STDOUT_FILENO)) return 0;
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0) return 0;
  return size.ws_col;
}

int cell_limit() {
  const int columns = terminal_columns();
  return columns > 0 ? std::max(12, columns / 2) : 0;
}

void print_section_table(const store::QueryResult& table) {
  store::TableStyle style;
  style.max_width = cell_limit();
  style.row_count = false;
  style.indent = "  ";
  std::fputs(store::format_table(table, style).c_str(), stdout);
}

}  // namespace kiln::runner::cli
