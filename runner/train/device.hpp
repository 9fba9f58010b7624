// Where a run trains and at which precision: [experiment] device and precision, resolved
// against what this process's LibTorch and machine offer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <c10/core/Device.h>

#include "kiln/config.hpp"

namespace kiln::runner {

/// What CUDA this process has: whether its LibTorch was built with CUDA (libtorch_cuda is
/// loaded) and how many GPUs the driver shows. Tests pass their own to reach every refusal.
struct CudaProbe {
  bool built_with_cuda = false;
  int device_count = 0;
  static CudaProbe detect();
};

/// The arithmetic a run trains with. tf32: fp32 tensors, TensorFloat-32 matmuls and
/// convolutions on CUDA; bf16 and fp16: autocast around the forward passes and losses (fp16
/// with a gradient scaler per phase).
enum class Precision { fp32, tf32, bf16, fp16 };

std::string_view precision_name(Precision precision);

/// `requested` resolved as resolve_device() does, or nullopt with `problem` saying why not
/// (for a command-line flag, which has no position).
std::optional<c10::Device> parse_device(std::string_view requested, const CudaProbe& probe, std::string& problem);

/// `device` as written ("auto", "cpu", "cuda", "cuda:N") resolved: auto is the first GPU when
/// there is one, else the CPU. Asking for CUDA where there is none (a CPU LibTorch, no GPU
/// visible, N out of range) is a ConfigError at `key` of `table` naming what is missing.
c10::Device resolve_device(std::string_view requested, const Config& table, std::string_view key,
                           const CudaProbe& probe = CudaProbe::detect());

/// The GPU of the process with `local_rank` on its machine in a data-parallel run whose
/// experiment asks for CUDA without an index: cuda:<local_rank>. More processes than GPUs
/// is a ConfigError at `key` (NCCL refuses two ranks on one device; name one with "cuda:N"
/// to share it under gloo).
c10::Device local_cuda_device(int local_rank, const Config& table, std::string_view key,
                              const CudaProbe& probe = CudaProbe::detect());

/// `precision` as written ("auto" or "": tf32 on CUDA, fp32 on the CPU) on `device`.
/// tf32 and fp16 need CUDA: on the CPU they are a ConfigError at `key`.
Precision resolve_precision(std::string_view requested, c10::Device device, const Config& table,
                            std::string_view key);

/// What the run trained on, for the runs row, `kiln run`'s banner and `kiln show`.
struct DeviceDescription {
  std::string device;                        ///< "cpu", "cuda:0"
  std::string name;                          ///< the GPU's name; empty on the CPU
  std::optional<std::int64_t> memory_bytes;  ///< the GPU's memory; none on the CPU
  std::string torch_version;                 ///< the LibTorch kiln was built with: "1.13.0"
  std::string cuda_version;                  ///< CUDA runtime, "13.0"; empty without CUDA
  std::string cudnn_version;                 ///< "9.1.0"; empty without cuDNN
  std::string precision;                     ///< precision_name()
};

DeviceDescription describe(c10::Device device, Precision precision);

/// One line for people: "cuda:0 (NVIDIA H200, 139.8 GiB), torch 2.11.0, CUDA 13.0, cuDNN
/// 9.1.0, tf32" or "cpu, torch 1.13.0, fp32".
std::string describe_line(const DeviceDescription& description);

/// The process-wide math modes for a run: TensorFloat-32 on or off for cuBLAS and cuDNN, and
/// cuDNN's autotuner (on CUDA; a run's input shapes are fixed). Set once per run, before the
/// first step.
void set_math_modes(c10::Device device, Precision precision);

/// cuDNN's version number as a dotted string: 8902 -> "8.9.2", 90100 -> "9.1.0".
std::string cudnn_version_string(long version);
/// The CUDA runtime's version number as a dotted string: 12010 -> "12.1".
std::string cuda_version_string(long version);

}  // namespace kiln::runner
