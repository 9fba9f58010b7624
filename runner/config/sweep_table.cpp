// read_sweep_table(): [sweep] as typed fields, each swept key with the file position it came from.
#include "config/sweep_table.hpp"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "kiln/error.hpp"
#include "document.hpp"

namespace kiln::runner {
namespace {

/// The table's keys in the order the file gives them (toml++ iterates them sorted): a grid's
/// product follows that order.
std::vector<std::string> keys_in_file_order(const Config& table) {
  std::vector<std::string> keys = table.keys();
  std::stable_sort(keys.begin(), keys.end(), [&](const std::string& a, const std::string& b) {
    const SourcePosition pa = table.where(a), pb = table.where(b);
    return std::tie(pa.line, pa.column) < std::tie(pb.line, pb.column);
  });
  return keys;
}

/// Each element of `table.key` as TOML text: integers, then floats, then strings (quoted).
std::vector<std::string> values_as_text(const Config& table, const std::string& key) {
  try {
    std::vector<std::string> out;
    for (std::int64_t v : table.get<std::vector<std::int64_t>>(key)) out.push_back(std::to_string(v));
    return out;
  } catch (const ConfigError&) {
  }
  try {
    std::vector<std::string> out;
    for (double v : table.get<std::vector<double>>(key)) out.push_back(fmt::format("{}", v));
    return out;
  } catch (const ConfigError&) {
  }
  try {
    std::vector<std::string> out;
    for (const std::string& v : table.get<std::vector<std::string>>(key)) out.push_back(detail::quoted(v));
    return out;
  } catch (const ConfigError&) {
  }
  table.fail(key, "expected a list of numbers or a list of strings");
  return {};
}

std::vector<SweptKey> read_lists(const Config& sweep, std::string_view name) {
  std::vector<SweptKey> out;
  if (!sweep.contains(name)) return out;
  const Config table = sweep.table(name);
  for (const std::string& key : keys_in_file_order(table)) {
    SweptKey swept;
    swept.key = key;
    swept.origin = table.where(key).str();
    swept.values = values_as_text(table, key);
    if (swept.values.empty()) table.fail(key, "an empty list: give one value or more");
    out.push_back(std::move(swept));
  }
  return out;
}

std::vector<SweptKey> read_ranges(const Config& sweep, std::string_view name, bool log) {
  std::vector<SweptKey> out;
  if (!sweep.contains(name)) return out;
  const Config table = sweep.table(name);
  for (const std::string& key : keys_in_file_order(table)) {
    const std::vector<double> range = table.get<std::vector<double>>(key);
    if (range.size() != 2) table.fail(key, fmt::format("expected [lo, hi], got {} numbers", range.size()));
    if (!(range[0] < range[1])) table.fail(key, fmt::format("lo {} is not below hi {}", range[0], range[1]));
    if (log && !(range[0] > 0)) table.fail(key, fmt::format("a log-uniform range must be positive, got lo {}", range[0]));
    SweptKey swept;
    swept.key = key;
    swept.lo = range[0];
    swept.hi = range[1];
    swept.origin = table.where(key).str();
    out.push_back(std::move(swept));
  }
  return out;
}

}  // namespace

SweepTable read_sweep_table(const Config& sweep) {
  SweepTable out;
  out.name = sweep.find<std::string>("name");
  out.metric = sweep.find<std::string>("metric");
  if (sweep.contains("mode")) out.mode = sweep.get_choice("mode", {"min", "max"});
  if (sweep.contains("parallel")) out.parallel = sweep.get_positive<std::int64_t>("parallel");
  out.seed = sweep.find<std::int64_t>("seed");
  if (sweep.contains("random")) out.random = sweep.get_positive<std::int64_t>("random");
  out.median_stop = sweep.find<bool>("median_stop");
  out.grid = read_lists(sweep, "grid");
  out.uniform = read_ranges(sweep, "uniform", false);
  out.log_uniform = read_ranges(sweep, "log_uniform", true);
  out.choice = read_lists(sweep, "choice");
  sweep.reject_unread("");
  return out;
}

}  // namespace kiln::runner
