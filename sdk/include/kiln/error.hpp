// The one exception hierarchy through which every kiln error leaves a function.
#pragma once

#include <stdexcept>
#include <string>

#include "kiln/version.hpp"

namespace kiln {

/// Where something was written: a file, or a pseudo-file such as "--set a.b".
struct KILN_API SourcePosition {
  std::string file;
  int line = 0;    ///< 1-based; 0 when unknown
  int column = 0;  ///< 1-based; 0 when unknown

  /// "file:line:column", "file" alone when the line is unknown, "" when nothing is.
  std::string str() const;
};

/// Base of every error kiln throws. Messages are short, lowercase and name the bad value.
class KILN_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~Error() override;
};

/// A bad experiment file or plugin table; what() starts with "file:line:column: ".
class KILN_API ConfigError : public Error {
 public:
  ConfigError(const SourcePosition& where, const std::string& message);
  ~ConfigError() override;
  const SourcePosition& where() const { return where_; }

 private:
  SourcePosition where_;
};

/// A plugin library that cannot be found, loaded, trusted or asked for a name.
class KILN_API PluginError : public Error {
 public:
  using Error::Error;
  ~PluginError() override;
};

/// The run database refused something; code() is SQLite's result code.
class KILN_API StoreError : public Error {
 public:
  StoreError(const std::string& message, int code);
  ~StoreError() override;
  int code() const { return code_; }

 private:
  int code_;
};

/// A checkpoint that cannot be written, read or trusted.
class KILN_API CheckpointError : public Error {
 public:
  using Error::Error;
  ~CheckpointError() override;
};

}  // namespace kiln
