// What kiln serve's endpoints share about a run: finding it, and the step it has reached.
#include "serve/api_support.hpp"

#include <algorithm>

#include <sqlite3.h>

#include "serve/api.hpp"
#include "store/history.hpp"

namespace kiln::runner::serve {

store::RunRef find_run(store::Database& db, const std::string& ref) {
  try {
    return store::find_run_ref(db, ref);
  } catch (const store::StoreError& e) {
    if (e.code() == SQLITE_NOTFOUND) throw ApiError(404, e.what());
    throw;
  }
}

std::int64_t last_step(store::Database& db, std::int64_t run_id) {
  std::int64_t step = store::steps_done(db, run_id);
  for (const store::SummaryRow& row : store::last_summaries(db, run_id)) step = std::max(step, row.step);
  return step;
}

}  // namespace kiln::runner::serve
