// StoreError: the run store's errors are kiln::StoreError, carrying SQLite's result code.
#pragma once

#include "kiln/error.hpp"

namespace kiln::runner::store {

/// Thrown by every run-store operation that fails. The message is one short lowercase line
/// naming the database, e.g. `runs/kiln.db: database is locked (SQLITE_BUSY)`. code() is
/// SQLite's primary result code; errors kiln detects itself use the closest one
/// (SQLITE_ERROR, SQLITE_CANTOPEN, SQLITE_READONLY).
using StoreError = kiln::StoreError;

}  // namespace kiln::runner::store
