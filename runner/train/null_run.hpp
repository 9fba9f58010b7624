// NullRun: a RunContext with no run behind it, for running a model outside training.
#pragma once

#include <filesystem>
#include <string>

#include "kiln/kiln.hpp"

namespace kiln::runner {

/// Everything is a no-op or empty; model() is the one given (or an error without one).
/// `kiln infer` runs its model under one; tests drive hooks with one and override what they
/// want to observe, such as summary().
class NullRun : public RunContext {
 public:
  NullRun() = default;
  explicit NullRun(Model& model) : model_(&model) {}

  const std::string& run_name() const override { return name_; }
  const std::filesystem::path& run_dir() const override { return dir_; }
  std::int64_t global_step() const override { return 0; }
  std::int64_t max_steps() const override { return 100; }
  Model& model() override {
    if (!model_) throw Error("no model in a null run");
    return *model_;
  }
  void summary(std::string_view, std::int64_t, double) override {}
  void event(std::string_view, std::string_view) override {}
  const Dataset* dataset(std::string_view) override { return nullptr; }
  TensorMap evaluate(const TensorMap&, bool) override { return TensorMap(); }
  void image(std::string_view, std::int64_t, const std::filesystem::path&) override {}
  WeightAverager* averager() override { return nullptr; }
  TensorMap capture_state() override { return TensorMap("state"); }
  void restore_state(const TensorMap&) override {}
  std::vector<std::string> load_model_weights(const TensorMap&, bool) override { return {}; }
  void request_stop(std::string_view) override {}
  bool stop_requested() const override { return false; }
  std::string stop_reason() const override { return ""; }

 private:
  Model* model_ = nullptr;
  std::string name_ = "test";
  std::filesystem::path dir_ = ".";
};

}  // namespace kiln::runner
