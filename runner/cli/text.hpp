// How the history commands write numbers, times and sizes for people, and fit the terminal.
#pragma once

#include <cstdint>
#include <string>

#include "report/format.hpp"
#include "store/query.hpp"

namespace kiln::runner::cli {

/// Columns of the terminal on stdout, or 0 when stdout is not a terminal (a pipe or file
/// gets whole values, never cut).
int terminal_columns();

/// The widest a table cell may be on this stdout: half the terminal, at least 12; 0 (no
/// limit) when piped.
int cell_limit();

/// Prints `table` to stdout indented by two spaces, without a row count, its cells cut to
/// cell_limit(): the tables inside `kiln show` and `kiln compare`.
void print_section_table(const store::QueryResult& table);

// Values, sizes, durations and times are written as `kiln report` writes them: one format.
using report::format_bytes;
using report::format_duration;
using report::format_time;
using report::format_value;

}  // namespace kiln::runner::cli
