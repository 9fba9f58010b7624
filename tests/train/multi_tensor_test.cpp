// The multi-tensor steps of adam, adamw and sgd against LibTorch's own, on the CPU: the same
// parameters and state (within 1e-6 relative) for every option that changes the arithmetic,
// parameters that miss gradients, state carried from one implementation to the other (a
// checkpoint), the learning rate's setter, and the `implementation` key.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../support/experiment_file.hpp"
#include "../support/memory_recorder.hpp"
#include "config/experiment.hpp"
#include "plugins/plugin_host.hpp"
#include "train/multi_tensor.hpp"
#include "train/optimizers.hpp"
#include "train/trainer.hpp"

namespace kiln::runner {
namespace {

namespace optim = torch::optim;

using kiln::test::MemoryRecorder;
using kiln::test::mlp_experiment;
using kiln::test::TempDir;
using kiln::test::write_text;

using Params = std::vector<torch::Tensor>;
using MakeReference = std::function<std::unique_ptr<optim::Optimizer>(Params)>;
using MakeOurs = std::function<std::unique_ptr<optim::Optimizer>(Params, StepImplementation)>;

/// One optimizer setting: LibTorch's optimizer with it, and kiln's multi-tensor one.
struct Case {
  std::string name;  ///< "adam weight_decay amsgrad"
  std::string type;  ///< its type in the optimizer table
  MakeReference reference;
  MakeOurs ours;
};

template <class Torch, class Ours, class Options>
Case make_case(const std::string& type, const std::string& what, const Options& options) {
  return {type + " " + what, type, [options](Params params) -> std::unique_ptr<optim::Optimizer> {
            return std::make_unique<Torch>(std::move(params), options);
          },
          [options](Params params, StepImplementation how) -> std::unique_ptr<optim::Optimizer> {
            return std::make_unique<Ours>(std::move(params), options, how);
          }};
}

/// Every option of adam, adamw and sgd that changes the arithmetic, alone and together.
std::vector<Case> cases() {
  using optim::AdamOptions;
  using optim::AdamWOptions;
  using optim::SGDOptions;
  const auto adam = [](const std::string& what, const AdamOptions& o) {
    return make_case<optim::Adam, MultiTensorAdam>("adam", what, o);
  };
  const auto adamw = [](const std::string& what, const AdamWOptions& o) {
    return make_case<optim::AdamW, MultiTensorAdamW>("adamw", what, o);
  };
  const auto sgd = [](const std::string& what, const SGDOptions& o) {
    return make_case<optim::SGD, MultiTensorSGD>("sgd", what, o);
  };
  return {
      adam("defaults", AdamOptions(1e-2)),
      adam("betas", AdamOptions(1e-2).betas({0.5, 0.99}).eps(1e-6)),
      adam("weight_decay", AdamOptions(1e-2).weight_decay(0.1)),
      adam("amsgrad", AdamOptions(1e-2).amsgrad(true)),
      adam("weight_decay amsgrad", AdamOptions(1e-2).weight_decay(0.1).amsgrad(true)),
      adamw("defaults", AdamWOptions(1e-2)),
      adamw("no weight_decay", AdamWOptions(1e-2).weight_decay(0)),
      adamw("weight_decay amsgrad", AdamWOptions(1e-2).weight_decay(0.1).amsgrad(true)),
      sgd("plain", SGDOptions(0.1)),
      sgd("weight_decay", SGDOptions(0.1).weight_decay(0.01)),
      sgd("momentum", SGDOptions(0.1).momentum(0.9)),
      sgd("momentum dampening", SGDOptions(0.1).momentum(0.9).dampening(0.3)),
      sgd("momentum dampening weight_decay", SGDOptions(0.1).momentum(0.5).dampening(0.5).weight_decay(0.1)),
      sgd("nesterov", SGDOptions(0.1).momentum(0.9).nesterov(true)),
      sgd("nesterov weight_decay", SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(0.01)),
  };
}

/// A small network's parameter shapes: convolution weights, biases, a matrix, a single number.
const std::vector<std::vector<std::int64_t>> kShapes = {{4, 3, 3, 3}, {4}, {5, 7}, {1}, {2, 2, 4, 4}};

Params fresh_params() {
  torch::manual_seed(7);
  Params params;
  for (const auto& shape : kShapes) params.push_back(torch::randn(shape).requires_grad_(true));
  return params;
}

/// Copies of `params` that a second optimizer can own.
Params copies(const Params& params) {
  Params out;
  for (const torch::Tensor& p : params) out.push_back(p.detach().clone().requires_grad_(true));
  return out;
}

/// Parameter 1 gets no gradient on steps 0 and 1, parameter 3 none on step 3: their step
/// counts (and Adam's bias corrections) fall behind the others'.
bool gets_no_gradient(int step, std::size_t index) { return (index == 1 && step < 2) || (index == 3 && step == 3); }

/// Steps [from, to) of `optimizer` over `params`, each with the gradients of that step: the
/// same for every optimizer compared.
void run_steps(optim::Optimizer& optimizer, Params& params, int from, int to) {
  for (int step = from; step < to; ++step) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (gets_no_gradient(step, i)) {
        params[i].mutable_grad() = torch::Tensor();
        continue;
      }
      torch::manual_seed(1000 * step + static_cast<int>(i));
      params[i].mutable_grad() = torch::randn(kShapes[i]);
    }
    optimizer.step();
  }
}

/// Whether a and b agree within 1e-6 relative, element by element (and in shape and dtype).
::testing::AssertionResult close(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type())
    return ::testing::AssertionFailure() << "shapes or dtypes differ: " << a.sizes() << " " << b.sizes();
  if (!a.is_floating_point())
    return torch::equal(a, b) ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << "not equal";
  if (torch::allclose(a, b, /*rtol=*/1e-6, /*atol=*/0)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "largest difference "
                                       << (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

/// Parameters and every state field (as checkpoints hold them) of two optimizers agree.
void expect_same(const Case& c, const optim::Optimizer& ours, const Params& our_params,
                 const optim::Optimizer& reference, const Params& reference_params) {
  for (std::size_t i = 0; i < our_params.size(); ++i)
    EXPECT_TRUE(close(our_params[i].detach(), reference_params[i].detach())) << c.name << ": parameter " << i;
  const OptimizerType& type = optimizer_type(c.type);
  const auto our_state = type.capture(ours, our_params);
  const auto reference_state = type.capture(reference, reference_params);
  ASSERT_EQ(our_state.size(), reference_state.size()) << c.name << ": parameters with state";
  for (const auto& [index, fields] : reference_state) {
    ASSERT_EQ(our_state.count(index), 1u) << c.name << ": parameter " << index << " has no state";
    const StateFields& mine = our_state.at(index);
    ASSERT_EQ(mine.size(), fields.size()) << c.name << ": parameter " << index << "'s fields";
    for (const auto& [field, value] : fields) {
      ASSERT_EQ(mine.count(field), 1u) << c.name << ": parameter " << index << " lacks " << field;
      EXPECT_TRUE(close(mine.at(field), value)) << c.name << ": parameter " << index << ", " << field;
    }
  }
}

TEST(multi_tensor, foreach_gives_libtorchs_parameters_and_state_for_every_option) {
  for (const Case& c : cases()) {
    Params reference_params = fresh_params();
    Params our_params = copies(reference_params);
    const auto reference = c.reference(reference_params);
    const auto ours = c.ours(our_params, StepImplementation::foreach);
    run_steps(*reference, reference_params, 0, 6);
    run_steps(*ours, our_params, 0, 6);
    EXPECT_EQ(dynamic_cast<const MultiTensorStep&>(*ours).last(), StepImplementation::foreach) << c.name;
    expect_same(c, *ours, our_params, *reference, reference_params);
    // The parameters moved: the comparison is not of two untouched copies.
    EXPECT_FALSE(torch::equal(our_params[0].detach(), fresh_params()[0].detach())) << c.name;
  }
}

TEST(multi_tensor, a_parameter_that_misses_gradients_keeps_its_own_step_count) {
  Params params = fresh_params();
  const Params initial = copies(params);
  MultiTensorAdam adam(params, optim::AdamOptions(1e-2), StepImplementation::foreach);
  run_steps(adam, params, 0, 2);
  // Parameter 1 has had no gradient yet: no state, and not moved.
  const auto state = optimizer_type("adam").capture(adam, params);
  EXPECT_EQ(state.count(1), 0u);
  EXPECT_TRUE(torch::equal(params[1].detach(), initial[1].detach()));
  run_steps(adam, params, 2, 6);
  std::vector<std::int64_t> steps;
  for (const auto& [index, fields] : optimizer_type("adam").capture(adam, params))
    steps.push_back(fields.at("step").item<std::int64_t>());
  EXPECT_EQ(steps, (std::vector<std::int64_t>{6, 4, 6, 5, 6}));
}

TEST(multi_tensor, state_made_by_one_implementation_continues_in_the_other) {
  const std::vector<std::pair<StepImplementation, StepImplementation>> switches = {
      {StepImplementation::loop, StepImplementation::foreach}, {StepImplementation::foreach, StepImplementation::loop}};
  for (const Case& c : cases()) {
    for (const auto& [first, second] : switches) {
      const OptimizerType& type = optimizer_type(c.type);
      Params reference_params = fresh_params();
      const auto reference = c.reference(reference_params);
      run_steps(*reference, reference_params, 0, 6);

      // Three steps by one implementation, its state taken as a checkpoint takes it...
      Params before = fresh_params();
      const auto earlier = c.ours(before, first);
      run_steps(*earlier, before, 0, 3);
      const auto checkpoint = type.capture(*earlier, before);
      // ... and restored into an optimizer of the other for three more.
      Params after = copies(before);
      const auto later = c.ours(after, second);
      type.restore(*later, after, checkpoint);
      run_steps(*later, after, 3, 6);
      SCOPED_TRACE(std::string(step_implementation_name(first)) + " then " +
                   std::string(step_implementation_name(second)));
      EXPECT_EQ(dynamic_cast<const MultiTensorStep&>(*later).last(), second);
      expect_same(c, *later, after, *reference, reference_params);
    }
  }
}

TEST(multi_tensor, the_learning_rate_setter_reaches_the_foreach_step) {
  for (const Case& c : cases()) {
    const OptimizerType& type = optimizer_type(c.type);
    Params reference_params = fresh_params();
    Params our_params = copies(reference_params);
    const auto reference = c.reference(reference_params);
    const auto ours = c.ours(our_params, StepImplementation::foreach);
    run_steps(*reference, reference_params, 0, 2);
    run_steps(*ours, our_params, 0, 2);
    type.set_lr(*reference, type.lr(*reference) / 4);
    type.set_lr(*ours, type.lr(*ours) / 4);
    run_steps(*reference, reference_params, 2, 5);
    run_steps(*ours, our_params, 2, 5);
    expect_same(c, *ours, our_params, *reference, reference_params);

    // At a learning rate of 0 a step moves nothing (AdamW's decay is lr * weight_decay).
    type.set_lr(*ours, 0.0);
    const Params frozen = copies(our_params);
    run_steps(*ours, our_params, 5, 6);
    for (std::size_t i = 0; i < our_params.size(); ++i)
      EXPECT_TRUE(torch::equal(our_params[i].detach(), frozen[i].detach())) << c.name << ": parameter " << i;
  }
}

TEST(multi_tensor, auto_is_foreach_on_the_cpu_and_fused_on_cuda_where_it_exists) {
  Params params = fresh_params();
  MultiTensorAdam adam(params, optim::AdamOptions(1e-2), StepImplementation::automatic);
  EXPECT_EQ(adam.last(), StepImplementation::automatic);  // no step yet
  run_steps(adam, params, 0, 1);
  EXPECT_EQ(adam.last(), StepImplementation::foreach);

  const c10::Device cpu(c10::kCPU), cuda(c10::kCUDA, 0);
  EXPECT_EQ(resolve_step(StepImplementation::automatic, cpu, /*fused_available=*/true), StepImplementation::foreach);
  EXPECT_EQ(resolve_step(StepImplementation::automatic, cuda, true), StepImplementation::fused);
  EXPECT_EQ(resolve_step(StepImplementation::automatic, cuda, false), StepImplementation::foreach);
  EXPECT_EQ(resolve_step(StepImplementation::foreach, cpu, true), StepImplementation::foreach);
  EXPECT_EQ(resolve_step(StepImplementation::loop, cuda, true), StepImplementation::loop);
  EXPECT_FALSE(has_fused_step("sgd"));
}

TEST(multi_tensor, a_fused_step_over_cpu_parameters_is_an_error) {
  Params params = fresh_params();
  MultiTensorAdam adam(params, optim::AdamOptions(1e-2), StepImplementation::fused);
  try {
    run_steps(adam, params, 0, 1);
    FAIL() << "a fused step ran on the CPU";
  } catch (const Error& e) {
    const std::string expected = has_fused_step("adam")
                                     ? "optimizer type 'adam': \"fused\" runs on CUDA only; the parameters are on cpu"
                                     : "optimizer type 'adam': " + fused_step_refusal("adam");
    EXPECT_EQ(e.what(), expected);
  }
}

/// The mlp experiment with `keys` added to its one [[optimizers]] entry (type adam).
std::string with_keys(const std::string& keys) { return mlp_experiment() + keys; }

/// The error make_optimizer gives for the experiment `text`, its file shown as exp.toml.
std::string error_of(const std::string& text) {
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", text);
  try {
    make_optimizer(load_experiment(file).optimizers.at(0), {torch::zeros({2}, torch::requires_grad())});
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    return what.rfind(file.string(), 0) == 0 ? "exp.toml" + what.substr(file.string().size()) : what;
  }
  return "(no error)";
}

/// Line:column of the value of the last line of `text` ("implementation = \"...\"").
std::string last_value_position(const std::string& text) {
  const auto lines = std::count(text.begin(), text.end(), '\n');
  return std::to_string(lines) + ":" + std::to_string(std::string("implementation = ").size() + 1);
}

TEST(multi_tensor, implementation_is_a_key_of_each_optimizer) {
  for (const std::string type : {"adam", "adamw", "sgd"}) {
    for (const std::string name : {"auto", "loop", "foreach"}) {
      TempDir dir;
      std::string text = with_keys("implementation = \"" + name + "\"\n");
      text.replace(text.find("type = \"adam\""), 13, "type = \"" + type + "\"");
      const ExperimentSpec spec = load_experiment(write_text(dir, "exp.toml", text));
      const auto optimizer = make_optimizer(spec.optimizers.at(0), {torch::zeros({2}, torch::requires_grad())});
      const auto* step = dynamic_cast<const MultiTensorStep*>(optimizer.get());
      ASSERT_NE(step, nullptr) << type;
      EXPECT_EQ(step->requested(), step_implementation(name)) << type << " " << name;
      EXPECT_TRUE(spec.optimizers.at(0).config.unread_keys().empty()) << type << " " << name;
    }
  }
  TempDir dir;
  const auto optimizer =
      make_optimizer(load_experiment(write_text(dir, "exp.toml", mlp_experiment())).optimizers.at(0),
                     {torch::zeros({2}, torch::requires_grad())});
  EXPECT_EQ(dynamic_cast<const MultiTensorStep&>(*optimizer).requested(), StepImplementation::automatic);
}

TEST(multi_tensor, fused_on_the_cpu_is_refused_at_the_key_saying_why) {
  const std::string text = with_keys("implementation = \"fused\"\n");
  const std::string why = has_fused_step("adam") ? "\"fused\" runs on CUDA only; this phase's parameters are on cpu"
                                                 : fused_step_refusal("adam");
  EXPECT_EQ(error_of(text), "exp.toml:" + last_value_position(text) + ": optimizers.adam.implementation: " + why);
  if (!has_fused_step("adam")) {
    EXPECT_NE(why.find("this kiln's LibTorch is " TORCH_VERSION), std::string::npos) << why;
  }

  std::string sgd = with_keys("implementation = \"fused\"\n");
  sgd.replace(sgd.find("type = \"adam\""), 13, "type = \"sgd\"");
  EXPECT_EQ(error_of(sgd), "exp.toml:" + last_value_position(sgd) +
                               ": optimizers.adam.implementation: \"fused\" is a step of adam and adamw; sgd has "
                               "\"loop\" and \"foreach\"");

  const std::string typo = with_keys("implementation = \"foreech\"\n");
  EXPECT_EQ(error_of(typo), "exp.toml:" + last_value_position(typo) +
                                ": optimizers.adam.implementation: expected \"auto\", \"loop\", \"foreach\" or "
                                "\"fused\", got \"foreech\"; did you mean \"foreach\"?");
}

/// A trainer of the mlp experiment with `keys` in its optimizer, run to `steps` (from
/// `restore` when given): its state at the end, as a checkpoint holds it.
TensorMap train(const std::string& keys, long steps, const TensorMap* restore = nullptr) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", with_keys(keys)),
                                    {"experiment.max_steps=" + std::to_string(steps)});
  PluginHost host(spec.plugin_paths, KILN_PLUGIN_DIR);
  Trainer trainer(spec, host);
  MemoryRecorder recorder;
  trainer.attach(recorder, "t", dir.path());
  if (restore) trainer.restore_state(*restore);
  trainer.run();
  return trainer.capture_state();
}

TEST(multi_tensor, a_checkpoint_of_either_implementation_resumes_under_the_other) {
  const std::string loop = "implementation = \"loop\"\nweight_decay = 0.01\n";
  const std::string foreach = "implementation = \"foreach\"\nweight_decay = 0.01\n";
  const TensorMap straight = train(loop, 6);
  for (const auto& [first, second] : {std::pair{loop, foreach}, std::pair{foreach, loop}}) {
    const TensorMap halfway = train(first, 3);
    const TensorMap resumed = train(second, 6, &halfway);
    ASSERT_EQ(resumed.names(), straight.names());
    for (const std::string& name : straight.names())
      EXPECT_TRUE(close(resumed.at(name), straight.at(name))) << first << "then " << second << ": " << name;
  }
}

}  // namespace
}  // namespace kiln::runner
