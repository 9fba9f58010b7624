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

WeightAverager::~WeightAverager() = default;

Step::Step(RunContext& run, std::int64_t global_step) : run_(&run), global_step_(global_step) {}

void Step::summary(std::string_view tag, double value) { run_->summary(tag, global_step_, value); }

void Step::summary(std::string_view tag, const torch::Tensor& scalar) {
  summary(tag, scalar.item<double>());
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

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::model: return "model";
    case Kind::loss: return "loss";
    case Kind::dataset: return "dataset";
    case Kind::hook: return "hook";
  }
  return "?";
}

namespace {

/// Adds `name` once: a second registration would silently replace the first factory, so
/// it is refused; the host names the library around this message.
template <class Map, class Factory>
void add_once(Map& factories, Kind kind, std::string name, Factory factory) {
  const auto [it, added] = factories.emplace(std::move(name), std::move(factory));
  if (!added) throw PluginError(fmt::format("{} '{}' is registered twice", kind_name(kind), it->first));
}

}  // namespace

void Registry::add(std::string name, Factory<Model> factory) {
  add_once(models_, Kind::model, std::move(name), std::move(factory));
}
void Registry::add(std::string name, Factory<Loss> factory) {
  add_once(losses_, Kind::loss, std::move(name), std::move(factory));
}
void Registry::add(std::string name, Factory<Dataset> factory) {
  add_once(datasets_, Kind::dataset, std::move(name), std::move(factory));
}
void Registry::add(std::string name, Factory<Hook> factory) {
  add_once(hooks_, Kind::hook, std::move(name), std::move(factory));
}

namespace {
template <class Map>
std::vector<std::string> keys_of(const Map& map) {
  std::vector<std::string> out;
  for (const auto& entry : map) out.push_back(entry.first);
  return out;
}
}  // namespace

std::vector<std::string> Registry::names(Kind kind) const {
  switch (kind) {
    case Kind::model: return keys_of(models_);
    case Kind::loss: return keys_of(losses_);
    case Kind::dataset: return keys_of(datasets_);
    case Kind::hook: return keys_of(hooks_);
  }
  return {};
}

}  // namespace kiln
