// The trainer's checkpointable state: capture (a copy) and strict restore.
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <torch/torch.h>

#include "train/optimizers.hpp"
#include "train/precision.hpp"
#include "train/state.hpp"
#include "train/trainer.hpp"

namespace kiln::runner {
namespace {

constexpr const char* kStep = "step";
constexpr const char* kLoaderBatch = "loader/batch";
constexpr const char* kTorchRng = "rng/torch";
/// The training GPU's generator (dropout on CUDA draws from it); absent from CPU runs.
constexpr const char* kCudaRng = "rng/cuda";
/// How many processes trained (absent: one). A resume needs as many: the loader's cursor counts
/// the run's batches, and each is world size x batch_size examples.
constexpr const char* kWorldSize = "distributed/world_size";

/// A copy on the CPU: checkpoints hold no device, so a GPU run resumes on the CPU and back.
torch::Tensor host_copy(const torch::Tensor& tensor) {
  return tensor.detach().to(torch::TensorOptions().device(torch::kCPU), /*non_blocking=*/false, /*copy=*/true);
}

/// A parameter index in "optim/<phase>/<index>/<field>": decimal digits, else nullopt.
std::optional<std::size_t> parse_index(const std::string& text) {
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoul(text);
}

/// Collects what does not fit, to report it all at once.
struct Mismatches {
  std::vector<std::string> missing, unexpected, shapes;

  void check(const std::string& name, const torch::Tensor& have, const torch::Tensor& want) {
    if (have.sizes() != want.sizes())
      shapes.push_back(fmt::format("{} (checkpoint {}, model {})", name, c10::str(have.sizes()), c10::str(want.sizes())));
    else if (have.scalar_type() != want.scalar_type())
      shapes.push_back(fmt::format("{} (checkpoint {}, model {})", name, c10::toString(have.scalar_type()),
                                   c10::toString(want.scalar_type())));
  }
  bool empty() const { return missing.empty() && unexpected.empty() && shapes.empty(); }
  std::vector<std::string> all() const {
    std::vector<std::string> out = missing;
    out.insert(out.end(), unexpected.begin(), unexpected.end());
    out.insert(out.end(), shapes.begin(), shapes.end());
    return out;
  }
  [[noreturn]] void raise(const std::string& what) const {
    throw CheckpointError(fmt::format("{} does not fit this experiment; {}", what, text()));
  }
  /// "missing: a, b; wrong shape or type: c (checkpoint [2], model [3])", at most 8 names a list.
  std::string text() const {
    std::vector<std::string> parts;
    auto list = [&](const char* label, const std::vector<std::string>& names) {
      if (names.empty()) return;
      constexpr std::size_t kShown = 8;  // a whole network's names would drown the message
      std::vector<std::string> shown(names.begin(), names.begin() + std::min(names.size(), kShown));
      std::string text = fmt::format("{} {}", label, fmt::join(shown, ", "));
      if (names.size() > kShown) text += fmt::format(" and {} more", names.size() - kShown);
      parts.push_back(text);
    };
    list("missing:", missing);
    list("unexpected:", unexpected);
    list("wrong shape or type:", shapes);
    return fmt::format("{}", fmt::join(parts, "; "));
  }
};

/// Every model tensor by its checkpoint name.
std::map<std::string, torch::Tensor> model_tensors(Model& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model.named_parameters()) out["model/" + item.key()] = item.value();
  for (const auto& item : model.named_buffers()) out["model/" + item.key()] = item.value();
  return out;
}

/// Adds the model's missing, unexpected and mis-shaped entries of `weights` to `bad`.
void check_model(const TensorMap& weights, const std::map<std::string, torch::Tensor>& tensors, Mismatches& bad) {
  for (const auto& [name, target] : tensors)
    if (!weights.contains(name)) bad.missing.push_back(name);
  for (const auto& [name, value] : weights) {
    if (name.rfind("model/", 0) != 0) continue;
    auto it = tensors.find(name);
    if (it == tensors.end()) bad.unexpected.push_back(name);
    else bad.check(name, value, it->second);
  }
}

/// Copies every entry of `weights` that fits into the model's tensors.
void copy_fitting(const TensorMap& weights, const std::map<std::string, torch::Tensor>& tensors) {
  for (const auto& [name, target] : tensors) {
    if (!weights.contains(name)) continue;
    const auto& value = weights.at(name);
    if (value.sizes() == target.sizes() && value.scalar_type() == target.scalar_type()) target.copy_(value);
  }
}

}  // namespace

TensorMap Trainer::capture_state() {
  // The values in flight first: a non-finite loss fails the run here, before its update is
  // saved, and the hooks' state (the EMA's loss averages) holds every step it counts.
  flush_values();
  torch::NoGradGuard no_grad;
  TensorMap state("checkpoint");
  state.set(kStep, torch::tensor(global_step_, torch::kLong));
  state.set(kLoaderBatch, torch::tensor(loader_->cursor().batch, torch::kLong));
  state.set(kTorchRng, at::detail::getDefaultCPUGenerator().get_state());
  if (world_.distributed()) state.set(kWorldSize, torch::tensor(static_cast<std::int64_t>(world_.size), torch::kLong));
  if (device_.is_cuda()) state.set(kCudaRng, at::globalContext().defaultGenerator(device_).get_state());
  for (const auto& [name, tensor] : model_tensors(*model_)) state.set(name, host_copy(tensor));
  for (Phase& phase : phases_) {
    for (const auto& [index, fields] : optimizer_type(phase.spec.type).capture(*phase.optimizer, phase.params))
      for (const auto& [field, tensor] : fields)
        state.set(fmt::format("optim/{}/{}/{}", phase.spec.name, index, field), host_copy(tensor));
    if (phase.scaler)
      for (const auto& [field, tensor] : phase.scaler->state())
        state.set(fmt::format("scaler/{}/{}", phase.spec.name, field), tensor);
    // The rate each group updates with next, as a hook may have set it: a resumed run goes on
    // with it. A double, so that it comes back exactly.
    for (std::size_t group = 0; group < phase.param_groups(); ++group)
      state.set(fmt::format("lr/{}/{}", phase.spec.name, group), torch::tensor(phase.lr(group), torch::kDouble).reshape({}));
    if (phase.schedule)
      for (const auto& [key, tensor] : phase.schedule->state())
        state.set(fmt::format("schedule/{}/{}", phase.spec.name, key), host_copy(tensor));
  }
  for (OrderedHook& hook : hooks_)
    for (const auto& [key, tensor] : hook.hook->state())
      state.set(fmt::format("hook/{}/{}", hook.name, key), host_copy(tensor));
  return state;
}

std::vector<std::string> load_model_weights(Model& model, const TensorMap& weights, bool strict) {
  torch::NoGradGuard no_grad;
  Mismatches bad;
  const auto tensors = model_tensors(model);
  check_model(weights, tensors, bad);
  if (strict && !bad.empty()) bad.raise("the checkpoint's model");
  copy_fitting(weights, tensors);
  return bad.all();
}

std::string model_misfit(Model& model, const TensorMap& weights) {
  Mismatches bad;
  check_model(weights, model_tensors(model), bad);
  return bad.empty() ? std::string() : bad.text();
}

std::vector<std::string> Trainer::load_model_weights(const TensorMap& weights, bool strict) {
  return runner::load_model_weights(*model_, weights, strict);
}

void Trainer::restore_state(const TensorMap& state) { restore_state(state, /*roll_back=*/true); }

void Trainer::restore_state(const TensorMap& state, bool roll_back) {
  torch::NoGradGuard no_grad;
  // A captured step refers to the optimizers' state tensors, which a restore replaces.
  drop_captured_step();
  Mismatches bad;
  const auto tensors = model_tensors(*model_);
  // Another world size first: nothing else about the checkpoint matters then.
  const std::int64_t world_size = state.contains(kWorldSize) ? state.at(kWorldSize).item<std::int64_t>() : 1;
  if (world_size != world_.size)
    throw CheckpointError(fmt::format(
        "the checkpoint of step {} was written by a run of {}, and this one has {}; resume it with as many (kiln run "
        "--nproc {}, or torchrun's WORLD_SIZE={}), or start another run with --fresh",
        state.contains(kStep) ? state.at(kStep).item<std::int64_t>() : -1,
        world_size == 1 ? std::string("one process") : fmt::format("{} processes", world_size),
        world_.size == 1 ? std::string("one") : fmt::format("{}", world_.size), world_size, world_size));
  check_model(state, tensors, bad);  // the model's mismatches first: they explain the rest
  for (const char* key : {kStep, kLoaderBatch, kTorchRng})
    if (!state.contains(key)) bad.missing.push_back(key);

  // Sort the checkpoint's entries by owner, checking names as we go.
  std::map<std::string, Phase*> phases;
  for (Phase& phase : phases_) phases[phase.spec.name] = &phase;
  std::map<std::string, OrderedHook*> hooks;
  for (OrderedHook& hook : hooks_) hooks[hook.name] = &hook;
  std::map<Phase*, std::map<std::size_t, StateFields>> optim_entries;
  std::map<OrderedHook*, TensorMap> hook_entries;
  std::map<Phase*, TensorMap> scaler_entries;
  std::map<Phase*, std::map<std::size_t, double>> lr_entries;
  std::map<Phase*, TensorMap> schedule_entries;
  for (const auto& [name, value] : state) {
    if (name.rfind("lr/", 0) == 0) {
      // Optional: a checkpoint written before rates were saved resumes at the configured one.
      const auto slash = name.find('/', 3);
      auto phase = slash == std::string::npos ? phases.end() : phases.find(name.substr(3, slash - 3));
      const std::optional<std::size_t> group =
          phase == phases.end() ? std::nullopt : parse_index(name.substr(slash + 1));
      if (!group || *group >= phase->second->param_groups() || value.numel() != 1 || !value.is_floating_point()) {
        bad.unexpected.push_back(name);
        continue;
      }
      const double lr = value.item<double>();
      if (!std::isfinite(lr) || lr < 0) {
        bad.shapes.push_back(fmt::format("{} (a learning rate of {})", name, lr));
        continue;
      }
      lr_entries[phase->second][*group] = lr;
      continue;
    }
    if (name.rfind("schedule/", 0) == 0) {
      // A schedule's own state: restored where the phase has a schedule, ignored where it has
      // none (the experiment dropped it); optional, as `lr/`.
      const auto slash = name.find('/', 9);
      auto phase = slash == std::string::npos ? phases.end() : phases.find(name.substr(9, slash - 9));
      if (phase == phases.end()) bad.unexpected.push_back(name);
      else if (phase->second->schedule)
        schedule_entries.try_emplace(phase->second, "schedule state").first->second.set(name.substr(slash + 1), value);
      continue;
    }
    if (name.rfind("scaler/", 0) == 0) {
      // fp16's loss scale: restored where the phase has a scaler, ignored where it has none (a
      // checkpoint written at fp16 resumes at another precision, and the other way round).
      const auto slash = name.find('/', 7);
      auto phase = slash == std::string::npos ? phases.end() : phases.find(name.substr(7, slash - 7));
      if (phase == phases.end()) bad.unexpected.push_back(name);
      else scaler_entries.try_emplace(phase->second, "grad scaler state").first->second.set(name.substr(slash + 1), value);
      continue;
    }
    if (name.rfind("optim/", 0) == 0) {
      const auto first = name.find('/', 6), second = name.find('/', first + 1);
      auto phase = first == std::string::npos ? phases.end() : phases.find(name.substr(6, first - 6));
      if (phase == phases.end() || second == std::string::npos) {
        bad.unexpected.push_back(name);
        continue;
      }
      const std::optional<std::size_t> index = parse_index(name.substr(first + 1, second - first - 1));
      if (!index || *index >= phase->second->params.size()) {
        bad.unexpected.push_back(name);
        continue;
      }
      const std::string field = name.substr(second + 1);
      const StateField* known = optimizer_type(phase->second->spec.type).field(field);
      const torch::Tensor& param = phase->second->params[*index];
      if (known && known->param_shaped) bad.check(name, value, param);
      // The state lives where its parameter does.
      optim_entries[phase->second][*index][field] = known && known->param_shaped ? value.to(param.device()) : value;
    } else if (name.rfind("hook/", 0) == 0) {
      const auto slash = name.find('/', 5);
      auto hook = slash == std::string::npos ? hooks.end() : hooks.find(name.substr(5, slash - 5));
      if (hook == hooks.end()) {
        bad.unexpected.push_back(name);
        continue;
      }
      hook_entries.try_emplace(hook->second, "hook state").first->second.set(name.substr(slash + 1), value);
    } else if (name.rfind("model/", 0) != 0 && name != kStep && name != kLoaderBatch && name != kTorchRng &&
               name != kCudaRng && name != kWorldSize) {
      bad.unexpected.push_back(name);
    }
  }
  for (OrderedHook& hook : hooks_)
    if (!hook.hook->state().empty() && !hook_entries.count(&hook)) bad.missing.push_back("hook/" + hook.name);
  for (auto& [phase, entries] : optim_entries)
    for (const auto& [index, fields] : entries)
      if (!optimizer_type(phase->spec.type).fits(fields))
        bad.unexpected.push_back(fmt::format("optim/{}/{} (state of another optimizer type than {})",
                                             phase->spec.name, index, phase->spec.type));
  if (!bad.empty()) bad.raise("the checkpoint");

  // All or nothing: a hook that refuses its part puts everything back as it was, so that no
  // half-restored trainer is left (the model of one step with the hooks of another).
  std::optional<TensorMap> before;
  if (roll_back) before = capture_state();
  try {
    copy_fitting(state, tensors);
    global_step_ = state.at(kStep).item<std::int64_t>();
    loader_->seek({state.at(kLoaderBatch).item<std::int64_t>()});
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(state.at(kTorchRng));
    // A CPU run's checkpoint has no GPU generator state: a GPU run resumed from it keeps its seed's.
    if (device_.is_cuda() && state.contains(kCudaRng)) {
      at::Generator cuda_generator = at::globalContext().defaultGenerator(device_);
      cuda_generator.set_state(state.at(kCudaRng));
    }
    for (Phase& phase : phases_) {
      optimizer_type(phase.spec.type).restore(*phase.optimizer, phase.params, optim_entries[&phase]);
      if (phase.scaler && scaler_entries.count(&phase)) phase.scaler->load_state(scaler_entries.at(&phase));
      const std::map<std::size_t, double>& rates = lr_entries[&phase];
      for (std::size_t group = 0; group < phase.param_groups(); ++group) {
        auto rate = rates.find(group);
        phase.set_lr(rate != rates.end() ? rate->second : phase.base_lrs.at(group), group);
      }
      if (phase.schedule && schedule_entries.count(&phase)) phase.schedule->load_state(schedule_entries.at(&phase));
    }
    for (auto& [hook, entries] : hook_entries) hook->hook->load_state(entries);
    for (OrderedHook& hook : hooks_) hook.hook->after_restore(*this);
  } catch (...) {
    if (before) restore_state(*before, /*roll_back=*/false);
    throw;
  }
  // The steps after it run again: what they record replaces what they recorded before.
  std::lock_guard<std::mutex> lock(summaries_mutex_);
  for (const auto& [tag, latest] : latest_summaries_)
    summaries_redone_through_ = std::max(summaries_redone_through_, latest.step);
}

}  // namespace kiln::runner
