// An exception's message for people: LibTorch's errors without their C++ backtrace.
#pragma once

#include <exception>
#include <string>

namespace kiln::runner {

/// `error.what()`, except that a c10::Error (any torch op failing: a shape mismatch, a
/// dtype clash) gives its message without the "Exception raised from ..." backtrace.
std::string error_text(const std::exception& error);

}  // namespace kiln::runner
