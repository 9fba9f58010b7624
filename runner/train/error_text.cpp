// An exception's message for people: LibTorch's errors without their C++ backtrace.
#include "train/error_text.hpp"

#include <c10/util/Exception.h>

namespace kiln::runner {

std::string error_text(const std::exception& error) {
  std::string text;
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&error)) text = torch_error->what_without_backtrace();
  else text = error.what();
  // Plugins may rethrow a torch error as their own: cut the backtrace from the text too.
  if (const std::size_t at = text.find("\nException raised from "); at != std::string::npos) text.resize(at);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace kiln::runner
