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

RunContext::~RunContext() = default;

void RunContext::tensor_summary(std::string_view tag, std::int64_t step, const torch::Tensor& scalar) {
  summary(tag, step, scalar.item<double>());
}

WeightAverager::~WeightAverager() = default;

Step::Step(RunContext& run, std::int64_t global_step) : run_(&run), global_step_(global_step) {}

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
