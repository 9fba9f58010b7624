// What kiln serve's endpoints share about a run: finding it, and the step it has reached.
#pragma once

#include <cstdint>
#include <string>

#include "store/database.hpp"
#include "store/run_ref.hpp"

namespace kiln::runner::serve {

// The schema versions that added the checkpoints and images tables (store/schema.cpp): an
// older database has none of them to show.
inline constexpr int kCheckpointsSince = 2;
inline constexpr int kImagesSince = 3;

/// The run `ref` names (store::find_run_ref); an ApiError 404 when there is none.
store::RunRef find_run(store::Database& db, const std::string& ref);

/// The largest step the run recorded: its steps trained (store::steps_done), or a later
/// summary's step. Index lookups only.
std::int64_t last_step(store::Database& db, std::int64_t run_id);

}  // namespace kiln::runner::serve
