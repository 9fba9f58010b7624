// The training loop: the objects an experiment names, the run, and the values each step hands
// out (the step itself is train/phase_step.cpp, the checkpoint state train/state.cpp).
#include "train/trainer.hpp"

#include <cmath>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "config/cores.hpp"
#include "config/run_paths.hpp"
#include "hooks/tensorboard.hpp"
#include "plugins/plugin_host.hpp"
#include "train/batch_copy.hpp"
#include "train/multi_tensor.hpp"
#include "train/step_graph.hpp"
#include "train/torch_compat.hpp"
#include "train/checkpoint_keeper.hpp"
#include "train/distributed.hpp"
#include "train/error_text.hpp"
#include "train/non_finite_policy.hpp"
#include "train/optimizers.hpp"
#include "train/precision.hpp"
#include "train/random.hpp"
#include "train/value_names.hpp"

namespace kiln::runner {

using detail::split_entry;
using detail::summary_entry;

Trainer::Trainer(const ExperimentSpec& spec, PluginHost& host, const World& world)
    : max_steps_(spec.max_steps), accumulate_(spec.accumulate) {
  world_ = world;
  seed_ = spec.seed;
  // threads = 0: the cores this process may use (taskset, a container's quota), not the
  // machine's; shared by the run's processes on this machine.
  const int threads = spec.threads > 0 ? spec.threads : std::max(1, usable_cores() / std::max(1, world.local_size));
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
  // A data-parallel run on CUDA: one GPU per process on a machine, unless the file names one.
  if (world.distributed() && device_.is_cuda() && spec.device.find(':') == std::string::npos)
    device_ = local_cuda_device(world.local_rank, experiment, "device");
  precision_ = resolve_precision(spec.precision, device_, experiment, "precision");
  set_math_modes(device_, precision_);
  readout_ = std::make_unique<Readout>(device_);
  value_lag_ = device_.is_cuda() ? 1 : 0;
  copier_ = std::make_unique<BatchCopier>(device_);
  experiment_table_ = experiment;
  if (spec.cuda_graphs) {
    // What a captured step cannot do, refused at the key before anything is built.
    const std::string unavailable = cuda_graphs_unavailable();
    if (!device_.is_cuda())
      experiment.fail("cuda_graphs", !compat::kWithCuda ? unavailable
                                                        : fmt::format("needs CUDA; this run trains on {} (device = \"{}\")",
                                                                      device_.str(), spec.device));
    if (!unavailable.empty()) experiment.fail("cuda_graphs", unavailable);
    if (accumulate_ > 1)
      experiment.fail("cuda_graphs", fmt::format("captures a step of one batch; it does not take accumulate = {} yet",
                                                 accumulate_));
    if (precision_ == Precision::fp16)
      experiment.fail("cuda_graphs", "fp16's gradient scaler decides on the host, every step, whether to update; with "
                                     "cuda_graphs use precision = \"bf16\" or \"tf32\"");
    if (world.distributed())
      experiment.fail("cuda_graphs", fmt::format("a run of several processes ({}) averages its gradients outside any "
                                                 "graph; it cannot capture its steps yet",
                                                 world.size));
    graphed_ = std::make_unique<CapturedStep>();
  }

  // Built on the CPU from the CPU generator, then moved: the same seed gives the same initial
  // weights on any device.
  model_ = host.make_model(spec.model.plugin, spec.model.library, spec.model.config);
  model_name_ = spec.model.plugin;
  model_->to(device_);
  model_->train(true);
  for (const LossSpec& loss : spec.losses)
    losses_.push_back({loss.name, host.make_loss(loss.source.plugin, loss.source.library, loss.source.config)});
  dataset_ = host.make_dataset(spec.data.source.plugin, spec.data.source.library, spec.data.source.config);
  if (spec.eval_data)
    eval_dataset_ = host.make_dataset(spec.eval_data->plugin, spec.eval_data->library, spec.eval_data->config);
  build_phases(spec, host);
  for (const HookSpec& hook : spec.hooks) {
    // `plugin = "tensorboard"` without a `library` is kiln's own hook, built in.
    const bool built_in = hook.source.plugin == TensorboardHook::kPlugin && hook.source.library.empty();
    std::shared_ptr<Hook> made =
        built_in ? std::make_shared<TensorboardHook>(TensorboardHook::Options::read(hook.source.config))
                 : host.make_hook(hook.source.plugin, hook.source.library, hook.source.config);
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
  options.rank = world.rank;
  options.world_size = world.size;
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

namespace {

/// An [[optimizers]] entry's `key` (clip_norm, clip_value): a finite number above 0, or none.
std::optional<double> read_clip(const Config& table, std::string_view key) {
  if (!table.contains(key)) return std::nullopt;
  const auto value = table.get_positive<double>(key);
  if (!std::isfinite(value)) table.fail(key, fmt::format("must be a finite number, got {}", value));
  return value;
}

}  // namespace

void Trainer::build_phases(const ExperimentSpec& spec, PluginHost& host) {
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
    if (graphed_) {
      // Only a step that keeps what it counts on the device replays: adam's and adamw's fused one.
      const auto* multi = dynamic_cast<const MultiTensorStep*>(phase.optimizer.get());
      if (opt.type != "adam" && opt.type != "adamw")
        opt.config.fail("type", fmt::format("cuda_graphs replays the fused step of adam and adamw; '{}' counts its "
                                            "steps on the host",
                                            opt.type));
      if (!multi || (multi->requested() != StepImplementation::automatic &&
                     multi->requested() != StepImplementation::fused))
        opt.config.fail("implementation", "cuda_graphs replays the fused step only: leave implementation \"auto\" or "
                                          "set it to \"fused\"");
    }
    for (const auto& group : phase.optimizer->param_groups()) phase.base_lrs.push_back(group.options().get_lr());
    phase.schedule = read_schedule(opt.config, host, max_steps_);
    phase.clip_norm = read_clip(opt.config, "clip_norm");
    phase.clip_value = read_clip(opt.config, "clip_value");
    if (precision_ == Precision::fp16) phase.scaler = std::make_unique<GradScaler>(device_, GradScaler::Options{});
    phases_.push_back(std::move(phase));
  }
}

void Trainer::add_hook(std::string name, std::shared_ptr<Hook> hook, int priority) {
  for (const OrderedHook& other : hooks_)
    if (other.name == name)
      throw Error(fmt::format("two hooks are named '{}'; give one of them another `name`", name));
  if (auto* listener = dynamic_cast<StepValuesListener*>(hook.get())) {
    inboxes_.push_back({hook.get(), listener, {}});
    grad_norms_requested_ = grad_norms_requested_ || listener->wants_grad_norms();
  }
  if (auto* listener = dynamic_cast<RecordListener*>(hook.get())) record_listeners_.push_back(listener);
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

std::vector<std::string> Trainer::phase_names() const {
  std::vector<std::string> names;
  for (const Phase& phase : phases_) names.push_back(phase.spec.name);
  return names;
}

PhaseHandle& Trainer::phase(std::string_view name) {
  for (Phase& phase : phases_)
    if (phase.spec.name == name) return phase;
  const std::vector<std::string> names = phase_names();
  throw Error(fmt::format("this run has no phase '{}'{} (phases: {})", name,
                          kiln::detail::did_you_mean(std::string(name), names), fmt::join(names, ", ")));
}

std::optional<RunContext::SummaryValue> Trainer::latest_summary(std::string_view tag) const {
  std::lock_guard<std::mutex> lock(summaries_mutex_);
  auto it = latest_summaries_.find(tag);
  if (it == latest_summaries_.end()) return std::nullopt;
  return it->second;
}

void Trainer::keep_checkpoint(std::string_view reason) {
  if (!world_.main()) return;  // rank 0's saver keeps it; the other ranks save nothing
  for (OrderedHook& entry : hooks_)
    if (auto* keeper = dynamic_cast<CheckpointKeeper*>(entry.hook.get())) return keeper->keep(global_step_, reason);
  RunContext::keep_checkpoint(reason);  // the SDK's error: this run has no saver
}

void Trainer::summary_direction(std::string_view tag, Direction direction) {
  if (recorder_) recorder_->summary_direction(tag, direction == Direction::min ? "min" : "max");
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
  const std::string path = std::filesystem::absolute(file).lexically_normal().string();
  recorder_->image(tag, step, path);
  for (RecordListener* listener : record_listeners_) listener->recorded_image(tag, step, path);
}

void Trainer::summary(std::string_view tag, std::int64_t step, double value) {
  std::optional<double> earlier;  // another value of this tag at this step, said the first time
  {
    std::lock_guard<std::mutex> lock(summaries_mutex_);
    auto it = latest_summaries_.find(tag);
    if (it == latest_summaries_.end()) {
      latest_summaries_.emplace(std::string(tag), SummaryValue{step, value});
    } else {
      const double before = it->second.value;
      const bool same = before == value || (std::isnan(before) && std::isnan(value));
      if (it->second.step == step && !same && step > summaries_redone_through_ &&
          recorded_twice_.emplace(std::string(tag)).second)
        earlier = before;
      if (step >= it->second.step) it->second = {step, value};
    }
  }
  if (!recorder_) return;
  if (earlier)
    spdlog::warn("summary '{}' was recorded twice at step {}, {} then {}: the database keeps the later. Do two "
                 "hooks write this tag? (said once per tag)",
                 tag, step, *earlier, value);
  recorder_->summary(tag, step, value);
  for (RecordListener* listener : record_listeners_) listener->recorded_summary(tag, step, value);
}

void Trainer::tensor_summary(std::string_view tag, std::int64_t step, const torch::Tensor& scalar) {
  // Not one element: item() says so, as it always did. Not on the device (a CPU tensor on a
  // GPU run): reading it waits for nothing.
  if (value_lag_ == 0 || !scalar.defined() || scalar.numel() != 1 || scalar.device() != readout_->device()) {
    summary(tag, step, scalar.item<double>());
    return;
  }
  readout_->add(summary_entry(step, tag), scalar);
}

void Trainer::force_value_lag_for_tests(std::size_t lag) {
  value_lag_ = lag;
  readout_ = std::make_unique<Readout>(device_, /*hold=*/lag > 0);
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

Batch Trainer::to_device(const Batch& batch) const { return copier_->copy(batch); }

std::string Trainer::failed_hook() const {
  return running_hook_ ? fmt::format("hook '{}', {}", running_hook_->name, running_call_) : "";
}

void Trainer::take_values(std::vector<StepScalars> collected, bool failing) {
  const bool check = !failing && nan_check_deferred();
  for (StepScalars& scalars : collected) {
    if (values_poisoned_) break;
    const bool complete = incomplete_steps_.erase(scalars.step) == 0;
    std::map<std::string, double> losses;  // by name, as Step::losses(): a later phase's value wins
    std::vector<std::pair<std::string, double>> grad_norms;  // by phase name
    std::vector<std::string> bad;          // the current phase's losses that are not finite
    std::int64_t bad_phase = -1;
    // In the order they were added: what came after a phase's total came after its check.
    for (const auto& [entry, value] : scalars.values) {
      const auto [number, rest] = split_entry(entry);
      if (entry[0] == 's') {
        summary(rest, number, value);
      } else if (entry[0] == 'l') {
        if (number != bad_phase) bad.clear(), bad_phase = number;
        const std::string& name = losses_.at(std::stoull(std::string(rest))).name;
        losses[name] = value;
        if (!std::isfinite(value)) bad.push_back(name);
      } else if (entry[0] == 'g') {
        grad_norms.emplace_back(phases_.at(static_cast<std::size_t>(number)).spec.name, value);
      } else if (!std::isfinite(value)) {  // a phase's total: run_phase's check, a step late
        if (number != bad_phase) bad.clear();
        if (!check) {
          // Skipped (an incomplete step) or stopped already: nothing after it happened.
          if (failing) values_poisoned_ = true;
          break;
        }
        const std::string what = fmt::format("step {}, phase {}: loss {} is not finite", scalars.step,
                                             phases_.at(static_cast<std::size_t>(number)).spec.name,
                                             fmt::join(bad, ", "));
        values_poisoned_ = true;
        // The run failed at that step, as on the CPU, not at the one that found it (its
        // updates, and those of the step queued after it, are not counted). A hook that
        // asked for a checkpoint did not fail: the loss did.
        global_step_ = scalars.step;
        running_hook_ = nullptr;
        event("nan", what);
        throw Error(what + " (on_nan = \"stop\")");
      }
    }
    if (values_poisoned_ || !complete || losses.empty()) continue;
    StepScalars values;
    values.step = scalars.step;
    values.values.assign(losses.begin(), losses.end());
    values.grad_norms = std::move(grad_norms);
    for (Inbox& inbox : inboxes_) inbox.values.push_back(values);
  }
}

void Trainer::deliver_to(Hook& hook) {
  for (Inbox& inbox : inboxes_) {
    if (inbox.hook != &hook) continue;
    while (!inbox.values.empty()) {
      const StepScalars values = std::move(inbox.values.front());
      inbox.values.pop_front();
      inbox.listener->on_values(values, *this);
    }
  }
}

void Trainer::flush_values() {
  take_values(readout_->collect(0), /*failing=*/false);
  // Inside the after_step() hooks, only those that ran have decided about the newest step;
  // the others get it at their turn.
  const bool in_after_step = running_hook_ && std::strcmp(running_call_, "after_step") == 0;
  for (OrderedHook& hook : hooks_) {
    if (in_after_step && &hook == running_hook_) break;
    deliver_to(*hook.hook);
  }
}

void Trainer::flush_after_failure() noexcept {
  const OrderedHook* hook = running_hook_;
  const char* call = running_call_;
  try {
    // A step that failed half way: its tensor summaries count, its losses do not.
    if (readout_->gathering()) {
      incomplete_steps_.insert(global_step_);
      readout_->end_step(global_step_);
    }
    take_values(readout_->collect(0), /*failing=*/true);
    for (OrderedHook& entry : hooks_) deliver_to(*entry.hook);
  } catch (...) {
    // The run failed already: that error is the one to report.
  }
  running_hook_ = hook;
  running_call_ = call;
}

void Trainer::prepare() {
  try {
    each_hook("prepare", [&](Hook& hook) { hook.prepare(*this); });
  } catch (const ConfigError&) {
    throw;  // at the hook's key already ("hooks.evaluate.target: ...")
  } catch (const std::exception& e) {
    // Anything else a hook refuses with gets the hook's name, as a failure in the run does.
    throw Error(fmt::format("{} ({})", error_text(e), failed_hook()));
  }
  const NonFinitePolicy* policy = non_finite_policy();
  if (graphed_ && policy && policy->skip_non_finite())
    experiment_table_.fail("cuda_graphs", "on_nan = \"skip\" reads each phase's loss before its update to decide "
                                          "whether to update, which a replayed graph cannot; with cuda_graphs use "
                                          "on_nan = \"stop\" (checked a step late, without waiting)");
}

void Trainer::join(ProcessGroup& group) {
  if (!world_.distributed()) throw Error("a trainer of one process joins no process group");
  group_ = &group;
  // Each gradient as the backward pass makes it, so that its bucket is sent while the pass goes
  // on (run_phase). Tensor hooks run in backward() (not in torch::autograd::grad in 1.13).
  for (std::size_t p = 0; p < phases_.size(); ++p)
    for (std::size_t i = 0; i < phases_[p].params.size(); ++i)
      phases_[p].params[i].register_hook([this, p, i](torch::Tensor grad) {
        if (gradient_ready_ && gradient_phase_ == p) gradient_ready_(i, std::move(grad));
      });
  float_buffers_.clear();
  for (const torch::Tensor& buffer : model_->buffers())
    if (buffer.is_floating_point()) float_buffers_.push_back(buffer);
}

void Trainer::share_start_state() {
  TensorMap state("checkpoint");
  if (world_.main()) {
    group_->rendezvous().announce("start", "go");
    state = capture_state();
  }
  group_->broadcast(state);
  if (!world_.main()) restore_state(state, /*roll_back=*/false);
}

bool Trainer::agree_on_stop() {
  const bool mine = stop_requested();
  // The reason first, so that it is there when another rank looks for it.
  if (mine) group_->rendezvous().set(fmt::format("stop/{}", world_.rank), stop_reason());
  const std::vector<std::int64_t> asked = group_->gather(mine ? 1 : 0);
  for (std::size_t rank = 0; rank < asked.size() && !mine; ++rank)
    if (asked[rank]) {
      request_stop(fmt::format("rank {}: {}", rank, group_->rendezvous().get(fmt::format("stop/{}", rank))));
      break;
    }
  return std::find(asked.begin(), asked.end(), 1) != asked.end();
}

void Trainer::seed_step(std::int64_t step) {
  const std::uint64_t seed =
      derive_seed(seed_, static_cast<std::uint64_t>(world_.rank) + 1, static_cast<std::uint64_t>(step));
  at::Generator cpu = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(cpu.mutex());
    cpu.set_current_seed(seed);
  }
  if (device_.is_cuda()) {
    at::Generator cuda = at::globalContext().defaultGenerator(device_);
    std::lock_guard<std::mutex> lock(cuda.mutex());
    cuda.set_current_seed(seed);
  }
}

void Trainer::run() {
  if (world_.distributed() && !group_) throw Error("a run of several processes needs its process group (join)");
  started_ = true;
  each_hook("begin", [&](Hook& hook) { hook.begin(*this); });
  // Rank 0's state once its hooks began (restored or fresh, the EMA's shadows made), put in
  // every other rank's begun hooks as a restore would.
  if (group_) share_start_state();
  first_step_ = global_step_;
  try {
    // Several processes stop after the same step: on the stop they agreed on at its end.
    const auto stopping = [&] { return group_ ? agree_on_stop() : stop_requested(); };
    std::vector<Batch> batches;
    bool stop = stopping();
    const auto training_started = std::chrono::steady_clock::now();
    const double collectives_before = group_ ? group_->seconds() : 0.0;
    while (global_step_ < max_steps_ && !stop) {
      if (group_) seed_step(global_step_);
      // `accumulate` batches a step: the loader's cursor counts batches, so a checkpoint
      // (always between steps) resumes at the next step's first one.
      batches.clear();
      for (int i = 0; i < accumulate_; ++i) batches.push_back(to_device(loader_->next()));
      Step step(*this, global_step_);
      train_step(batches, step);
      stop = stopping();
    }
    if (group_ && steps_run() > 0) {
      // What the processes cost each other: the time in collectives, waiting for the slowest
      // rank included (bench/README.md, "Data-parallel").
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - training_started).count();
      const double waiting = group_->seconds() - collectives_before;
      event("distributed", fmt::format("{} processes ({}): {} steps in {:.1f} s, {:.1f} s of it ({:.0f}%) in the "
                                       "collectives (gradients, losses, buffers, the stop)",
                                       world_.size, group_->backend(), steps_run(), seconds, waiting,
                                       seconds > 0 ? 100.0 * waiting / seconds : 0.0));
    }
    // The values still in flight (the last step's, on CUDA) reach the hooks before they end;
    // tensor summaries recorded after the last step's end too.
    if (readout_->gathering()) readout_->end_step(global_step_);
    take_values(readout_->collect(0), /*failing=*/false);
    each_hook("after_step", [&](Hook& hook) { deliver_to(hook); });
    each_hook("end", [&](Hook& hook) { hook.end(*this); });
    // Tensor summaries the hooks' end() recorded.
    if (readout_->gathering()) {
      readout_->end_step(global_step_);
      take_values(readout_->collect(0), /*failing=*/false);
    }
  } catch (...) {
    flush_after_failure();
    throw;
  }
}

}  // namespace kiln::runner
