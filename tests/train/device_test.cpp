// [experiment] device and precision: what resolves where, and every refusal's message.
#include <functional>
#include <string>

#include <ATen/Context.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "document.hpp"
#include "train/device.hpp"

namespace kiln::runner {
namespace {

using kiln::detail::Document;

/// The error `f` throws, or "(no error)".
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

struct DeviceTest : ::testing::Test {
  std::shared_ptr<Document> document = Document::parse("[experiment]\ndevice = \"x\"\n", "exp.toml");
  Config table = document->root().table("experiment");

  c10::Device resolve(std::string_view requested, CudaProbe probe) {
    return resolve_device(requested, table, "device", probe);
  }
  std::string refusal(std::string_view requested, CudaProbe probe) {
    return message_of([&] { resolve(requested, probe); });
  }
};

const CudaProbe kCpuTorch{false, 0};
const CudaProbe kCudaTorchNoGpu{true, 0};
const CudaProbe kTwoGpus{true, 2};

TEST_F(DeviceTest, auto_is_the_first_gpu_when_there_is_one_else_the_cpu) {
  EXPECT_EQ(resolve("auto", kCpuTorch), c10::Device(c10::kCPU));
  EXPECT_EQ(resolve("auto", kCudaTorchNoGpu), c10::Device(c10::kCPU));
  EXPECT_EQ(resolve("auto", kTwoGpus), c10::Device(c10::kCUDA, 0));
}

TEST_F(DeviceTest, explicit_devices_resolve_to_themselves) {
  EXPECT_EQ(resolve("cpu", kTwoGpus), c10::Device(c10::kCPU));
  EXPECT_EQ(resolve("cuda", kTwoGpus), c10::Device(c10::kCUDA, 0));
  EXPECT_EQ(resolve("cuda:1", kTwoGpus), c10::Device(c10::kCUDA, 1));
}

TEST_F(DeviceTest, this_machine_resolves_auto_and_cpu) {
  // CI's LibTorch has no CUDA: auto must be the CPU there, and cpu is the CPU everywhere. A
  // CUDA LibTorch is one whether or not this machine has a GPU.
  const CudaProbe here = CudaProbe::detect();
  EXPECT_EQ(here.built_with_cuda, KILN_WITH_CUDA != 0);
  if (here.built_with_cuda) EXPECT_EQ(here.device_count, static_cast<int>(torch::cuda::device_count()));
  else EXPECT_EQ(here.device_count, 0);
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(resolve("auto", here), c10::Device(c10::kCPU));
  }
  EXPECT_EQ(resolve("cpu", here), c10::Device(c10::kCPU));
}

TEST_F(DeviceTest, cuda_on_a_cpu_libtorch_names_the_libtorch_at_the_key) {
  const std::string what = refusal("cuda", kCpuTorch);
  EXPECT_EQ(what.rfind("exp.toml:2:", 0), 0u) << what;
  EXPECT_NE(what.find("\"cuda\" needs CUDA, but this kiln's LibTorch"), std::string::npos) << what;
  EXPECT_NE(what.find("was built without it"), std::string::npos) << what;
}

TEST_F(DeviceTest, cuda_without_a_gpu_says_none_is_visible) {
  const std::string what = refusal("cuda:0", kCudaTorchNoGpu);
  EXPECT_NE(what.find("\"cuda:0\" needs a GPU, and CUDA sees none here"), std::string::npos) << what;
}

TEST_F(DeviceTest, an_index_out_of_range_names_the_range) {
  const std::string what = refusal("cuda:2", kTwoGpus);
  EXPECT_NE(what.find("\"cuda:2\" is out of range: CUDA sees 2 GPUs here, cuda:0 to cuda:1"), std::string::npos)
      << what;
  const std::string one = refusal("cuda:1", CudaProbe{true, 1});
  EXPECT_EQ(one.substr(one.size() - 28), "CUDA sees 1 GPU here, cuda:0") << one;
}

TEST_F(DeviceTest, malformed_devices_list_the_forms) {
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:1x", "CPU", "cuda:99999999999"}) {
    const std::string what = refusal(bad, kTwoGpus);
    EXPECT_NE(what.find("must be \"auto\", \"cpu\", \"cuda\" or \"cuda:N\""), std::string::npos) << bad << ": " << what;
  }
}

TEST_F(DeviceTest, precision_defaults_to_tf32_on_cuda_and_fp32_on_the_cpu) {
  EXPECT_EQ(resolve_precision("", c10::Device(c10::kCPU), table, "precision"), Precision::fp32);
  EXPECT_EQ(resolve_precision("", c10::Device(c10::kCUDA, 0), table, "precision"), Precision::tf32);
  EXPECT_EQ(resolve_precision("auto", c10::Device(c10::kCUDA, 0), table, "precision"), Precision::tf32);
  EXPECT_EQ(resolve_precision("auto", c10::Device(c10::kCPU), table, "precision"), Precision::fp32);
  EXPECT_EQ(resolve_precision("bf16", c10::Device(c10::kCPU), table, "precision"), Precision::bf16);
  EXPECT_EQ(resolve_precision("fp16", c10::Device(c10::kCUDA, 1), table, "precision"), Precision::fp16);
}

TEST_F(DeviceTest, cuda_only_precisions_are_refused_on_the_cpu) {
  for (const char* cuda_only : {"tf32", "fp16"}) {
    const std::string what =
        message_of([&] { resolve_precision(cuda_only, c10::Device(c10::kCPU), table, "precision"); });
    EXPECT_NE(what.find("needs CUDA, and this run trains on the CPU; there use \"fp32\" or \"bf16\""),
              std::string::npos)
        << what;
  }
  const std::string what = message_of([&] { resolve_precision("fp8", c10::Device(c10::kCPU), table, "precision"); });
  EXPECT_NE(what.find("must be \"auto\", \"fp32\", \"tf32\", \"bf16\" or \"fp16\", got \"fp8\""), std::string::npos) << what;
}

TEST(device, version_numbers_print_as_their_libraries_write_them) {
  EXPECT_EQ(cudnn_version_string(8902), "8.9.2");
  EXPECT_EQ(cudnn_version_string(90100), "9.1.0");
  EXPECT_EQ(cudnn_version_string(0), "");
  EXPECT_EQ(cuda_version_string(12010), "12.1");
  EXPECT_EQ(cuda_version_string(13000), "13.0");
  EXPECT_EQ(cuda_version_string(-1), "");
}

TEST(device, the_cpu_is_described_without_gpu_fields) {
  const DeviceDescription d = describe(c10::Device(c10::kCPU), Precision::bf16);
  EXPECT_EQ(d.device, "cpu");
  EXPECT_EQ(d.name, "");
  EXPECT_FALSE(d.memory_bytes);
  EXPECT_EQ(d.precision, "bf16");
  EXPECT_FALSE(d.torch_version.empty());
  EXPECT_EQ(describe_line(d).rfind("cpu, torch " + d.torch_version, 0), 0u) << describe_line(d);
  EXPECT_EQ(describe_line(d).substr(describe_line(d).size() - 6), ", bf16");
}

TEST(device, a_gpu_line_shows_name_memory_and_versions) {
  DeviceDescription d;
  d.device = "cuda:0";
  d.name = "NVIDIA H200";
  d.memory_bytes = std::int64_t{150} << 30;
  d.torch_version = "2.11.0";
  d.cuda_version = "13.0";
  d.cudnn_version = "9.1.0";
  d.precision = "tf32";
  EXPECT_EQ(describe_line(d), "cuda:0 (NVIDIA H200, 150.0 GiB), torch 2.11.0, CUDA 13.0, cuDNN 9.1.0, tf32");
}

TEST(device, math_modes_keep_tf32_off_on_the_cpu) {
  set_math_modes(c10::Device(c10::kCPU), Precision::fp32);
  EXPECT_FALSE(at::globalContext().allowTF32CuBLAS());
  EXPECT_FALSE(at::globalContext().allowTF32CuDNN());
  EXPECT_FALSE(at::globalContext().benchmarkCuDNN());
}

}  // namespace
}  // namespace kiln::runner
