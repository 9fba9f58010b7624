// The optimizer table: adam, adamw and sgd, each one entry; lookups that never fall back.
#include "train/optimizers.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <torch/optim.h>

#include "kiln/error.hpp"
#include "train/multi_tensor.hpp"
#include "train/torch_compat.hpp"

namespace kiln::runner {
namespace {

namespace optim = torch::optim;

/// The key LibTorch files a parameter's state under, which differs between 1.x and 2.x
/// (train/torch_compat.hpp). Checkpoints name parameters by index instead, so their format
/// does not depend on it.
compat::OptimizerStateKey state_key(const torch::Tensor& param) { return compat::optimizer_state_key(param); }

/// One field of the LibTorch state State: what it is, and how to read and write it. An
/// undefined tensor from `get` is a field this state does not have (yet).
template <class State>
struct Field {
  StateField about;
  torch::Tensor (*get)(const State& state);
  void (*set)(State& state, const torch::Tensor& value);
};

constexpr bool kRequired = true, kOptional = false;
constexpr bool kParamShaped = true, kScalar = false;

/// `from` as the type an entry made it, or an Error: another entry's object is a bug.
template <class Derived, class Base>
Derived& as(Base& from, const std::string& type, const char* what) {
  auto* own = dynamic_cast<Derived*>(&from);
  if (!own) throw Error(fmt::format("optimizer type '{}' was given {} of another optimizer type", type, what));
  return *own;
}

/// How an entry's step runs (`implementation`), carried from read_options to build beside
/// LibTorch's options: an optimizer's options object has no room for it.
struct StepChoice {
  explicit StepChoice(StepImplementation chosen) : implementation(chosen) {}
  virtual ~StepChoice() = default;
  StepImplementation implementation;
};

template <class Options>
struct OptionsWithStep : Options, StepChoice {
  OptionsWithStep(const Options& options, StepImplementation chosen) : Options(options), StepChoice(chosen) {}
};

/// The implementation `options` (from read_options) asks for; auto for options without one.
StepImplementation implementation_of(const optim::OptimizerOptions& options) {
  const auto* choice = dynamic_cast<const StepChoice*>(&options);
  return choice ? choice->implementation : StepImplementation::automatic;
}

/// `implementation`: auto, loop, foreach (types with a multi-tensor step) or fused (where
/// this LibTorch has the type's fused kernel; the parameters' device is checked by
/// make_optimizer). Anything unavailable is a ConfigError at the key naming why.
StepImplementation read_implementation(const Config& table, const std::string& type, bool multi_tensor) {
  const StepImplementation chosen =
      step_implementation(table.get_choice("implementation", "auto", step_implementation_names()));
  if (!multi_tensor && chosen != StepImplementation::automatic && chosen != StepImplementation::loop)
    table.fail("implementation", fmt::format("{} has only LibTorch's own step: \"auto\" or \"loop\"", type));
  if (chosen == StepImplementation::fused && !has_fused_step(type)) table.fail("implementation", fused_step_refusal(type));
  return chosen;
}

/// The entry of an optimizer Built (a LibTorch optimizer, or kiln's multi-tensor one over it),
/// with options Options and per-parameter state State: `read` reads the type's keys, `fields`
/// lists its state. Every entry reads `implementation`; only a multi-tensor Built has more
/// than LibTorch's own step.
template <class Built, class Options, class State>
OptimizerType entry(std::string name, double default_lr, Options (*read)(const Config& table),
                    std::vector<Field<State>> fields) {
  constexpr bool kMultiTensor = std::is_base_of_v<MultiTensorStep, Built>;
  OptimizerType type;
  type.name = name;
  type.default_lr = default_lr;
  type.read_options = [read, name](const Config& table) -> std::shared_ptr<const optim::OptimizerOptions> {
    const Options options = read(table);
    return std::make_shared<OptionsWithStep<Options>>(options, read_implementation(table, name, kMultiTensor));
  };
  type.build = [name](const optim::OptimizerOptions& options, double lr, std::vector<torch::Tensor> params) {
    Options own = as<const Options>(options, name, "options");
    own.lr(lr);
    if constexpr (kMultiTensor) {
      return std::unique_ptr<optim::Optimizer>(
          std::make_unique<Built>(std::move(params), own, implementation_of(options)));
    } else {
      return std::unique_ptr<optim::Optimizer>(std::make_unique<Built>(std::move(params), own));
    }
  };
  for (const Field<State>& field : fields) type.fields.push_back(field.about);
  type.capture_one = [name, fields](const optim::OptimizerParamState& state) {
    const State& own = as<const State>(state, name, "parameter state");
    StateFields out;
    for (const Field<State>& field : fields)
      if (torch::Tensor value = field.get(own); value.defined()) out[field.about.name] = value.clone();
    return out;
  };
  type.restore_one = [fields](const StateFields& in) -> std::unique_ptr<optim::OptimizerParamState> {
    auto state = std::make_unique<State>();
    for (const Field<State>& field : fields)
      if (auto it = in.find(field.about.name); it != in.end()) field.set(*state, it->second.clone());
    return state;
  };
  type.lr = [](const optim::Optimizer& optimizer) { return optimizer.param_groups().at(0).options().get_lr(); };
  type.set_lr = [](optim::Optimizer& optimizer, double lr) {
    for (optim::OptimizerParamGroup& group : optimizer.param_groups()) group.options().set_lr(lr);
  };
  return type;
}

/// A step count: a 0-d int64 tensor in checkpoints.
template <class State>
Field<State> step_field() {
  return {{"step", kRequired, kScalar}, [](const State& s) { return torch::tensor(s.step(), torch::kLong); },
          [](State& s, const torch::Tensor& v) { s.step(v.item<std::int64_t>()); }};
}

/// Adam's and AdamW's state: a step count and moments.
template <class State>
std::vector<Field<State>> adam_fields() {
  return {step_field<State>(),
          {{"exp_avg", kRequired, kParamShaped}, [](const State& s) { return s.exp_avg(); },
           [](State& s, const torch::Tensor& v) { s.exp_avg(v); }},
          {{"exp_avg_sq", kRequired, kParamShaped}, [](const State& s) { return s.exp_avg_sq(); },
           [](State& s, const torch::Tensor& v) { s.exp_avg_sq(v); }},
          {{"max_exp_avg_sq", kOptional, kParamShaped}, [](const State& s) { return s.max_exp_avg_sq(); },
           [](State& s, const torch::Tensor& v) { s.max_exp_avg_sq(v); }}};
}

/// Adam's and AdamW's keys; they differ in weight_decay's default.
template <class Options>
Options read_adam(const Config& table, double default_weight_decay) {
  const auto betas = table.get_in_range<std::vector<double>>("betas", {0.9, 0.999}, 0, 1, Bounds::closed_open);
  if (betas.size() != 2) table.fail("betas", "expected two numbers in [0, 1), e.g. [0.5, 0.999]");
  return Options()
      .betas({betas[0], betas[1]})
      .eps(table.get_positive<double>("eps", 1e-8))
      .weight_decay(table.get_non_negative<double>("weight_decay", default_weight_decay))
      .amsgrad(table.get_or<bool>("amsgrad", false));
}

/// SGD's keys. Nesterov momentum needs a momentum and no dampening (LibTorch's SGD checks it
/// too, unpositioned).
optim::SGDOptions read_sgd(const Config& table) {
  const auto options = optim::SGDOptions(/*lr=*/1e-2)
                           .weight_decay(table.get_non_negative<double>("weight_decay", 0.0))
                           .momentum(table.get_non_negative<double>("momentum", 0.0))
                           .dampening(table.get_in_range<double>("dampening", 0.0, 0, 1))
                           .nesterov(table.get_or<bool>("nesterov", false));
  if (options.nesterov() && (options.momentum() <= 0 || options.dampening() != 0))
    table.fail("nesterov", fmt::format("nesterov momentum needs momentum > 0 and dampening = 0, got momentum = {} "
                                       "and dampening = {}",
                                       options.momentum(), options.dampening()));
  return options;
}

/// The table: one entry per optimizer type, in the order error messages list them.
const std::vector<OptimizerType>& table() {
  static const std::vector<OptimizerType> types = {
      entry<MultiTensorAdam, optim::AdamOptions, optim::AdamParamState>(
          "adam", /*default_lr=*/1e-3,
          [](const Config& table) { return read_adam<optim::AdamOptions>(table, /*default_weight_decay=*/0.0); },
          adam_fields<optim::AdamParamState>()),
      entry<MultiTensorAdamW, optim::AdamWOptions, optim::AdamWParamState>(
          "adamw", /*default_lr=*/1e-3,
          [](const Config& table) { return read_adam<optim::AdamWOptions>(table, /*default_weight_decay=*/1e-2); },
          adam_fields<optim::AdamWParamState>()),
      entry<MultiTensorSGD, optim::SGDOptions, optim::SGDParamState>(
          "sgd", /*default_lr=*/1e-2, read_sgd,
          {{{"momentum_buffer", kRequired, kParamShaped}, [](const optim::SGDParamState& s) { return s.momentum_buffer(); },
            [](optim::SGDParamState& s, const torch::Tensor& v) { s.momentum_buffer(v); }}}),
  };
  return types;
}

}  // namespace

std::map<std::size_t, StateFields> OptimizerType::capture(const optim::Optimizer& optimizer,
                                                          const std::vector<torch::Tensor>& params) const {
  std::map<std::size_t, StateFields> out;
  const auto& states = optimizer.state();
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto it = states.find(state_key(params[i]));
    if (it == states.end()) continue;  // never updated yet
    if (StateFields fields = capture_one(*it->second); !fields.empty()) out[i] = std::move(fields);
  }
  return out;
}

void OptimizerType::restore(optim::Optimizer& optimizer, const std::vector<torch::Tensor>& params,
                            const std::map<std::size_t, StateFields>& states) const {
  auto& own = optimizer.state();
  own.clear();
  for (const auto& [index, fields] : states) {
    if (index >= params.size() || !fits(fields))
      throw Error(fmt::format("optimizer type '{}' cannot restore state {} of {} parameters", name, index,
                              params.size()));
    own[state_key(params[index])] = restore_one(fields);
  }
}

bool OptimizerType::fits(const StateFields& state) const {
  for (const StateField& known : fields)
    if (known.required && !state.count(known.name)) return false;
  return std::all_of(state.begin(), state.end(), [&](const auto& entry) { return field(entry.first) != nullptr; });
}

const StateField* OptimizerType::field(const std::string& field_name) const {
  for (const StateField& known : fields)
    if (known.name == field_name) return &known;
  return nullptr;
}

const OptimizerType& optimizer_type(const std::string& type) {
  for (const OptimizerType& known : table())
    if (known.name == type) return known;
  throw Error(fmt::format("no optimizer type '{}' (types: {})", type, fmt::join(optimizer_type_names(), ", ")));
}

std::vector<std::string> optimizer_type_names() {
  std::vector<std::string> names;
  for (const OptimizerType& type : table()) names.push_back(type.name);
  return names;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const OptimizerSpec& spec, std::vector<torch::Tensor> params) {
  const OptimizerType& type = optimizer_type(spec.config.get_choice("type", optimizer_type_names()));
  const auto options = type.read_options(spec.config);
  if (implementation_of(*options) == StepImplementation::fused)
    for (const torch::Tensor& param : params)
      if (!param.is_cuda())
        spec.config.fail("implementation", fmt::format("\"fused\" runs on CUDA only; this phase's parameters are on {}",
                                                       param.device().str()));
  return type.build(*options, spec.lr.value_or(type.default_lr), std::move(params));
}

}  // namespace kiln::runner
