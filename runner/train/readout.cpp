// See readout.hpp.
#include "train/readout.hpp"

#include <thread>

#include <c10/core/Event.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <torch/torch.h>

namespace kiln::runner {

struct Readout::Pending {
  StepScalars scalars;  // values filled when collected
  at::Tensor host;      // float64, pinned on CUDA
  std::unique_ptr<c10::Event> copied;  // none on the CPU: the copy was synchronous
};

Readout::Readout(c10::Device device, bool hold) : device_(device), hold_(hold) {}
Readout::~Readout() = default;

void Readout::add(std::string name, const at::Tensor& value) {
  names_.push_back(std::move(name));
  values_.push_back(value.detach().reshape({}).to(torch::kFloat64));
}

std::vector<std::pair<std::string, at::Tensor>> Readout::take_since(std::size_t from) {
  std::vector<std::pair<std::string, at::Tensor>> taken;
  for (std::size_t i = from; i < values_.size(); ++i) taken.emplace_back(std::move(names_[i]), std::move(values_[i]));
  if (from < values_.size()) {
    names_.resize(from);
    values_.resize(from);
  }
  return taken;
}

void Readout::end_step(std::int64_t step) {
  if (values_.empty()) return;
  auto pending = std::make_unique<Pending>();
  pending->scalars.step = step;
  for (std::string& name : names_) pending->scalars.values.emplace_back(std::move(name), 0.0);
  torch::NoGradGuard no_grad;
  const at::Tensor stacked = torch::stack(values_);
  if (device_.is_cuda()) {
    pending->host = torch::empty({stacked.numel()}, torch::dtype(torch::kFloat64).pinned_memory(true));
    pending->host.copy_(stacked, /*non_blocking=*/true);
    const c10::impl::VirtualGuardImpl guard(device_.type());
    pending->copied = std::make_unique<c10::Event>(device_.type());
    pending->copied->record(guard.getStream(device_));
  } else {
    pending->host = stacked;
  }
  names_.clear();
  values_.clear();
  pending_.push_back(std::move(pending));
}

std::vector<StepScalars> Readout::collect(std::size_t lag) {
  std::vector<StepScalars> done;
  while (!pending_.empty()) {
    Pending& oldest = *pending_.front();
    const bool must = pending_.size() > lag;
    if (!must && hold_) break;
    if (oldest.copied) {
      if (!must && !oldest.copied->query()) break;
      // c10::Event has no wait in LibTorch 1.13: poll, which the lag keeps rare.
      while (!oldest.copied->query()) std::this_thread::yield();
    }
    const double* values = oldest.host.data_ptr<double>();
    for (std::size_t i = 0; i < oldest.scalars.values.size(); ++i) oldest.scalars.values[i].second = values[i];
    done.push_back(std::move(oldest.scalars));
    pending_.pop_front();
  }
  return done;
}

}  // namespace kiln::runner
