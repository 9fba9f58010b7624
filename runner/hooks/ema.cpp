// The built-in EMA hook: exponential moving averages of parameter groups and losses.
#include "hooks/ema.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "config/experiment.hpp"  // fail_unknown_name
#include "document.hpp"
#include "kiln/model.hpp"

namespace kiln::runner {
namespace {

std::string shape_of(const torch::Tensor& t) { return c10::str(t.sizes()); }

std::string names_of(const std::vector<std::string>& names) { return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")); }

/// Exchanges the contents of two tensors of the same shape. Contiguous CPU tensors swap
/// their bytes in place (each byte read and written once, nothing allocated); others go
/// through `scratch`, grown on demand and kept for the next swap.
void exchange(torch::Tensor& a, torch::Tensor& b, torch::Tensor& scratch) {
  if (a.device().is_cpu() && b.device().is_cpu() && a.scalar_type() == b.scalar_type() && a.is_contiguous() &&
      b.is_contiguous()) {
    auto* pa = static_cast<std::uint8_t*>(a.data_ptr());
    auto* pb = static_cast<std::uint8_t*>(b.data_ptr());
    const auto bytes = static_cast<std::int64_t>(a.nbytes());
    at::parallel_for(0, bytes, /*grain_size=*/1 << 16, [&](std::int64_t begin, std::int64_t end) {
      std::swap_ranges(pa + begin, pa + end, pb + begin);
    });
    // Writes through data_ptr() bypass autograd's version check; keep it honest.
    a.unsafeGetTensorImpl()->bump_version();
    b.unsafeGetTensorImpl()->bump_version();
    return;
  }
  const auto bytes = static_cast<std::int64_t>(a.nbytes());
  if (!scratch.defined() || scratch.numel() < bytes || scratch.device() != a.device())
    scratch = torch::empty({bytes}, torch::TensorOptions(torch::kByte).device(a.device()));
  torch::Tensor tmp = scratch.narrow(0, 0, bytes).view(a.scalar_type()).view(a.sizes());
  tmp.copy_(a);
  a.copy_(b);
  b.copy_(tmp);
}

}  // namespace

Ema::Options Ema::Options::read(const Config& table, const std::vector<std::string>& declared,
                                const Supervisor::Options& supervisor) {
  Options options;
  options.config = table;
  options.decay = table.get_in_range<double>("decay", 0.999, 0, 1, Bounds::closed_open);
  options.num_updates = table.get_or<bool>("num_updates", false);
  options.zero_debias = table.get_or<bool>("zero_debias", false);
  // ema/<loss> beside loss/<loss>: the averages are kept every step, written when the
  // losses are (they were 89% of a default pix2pix run's summary rows when written every step).
  options.summary_every_steps = supervisor.summary_every_steps;
  options.summary_every_secs = supervisor.summary_every_secs;
  options.params = table.get_or<std::vector<std::string>>("params", {});
  options.losses = table.get_or<std::vector<std::string>>("losses", {});
  for (const std::string& loss : options.losses)
    if (std::find(declared.begin(), declared.end(), loss) == declared.end())
      fail_unknown_name(table, "losses", "loss", loss, declared);
  if (options.params.empty() && options.losses.empty())
    table.fail("", "averages nothing: name parameter groups in `params` and/or losses in `losses`");
  return options;
}

Ema::Ema(Options options)
    : options_(std::move(options)), summaries_(options_.summary_every_steps, options_.summary_every_secs) {
  for (const std::string& name : options_.losses) losses_.push_back({name});
}

double Ema::decay_at(std::int64_t global_step) const {
  if (!options_.num_updates) return options_.decay;
  const double n = static_cast<double>(global_step);
  return std::min(options_.decay, (1.0 + n) / (10.0 + n));
}

void Ema::begin(RunContext& run) {
  // A second run() of the same trainer continues the averages it has.
  if (!resolved_) {
    resolve(run.model());
    resolved_ = true;
    shadows_fresh_ = true;
  }
  if (pending_state_) {
    TensorMap state = std::move(*pending_state_);
    pending_state_.reset();
    apply_state(state);
  }
}

void Ema::resolve(Model& model) {
  if (options_.params.empty()) return;  // losses only: no weights, no buffers
  auto groups = model.parameter_groups();
  groups.emplace("all", model.parameters());
  std::vector<std::string> group_names;
  for (const auto& [name, params] : groups) group_names.push_back(name);

  std::set<const c10::TensorImpl*> selected;
  for (const std::string& name : options_.params) {
    auto group = groups.find(name);
    if (group == groups.end()) {
      std::string message = fmt::format("the model has no parameter group '{}'", name);
      message += kiln::detail::did_you_mean(name, group_names);
      options_.config.fail("params", message + fmt::format(" (groups: {})", fmt::join(group_names, ", ")));
    }
    for (const torch::Tensor& p : group->second)
      if (p.defined()) selected.insert(p.unsafeGetTensorImpl());
  }

  // Walk named_parameters() so shadows have names and a stable order; a parameter in
  // several groups is met once.
  for (const auto& item : model.named_parameters()) {
    const torch::Tensor& p = item.value();
    if (p.defined() && selected.erase(p.unsafeGetTensorImpl()))
      params_.push_back({"params/" + item.key(), p, p.detach().clone()});
  }
  if (!selected.empty())
    throw Error(fmt::format("ema: {} tensor(s) of parameter groups {} are not parameters of the model",
                            selected.size(), names_of(options_.params)));
  for (const auto& item : model.named_buffers())
    if (item.value().defined()) buffers_.push_back({"buffers/" + item.key(), item.value(), item.value().detach().clone()});
}

void Ema::reset_shadows_to_model() {
  torch::NoGradGuard no_grad;
  for (Shadowed& p : params_) p.shadow.copy_(p.value);
  for (Shadowed& b : buffers_) b.shadow.copy_(b.value);
}

void Ema::before_step(Step& step) {
  // TF starts a shadow at the variable's initialized value. Taking it here rather than in
  // begin() also counts weights that a later hook's begin() loaded (a restore, init_from).
  if (shadows_fresh_) reset_shadows_to_model();
  shadows_fresh_ = false;
}

void Ema::after_step(Step& step) {
  if (!resolved_) throw Error("ema: after_step() before begin()");
  if (swapped_) throw Error("ema: a step ran while the averaged weights were swapped into the model");
  shadows_fresh_ = false;  // without before_step(), the copy begin() took stands
  const double decay = decay_at(step.global_step());
  const double weight = 1.0 - decay;
  {
    torch::NoGradGuard no_grad;
    // mul_ then add_: TF's `shadow -= (shadow - value) * (1 - decay)`, up to rounding.
    if (!params_.empty() && params_.front().shadow.is_cuda()) {
      // On CUDA as multi-tensor ops: a few kernels for all the shadows instead of two per
      // tensor (not yet timed on a GPU).
      std::vector<torch::Tensor> shadows, values;
      shadows.reserve(params_.size());
      values.reserve(params_.size());
      for (const Shadowed& p : params_) {
        shadows.push_back(p.shadow);
        values.push_back(p.value);
      }
      at::_foreach_mul_(shadows, decay);
      at::_foreach_add_(shadows, values, weight);
    } else {
      // On the CPU tensor by tensor, each still in cache for its add_: 1.35-1.4x a plain copy
      // (bench/ema_update.cpp), where the foreach ops (every mul_, then every add_) took
      // 1.65x and LibTorch 1.13's lerp_ (scalar code) 2.1x.
      for (Shadowed& p : params_) p.shadow.mul_(decay).add_(p.value, weight);
    }
    for (Shadowed& b : buffers_) b.shadow.copy_(b.value);
  }
  if (losses_.empty()) return;
  const std::int64_t k = step.global_step();
  const bool write = summaries_.due(k) || k + 1 >= step.run().max_steps() || step.run().stop_requested();
  loss_steps_.emplace_back(k, write);
  if (!hands_out_values(step.run())) on_values(values_of(step), step.run());
}

void Ema::on_values(const StepScalars& values, RunContext& run) {
  while (!loss_steps_.empty() && loss_steps_.front().first < values.step) loss_steps_.pop_front();
  // Values of a step whose after_step() did not run here (the run failed in between) count for nothing.
  if (loss_steps_.empty() || loss_steps_.front().first != values.step) return;
  const bool write = loss_steps_.front().second;
  loss_steps_.pop_front();
  const double decay = decay_at(values.step);
  const double weight = 1.0 - decay;
  for (LossAverage& loss : losses_) {
    const auto found = std::find_if(values.values.begin(), values.values.end(),
                                    [&](const auto& value) { return value.first == loss.name; });
    if (found == values.values.end()) {
      std::vector<std::string> names;
      for (const auto& [name, value] : values.values) names.push_back(name);
      throw Error(fmt::format("no tensor '{}' in losses (has: {})", loss.name,
                              names.empty() ? "nothing" : fmt::format("{}", fmt::join(names, ", "))));
    }
    const double value = found->second;
    if (options_.zero_debias) {
      // TF's assign_moving_average(zero_debias=True), in float64.
      loss.biased -= (loss.biased - value) * weight;
      loss.local_step += 1;
      loss.shadow = loss.biased / (1.0 - std::pow(decay, static_cast<double>(loss.local_step)));
    } else {
      loss.shadow -= (loss.shadow - value) * weight;
    }
    if (write) run.summary("ema/" + loss.name, values.step, loss.shadow);
  }
}

TensorMap Ema::state() const {
  if (!resolved_ && pending_state_) return *pending_state_;
  TensorMap state("ema state");
  // While swapped, the averages are in the model.
  for (const std::vector<Shadowed>* list : {&params_, &buffers_})
    for (const Shadowed& s : *list) state.set(s.key, (swapped_ ? s.value : s.shadow).detach());
  for (const LossAverage& loss : losses_) {
    state.set("losses/" + loss.name, torch::scalar_tensor(loss.shadow, torch::kFloat64));
    if (options_.zero_debias) {
      state.set("biased/" + loss.name, torch::scalar_tensor(loss.biased, torch::kFloat64));
      state.set("local_step/" + loss.name, torch::scalar_tensor(loss.local_step, torch::kInt64));
    }
  }
  return state;
}

void Ema::load_state(const TensorMap& state) {
  if (swapped_) throw Error("ema: cannot load state while the averaged weights are swapped into the model");
  if (!resolved_) {
    pending_state_ = state;  // the parameter names are known once begin() has the model
    return;
  }
  apply_state(state);
}

void Ema::apply_state(const TensorMap& state) {
  std::map<std::string, std::vector<std::int64_t>> expected;
  for (const std::vector<Shadowed>* list : {&params_, &buffers_})
    for (const Shadowed& s : *list) expected[s.key] = s.shadow.sizes().vec();
  for (const LossAverage& loss : losses_) {
    expected["losses/" + loss.name] = {};
    if (options_.zero_debias) {
      expected["biased/" + loss.name] = {};
      expected["local_step/" + loss.name] = {};
    }
  }

  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [key, sizes] : expected) {
    if (!state.contains(key)) {
      missing.push_back(key);
    } else if (state.at(key).sizes().vec() != sizes) {
      mismatched.push_back(fmt::format("{} is {} in the checkpoint, {} here", key, shape_of(state.at(key)),
                                       c10::str(c10::IntArrayRef(sizes))));
    }
  }
  for (const auto& [key, value] : state)
    if (!expected.count(key)) unexpected.push_back(key);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::vector<std::string> parts;
    if (!missing.empty()) parts.push_back("missing " + names_of(missing));
    if (!unexpected.empty()) parts.push_back("unexpected " + names_of(unexpected));
    if (!mismatched.empty()) parts.push_back("shape of " + names_of(mismatched));
    throw CheckpointError(fmt::format("ema state does not fit this experiment: {}", fmt::join(parts, "; ")));
  }

  torch::NoGradGuard no_grad;
  for (std::vector<Shadowed>* list : {&params_, &buffers_})
    for (Shadowed& s : *list) s.shadow.copy_(state.at(s.key));
  for (LossAverage& loss : losses_) {
    loss.shadow = state.at("losses/" + loss.name).item<double>();
    if (options_.zero_debias) {
      loss.biased = state.at("biased/" + loss.name).item<double>();
      loss.local_step = state.at("local_step/" + loss.name).item<std::int64_t>();
    }
  }
  shadows_fresh_ = false;
}

void Ema::swap_weights() {
  if (!resolved_) throw Error("ema: swap_weights() before begin()");
  torch::NoGradGuard no_grad;
  for (std::vector<Shadowed>* list : {&params_, &buffers_})
    for (Shadowed& s : *list) exchange(s.value, s.shadow, swap_scratch_);
  swapped_ = !swapped_;
}

const Ema::Shadowed* Ema::find_param(const std::string& name) const {
  const std::string key = "params/" + name;
  for (const Shadowed& p : params_)
    if (p.key == key) return &p;
  return nullptr;
}

const torch::Tensor& Ema::shadow(const std::string& name) const {
  if (const Shadowed* p = find_param(name)) return p->shadow;
  std::vector<std::string> names;
  for (const Shadowed& p : params_) names.push_back(p.key.substr(std::string("params/").size()));
  throw Error(fmt::format("ema: parameter '{}' is not averaged (averaged: {})", name, names_of(names)));
}

double Ema::loss_shadow(const std::string& name) const {
  for (const LossAverage& loss : losses_)
    if (loss.name == name) return loss.shadow;
  throw Error(fmt::format("ema: loss '{}' is not averaged (averaged: {})", name, names_of(options_.losses)));
}

}  // namespace kiln::runner
