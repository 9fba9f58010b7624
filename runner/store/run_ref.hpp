// Finding a run the way every command takes one: by name, or by id when it is a number.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "store/database.hpp"

namespace kiln::runner::store {

/// What a command needs to know about a run it was given.
struct RunRef {
  std::int64_t id = 0;
  std::string name;
  std::string status;
  std::filesystem::path run_dir;
};

/// The run named `ref`, or the run with id `ref` when no run has that name. A run that is
/// not there is a StoreError naming the database and suggesting the closest name.
RunRef find_run_ref(Database& db, const std::string& ref);

/// The id of the run named exactly `name`, if there is one (no ids, no suggestions).
std::optional<std::int64_t> find_run_id(Database& db, const std::string& name);

/// An SQL expression for the steps a run has trained (its global step), given an SQL
/// expression for its id: the latest of its last loss summary + 1, its latest checkpoint
/// and its latest event with a step. Evaluation summaries, recorded after a step, do not count.
std::string steps_done_sql(const std::string& run_id);

}  // namespace kiln::runner::store
