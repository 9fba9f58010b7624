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


}  // namespace kiln::runner::store
