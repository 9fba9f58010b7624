// The training loop: phases in `after` order, gradients for each phase's group only.
#include "train/trainer.hpp"

#include <cmath>
#include <dlfcn.h>

#include <algorithm>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <torch/torch.h>

#include "config/cores.hpp"
#include "config/run_paths.hpp"
#include "plugins/plugin_host.hpp"
#include "train/non_finite_policy.hpp"
#include "train/optimizers.hpp"
#include "train/precision.hpp"

namespace kiln::runner {

Trainer::Trainer(const ExperimentSpec& spec, PluginHost& host)
    : max_steps_(spec.max_steps) {
  // threads = 0: the cores this process may use (taskset, a container's quota), not the machine's.
  const int threads = spec.threads > 0 ? spec.threads : usable_cores();
  at::set_num_threads(threads);
  // OpenBLAS's own thread pool fights LibTorch's OpenMP threads for the same cores: on 2
  // cores pix2pix ran 2x slower and erratically. BLAS runs single-threaded inside ATen's
  // parallel regions instead (150 pix2pix steps: 9 s, against 26 s and up).
  if (auto* set_blas_threads = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set_blas_threads(1);
  // Seeds the CUDA generators too, where there are any.
  torch::manual_seed(spec.seed);
  const Config experiment = spec.root.table("experiment");
  device_ = resolve_device(spec.device, experiment, "device");
  precision_ = resolve_precision(spec.precision, device_, experiment, "precision");
  set_math_modes(device_, precision_);

  // Built on the CPU from the CPU generator, then moved: the same seed gives the same initial
  // weights on any device.
  model_ = host.make_model(spec.model.plugin, spec.model.library, spec.model.config);
  model_->to(device_);
  model_->train(true);
  for (const LossSpec& loss : spec.losses)
    losses_.push_back({loss.name, host.make_loss(loss.source.plugin, loss.source.library, loss.source.config)});
  dataset_ = host.make_dataset(spec.data.source.plugin, spec.data.source.library, spec.data.source.config);
  if (spec.eval_data)
    eval_dataset_ = host.make_dataset(spec.eval_data->plugin, spec.eval_data->library, spec.eval_data->config);
  build_phases(spec);
  for (const HookSpec& hook : spec.hooks) {
    auto made = host.make_hook(hook.source.plugin, hook.source.library, hook.source.config);
    const int priority = hook.priority ? *hook.priority : made->default_priority();
    add_hook(hook.name, std::move(made), priority);
  }

  LoaderOptions options;
  options.batch_size = spec.data.batch_size;
  options.shuffle = spec.data.shuffle;
  options.drop_last = spec.data.drop_last;
  options.workers = spec.data.workers;
  options.prefetch = spec.data.prefetch;
  options.seed = spec.seed;
  options.pin_memory = device_.is_cuda();
  try {
    loader_ = std::make_unique<DataLoader>(dataset_, options);
  } catch (const Error& e) {
    spec.data.source.config.fail("", e.what());
  }
}

// Out of line: GradScaler is complete here only.
Phase::Phase() = default;
Phase::Phase(Phase&&) noexcept = default;
Phase& Phase::operator=(Phase&&) noexcept = default;
Phase::~Phase() = default;

Trainer::~Trainer() {
  // Workers call into the dataset's plugin code: stop them before anything else goes.
  loader_.reset();
}

void Trainer::build_phases(const ExperimentSpec& spec) {
  auto groups = model_->parameter_groups();
  groups.emplace("all", model_->parameters());
  std::vector<std::string> group_names;
  for (const auto& [name, params] : groups) group_names.push_back(name);

  for (const OptimizerSpec& opt : spec.optimizers) {
    auto group = groups.find(opt.params);
    if (group == groups.end()) {
      std::string message = fmt::format("model '{}' has no parameter group '{}'", spec.model.plugin, opt.params);
      message += kiln::detail::did_you_mean(opt.params, group_names);
      opt.config.fail("params", message + fmt::format(" (groups: {})", fmt::join(group_names, ", ")));
    }
    if (group->second.empty())
      opt.config.fail("params", fmt::format("parameter group '{}' has no parameters", opt.params));
    Phase phase;
    phase.spec = opt;
    phase.params = group->second;
    for (const auto& [loss_name, weight] : opt.losses) {
      auto it = std::find_if(losses_.begin(), losses_.end(), [&](const NamedLoss& l) { return l.name == loss_name; });
      phase.losses.emplace_back(static_cast<std::size_t>(it - losses_.begin()), weight);
    }
    phase.optimizer = make_optimizer(opt, phase.params);
    if (precision_ == Precision::fp16) phase.scaler = std::make_unique<GradScaler>(device_, GradScaler::Options{});
    phases_.push_back(std::move(phase));
  }
}

void Trainer::add_hook(std::string name, std::shared_ptr<Hook> hook, int priority) {
  for (const OrderedHook& other : hooks_)
    if (other.name == name)
      throw Error(fmt::format("two hooks are named '{}'; give one of them another `name`", name));
  OrderedHook entry{std::move(name), priority, std::move(hook)};
  auto at = std::upper_bound(hooks_.begin(), hooks_.end(), entry,
                             [](const OrderedHook& a, const OrderedHook& b) { return a.priority < b.priority; });
  hooks_.insert(at, std::move(entry));
}

void Trainer::attach(Recorder& recorder, std::string run_name, std::filesystem::path run_dir) {
  recorder_ = &recorder;
  run_name_ = std::move(run_name);
  run_dir_ = std::move(run_dir);
}

WeightAverager* Trainer::averager() {
  // Whichever hook keeps averaged weights (the built-in EMA, or a plugin's).
  for (OrderedHook& entry : hooks_)
    if (auto* averager = dynamic_cast<WeightAverager*>(entry.hook.get())) return averager;
  return nullptr;
}

const NonFinitePolicy* Trainer::non_finite_policy() const {
  for (const OrderedHook& entry : hooks_)
    if (const auto* policy = dynamic_cast<const NonFinitePolicy*>(entry.hook.get())) return policy;
  return nullptr;
}

const Dataset* Trainer::dataset(std::string_view split) {
  if (split == "train") return dataset_.get();
  if (split == "eval") return eval_dataset_.get();
  return nullptr;
}

TensorMap Trainer::evaluate(const TensorMap& batch, bool averaged) {
  torch::NoGradGuard no_grad;
  WeightAverager* weights = averaged ? averager() : nullptr;
  std::optional<AveragedWeights> swapped;
  if (weights) swapped.emplace(*weights);
  // Back to training mode however forward() ends.
  struct TrainAgain {
    Model& model;
    ~TrainAgain() { model.train(true); }
  } train_again{*model_};
  model_->train(false);
  Step step(*this, global_step_);
  step.set_phase("eval");
  step.set_training(false);
  AutocastScope autocast(device_, precision_);
  return model_->forward(to_device(batch), step);
}

void Trainer::image(std::string_view tag, std::int64_t step, const std::filesystem::path& file) {
  if (!recorder_) return;
  // The store serves what it records (kiln report embeds it): only the run's own files.
  inside(run_dir_, file, fmt::format("image '{}'", tag));
  recorder_->image(tag, step, std::filesystem::absolute(file).lexically_normal().string());
}

void Trainer::summary(std::string_view tag, std::int64_t step, double value) {
  if (recorder_) recorder_->summary(tag, step, value);
}

void Trainer::event(std::string_view kind, std::string_view message) {
  if (recorder_) recorder_->event(kind, global_step_, message);
}

void Trainer::request_stop(std::string_view reason) {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  if (stop_requested_.exchange(true)) return;
  stop_reason_ = std::string(reason);
}

std::string Trainer::stop_reason() const {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  return stop_reason_;
}

namespace {

void check_scalar(const torch::Tensor& value, const std::string& loss) {
  if (!value.defined() || value.numel() != 1)
    throw Error(fmt::format("loss '{}' returned {}; a loss must return a scalar", loss,
                            value.defined() ? "a tensor of shape " + c10::str(value.sizes()) : "no tensor"));
}

}  // namespace

Batch Trainer::to_device(const Batch& batch) const {
  if (device_.is_cpu()) return batch;
  Batch moved(batch.label());
  // From pinned memory (the loader's workers pin batches on CUDA), an asynchronous copy: the
  // host goes on queueing the step's kernels behind it.
  for (const auto& [name, tensor] : batch)
    moved.set(name, tensor.defined() ? tensor.to(device_, /*non_blocking=*/tensor.is_pinned()) : tensor);
  return moved;
}

std::vector<std::pair<std::string, double>> Trainer::check_losses() {
  torch::NoGradGuard no_grad;
  const Batch batch = to_device(loader_->next());
  std::vector<std::pair<std::string, double>> values;
  for (Phase& phase : phases_) {
    Step step(*this, global_step_);
    step.set_phase(phase.spec.name);
    AutocastScope autocast(device_, precision_);
    const Outputs outputs = model_->forward(batch, step);
    for (const auto& [index, weight] : phase.losses) {
      const NamedLoss& named = losses_[index];
      const torch::Tensor value = named.loss->compute(outputs, batch, step);
      check_scalar(value, named.name);
      values.emplace_back(phase.spec.name + "/" + named.name, value.item<double>());
    }
  }
  return values;
}

template <class Call>
void Trainer::each_hook(const char* what, Call&& call) {
  running_call_ = what;
  for (OrderedHook& hook : hooks_) {
    running_hook_ = &hook;
    call(*hook.hook);
  }
  running_hook_ = nullptr;  // left set when a hook throws
}

std::string Trainer::failed_hook() const {
  return running_hook_ ? fmt::format("hook '{}', {}", running_hook_->name, running_call_) : "";
}

bool Trainer::run_phase(Phase& phase, const Batch& batch, Step& step) {
  step.set_phase(phase.spec.name);
  Outputs outputs;
  torch::Tensor total;
  {
    // bf16/fp16: the forward pass and the losses under autocast, the backward pass outside it.
    AutocastScope autocast(device_, precision_);
    outputs = model_->forward(batch, step);
    for (const auto& [index, weight] : phase.losses) {
      const NamedLoss& named = losses_[index];
      torch::Tensor value = named.loss->compute(outputs, batch, step);
      check_scalar(value, named.name);
      step.set_loss(named.name, value.detach().reshape({}));
      torch::Tensor weighted = weight == 1.0 ? value.reshape({}) : value.reshape({}) * weight;
      total = total.defined() ? total + weighted : weighted;
    }
  }
  // One read of the scalar: cheaper than torch::isfinite, which builds a tensor and dispatches.
  if (!std::isfinite(total.item<double>())) {
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
  // Gradients for this phase's parameters only: the other networks' weights get none.
  const std::vector<torch::Tensor> grads =
      torch::autograd::grad({phase.scaler ? phase.scaler->scale(total) : total}, phase.params,
                            /*grad_outputs=*/{}, /*retain_graph=*/false, /*create_graph=*/false,
                            /*allow_unused=*/true);
  for (std::size_t i = 0; i < grads.size(); ++i) phase.params[i].mutable_grad() = grads[i];
  if (phase.scaler) {
    // fp16: an overflowed gradient skips this phase's update and lowers the scale, as
    // torch.amp.GradScaler does; the step goes on.
    const bool finite = phase.scaler->unscale(phase.params);
    if (finite) phase.optimizer->step();
    phase.scaler->update(finite);
  } else {
    phase.optimizer->step();
  }
  step.set_outputs(std::move(outputs));
  each_hook("after_phase", [&](Hook& hook) { hook.after_phase(step); });
  return true;
}

void Trainer::train_step(const Batch& batch, Step& step) {
  each_hook("before_step", [&](Hook& hook) { hook.before_step(step); });
  bool complete = true;
  for (Phase& phase : phases_)
    if (!(complete = run_phase(phase, batch, step))) break;
  step.set_phase("");
  // The step's updates are done: hooks after it (the saver among them) see it counted. A
  // skipped step counts too, but its non-finite losses never reach the hooks (the EMA).
  ++global_step_;
  if (complete) each_hook("after_step", [&](Hook& hook) { hook.after_step(step); });
  if (recorder_) recorder_->check();
}

void Trainer::prepare() {
  each_hook("prepare", [&](Hook& hook) { hook.prepare(*this); });
}

void Trainer::run() {
  each_hook("begin", [&](Hook& hook) { hook.begin(*this); });
  first_step_ = global_step_;
  while (global_step_ < max_steps_ && !stop_requested()) {
    const Batch batch = to_device(loader_->next());
    Step step(*this, global_step_);
    train_step(batch, step);
  }
  each_hook("end", [&](Hook& hook) { hook.end(*this); });
}

}  // namespace kiln::runner
