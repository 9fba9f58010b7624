// The optimizer types an [[optimizers]] entry may name: one table, one entry per type.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/optim/optimizer.h>

#include "config/experiment.hpp"
#include "kiln/config.hpp"

namespace kiln::runner {

/// One parameter's optimizer state as checkpoint fields: {"exp_avg": ..., "step": ...}. A
/// checkpoint holds each as optim/<phase>/<parameter index>/<field>.
using StateFields = std::map<std::string, torch::Tensor>;

/// A field of one parameter's optimizer state.
struct StateField {
  std::string name;
  bool required;      ///< a parameter's state always has it
  bool param_shaped;  ///< has the parameter's shape and dtype (a moment); else a scalar (a step count)
};

/// One optimizer type: its `type` name, its keys and how kiln builds it, saves and restores
/// its state and changes its learning rate. Everything kiln does with an optimizer goes
/// through its entry in the table (train/optimizers.cpp), so a type is added there alone:
/// the experiment's reader (config/experiment.cpp) knows no type and reads none of its keys.
struct OptimizerType {
  std::string name;   ///< the `type` value, e.g. "adam"
  double default_lr;  ///< the learning rate when the table gives no `lr`
  /// Reads this type's own keys of an [[optimizers]] table (every key but the runner's:
  /// name, type, params, lr, losses, after), each through a checked lookup, and
  /// `implementation` (auto, loop, foreach, fused: how its step runs, train/multi_tensor.hpp),
  /// which build() passes on. A bad or unavailable value is a ConfigError at its key.
  std::function<std::shared_ptr<const torch::optim::OptimizerOptions>(const Config& table)> read_options;
  /// A new optimizer over `params` with `options` (from read_options) and learning rate `lr`.
  std::function<std::unique_ptr<torch::optim::Optimizer>(const torch::optim::OptimizerOptions& options, double lr,
                                                          std::vector<torch::Tensor> params)>
      build;
  /// The fields of one parameter's state, as checkpoints hold them.
  std::vector<StateField> fields;
  /// One parameter's state as fields (copies), and a new state from fields that fit().
  std::function<StateFields(const torch::optim::OptimizerParamState& state)> capture_one;
  std::function<std::unique_ptr<torch::optim::OptimizerParamState>(const StateFields& fields)> restore_one;
  /// The learning rate of every parameter group, and setting it.
  std::function<double(const torch::optim::Optimizer& optimizer)> lr;
  std::function<void(torch::optim::Optimizer& optimizer, double lr)> set_lr;

  /// The state of each parameter of `params` that has any, by its index in `params`.
  std::map<std::size_t, StateFields> capture(const torch::optim::Optimizer& optimizer,
                                             const std::vector<torch::Tensor>& params) const;
  /// Replaces `optimizer`'s state with `states` (by index in `params`, each one that fits()).
  void restore(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& params,
               const std::map<std::size_t, StateFields>& states) const;
  /// Whether `fields` are one parameter's state of this type: every required field, no other.
  bool fits(const StateFields& fields) const;
  /// The field named `name`, or null.
  const StateField* field(const std::string& name) const;
};

/// The entry for `type`; an Error naming the known types when there is none (make_optimizer
/// lets only those through, so this is a bug, never a fallback).
const OptimizerType& optimizer_type(const std::string& type);

/// Every type's name, in table order: what `type` may be.
std::vector<std::string> optimizer_type_names();

/// A new optimizer for an [[optimizers]] entry over `params`: its `type` checked against the
/// table (a ConfigError at `type` with a did-you-mean), the type's keys read from the entry's
/// table, and `lr`, else the type's default learning rate. `implementation = "fused"` over
/// parameters that are not on CUDA is a ConfigError at the key: `params` are where they train.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec, std::vector<torch::Tensor> params);

}  // namespace kiln::runner
