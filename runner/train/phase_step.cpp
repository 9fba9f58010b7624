// One training step: each phase's micro-batches forwarded, their gradients summed, the
// before_update hooks, the optimizer's clipping and its update; the phases as hooks reach them.
#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

#include "train/distributed.hpp"
#include "train/error_text.hpp"
#include "train/multi_tensor.hpp"
#include "train/non_finite_policy.hpp"
#include "train/precision.hpp"
#include "train/step_graph.hpp"
#include "train/trainer.hpp"
#include "train/value_names.hpp"

namespace kiln::runner {

using detail::grad_norm_entry;
using detail::loss_entry;
using detail::total_entry;

namespace {

void check_scalar(const torch::Tensor& value, const std::string& loss) {
  if (!value.defined() || value.numel() != 1)
    throw Error(fmt::format("loss '{}' returned {}; a loss must return a scalar", loss,
                            value.defined() ? "a tensor of shape " + c10::str(value.sizes()) : "no tensor"));
}

/// `call()` (a model's forward, a loss's compute), an exception from it prefixed with where it
/// happened ("in loss 'huber' (phase 'adam'): "; a failed run's message puts its step in front,
/// "step 30: in loss ..."). kiln's errors keep their type; a
/// torch error becomes an Error with its text and no C++ backtrace; so does any other
/// exception but running out of memory.
template <class Call>
auto in_plugin(const char* kind, const std::string& name, const Step& step, Call&& call) -> decltype(call()) {
  const auto where = [&] {
    return fmt::format("in {} '{}' (phase '{}'): ", kind, name, step.phase());
  };
  try {
    return call();
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const ConfigError& e) {
    // what() is "file:line:column: message": the context goes after the position.
    std::string message = e.what();
    if (const std::string at = e.where().str() + ": "; !e.where().str().empty() && message.rfind(at, 0) == 0)
      message.erase(0, at.size());
    throw ConfigError(e.where(), where() + message);
  } catch (const CheckpointError& e) {
    throw CheckpointError(where() + e.what());
  } catch (const PluginError& e) {
    throw PluginError(where() + e.what());
  } catch (const StoreError& e) {
    throw StoreError(where() + e.what(), e.code());
  } catch (const std::exception& e) {
    // kiln::Error and c10::Error (and a plugin's own exception types) alike.
    throw Error(where() + error_text(e));
  }
}

/// `value` as the type a sum of micro-batches' values is kept in: at least float.
torch::Tensor for_sum(const torch::Tensor& value) {
  const auto type = at::promote_types(value.scalar_type(), at::kFloat);
  return value.scalar_type() == type ? value : value.to(type);
}

}  // namespace

std::size_t Phase::param_groups() const { return optimizer->param_groups().size(); }

double Phase::lr(std::size_t group) const {
  const auto& groups = optimizer->param_groups();
  if (group >= groups.size())
    throw Error(fmt::format("phase '{}' has no parameter group {} (it has {})", spec.name, group, groups.size()));
  return groups[group].options().get_lr();
}

void Phase::set_lr(double lr, std::optional<std::size_t> group) {
  if (!std::isfinite(lr) || lr < 0)
    throw Error(fmt::format("phase '{}': a learning rate must be a finite number, 0 or more, got {}", spec.name, lr));
  auto& groups = optimizer->param_groups();
  if (group && *group >= groups.size())
    throw Error(fmt::format("phase '{}' has no parameter group {} (it has {})", spec.name, *group, groups.size()));
  for (std::size_t g = 0; g < groups.size(); ++g)
    if (!group || g == *group) groups[g].options().set_lr(lr);
}

std::vector<std::pair<std::string, double>> Trainer::check_losses() {
  torch::NoGradGuard no_grad;
  const Batch batch = to_device(loader_->next());
  std::vector<std::pair<std::string, double>> values;
  for (Phase& phase : phases_) {
    Step step(*this, global_step_);
    step.set_phase(phase.spec.name);
    AutocastScope autocast(device_, precision_);
    const Outputs outputs = in_plugin("model", model_name_, step, [&] { return model_->forward(batch, step); });
    for (const auto& [index, weight] : phase.losses) {
      const NamedLoss& named = losses_[index];
      const torch::Tensor value =
          in_plugin("loss", named.name, step, [&] { return named.loss->compute(outputs, batch, step); });
      check_scalar(value, named.name);
      values.emplace_back(phase.spec.name + "/" + named.name, value.item<double>());
    }
  }
  return values;
}

bool Trainer::nan_check_deferred() const {
  if (value_lag_ == 0) return false;
  const NonFinitePolicy* policy = non_finite_policy();
  return !(policy && policy->skip_non_finite());
}

bool Trainer::run_phase(Phase& phase, const std::vector<Batch>& micro_batches, Step& step) {
  step.set_phase(phase.spec.name);
  const auto phase_index = static_cast<std::size_t>(&phase - phases_.data());
  const std::size_t count = micro_batches.size();
  Outputs outputs;
  std::vector<torch::Tensor> values(phase.losses.size());  // each loss, summed over the micro-batches
  torch::Tensor total;                                     // the weighted total, summed likewise
  std::vector<torch::Tensor> grads;                        // of total / N, summed likewise
  // Several processes: the averaging of the phase's gradients and losses over the ranks.
  const std::unique_ptr<ProcessGroup::Averaging> averaging = group_ ? group_->begin_average(phase.params) : nullptr;
  for (std::size_t micro = 0; micro < count; ++micro) {
    step.set_micro_batch(static_cast<int>(micro));
    const Batch& batch = micro_batches[micro];
    torch::Tensor micro_total;
    {
      // bf16/fp16: the forward pass and the losses under autocast, the backward pass outside it.
      AutocastScope autocast(device_, precision_);
      outputs = in_plugin("model", model_name_, step, [&] { return model_->forward(batch, step); });
      for (std::size_t l = 0; l < phase.losses.size(); ++l) {
        const auto& [index, weight] = phase.losses[l];
        const NamedLoss& named = losses_[index];
        torch::Tensor value =
            in_plugin("loss", named.name, step, [&] { return named.loss->compute(outputs, batch, step); });
        check_scalar(value, named.name);
        value = value.reshape({});
        torch::Tensor weighted = weight == 1.0 ? value : value * weight;
        micro_total = micro_total.defined() ? micro_total + weighted : weighted;
        if (count == 1) values[l] = value.detach();
        else values[l] = values[l].defined() ? values[l] + for_sum(value.detach()) : for_sum(value.detach());
      }
    }
    if (count == 1) total = micro_total.detach();
    else total = total.defined() ? total + for_sum(micro_total.detach()) : for_sum(micro_total.detach());
    // Gradients for this phase's parameters only (the other networks' weights get none), one
    // micro-batch's graph at a time: its memory goes before the next forward pass.
    torch::Tensor objective = count == 1 ? micro_total : micro_total / static_cast<double>(count);
    if (phase.scaler) objective = phase.scaler->scale(objective);
    if (group_ && group_->overlap() && micro + 1 == count) {
      // Several processes, the last micro-batch: backward() into this phase's parameters alone,
      // whose hooks hand each gradient (plus the earlier micro-batches' sum) to the averaging
      // as the pass makes it, so that a complete bucket travels while the pass goes on.
      std::vector<torch::Tensor> earlier = grads;
      earlier.resize(phase.params.size());
      gradient_phase_ = phase_index;
      gradient_ready_ = [&](std::size_t i, torch::Tensor grad) {
        averaging->ready(i, earlier[i].defined() ? earlier[i] + grad : grad);
      };
      struct Disarm {
        std::function<void(std::size_t, torch::Tensor)>& ready;
        ~Disarm() { ready = nullptr; }
      } disarm{gradient_ready_};
      for (torch::Tensor& param : phase.params) param.mutable_grad() = torch::Tensor();
      torch::autograd::backward({objective}, /*grad_tensors=*/{}, /*retain_graph=*/false, /*create_graph=*/false,
                                phase.params);
      for (torch::Tensor& param : phase.params) param.mutable_grad() = torch::Tensor();
      grads = std::move(earlier);  // what finish() takes for a parameter the pass did not reach
      continue;
    }
    std::vector<torch::Tensor> micro_grads =
        torch::autograd::grad({objective}, phase.params, /*grad_outputs=*/{}, /*retain_graph=*/false,
                              /*create_graph=*/false, /*allow_unused=*/true);
    if (grads.empty()) {
      grads = std::move(micro_grads);
    } else {
      for (std::size_t i = 0; i < grads.size(); ++i)
        if (micro_grads[i].defined()) grads[i] = grads[i].defined() ? grads[i].add_(micro_grads[i]) : micro_grads[i];
    }
  }
  // What hooks, summaries and the finiteness check see: the means over the micro-batches.
  if (count > 1) {
    for (torch::Tensor& value : values) value = value / static_cast<double>(count);
    total = total / static_cast<double>(count);
  }
  // Several processes: the gradients and the losses averaged over the ranks, so that every
  // rank updates alike and decides alike about a non-finite loss.
  if (averaging) {
    values.push_back(total);
    averaging->finish(grads, values);
    total = values.back();
    values.pop_back();
  }
  for (std::size_t l = 0; l < phase.losses.size(); ++l) {
    const std::size_t index = phase.losses[l].first;
    step.set_loss(losses_[index].name, values[l]);
    readout_->add(loss_entry(phase_index, index), values[l]);
  }
  readout_->add(total_entry(phase_index), total);
  // On CUDA with on_nan = "stop" the check is the collected values' (take_values), a step
  // late, without a wait here. Else one read of the scalar before the update: cheaper than
  // torch::isfinite, which builds a tensor and dispatches; on CUDA ("skip") a wait per phase.
  if (!nan_check_deferred() && !std::isfinite(total.item<double>())) {
    std::vector<std::string> bad;
    for (const auto& [index, weight] : phase.losses)
      if (!std::isfinite(step.losses().at(losses_[index].name).item<double>())) bad.push_back(losses_[index].name);
    const std::string what = fmt::format("step {}, phase {}: loss {} is not finite", step.global_step(),
                                         phase.spec.name, fmt::join(bad, ", "));
    const NonFinitePolicy* policy = non_finite_policy();
    if (!policy || !policy->skip_non_finite()) {
      event("nan", what);
      throw Error(what + " (on_nan = \"stop\")");
    }
    event("nan", what + "; skipping the step's updates (on_nan = \"skip\")");
    return false;
  }
  for (std::size_t i = 0; i < grads.size(); ++i) phase.params[i].mutable_grad() = grads[i];
  // fp16: an overflowed gradient skips this phase's update and lowers the scale, as
  // torch.amp.GradScaler does; the step goes on.
  const bool update = !phase.scaler || phase.scaler->unscale(phase.params);
  if (update) {
    step.set_parameters(&phase.params);
    each_hook("before_update", [&](Hook& hook) { hook.before_update(step); });
    step.set_parameters(nullptr);
    clip_gradients(phase, phase_index);
    phase.optimizer->step();
  }
  if (phase.scaler) phase.scaler->update(update);
  step.set_outputs(std::move(outputs));
  each_hook("after_phase", [&](Hook& hook) { hook.after_phase(step); });
  return true;
}

bool Trainer::grad_norm_wanted(const Phase& phase) const {
  return phase.clip_norm || phase.clip_value || grad_norms_requested_;
}

void Trainer::clip_gradients(Phase& phase, std::size_t phase_index) {
  if (!grad_norm_wanted(phase)) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (torch::Tensor& param : phase.params)
    if (param.grad().defined()) grads.push_back(param.mutable_grad());
  if (grads.empty()) return;
  // As torch.nn.utils.clip_grad_norm_: the L2 norm of every gradient's norm, and a factor
  // max_norm / (norm + 1e-6) clamped to 1 multiplied in on the device, never read here.
  std::vector<torch::Tensor> norms;
  norms.reserve(grads.size());
  for (const torch::Tensor& grad : grads) norms.push_back(grad.norm(2).to(torch::kFloat));
  const torch::Tensor norm = torch::stack(norms).norm(2);
  if (grad_norm_wanted(phase)) readout_->add(grad_norm_entry(phase_index), norm);
  if (phase.clip_norm) {
    const torch::Tensor factor = (*phase.clip_norm / (norm + 1e-6)).clamp_max(1.0);
    for (torch::Tensor& grad : grads) grad.mul_(factor.to(grad.scalar_type()));
  }
  if (phase.clip_value)
    for (torch::Tensor& grad : grads) grad.clamp_(-*phase.clip_value, *phase.clip_value);
}

void Trainer::apply_schedules(std::int64_t step) {
  for (Phase& phase : phases_) {
    if (!phase.schedule) continue;
    auto& groups = phase.optimizer->param_groups();
    for (std::size_t g = 0; g < groups.size(); ++g)
      groups[g].options().set_lr(phase.schedule->lr(step, phase.base_lrs.at(g), *this));
  }
}

void Trainer::train_step(const Batch& batch, Step& step) { train_step(std::vector<Batch>{batch}, step); }

void Trainer::train_step(const std::vector<Batch>& micro_batches, Step& step) {
  if (micro_batches.empty()) throw Error("a training step needs at least one batch");
  step.set_micro_batches(static_cast<int>(micro_batches.size()));
  // The schedules' rates first: a rate a hook sets from here on holds for this step.
  apply_schedules(step.global_step());
  each_hook("before_step", [&](Hook& hook) { hook.before_step(step); });
  bool complete = true;
  if (graphed_) {
    complete = graphed_step(micro_batches.front(), step);  // one batch: the trainer refused accumulate
  } else {
    for (Phase& phase : phases_)
      if (!(complete = run_phase(phase, micro_batches, step))) break;
  }
  step.set_phase("");
  // BatchNorm's running statistics: each rank's own batches move them, so they are averaged
  // (every rank then holds the same model, and a checkpoint of rank 0's resumes any rank).
  if (group_ && !float_buffers_.empty()) group_->average(float_buffers_);
  // The step's updates are done: hooks after it (the saver among them) see it counted. A
  // skipped step counts too, but its non-finite losses never reach the hooks (the EMA).
  ++global_step_;
  if (!complete && readout_->gathering()) incomplete_steps_.insert(step.global_step());
  readout_->end_step(step.global_step());
  // This step's values on the CPU; on CUDA the previous step's, whose copy has landed or
  // is waited for while this step's kernels run.
  take_values(readout_->collect(value_lag_), /*failing=*/false);
  // Each listener gets its values after its own after_step(), which decided what is due.
  each_hook("after_step", [&](Hook& hook) {
    if (complete) hook.after_step(step);
    deliver_to(hook);
  });
  if (recorder_) recorder_->check();
}

namespace {

/// The phase's optimizer as graph mode sees it: an Error when its step cannot be replayed.
MultiTensorStep& replayable(Phase& phase) {
  auto* multi = dynamic_cast<MultiTensorStep*>(phase.optimizer.get());
  if (!multi || !multi->capturable())
    throw Error(fmt::format("cuda_graphs: phase '{}''s optimizer step ran as \"{}\", which cannot be replayed from a "
                            "CUDA graph (only adam's and adamw's fused step, on a LibTorch 2.2 or later)",
                            phase.spec.name,
                            multi ? std::string(step_implementation_name(multi->last())) : std::string("its own")));
  return *multi;
}

std::string shape_text(const torch::Tensor& tensor) {
  return fmt::format("{} {}", c10::str(tensor.sizes()), c10::toString(tensor.scalar_type()));
}

}  // namespace

bool Trainer::graphed_step(const Batch& batch, Step& step) {
  CapturedStep& graphed = *graphed_;
  if (graphed.graph.captured()) {
    replay_step(batch, step);
    return true;
  }
  if (graphed.eager_steps < CapturedStep::kWarmupSteps) {
    ++graphed.eager_steps;
    const std::vector<Batch> micro_batches{batch};
    for (Phase& phase : phases_)
      if (!run_phase(phase, micro_batches, step)) return false;
    return true;
  }
  capture_step(batch, step);
  return true;
}

void Trainer::capture_step(const Batch& batch, Step& step) {
  CapturedStep& graphed = *graphed_;
  for (Phase& phase : phases_) {
    MultiTensorStep& optimizer = replayable(phase);
    optimizer.set_graph_mode(true);
    optimizer.load_rates();
    graphed.optimizers.push_back(&optimizer);
  }
  // The batch, fresh from the copy to the device, becomes the memory the graph reads.
  graphed.input = batch;
  const std::vector<Batch> micro_batches{graphed.input};
  const std::size_t before = readout_->gathered();  // a before_step hook's tensor summaries stay out
  try {
    graphed.graph.capture([&] {
      for (Phase& phase : phases_) run_phase(phase, micro_batches, step);
    });
  } catch (...) {
    drop_captured_step();
    throw;
  }
  // What the host reads of every replay: refilled in place by each.
  graphed.readout = readout_->take_since(before);
  graphed.losses = step.losses();
  graphed.outputs = step.outputs();
  // Capturing queued nothing: the captured step's own work is its first replay.
  graphed.graph.replay();
  for (const auto& [name, value] : graphed.readout) readout_->add(name, value);
  event("cuda_graphs", fmt::format("step {} captured as one CUDA graph after {} eager steps; the steps after it "
                                   "replay it",
                                   step.global_step(), graphed.eager_steps));
}

void Trainer::replay_step(const Batch& batch, Step& step) {
  CapturedStep& graphed = *graphed_;
  // The batch into the graph's input, on the device: a replay reads the same memory, so every
  // batch must be shaped as the captured one.
  for (const auto& [name, tensor] : batch)
    if (!graphed.input.contains(name))
      throw Error(fmt::format("cuda_graphs: the batch has '{}', which the captured step's batch did not (it had {})",
                              name, fmt::join(graphed.input.names(), ", ")));
  for (const auto& [name, input] : graphed.input) {
    if (!batch.contains(name))
      throw Error(fmt::format("cuda_graphs: the batch has no '{}', which the captured step's batch had", name));
    const torch::Tensor& tensor = batch.at(name);
    if (input.defined() != tensor.defined() ||
        (input.defined() && (input.sizes() != tensor.sizes() || input.scalar_type() != tensor.scalar_type())))
      throw Error(fmt::format("cuda_graphs: batch tensor '{}' is {} where the captured step's was {}; a CUDA graph "
                              "replays fixed shapes (data.drop_last = true keeps every batch full)",
                              name, tensor.defined() ? shape_text(tensor) : "undefined",
                              input.defined() ? shape_text(input) : "undefined"));
    if (input.defined()) input.copy_(tensor, /*non_blocking=*/true);
  }
  for (MultiTensorStep* optimizer : graphed.optimizers) optimizer->load_rates();
  graphed.graph.replay();
  for (MultiTensorStep* optimizer : graphed.optimizers) optimizer->replayed();
  for (const auto& [name, value] : graphed.losses) step.set_loss(name, value);
  step.set_outputs(graphed.outputs);
  for (const auto& [name, value] : graphed.readout) readout_->add(name, value);
}

void Trainer::drop_captured_step() {
  if (!graphed_) return;
  for (MultiTensorStep* optimizer : graphed_->optimizers) optimizer->set_graph_mode(false);
  graphed_->reset();
}

}  // namespace kiln::runner
