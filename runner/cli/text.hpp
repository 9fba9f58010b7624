// How the history commands write numbers, times and sizes for people, and fit the terminal.
#pragma once

#include <cstdint>
#include <string>

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

/// "0.8 s", "42 s", "3m 05s", "2h 07m", "3d 04h"; "" for a negative duration.
std::string format_duration(double seconds);

/// Unix seconds as local "YYYY-MM-DD HH:MM:SS".
std::string format_time(double unix_seconds);

/// "512 B", "3.4 kB", "12.1 MB", "2.0 GB" (powers of 1000, as ls -h --si).
std::string format_bytes(std::int64_t bytes);

/// A metric for reading: 4 significant digits, "nan", "inf".
std::string format_value(double value);

}  // namespace kiln::runner::cli
