// kiln::RunContext: what a hook may ask of the run it is part of.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "kiln/version.hpp"

namespace kiln {

class Model;

/// The running experiment, as hooks see it. The runner implements it; built-in hooks use
/// exactly this interface too.
class KILN_API RunContext {
 public:
  virtual ~RunContext();

  virtual const std::string& run_name() const = 0;
  virtual const std::filesystem::path& run_dir() const = 0;
  /// Steps completed so far (the step the next update will carry).
  virtual std::int64_t global_step() const = 0;
  virtual std::int64_t max_steps() const = 0;
  virtual Model& model() = 0;

  /// Records a scalar summary at `step`; never blocks on the database.
  virtual void summary(std::string_view tag, std::int64_t step, double value) = 0;
  /// Records an event (kind such as "start", "signal", "nan") in the run's history.
  virtual void event(std::string_view kind, std::string_view message) = 0;

  /// Asks the loop to stop after the current step; the first reason wins.
  virtual void request_stop(std::string_view reason) = 0;
  virtual bool stop_requested() const = 0;
};

}  // namespace kiln
