// Out-of-line members of the SDK's interfaces, so their vtables live in libkiln_sdk alone.
#include <fmt/format.h>
#include <torch/torch.h>

#include "kiln/kiln.hpp"

namespace kiln {

const torch::Tensor& TensorMap::at(const std::string& name) const {
  auto it = map_.find(name);
  if (it == map_.end())
    throw Error(fmt::format("no tensor '{}' in {} (has: {})", name, label_,
                            map_.empty() ? "nothing" : fmt::format("{}", fmt::join(names(), ", "))));
  return it->second;
}

std::vector<std::string> TensorMap::names() const {
  std::vector<std::string> out;
  out.reserve(map_.size());
  for (const auto& [name, tensor] : map_) out.push_back(name);
  return out;
}

namespace {

/// "[64, 1]", "[]" for a scalar.
std::string shape_text(c10::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

}  // namespace

void require_same_shape(const std::string& a_what, const torch::Tensor& a, const std::string& b_what,
                        const torch::Tensor& b) {
  if (a.sizes() == b.sizes()) return;
  std::string consequence;
  try {
    consequence = "would broadcast to " + shape_text(at::infer_size(a.sizes(), b.sizes()));
  } catch (const c10::Error&) {
    consequence = "do not broadcast";
  }
  throw Error(fmt::format("{} has shape {} and {} has shape {}; they differ and {} — reshape one of them", a_what,
                          shape_text(a.sizes()), b_what, shape_text(b.sizes()), consequence));
}

RunContext::~RunContext() = default;

void RunContext::tensor_summary(std::string_view tag, std::int64_t step, const torch::Tensor& scalar) {
  summary(tag, step, scalar.item<double>());
}

std::vector<std::string> RunContext::phase_names() const { return {}; }

int RunContext::rank() const { return 0; }

int RunContext::world_size() const { return 1; }

PhaseHandle& RunContext::phase(std::string_view name) {
  const std::vector<std::string> names = phase_names();
  throw Error(fmt::format("this run has no phase '{}' (phases: {})", name,
                          names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
}

std::optional<RunContext::SummaryValue> RunContext::latest_summary(std::string_view) const { return std::nullopt; }

void RunContext::keep_checkpoint(std::string_view reason) {
  throw Error(fmt::format("cannot keep a checkpoint for '{}': this run has no saver", reason));
}

void RunContext::summary_direction(std::string_view, Direction) {}

PhaseHandle::~PhaseHandle() = default;

LearningRateSchedule::~LearningRateSchedule() = default;

WeightAverager::~WeightAverager() = default;

Step::Step(RunContext& run, std::int64_t global_step) : run_(&run), global_step_(global_step) {}

const std::vector<torch::Tensor>& Step::parameters() const {
  static const std::vector<torch::Tensor> none;
  return params_ ? *params_ : none;
}

void Step::set_micro_batches(int count) {
  if (count < 1) throw Error(fmt::format("a step has at least one micro-batch, got {}", count));
  scratches_.assign(static_cast<std::size_t>(count), TensorMap("step scratch"));
  micro_batch_ = 0;
}

void Step::set_micro_batch(int index) {
  if (index < 0 || index >= micro_batches())
    throw Error(fmt::format("micro-batch {} of a step with {}", index, micro_batches()));
  micro_batch_ = index;
}

void Step::summary(std::string_view tag, double value) { run_->summary(tag, global_step_, value); }

void Step::summary(std::string_view tag, const torch::Tensor& scalar) {
  run_->tensor_summary(tag, global_step_, scalar);
}

Model::~Model() = default;

std::map<std::string, std::vector<torch::Tensor>> Model::parameter_groups() {
  return {{"all", parameters()}};
}

Loss::~Loss() = default;

Dataset::~Dataset() = default;

Batch Dataset::get_batch(const std::vector<Sample>& samples) const {
  std::map<std::string, std::vector<torch::Tensor>> columns;
  for (const Sample& sample : samples)
    for (const auto& [name, tensor] : get(sample.index, sample.seed)) columns[name].push_back(tensor);
  Batch batch("batch");
  for (auto& [name, tensors] : columns) {
    if (tensors.size() != samples.size())
      throw Error(fmt::format("dataset examples disagree: '{}' is in {} of {} examples", name,
                              tensors.size(), samples.size()));
    batch.set(name, torch::stack(tensors));
  }
  return batch;
}

Hook::~Hook() = default;

const char* kind_name(Kind kind) { return kind_info(kind).name; }

void Registry::add_factory(Kind kind, std::string name, AnyFactory factory) {
  // A second registration would silently replace the first factory, so it is refused; the
  // host names the library around this message.
  const auto [it, added] = factories_[kind].emplace(std::move(name), std::move(factory));
  if (!added) throw PluginError(fmt::format("{} '{}' is registered twice", kind_name(kind), it->first));
}

std::vector<std::string> Registry::names(Kind kind) const {
  std::vector<std::string> out;
  if (auto factories = factories_.find(kind); factories != factories_.end())
    for (const auto& entry : factories->second) out.push_back(entry.first);
  return out;
}

bool Registry::contains(Kind kind, const std::string& name) const {
  auto factories = factories_.find(kind);
  return factories != factories_.end() && factories->second.count(name) > 0;
}

std::shared_ptr<void> Registry::build(Kind kind, const std::string& name, const Config& config) const {
  if (!contains(kind, name)) throw PluginError(fmt::format("no {} '{}' is registered", kind_name(kind), name));
  return factories_.at(kind).at(name)(config);
}

}  // namespace kiln
