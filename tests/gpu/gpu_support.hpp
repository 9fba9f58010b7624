// What the GPU tests share: the skip where there is no GPU, small experiments placed on a
// chosen device, and comparisons of checkpoints and summaries at a stated tolerance.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <ATen/Context.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "../support/experiment_file.hpp"
#include "hooks/checkpoint_file.hpp"
#include "hooks/ema.hpp"
#include "store/query.hpp"
#include "train/device.hpp"
#include "train/optimizers.hpp"
#include "train/precision.hpp"
#include "train/trainer.hpp"

namespace kiln::test::gpu {

namespace fs = std::filesystem;

/// Every GPU test derives from this: without a CUDA device the test is skipped (GTEST_SKIP,
/// which ctest shows as "Not Run (Skipped)"), saying why.
class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available())
      GTEST_SKIP() << "no CUDA GPU here: " << (KILN_WITH_CUDA ? "CUDA sees no device" : "this LibTorch (" TORCH_VERSION
                                                                                        ") was built without CUDA")
                   << "; the gpu tests run on a GPU machine (scripts/gpu_check.sh)";
  }
};

inline const c10::Device kCuda0(c10::kCUDA, 0);
inline const c10::Device kCpu(c10::kCPU);

/// The --set override that puts a run on `device` ("cpu", "cuda", "cuda:0", "auto").
inline std::string device_override(const std::string& device) { return "experiment.device=\"" + device + "\""; }
/// The --set override for `precision` ("fp32", "tf32", "bf16", "fp16").
inline std::string precision_override(const std::string& precision) {
  return "experiment.precision=\"" + precision + "\"";
}

// The trainer's device API (Trainer::device(), Trainer::precision(), Phase::scaler), in one
// place so that a change of it is one edit here.

inline c10::Device trainer_device(const runner::Trainer& trainer) { return trainer.device(); }

/// The trainer's precision by name: "fp32", "tf32", "bf16", "fp16".
inline std::string trainer_precision(const runner::Trainer& trainer) {
  return std::string(runner::precision_name(trainer.precision()));
}

/// A phase's fp16 gradient scaler as it stands.
struct ScalerState {
  double scale = 0;
  std::int64_t clean_steps = 0;
  bool operator==(const ScalerState& other) const {
    return scale == other.scale && clean_steps == other.clean_steps;
  }
};
inline std::ostream& operator<<(std::ostream& out, const ScalerState& s) {
  return out << "{scale " << s.scale << ", clean steps " << s.clean_steps << "}";
}

/// The state of `phase`'s gradient scaler; nullopt when it has none.
inline std::optional<ScalerState> scaler_state(const runner::Phase& phase) {
  if (!phase.scaler) return std::nullopt;
  return ScalerState{phase.scaler->current_scale(), phase.scaler->clean_steps()};
}

/// What an overflow does to `phase`'s scaler (its scale backs off); nothing without one.
inline void back_off_scaler(const runner::Phase& phase) {
  if (phase.scaler) phase.scaler->update(/*finite=*/false);
}

/// The hello-world MLP with an EMA of all its weights: small enough that a CPU and a GPU
/// compute the same steps up to float rounding.
inline std::string mlp_with_ema(long max_steps) {
  return mlp_experiment("[ema]\ndecay = 0.9\nparams = [\"all\"]\nlosses = [\"mse\"]\n", max_steps);
}

/// pix2pix as experiments/pix2pix.toml trains it (U-Net with BatchNorm, PatchGAN, the
/// discriminator's phase then the generator's, an EMA of the generator), at 64×64 with
/// ngf = ndf = 8 on generated facades, without the plugin hooks (evaluate, image_summaries),
/// so that what a test checks is the trainer's. 64 pixels is the smallest U-Net with a
/// dropout layer (6 levels: level 4's up side), whose masks come from the device's generator.
/// Every step's losses are summaries. `extra` is appended (tables: [plugins], [[hooks]] ...).
inline constexpr long kPix2pixSize = 64;
inline std::string small_pix2pix(long max_steps, const std::string& extra = "") {
  return "[experiment]\nname = \"p2p\"\nseed = 3\nthreads = 1\nmax_steps = " + std::to_string(max_steps) +
         "\n"
         "[data]\nplugin = \"synthetic_facades\"\nsize = 16\nimage_size = 64\nload_size = 72\nflip = true\n"
         "batch_size = 2\nworkers = 1\n"
         "[eval_data]\nplugin = \"synthetic_facades\"\nsplit = \"test\"\nsize = 4\nimage_size = 64\nflip = false\n"
         "[model]\nplugin = \"pix2pix\"\nimage_size = 64\nngf = 8\nndf = 8\n"
         "[[losses]]\nname = \"d_real\"\nplugin = \"gan\"\ninput = \"d_real\"\ntarget = \"real\"\n"
         "[[losses]]\nname = \"d_fake\"\nplugin = \"gan\"\ninput = \"d_fake\"\ntarget = \"fake\"\n"
         "[[losses]]\nname = \"g_gan\"\nplugin = \"gan\"\ninput = \"d_fake\"\ntarget = \"real\"\n"
         "[[losses]]\nname = \"l1\"\nplugin = \"l1\"\nprediction = \"fake\"\ntarget = \"target\"\n"
         "[[optimizers]]\nname = \"discriminator\"\ntype = \"adam\"\nparams = \"discriminator\"\nlr = 2e-4\n"
         "betas = [0.5, 0.999]\nlosses = [\"d_real\", \"d_fake\"]\n"
         "[[optimizers]]\nname = \"generator\"\ntype = \"adam\"\nparams = \"generator\"\nlr = 2e-4\n"
         "betas = [0.5, 0.999]\nlosses = { g_gan = 1.0, l1 = 100.0 }\nafter = [\"discriminator\"]\n"
         "[ema]\ndecay = 0.99\nparams = [\"generator\"]\nlosses = [\"l1\"]\nzero_debias = true\n"
         "[supervisor]\nsummary_every_steps = 1\nlog_every_steps = 0\n" +
         extra;
}

using TensorsByName = std::map<std::string, torch::Tensor>;

/// The entries of the checkpoint file `path` (checked against `sha256` when given), by name.
inline TensorsByName checkpoint_tensors(const fs::path& path, const std::string& sha256 = "") {
  TensorsByName out;
  for (auto& [name, tensor] : runner::read_checkpoint(path, sha256)) out.emplace(name, tensor);
  return out;
}

/// A copy on the CPU of every tensor of `state`.
inline TensorsByName on_cpu(const TensorMap& state) {
  TensorsByName out;
  for (const auto& [name, tensor] : state) out.emplace(name, tensor.detach().to(torch::kCPU).clone());
  return out;
}

/// The model's parameters and buffers, as named_parameters()/named_buffers() name them, on the CPU.
inline TensorsByName model_weights(Model& model) {
  TensorsByName out;
  for (const auto& item : model.named_parameters()) out.emplace(item.key(), item.value().detach().to(torch::kCPU));
  for (const auto& item : model.named_buffers())
    if (item.value().defined()) out.emplace(item.key(), item.value().detach().to(torch::kCPU));
  return out;
}

inline bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

inline bool under_any(const std::string& name, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return starts_with(name, p); });
}

/// How close two float tensors must be: element by element |a - b| <= atol + rtol * |b|,
/// except for at most `outlier_share` of all the elements compared (rounded down): an
/// element that a non-deterministic reduction pushed across zero early on (Adam's first
/// update is lr * sign(gradient)) stays apart by up to 2 lr, while a real fault (moments,
/// shadows or the RNG not restored) moves nearly every element of a tensor. Integer and
/// bool tensors are always compared exactly.
struct Tolerance {
  double atol = 0;
  double rtol = 0;
  double outlier_share = 0;
};

/// Succeeds when `actual` has every entry of `expected` whose name starts with one of
/// `prefixes`, with the same shape and dtype, and values within `tolerance`; names at least
/// `min_entries` such entries.
inline ::testing::AssertionResult tensors_close(const TensorsByName& actual, const TensorsByName& expected,
                                                const std::vector<std::string>& prefixes, Tolerance tolerance,
                                                std::size_t min_entries = 1) {
  std::ostringstream problems;
  std::size_t compared = 0;
  std::int64_t elements = 0, outliers = 0;
  std::string worst;
  double worst_excess = -1;
  bool structural = false;  // a missing entry, another shape or dtype, unequal integers, non-finite values
  for (const auto& [name, want] : expected) {
    if (!under_any(name, prefixes)) continue;
    ++compared;
    auto it = actual.find(name);
    if (it == actual.end()) {
      problems << "\n  " << name << " is missing";
      structural = true;
      continue;
    }
    const torch::Tensor a = it->second.detach().to(torch::kCPU), b = want.detach().to(torch::kCPU);
    if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) {
      problems << "\n  " << name << " is " << a.scalar_type() << a.sizes() << ", expected " << b.scalar_type()
               << b.sizes();
      structural = true;
      continue;
    }
    if (!a.is_floating_point()) {
      if (!torch::equal(a, b)) {
        problems << "\n  " << name << " differs (compared exactly: " << a.scalar_type() << ")";
        structural = true;
      }
      continue;
    }
    const torch::Tensor a64 = a.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
    if (!a64.isfinite().all().item<bool>()) {
      problems << "\n  " << name << " has non-finite values";
      structural = true;
      continue;
    }
    const torch::Tensor diff = (a64 - b64).abs();
    const torch::Tensor bound = tolerance.atol + tolerance.rtol * b64.abs();
    const torch::Tensor over = diff > bound;
    elements += a.numel();
    const std::int64_t n = over.sum().item<std::int64_t>();
    outliers += n;
    if (n > 0) {
      const double excess = (diff - bound).max().item<double>();
      problems << "\n  " << name << ": " << n << " of " << a.numel() << " elements off, max |a - b| "
               << diff.max().item<double>();
      if (excess > worst_excess) worst_excess = excess, worst = name;
    }
  }
  const auto allowed = static_cast<std::int64_t>(tolerance.outlier_share * static_cast<double>(elements));
  if (compared < min_entries)
    return ::testing::AssertionFailure() << "only " << compared << " entries under the prefixes compared, expected "
                                         << min_entries << " at least";
  if (structural || outliers > allowed)
    return ::testing::AssertionFailure() << outliers << " of " << elements << " elements outside |a - b| <= "
                                         << tolerance.atol << " + " << tolerance.rtol << "·|b| (" << allowed
                                         << " allowed)" << (worst.empty() ? "" : ", worst in " + worst) << ":"
                                         << problems.str();
  return ::testing::AssertionSuccess() << compared << " entries, " << outliers << " outliers of " << elements;
}

/// Every summary but the timings, by (tag, step).
using Summaries = std::map<std::pair<std::string, std::int64_t>, double>;

inline Summaries summaries(const fs::path& db, const std::string& tag_like = "%") {
  const auto result = runner::store::query_readonly(
      db, "SELECT tag, step, value FROM summaries WHERE tag NOT LIKE 'time/%' AND tag LIKE '" + tag_like +
              "' ORDER BY tag, step");
  Summaries out;
  for (const auto& row : result.rows)
    out[{std::get<std::string>(row.at(0)), std::get<std::int64_t>(row.at(1))}] = std::get<double>(row.at(2));
  return out;
}

/// Succeeds when both have the same (tag, step) keys and values within atol + rtol·|expected|.
inline ::testing::AssertionResult summaries_close(const Summaries& actual, const Summaries& expected, double atol,
                                                  double rtol) {
  std::ostringstream problems;
  int bad = 0;
  for (const auto& [key, want] : expected) {
    auto it = actual.find(key);
    if (it == actual.end()) {
      if (++bad <= 20) problems << "\n  " << key.first << " at step " << key.second << " is missing";
    } else if (!(std::abs(it->second - want) <= atol + rtol * std::abs(want))) {
      if (++bad <= 20)
        problems << "\n  " << key.first << " at step " << key.second << ": " << it->second << ", expected " << want;
    }
  }
  for (const auto& [key, value] : actual)
    if (!expected.count(key) && ++bad <= 20)
      problems << "\n  " << key.first << " at step " << key.second << " is unexpected (" << value << ")";
  if (expected.empty()) return ::testing::AssertionFailure() << "no summaries to compare";
  if (bad > 0)
    return ::testing::AssertionFailure() << bad << " of " << expected.size() << " summaries outside " << atol << " + "
                                         << rtol << "·|expected|:" << problems.str();
  return ::testing::AssertionSuccess();
}

/// Every optimizer moment (a state field shaped like its parameter) of every phase on
/// `device`, and every parameter of a phase with state. A step count is a scalar field:
/// LibTorch's AdamParamState keeps it as an int64, which the optimizer table turns into a
/// CPU tensor, so it has no device to check.
inline void expect_optimizer_moments_on(const runner::Trainer& trainer, const c10::Device& device) {
  ASSERT_FALSE(trainer.phases().empty());
  for (const runner::Phase& phase : trainer.phases()) {
    const runner::OptimizerType& type = runner::optimizer_type(phase.spec.type);
    const auto states = type.capture(*phase.optimizer, phase.params);
    EXPECT_EQ(states.size(), phase.params.size()) << "phase " << phase.spec.name << ": parameters with state";
    std::size_t moments = 0;
    for (const auto& [index, fields] : states) {
      for (const auto& [field, tensor] : fields) {
        const runner::StateField* about = type.field(field);
        ASSERT_NE(about, nullptr) << field;
        if (!about->param_shaped) continue;
        ++moments;
        EXPECT_EQ(tensor.device(), device) << "phase " << phase.spec.name << ", parameter " << index << ", " << field;
      }
    }
    EXPECT_GE(moments, 2 * phase.params.size()) << "phase " << phase.spec.name << ": exp_avg and exp_avg_sq each";
  }
}

/// The built-in EMA hook of `trainer`, or null.
inline std::shared_ptr<runner::Ema> ema_of(const runner::Trainer& trainer) {
  for (const runner::OrderedHook& hook : trainer.hooks())
    if (hook.name == "ema") return std::dynamic_pointer_cast<runner::Ema>(hook.hook);
  return nullptr;
}

/// Every shadow of the EMA on `device` (Ema::shadow: the tensor itself, not a copy); returns
/// how many parameters it averages.
inline std::size_t expect_ema_shadows_on(const runner::Trainer& trainer, const c10::Device& device) {
  const std::shared_ptr<runner::Ema> ema = ema_of(trainer);
  EXPECT_TRUE(ema) << "no built-in hook named 'ema'";
  if (!ema) return 0;
  std::size_t shadows = 0;
  for (const auto& entry : ema->state()) {
    const std::string& key = entry.first;
    if (!starts_with(key, "params/")) continue;  // buffers/: copies; losses/: CPU doubles
    ++shadows;
    const std::string name = key.substr(7);
    EXPECT_EQ(ema->shadow(name).device(), device) << "the EMA's shadow of " << name;
  }
  return shadows;
}

/// A hook that runs after every other one in begin(), once the run is restored and every
/// hook has begun: it keeps a CPU copy of the run's state (capture_state) and where the
/// model's first parameter lives.
class BeginProbe : public Hook {
 public:
  int default_priority() const override { return 1 << 30; }
  void begin(RunContext& run) override {
    state = on_cpu(run.capture_state());
    step = run.global_step();
    const auto params = run.model().parameters();
    if (!params.empty()) device = params.front().device();
  }
  TensorsByName state;
  std::int64_t step = -1;
  c10::Device device = kCpu;
};

}  // namespace kiln::test::gpu
