// Data-parallel training on c10d: TCPStore rendezvous, ProcessGroupGloo (and ProcessGroupNCCL
// where the LibTorch has it), and the trainer's collectives. The one file that includes c10d's
// process-group headers (CMake defines USE_C10D_GLOO for it when libgloo-dev's headers exist).
#include "train/distributed.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#ifdef KILN_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef KILN_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/torch.h>

#include "kiln/error.hpp"
#include "train/error_text.hpp"
#include "train/torch_compat.hpp"

namespace kiln::runner {
namespace {

using Clock = std::chrono::steady_clock;

/// The first line of a c10d error (Gloo's carry a source position and more lines).
std::string short_text(const std::exception& error) {
  std::string text = error_text(error);
  if (const auto newline = text.find('\n'); newline != std::string::npos) text.erase(newline);
  return text;
}

std::string seconds_text(std::chrono::milliseconds timeout) {
  return fmt::format("{:g} s", static_cast<double>(timeout.count()) / 1000.0);
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

bool loopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

std::vector<std::uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }
std::string text(const std::vector<std::uint8_t>& data) { return {data.begin(), data.end()}; }

}  // namespace

bool have_gloo() {
#ifdef KILN_HAVE_GLOO
  return true;
#else
  return false;
#endif
}

bool have_nccl() {
#ifdef KILN_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

std::string resolve_backend(const DistributedOptions& options, c10::Device device, bool several) {
  std::string backend = options.backend;
  if (backend == "auto") backend = device.is_cuda() && have_nccl() ? "nccl" : "gloo";
  if (backend == "nccl") {
    if (!have_nccl())
      options.table.fail("backend", "this kiln's LibTorch has no NCCL (a CPU LibTorch, or one built without it); "
                                    "use \"gloo\", which runs on the CPU and on CUDA tensors");
    if (!device.is_cuda())
      options.table.fail("backend", fmt::format("NCCL runs on CUDA devices, and this run's device is {}; use \"gloo\"",
                                                device.str()));
  }
  // One process needs no process group: a kiln without Gloo trains alone as before.
  if (backend == "gloo" && !have_gloo() && several)
    options.table.fail("backend", "this kiln was built without c10d's Gloo backend (libgloo-dev's headers were missing "
                                  "when it was built); install libgloo-dev and build it again");
  return backend;
}

// ---- Rendezvous -------------------------------------------------------------------------

struct Rendezvous::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  std::string prefix = "kiln/0/";
};

Rendezvous::Rendezvous(const World& world, std::chrono::milliseconds timeout)
    : world_(world), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(world.master_port);
  // Under torchrun the agent serves the store (rank 0 connecting as everyone else does).
  options.isServer = world.rank == 0 && !world.agent_store;
  serving_ = options.isServer;
  options.numWorkers = static_cast<std::size_t>(world.size);
  options.waitWorkers = true;
  options.timeout = timeout;
  try {
    try {
      impl_->store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, options);
    } catch (const std::exception& e) {
#if KILN_TORCH_AT_LEAST(2, 2)
      // From 2.4 the store's default backend is libuv's, which a LibTorch built without libuv
      // (Debian's 2.6) refuses ("use_libuv was requested but PyTorch was build without libuv
      // support"): the older backend then, which speaks the same protocol.
      if (!options.useLibUV || std::string(e.what()).find("libuv") == std::string::npos) throw;
      options.useLibUV = false;
      impl_->store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, options);
#else
      throw;
#endif
    }
  } catch (const std::exception& e) {
    if (options.isServer)
      throw Error(fmt::format("rank 0 could not serve the rendezvous on port {}, or not every one of the {} processes "
                              "joined within {}: {} (another run on this port? set MASTER_PORT)",
                              world.master_port, world.size, seconds_text(timeout), short_text(e)));
    throw Error(fmt::format("rank {} could not reach the rendezvous at {}:{} within {}: {}", world.rank,
                            world.master_addr, world.master_port, seconds_text(timeout), short_text(e)));
  }
  impl_->store->setTimeout(timeout);
  // The keys of this attempt: an agent's store keeps those of workers it restarted.
  impl_->prefix = fmt::format("kiln/{}/", world.attempt);
  set(fmt::format("host/{}", world.rank), host_name());
}

Rendezvous::~Rendezvous() {
  // Every rank says it is done with the store; the rank that serves it waits for them (at most
  // 10 s, none once a collective found a rank lost), so that no rank's last read finds the
  // server gone (a rank that read "error" or "done" from rank 0 a moment late, and said so).
  try {
    set(fmt::format("exit/{}", world_.rank), "");
    if (!serving_ || broken_) return;
    std::vector<std::string> keys;
    for (int rank = 0; rank < world_.size; ++rank) keys.push_back(fmt::format("{}exit/{}", impl_->prefix, rank));
    impl_->store->wait(keys, std::min(timeout_, std::chrono::milliseconds(10000)));
  } catch (const std::exception&) {
    // Another rank is gone: nothing to wait for.
  }
}

void Rendezvous::set(const std::string& key, const std::string& value) {
  impl_->store->set(impl_->prefix + key, bytes(value));
}

std::string Rendezvous::get(const std::string& key) { return text(impl_->store->get(impl_->prefix + key)); }

std::vector<std::string> Rendezvous::agree(const std::string& stage, const std::string& problem) {
  set(fmt::format("{}/{}", stage, world_.rank), problem.empty() ? "ok" : "error:" + problem);
  std::vector<std::string> problems(static_cast<std::size_t>(world_.size));
  problems[static_cast<std::size_t>(world_.rank)] = problem;
  for (int rank = 0; rank < world_.size; ++rank) {
    if (rank == world_.rank) continue;
    std::string& said = problems[static_cast<std::size_t>(rank)];
    try {
      said = get(fmt::format("{}/{}", stage, rank));
    } catch (const std::exception& e) {
      // Its process ended, or it is stuck: either way it never said.
      said = fmt::format("did not finish its {} within {} ({})", stage, seconds_text(timeout_), short_text(e));
      continue;
    }
    said = said.rfind("error:", 0) == 0 ? said.substr(6) : "";
  }
  return problems;
}

const std::vector<std::string>& Rendezvous::hosts() {
  // Every rank left its host when it connected.
  if (hosts_.empty())
    for (int rank = 0; rank < world_.size; ++rank) hosts_.push_back(get(fmt::format("host/{}", rank)));
  return hosts_;
}

void Rendezvous::announce(const std::string& stage, const std::string& value) { set("announce/" + stage, value); }

std::string Rendezvous::announced(const std::string& stage) {
  try {
    return get("announce/" + stage);
  } catch (const std::exception& e) {
    throw Error(fmt::format("rank 0 did not start the run within {} ({})", seconds_text(timeout_), short_text(e)));
  }
}

// ---- ProcessGroup -----------------------------------------------------------------------

/// The backend's process group behind one interface: ProcessGroupGloo is a c10d::ProcessGroup
/// in LibTorch 1.13 and a c10d::Backend in 2.x, so the group's own class is what is named.
struct ProcessGroup::Impl {
  virtual ~Impl() = default;
  virtual c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors) = 0;
  virtual c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors) = 0;
};

namespace {

template <class Group>
struct GroupOf final : ProcessGroup::Impl {
  explicit GroupOf(c10::intrusive_ptr<Group> group) : group(std::move(group)) {}
  c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors) override {
    return group->allreduce(tensors, c10d::AllreduceOptions());
  }
  c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors) override {
    c10d::BroadcastOptions options;
    options.rootRank = 0;
    return group->broadcast(tensors, options);
  }
  c10::intrusive_ptr<Group> group;
};

/// Bucket boundaries: consecutive indices of `sizes` (bytes) whose sum stays near `cap`.
std::vector<std::pair<std::size_t, std::size_t>> buckets(const std::vector<std::size_t>& sizes, std::size_t cap) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t first = 0, bytes = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (i > first && bytes + sizes[i] > cap) {
      out.emplace_back(first, i);
      first = i;
      bytes = 0;
    }
    bytes += sizes[i];
  }
  if (first < sizes.size()) out.emplace_back(first, sizes.size());
  return out;
}

}  // namespace

#ifdef KILN_HAVE_GLOO
namespace {

/// A Gloo process group of the run's ranks on `prefix` of the store, with `threads` threads.
std::unique_ptr<ProcessGroup::Impl> gloo_group(const World& world, const c10::intrusive_ptr<c10d::Store>& store,
                                               std::chrono::milliseconds timeout, int threads) {
  auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
  // GLOO_SOCKET_IFNAME picks the interface, as in PyTorch; on one machine, loopback.
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface)
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
  else if (loopback(world.master_addr))
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  else
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  gloo->threads = threads;
  return std::make_unique<GroupOf<c10d::ProcessGroupGloo>>(
      c10::make_intrusive<c10d::ProcessGroupGloo>(store, world.rank, world.size, gloo));
}

}  // namespace
#endif

ProcessGroup::ProcessGroup(Rendezvous& rendezvous, const std::string& backend, const DistributedOptions& options,
                           c10::Device device)
    : rendezvous_(rendezvous), backend_(backend), options_(options), device_(device) {
  const World& world = rendezvous.world();
  overlap_ = options.overlap == "on" || (options.overlap == "auto" && device.is_cuda());
  const std::string prefix = rendezvous.impl_->prefix;
  auto store = c10::make_intrusive<c10d::PrefixStore>(prefix + "pg", rendezvous.impl_->store);
  try {
    if (backend == "gloo") {
#ifdef KILN_HAVE_GLOO
      impl_ = gloo_group(world, store, rendezvous.timeout(), /*threads=*/2);
#endif
    } else if (backend == "nccl") {
#ifdef KILN_HAVE_NCCL
      auto nccl = c10d::ProcessGroupNCCL::Options::create();
      nccl->timeout = rendezvous.timeout();
      impl_ = std::make_unique<GroupOf<c10d::ProcessGroupNCCL>>(
          c10::make_intrusive<c10d::ProcessGroupNCCL>(store, world.rank, world.size, nccl));
#endif
    }
  } catch (const std::exception& e) {
    throw Error(fmt::format("rank {} could not join the {} process group within {}: {}", world.rank, backend,
                            seconds_text(rendezvous.timeout()), short_text(e)));
  }
  if (!impl_) throw Error(fmt::format("this kiln has no '{}' process group", backend));
#ifdef KILN_HAVE_GLOO
  // The stop's agreement, once a step, on the host: a Gloo group of its own, beside the
  // backend's. On NCCL the flags then never touch the GPU (no copy that waits for the step's
  // kernels), and a rank that died is a connection reset here at once: one clear error where
  // the NCCL collectives, which the host no longer waits for, would hang until the watchdog.
  try {
    control_ = gloo_group(world, c10::make_intrusive<c10d::PrefixStore>(prefix + "control", rendezvous.impl_->store),
                          rendezvous.timeout(), /*threads=*/1);
  } catch (const std::exception& e) {
    throw Error(fmt::format("rank {} could not join the run's control group (gloo) within {}: {}", world.rank,
                            seconds_text(rendezvous.timeout()), short_text(e)));
  }
#endif
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::lost(const char* what, const std::exception& error) {
  rendezvous_.broken_ = true;  // its server need not wait for the lost one
  throw Error(fmt::format("{}: another process of this run ended, or did not answer within {} ({})", what,
                          seconds_text(rendezvous_.timeout()), short_text(error)));
}

void ProcessGroup::wait(c10d::Work& work) const {
  // NCCL's wait() with a timeout holds the host until the GPU has done the collective (it
  // polls), a sync per call; without one, the current stream waits for the collective's and
  // the host goes on, as DDP does. NCCL's watchdog enforces the timeout (Options::timeout).
  if (backend_ == "nccl") work.wait();
  else work.wait(rendezvous_.timeout());
}

void ProcessGroup::all_reduce(std::vector<torch::Tensor>& tensors, const char* what) {
  const auto started = Clock::now();
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  try {
    // All sent before the first is waited for: the buckets travel back to back.
    for (torch::Tensor& tensor : tensors) {
      std::vector<at::Tensor> one{tensor};
      works.push_back(impl_->allreduce(one));
    }
    for (auto& work : works) wait(*work);
  } catch (const std::exception& e) {
    lost(what, e);
  }
  seconds_ += std::chrono::duration<double>(Clock::now() - started).count();
}

ProcessGroup::Averaging::Averaging(ProcessGroup& group, const std::vector<torch::Tensor>& params)
    : group_(group), params_(params), bucket_of_(params.size()), ready_(params.size()) {
  // From the last parameter to the first, a new bucket at another dtype or past the cap: the
  // same plan on every rank (it depends on the parameters alone).
  const auto cap = static_cast<std::size_t>(group.options_.bucket_mb * 1024 * 1024);
  std::size_t bytes = 0;
  for (std::size_t k = params.size(); k-- > 0;) {
    const std::size_t size = static_cast<std::size_t>(params[k].numel()) * params[k].element_size();
    if (plan_.empty() || params[plan_.back().back()].scalar_type() != params[k].scalar_type() ||
        (bytes > 0 && bytes + size > cap)) {
      plan_.emplace_back();
      bytes = 0;
    }
    plan_.back().push_back(k);
    bucket_of_[k] = plan_.size() - 1;
    bytes += size;
  }
  for (const auto& bucket : plan_) missing_.push_back(bucket.size());
  flats_.resize(plan_.size());
}

ProcessGroup::Averaging::~Averaging() = default;

void ProcessGroup::Averaging::launch(std::size_t bucket) {
  const auto started = Clock::now();
  std::vector<torch::Tensor> parts;
  for (std::size_t k : plan_[bucket])
    parts.push_back(ready_[k].defined() ? ready_[k].reshape({-1})
                                        : torch::zeros({params_[k].numel()}, params_[k].options()));
  flats_[bucket] = torch::cat(parts);
  std::vector<at::Tensor> one{flats_[bucket]};
  try {
    works_.push_back(group_.impl_->allreduce(one));
  } catch (const std::exception& e) {
    group_.lost("averaging the gradients", e);
  }
  seconds_ += std::chrono::duration<double>(Clock::now() - started).count();
}

void ProcessGroup::Averaging::ready(std::size_t index, torch::Tensor grad) {
  ready_[index] = std::move(grad);
  const std::size_t bucket = bucket_of_[index];
  if (missing_[bucket] > 0) --missing_[bucket];
  // In plan order only: every rank sends the same buckets in the same order.
  while (next_ < plan_.size() && missing_[next_] == 0) launch(next_++);
}

void ProcessGroup::Averaging::finish(std::vector<torch::Tensor>& grads, std::vector<torch::Tensor>& values) {
  torch::NoGradGuard no_grad;
  const double world = group_.size();
  for (std::size_t k = 0; k < grads.size(); ++k)
    if (!ready_[k].defined()) ready_[k] = grads[k];
  while (next_ < plan_.size()) launch(next_++);
  // The loss values and which gradients this rank has, in one small tensor.
  std::vector<torch::Tensor> small_parts;
  for (const torch::Tensor& value : values)
    small_parts.push_back(value.detach().reshape({1}).to(group_.device_, torch::kFloat));
  std::vector<float> defined(grads.size());
  for (std::size_t k = 0; k < grads.size(); ++k) defined[k] = ready_[k].defined() ? 1.0F : 0.0F;
  if (!defined.empty()) {
    torch::Tensor flags = torch::tensor(defined, torch::kFloat);
    // To the GPU from pinned memory, queued: a copy from pageable memory waits for the stream.
    if (group_.device_.is_cuda()) flags = flags.pin_memory().to(group_.device_, /*non_blocking=*/true);
    small_parts.push_back(flags);
  }
  std::vector<torch::Tensor> small{torch::cat(small_parts)};
  const auto started = Clock::now();
  try {
    std::vector<at::Tensor> one{small[0]};
    works_.push_back(group_.impl_->allreduce(one));
    for (auto& work : works_) group_.wait(*work);
  } catch (const std::exception& e) {
    group_.lost("averaging the gradients", e);
  }
  group_.seconds_ += seconds_ + std::chrono::duration<double>(Clock::now() - started).count();

  // Which gradients any rank has is read on the host only where this rank lacks one (a read
  // waits for the GPU): a rank that has them all uses them all, and a rank that lacks one
  // finds out whether the others do; when they differ that rank fails, and the others at
  // their next collective.
  std::vector<float> counts(grads.size(), static_cast<float>(world));
  if (std::find(defined.begin(), defined.end(), 0.0F) != defined.end()) {
    const torch::Tensor host = small[0].to(torch::kCPU);
    std::copy_n(host.data_ptr<float>() + values.size(), grads.size(), counts.begin());
  }
  for (std::size_t k = 0; k < grads.size(); ++k)
    if (counts[k] != 0.0F && counts[k] != static_cast<float>(world))
      throw Error(fmt::format("parameter {} of the phase has a gradient on {} of the {} ranks (used on some ranks "
                              "only); data-parallel training needs every rank to use the same parameters",
                              k, static_cast<int>(counts[k]), group_.size()));
  for (std::size_t b = 0; b < plan_.size(); ++b) {
    torch::Tensor& flat = flats_[b];
    flat.div_(world);
    std::int64_t at = 0;
    for (std::size_t k : plan_[b]) {
      const std::int64_t n = params_[k].numel();
      // None on any rank stays none (the optimizer skips it, as in one process).
      grads[k] = counts[k] == 0.0F ? torch::Tensor() : flat.narrow(0, at, n).view(params_[k].sizes());
      at += n;
    }
  }
  const torch::Tensor averaged = small[0] / world;
  for (std::size_t v = 0; v < values.size(); ++v) values[v] = averaged[static_cast<std::int64_t>(v)];
}

std::unique_ptr<ProcessGroup::Averaging> ProcessGroup::begin_average(const std::vector<torch::Tensor>& params) {
  return std::unique_ptr<Averaging>(new Averaging(*this, params));
}

void ProcessGroup::average(std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::map<c10::ScalarType, std::vector<std::size_t>> by_type;
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].defined() && tensors[i].is_floating_point()) by_type[tensors[i].scalar_type()].push_back(i);
  std::vector<std::vector<std::size_t>> plan;
  std::vector<torch::Tensor> flats;
  for (const auto& [type, members] : by_type) {
    std::vector<torch::Tensor> parts;
    for (std::size_t i : members) parts.push_back(tensors[i].reshape({-1}));
    flats.push_back(torch::cat(parts));
    plan.push_back(members);
  }
  if (flats.empty()) return;
  all_reduce(flats, "averaging the model's buffers");
  for (std::size_t b = 0; b < plan.size(); ++b) {
    flats[b].div_(static_cast<double>(size()));
    std::int64_t at = 0;
    for (std::size_t i : plan[b]) {
      const std::int64_t n = tensors[i].numel();
      tensors[i].copy_(flats[b].narrow(0, at, n).view(tensors[i].sizes()));
      at += n;
    }
  }
}

std::vector<std::int64_t> ProcessGroup::gather(std::int64_t mine) {
  torch::Tensor slots = torch::zeros({size()}, torch::kLong);
  slots[rank()] = mine;
  if (control_) {
    // On the host, through the control group: nothing waits for the GPU.
    const auto started = Clock::now();
    std::vector<at::Tensor> sent{slots};
    try {
      control_->allreduce(sent)->wait(rendezvous_.timeout());
    } catch (const std::exception& e) {
      lost("agreeing on a stop", e);
    }
    seconds_ += std::chrono::duration<double>(Clock::now() - started).count();
  } else {
    // No Gloo in this kiln: NCCL's own group, on the device; reading it back waits for the step.
    std::vector<torch::Tensor> sent{backend_ == "nccl" ? slots.to(device_) : slots};
    all_reduce(sent, "agreeing on a stop");
    slots = sent[0].to(torch::kCPU);
  }
  return std::vector<std::int64_t>(slots.data_ptr<std::int64_t>(), slots.data_ptr<std::int64_t>() + slots.numel());
}

void ProcessGroup::broadcast(TensorMap& state) {
  torch::NoGradGuard no_grad;
  // What is sent: every entry's name, dtype and shape, through the store; then the bytes of
  // all of them, in buckets of at most 64 MiB.
  if (rank() == 0) {
    std::ostringstream meta;
    for (auto& [name, tensor] : state) {
      tensor = tensor.to(torch::kCPU).contiguous();
      meta << name << '\t' << static_cast<int>(tensor.scalar_type()) << '\t';
      for (std::int64_t d : tensor.sizes()) meta << d << ',';
      meta << '\n';
    }
    rendezvous_.announce("state", meta.str());
  } else {
    TensorMap received(state.label());
    std::istringstream meta(rendezvous_.announced("state"));
    std::string line;
    while (std::getline(meta, line)) {
      const auto tab = line.find('\t'), tab2 = line.find('\t', tab + 1);
      const std::string name = line.substr(0, tab);
      const auto type = static_cast<c10::ScalarType>(std::stoi(line.substr(tab + 1, tab2 - tab - 1)));
      std::vector<std::int64_t> sizes;
      std::istringstream dims(line.substr(tab2 + 1));
      std::string dim;
      while (std::getline(dims, dim, ','))
        if (!dim.empty()) sizes.push_back(std::stoll(dim));
      received.set(name, torch::empty(sizes, torch::TensorOptions().dtype(type)));
    }
    state = std::move(received);
  }
  std::vector<torch::Tensor> tensors;
  std::vector<std::size_t> sizes;
  for (const auto& [name, tensor] : state) {
    tensors.push_back(tensor);
    sizes.push_back(static_cast<std::size_t>(tensor.numel()) * tensor.element_size());
  }
  const auto started = Clock::now();
  for (const auto& [first, last] : buckets(sizes, std::size_t{64} << 20)) {
    std::int64_t total = 0;
    for (std::size_t i = first; i < last; ++i) total += static_cast<std::int64_t>(sizes[i]);
    torch::Tensor flat = torch::empty({total}, torch::kUInt8);
    auto* data = flat.data_ptr<std::uint8_t>();
    if (rank() == 0) {
      std::int64_t at = 0;
      for (std::size_t i = first; i < last; ++i) {
        if (sizes[i]) std::memcpy(data + at, tensors[i].data_ptr(), sizes[i]);
        at += static_cast<std::int64_t>(sizes[i]);
      }
    }
    std::vector<at::Tensor> sent{device_.is_cuda() && backend_ == "nccl" ? flat.to(device_) : flat};
    try {
      impl_->broadcast(sent)->wait(rendezvous_.timeout());
    } catch (const std::exception& e) {
      lost("sending rank 0's state", e);
    }
    if (rank() != 0) {
      const torch::Tensor landed = sent[0].to(torch::kCPU);
      const auto* from = landed.data_ptr<std::uint8_t>();
      std::int64_t at = 0;
      for (std::size_t i = first; i < last; ++i) {
        if (sizes[i]) std::memcpy(tensors[i].data_ptr(), from + at, sizes[i]);
        at += static_cast<std::int64_t>(sizes[i]);
      }
    }
  }
  seconds_ += std::chrono::duration<double>(Clock::now() - started).count();
}

}  // namespace kiln::runner
