// [experiment] device and precision: what was asked, checked against what there is.
#include "train/device.hpp"

#include <charconv>

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "train/device_cuda.hpp"
#include "train/torch_compat.hpp"

namespace kiln::runner {
namespace {

/// "cuda:N" -> N; nullopt for anything that is not "cuda:" and decimal digits.
std::optional<int> cuda_index(std::string_view requested) {
  constexpr std::string_view prefix = "cuda:";
  if (requested.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view digits = requested.substr(prefix.size());
  int index = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || index < 0)
    return std::nullopt;
  return index;
}

std::string gpus(int count) { return count == 1 ? "1 GPU" : fmt::format("{} GPUs", count); }

}  // namespace

CudaProbe CudaProbe::detect() {
  CudaProbe probe;
  // Whether the LibTorch kiln was built against has CUDA, not at::hasCUDA(): that asks CUDA
  // for a device too, so a CUDA LibTorch without a GPU would be called one built without it.
  probe.built_with_cuda = compat::kWithCuda;
  // device_count() asks the driver; a CUDA LibTorch on a machine without one says 0.
  probe.device_count = probe.built_with_cuda ? static_cast<int>(torch::cuda::device_count()) : 0;
  return probe;
}

std::string_view precision_name(Precision precision) {
  switch (precision) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::bf16: return "bf16";
    case Precision::fp16: return "fp16";
  }
  return "fp32";
}

std::optional<c10::Device> parse_device(std::string_view requested, const CudaProbe& probe, std::string& problem) {
  if (requested == "auto") return probe.device_count > 0 ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (requested == "cpu") return c10::Device(c10::kCPU);
  const std::optional<int> index = requested == "cuda" ? std::optional<int>(0) : cuda_index(requested);
  if (!index)
    problem = fmt::format("must be \"auto\", \"cpu\", \"cuda\" or \"cuda:N\" (N a GPU's index), got \"{}\"", requested);
  else if (!probe.built_with_cuda)
    problem = fmt::format("\"{}\" needs CUDA, but this kiln's LibTorch {} was built without it; use \"cpu\" "
                          "(or \"auto\"), or build kiln against a CUDA LibTorch (README.md, \"GPUs\")",
                          requested, TORCH_VERSION);
  else if (probe.device_count == 0)
    problem = fmt::format("\"{}\" needs a GPU, and CUDA sees none here (no NVIDIA driver, no GPU, or "
                          "CUDA_VISIBLE_DEVICES hides them); use \"cpu\" or \"auto\"",
                          requested);
  else if (*index >= probe.device_count)
    problem = fmt::format("\"{}\" is out of range: CUDA sees {} here, cuda:0{}", requested, gpus(probe.device_count),
                          probe.device_count > 1 ? fmt::format(" to cuda:{}", probe.device_count - 1) : "");
  else
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(*index));
  return std::nullopt;
}

c10::Device resolve_device(std::string_view requested, const Config& table, std::string_view key,
                           const CudaProbe& probe) {
  std::string problem;
  if (const std::optional<c10::Device> device = parse_device(requested, probe, problem)) return *device;
  table.fail(key, problem);
}

c10::Device local_cuda_device(int local_rank, const Config& table, std::string_view key, const CudaProbe& probe) {
  if (local_rank >= probe.device_count)
    table.fail(key, fmt::format("this machine's process of local rank {} has no GPU of its own ({} GPU{} visible, one "
                                "per process); start fewer processes, or name one device for all (\"cuda:0\")",
                                local_rank, probe.device_count, probe.device_count == 1 ? "" : "s"));
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
}

Precision resolve_precision(std::string_view requested, c10::Device device, const Config& table,
                            std::string_view key) {
  const bool cuda = device.is_cuda();
  if (requested.empty() || requested == "auto") return cuda ? Precision::tf32 : Precision::fp32;
  Precision precision = Precision::fp32;
  if (requested == "fp32") precision = Precision::fp32;
  else if (requested == "tf32") precision = Precision::tf32;
  else if (requested == "bf16") precision = Precision::bf16;
  else if (requested == "fp16") precision = Precision::fp16;
  else
    table.fail(key, fmt::format("must be \"auto\", \"fp32\", \"tf32\", \"bf16\" or \"fp16\", got \"{}\"", requested));
  if (!cuda && (precision == Precision::tf32 || precision == Precision::fp16))
    table.fail(key, fmt::format("\"{}\" needs CUDA, and this run trains on the CPU; there use \"fp32\" or \"bf16\"",
                                requested));
  return precision;
}

std::string cudnn_version_string(long version) {
  if (version <= 0) return "";
  // cuDNN 9 counts major * 10000 + minor * 100 + patch; cuDNN 8 and older major * 1000.
  const long major_unit = version >= 90000 ? 10000 : 1000;
  return fmt::format("{}.{}.{}", version / major_unit, (version % major_unit) / 100, version % 100);
}

std::string cuda_version_string(long version) {
  if (version <= 0) return "";
  return fmt::format("{}.{}", version / 1000, (version % 1000) / 10);
}

DeviceDescription describe(c10::Device device, Precision precision) {
  DeviceDescription description;
  description.device = device.str();
  description.torch_version = TORCH_VERSION;
  description.precision = std::string(precision_name(precision));
  // The LibTorch's CUDA and cuDNN, on the CPU too: what the run was built with.
  if (compat::kWithCuda) {
    const at::CUDAHooksInterface& hooks = at::detail::getCUDAHooks();
    description.cuda_version = cuda_version_string(hooks.versionCUDART());
    if (hooks.hasCuDNN()) description.cudnn_version = cudnn_version_string(hooks.versionCuDNN());
  }
  if (device.is_cuda()) {
    if (const std::optional<CudaDeviceProperties> properties = cuda_device_properties(device.index())) {
      description.name = properties->name;
      description.memory_bytes = properties->memory_bytes;
    }
  }
  return description;
}

std::string describe_line(const DeviceDescription& d) {
  std::string line = d.device;
  if (!d.name.empty()) {
    line += fmt::format(" ({}", d.name);
    if (d.memory_bytes) line += fmt::format(", {:.1f} GiB", static_cast<double>(*d.memory_bytes) / (1 << 30));
    line += ")";
  }
  line += fmt::format(", torch {}", d.torch_version);
  if (!d.cuda_version.empty()) line += fmt::format(", CUDA {}", d.cuda_version);
  if (!d.cudnn_version.empty()) line += fmt::format(", cuDNN {}", d.cudnn_version);
  line += fmt::format(", {}", d.precision);
  return line;
}

void set_math_modes(c10::Device device, Precision precision) {
  at::Context& context = at::globalContext();
  const bool tf32 = device.is_cuda() && precision != Precision::fp32;
  context.setAllowTF32CuBLAS(tf32);
  context.setAllowTF32CuDNN(tf32);
  // A run's shapes are fixed, so cuDNN's autotuner pays once and then picks the fastest kernels.
  context.setBenchmarkCuDNN(device.is_cuda());
}

}  // namespace kiln::runner
