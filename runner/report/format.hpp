// Numbers, sizes, durations and times for people: one format for every command that prints
// them (kiln runs, show, compare and report).
#pragma once

#include <cstdint>
#include <string>

namespace kiln::runner::report {

/// A value for people: `digits` significant digits ("0.2543", "1.235e+05"), "nan", "inf", "-inf".
std::string format_value(double value, int digits = 4);

/// A byte count for people, in powers of 1000 as `ls -h --si`: "812 B", "4.8 kB", "12.3 MB", "2.50 GB".
std::string format_bytes(std::int64_t bytes);

/// A duration for people: "0.5 s", "42 s", "3 min 12 s", "2 h 05 min"; "-" when unknown or negative.
std::string format_duration(double seconds);

/// A duration as a clock, h:mm:ss ("0:00:07", "1:02:03", "27:46:40"), for the progress
/// line's ETA and elapsed time; negative or non-finite: "-:--:--".
std::string format_clock(double seconds);

/// Unix seconds as local time, "2026-11-26 01:49:50"; "-" when not finite.
std::string format_time(double unix_seconds);

}  // namespace kiln::runner::report
