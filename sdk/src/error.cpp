// kiln's exception hierarchy; out-of-line members give each class one typeinfo for all libraries.
#include "kiln/error.hpp"

#include <fmt/format.h>

namespace kiln {

std::string SourcePosition::str() const {
  if (file.empty()) return "";
  if (line == 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

namespace {
std::string located(const SourcePosition& where, const std::string& message) {
  const std::string at = where.str();
  return at.empty() ? message : fmt::format("{}: {}", at, message);
}
}  // namespace

Error::~Error() = default;

ConfigError::ConfigError(const SourcePosition& where, const std::string& message)
    : Error(located(where, message)), where_(where) {}
ConfigError::~ConfigError() = default;

PluginError::~PluginError() = default;

StoreError::StoreError(const std::string& message, int code) : Error(message), code_(code) {}
StoreError::~StoreError() = default;

CheckpointError::~CheckpointError() = default;

}  // namespace kiln
