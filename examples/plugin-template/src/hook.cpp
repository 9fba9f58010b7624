// The `best_loss` hook: watches a loss on a schedule, keeps its best in checkpoints, stops early.
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>

#include <torch/torch.h>

#include "kiln/kiln.hpp"
#include "sine.hpp"

namespace sine {
namespace {

/// At every check (on its schedule) reads the loss, remembers its lowest value and writes
/// it as the summary best/<loss>. Stops the run after `patience` checks without a new best
/// (0: never). Its state lives in the run's checkpoints, so a resumed run goes on counting.
///   [[hooks]]
///   plugin = "best_loss"
///   loss = "huber"      # a loss of the experiment
///   every_steps = 20    # and/or every_secs = 30
///   patience = 5
///   min_delta = 0.0     # how much lower a new best must be
class BestLoss : public kiln::Hook {
 public:
  explicit BestLoss(const kiln::Config& config)
      : loss_(config.get<std::string>("loss")),
        patience_(config.get_non_negative<std::int64_t>("patience", 0)),
        min_delta_(config.get_non_negative<double>("min_delta", 0.0)),
        schedule_(kiln::Schedule::from_config(config, /*default_steps=*/100)) {}

  void after_step(kiln::Step& step) override {
    if (!schedule_.due(step.global_step())) return;
    const double value = step.losses().at(loss_).item<double>();
    if (value < best_ - min_delta_) {
      best_ = value;
      best_step_ = step.global_step();
      checks_without_best_ = 0;
    } else {
      ++checks_without_best_;
    }
    step.summary("best/" + loss_, best_);
    if (patience_ > 0 && checks_without_best_ >= patience_)
      step.run().request_stop("no new best " + loss_ + " in " + std::to_string(patience_) +
                              (patience_ == 1 ? " check" : " checks"));
  }

  void after_restore(kiln::RunContext& run) override { run.event("best_loss", "restored: " + best()); }
  void end(kiln::RunContext& run) override { run.event("best_loss", best()); }

  kiln::TensorMap state() const override {
    kiln::TensorMap state("best_loss state");
    state.set("best", torch::tensor(best_, torch::kFloat64));
    state.set("best_step", torch::tensor(best_step_, torch::kInt64));
    state.set("checks_without_best", torch::tensor(checks_without_best_, torch::kInt64));
    return state;
  }

  void load_state(const kiln::TensorMap& state) override {
    best_ = state.at("best").item<double>();
    best_step_ = state.at("best_step").item<std::int64_t>();
    checks_without_best_ = state.at("checks_without_best").item<std::int64_t>();
  }

 private:
  std::string best() const {
    std::ostringstream text;
    text << "best " << loss_ << " " << best_ << " at step " << best_step_;
    return text.str();
  }

  std::string loss_;
  std::int64_t patience_;
  double min_delta_;
  kiln::Schedule schedule_;
  double best_ = std::numeric_limits<double>::infinity();
  std::int64_t best_step_ = -1;
  std::int64_t checks_without_best_ = 0;
};

}  // namespace

void add_hook(kiln::Registry& registry) { registry.add_hook<BestLoss>("best_loss"); }

}  // namespace sine
