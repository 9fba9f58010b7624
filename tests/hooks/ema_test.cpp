// The EMA hook: TF's ExponentialMovingAverage values, state, weight swaps and errors.
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/experiment_file.hpp"
#include "../support/memory_recorder.hpp"
#include "config/experiment.hpp"
#include "document.hpp"
#include "train/null_run.hpp"
#include "hooks/ema.hpp"
#include "hooks/supervisor.hpp"
#include "plugins/plugin_host.hpp"
#include "train/trainer.hpp"

namespace kiln::runner {
namespace {

using kiln::test::MemoryRecorder;
using kiln::test::mlp_experiment;
using kiln::test::TempDir;
using kiln::test::write_text;

/// Two linear layers around a BatchNorm (which has buffers); groups "body" (a, bn) and "head" (b).
class TinyNet : public Model {
 public:
  TinyNet()
      : a_(register_module("a", torch::nn::Linear(3, 2))),
        bn_(register_module("bn", torch::nn::BatchNorm1d(2))),
        b_(register_module("b", torch::nn::Linear(2, 1))) {}

  Outputs forward(const Batch& batch, Step&) override {
    Outputs out("outputs");
    out.set("y", b_(bn_(a_(batch.at("x")))));
    return out;
  }

  std::map<std::string, std::vector<torch::Tensor>> parameter_groups() override {
    std::vector<torch::Tensor> body = a_->parameters();
    for (const auto& p : bn_->parameters()) body.push_back(p);
    return {{"body", body}, {"head", b_->parameters()}};
  }

 private:
  torch::nn::Linear a_;
  torch::nn::BatchNorm1d bn_;
  torch::nn::Linear b_;
};

/// Just enough of a run for driving the hook by hand; it keeps the summaries.
class FakeRun final : public kiln::runner::NullRun {
 public:
  explicit FakeRun(Model& model) : NullRun(model) {}
  void summary(std::string_view tag, std::int64_t step, double value) override {
    summaries[std::string(tag)].emplace_back(step, value);
  }

  std::map<std::string, std::vector<std::pair<std::int64_t, double>>> summaries;
};

/// Options made by hand from an [ema] table, so that errors have a position; the document
/// lives as long as the options.
struct SpecFixture {
  explicit SpecFixture(const std::string& params, const std::string& extra = "")
      : document(kiln::detail::Document::parse("[ema]\nparams = " + params + "\n" + extra, "exp.toml")) {
    spec.config = document->root().table("ema");
    spec.params = spec.config.get<std::vector<std::string>>("params");
    spec.losses = spec.config.get_or<std::vector<std::string>>("losses", {});
    spec.decay = spec.config.get_or<double>("decay", 0.9);
    spec.num_updates = spec.config.get_or<bool>("num_updates", false);
    spec.zero_debias = spec.config.get_or<bool>("zero_debias", false);
  }
  std::shared_ptr<kiln::detail::Document> document;
  Ema::Options spec;
};

std::vector<double> doubles(const torch::Tensor& t) {
  const torch::Tensor d = t.detach().to(torch::kFloat64).contiguous();
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

double max_difference(const torch::Tensor& t, const std::vector<double>& expected) {
  const std::vector<double> actual = doubles(t);
  EXPECT_EQ(actual.size(), expected.size());
  double worst = 0;
  for (std::size_t i = 0; i < actual.size() && i < expected.size(); ++i)
    worst = std::max(worst, std::abs(actual[i] - expected[i]));
  return worst;
}

/// A deterministic "optimizer update": every parameter moves by seeded noise.
void perturb(Model& model, std::int64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(seed));
  for (auto& p : model.parameters()) p.add_(at::randn(p.sizes(), gen));
}

/// One step as the trainer runs it: before_step, the update, the losses, after_step.
void run_step(Ema& ema, FakeRun& run, std::int64_t k, const std::map<std::string, double>& losses = {}) {
  Step step(run, k);
  ema.before_step(step);
  perturb(run.model(), 100 + k);
  for (const auto& [name, value] : losses) step.set_loss(name, torch::scalar_tensor(value, torch::kFloat32));
  ema.after_step(step);
}

std::map<std::string, torch::Tensor> snapshot(Model& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model.named_parameters()) out[item.key()] = item.value().detach().clone();
  for (const auto& item : model.named_buffers()) out[item.key()] = item.value().detach().clone();
  return out;
}

bool same(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, t] : a)
    if (!b.count(name) || !torch::equal(t, b.at(name))) return false;
  return true;
}

/// A copy of the hook's state, which is made of views of its live shadows.
TensorMap saved_state(const Ema& ema) {
  TensorMap copy("saved");
  for (const auto& [key, value] : ema.state()) copy.set(key, value.clone());
  return copy;
}

std::string checkpoint_error_of(Ema& ema, const TensorMap& state) {
  try {
    ema.load_state(state);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "(no error)";
}

// ---- failure paths ----

TEST(ema, an_unknown_group_is_a_positioned_error_with_did_you_mean) {
  SpecFixture f("[\"head\", \"bdy\"]");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  try {
    ema.begin(run);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "exp.toml:2:10: ema.params: the model has no parameter group 'bdy'; did you mean 'body'? "
                 "(groups: all, body, head)");
  }
}

TEST(ema, load_state_names_missing_unexpected_and_misshaped_entries_and_changes_nothing) {
  SpecFixture f("[\"head\"]", "losses = [\"l\"]\nzero_debias = true\n");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  run_step(ema, run, 0, {{"l", 2.0}});
  const TensorMap before = saved_state(ema);

  TensorMap bad = saved_state(ema);
  bad.erase("params/b.bias");
  bad.erase("local_step/l");
  bad.set("params/c.weight", torch::zeros({1}));
  bad.set("params/b.weight", torch::zeros({2, 1}));
  EXPECT_EQ(checkpoint_error_of(ema, bad),
            "ema state does not fit this experiment: missing local_step/l, params/b.bias; "
            "unexpected params/c.weight; shape of params/b.weight is [2, 1] in the checkpoint, [1, 2] here");
  const TensorMap after = ema.state();
  ASSERT_EQ(after.names(), before.names());
  for (const auto& [key, value] : before) EXPECT_TRUE(torch::equal(value, after.at(key))) << key;
}

TEST(ema, state_loaded_before_begin_is_checked_at_begin) {
  SpecFixture f("[\"all\"]");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  TensorMap state("state");
  state.set("params/a.weight", torch::zeros({2, 3}));
  ema.load_state(state);  // names are known only once begin() sees the model
  try {
    ema.begin(run);
    FAIL();
  } catch (const CheckpointError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("missing buffers/bn.num_batches_tracked, buffers/bn.running_mean"), std::string::npos) << what;
    EXPECT_EQ(what.find("unexpected"), std::string::npos) << what;
  }
}

TEST(ema, misuse_is_an_error) {
  SpecFixture f("[\"all\"]");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  EXPECT_THROW(ema.swap_weights(), Error);  // before begin
  ema.begin(run);
  EXPECT_THROW(ema.shadow("a.wieght"), Error);
  EXPECT_THROW(ema.loss_shadow("l"), Error);
  ema.swap_weights();
  Step step(run, 0);
  EXPECT_THROW(ema.after_step(step), Error);  // a step with the averages in the model
  EXPECT_THROW(ema.load_state(ema.state()), Error);
  ema.swap_weights();
  ema.after_step(step);
}

// ---- values ----

TEST(ema, parameter_shadows_start_at_the_parameters_before_the_first_update) {
  SpecFixture f("[\"all\"]");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  for (const auto& item : model.named_parameters())
    EXPECT_TRUE(torch::equal(ema.shadow(item.key()), item.value())) << item.key();
  // Weights loaded after begin() (a restore, init_from) are what the averages start from.
  perturb(model, 7);
  const auto loaded = snapshot(model);
  Step step(run, 0);
  ema.before_step(step);
  for (const auto& item : model.named_parameters())
    EXPECT_TRUE(torch::equal(ema.shadow(item.key()), loaded.at(item.key()))) << item.key();
}

TEST(ema, plain_decay_matches_tf_by_hand) {
  SpecFixture f("[\"all\"]", "decay = 0.9\n");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  std::map<std::string, std::vector<double>> expected;
  for (const auto& item : model.named_parameters()) expected[item.key()] = doubles(item.value());
  for (std::int64_t k = 0; k < 6; ++k) {
    run_step(ema, run, k);
    EXPECT_DOUBLE_EQ(ema.decay_at(k), 0.9);
    for (const auto& item : model.named_parameters()) {
      std::vector<double>& e = expected[item.key()];
      const std::vector<double> value = doubles(item.value());
      for (std::size_t i = 0; i < e.size(); ++i) e[i] = 0.9 * e[i] + 0.1 * value[i];
      // float32 shadows against a double reference: a few ulps per update, never 1e-5 (a
      // wrong decay is off by 1e-2 and more).
      EXPECT_LT(max_difference(ema.shadow(item.key()), e), 1e-5) << item.key() << " at step " << k;
    }
  }
}

TEST(ema, num_updates_warms_the_decay_up_with_the_global_step) {
  SpecFixture f("[\"head\"]", "decay = 0.5\nnum_updates = true\n");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  EXPECT_DOUBLE_EQ(ema.decay_at(0), 0.1);       // (1 + 0) / (10 + 0)
  EXPECT_DOUBLE_EQ(ema.decay_at(5), 6.0 / 15);  // still below 0.5
  EXPECT_DOUBLE_EQ(ema.decay_at(8), 0.5);       // 9 / 18 reaches it
  EXPECT_DOUBLE_EQ(ema.decay_at(100), 0.5);
  std::vector<double> expected = doubles(ema.shadow("b.weight"));
  const std::vector<double> untouched = doubles(model.named_parameters()["a.weight"]);
  for (std::int64_t k = 0; k < 12; ++k) {
    run_step(ema, run, k);
    const double d = std::min(0.5, (1.0 + k) / (10.0 + k));
    const std::vector<double> value = doubles(model.named_parameters()["b.weight"]);
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = d * expected[i] + (1 - d) * value[i];
    EXPECT_LT(max_difference(ema.shadow("b.weight"), expected), 1e-5) << "step " << k;  // float32 against double
  }
  EXPECT_THROW(ema.shadow("a.weight"), Error);  // the body is not averaged
}

TEST(ema, a_parameter_in_two_groups_is_averaged_once) {
  SpecFixture f("[\"body\", \"all\", \"body\"]", "decay = 0.5\n");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  const std::vector<double> start = doubles(model.named_parameters()["a.bias"]);
  run_step(ema, run, 0);
  const std::vector<double> value = doubles(model.named_parameters()["a.bias"]);
  std::vector<double> expected(start.size());
  for (std::size_t i = 0; i < start.size(); ++i) expected[i] = 0.5 * start[i] + 0.5 * value[i];
  EXPECT_LT(max_difference(ema.shadow("a.bias"), expected), 1e-6);
  EXPECT_EQ(ema.state().names(),
            (std::vector<std::string>{"buffers/bn.num_batches_tracked", "buffers/bn.running_mean",
                                      "buffers/bn.running_var", "params/a.bias", "params/a.weight", "params/b.bias",
                                      "params/b.weight", "params/bn.bias", "params/bn.weight"}));
}

TEST(ema, buffers_are_copied_not_averaged) {
  SpecFixture f("[\"body\"]", "decay = 0.9\n");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  for (std::int64_t k = 0; k < 3; ++k) {
    Step step(run, k);
    ema.before_step(step);
    Batch batch("batch");
    batch.set("x", torch::randn({8, 3}) * 5 + 3);
    model.forward(batch, step);  // training mode: moves the running statistics
    ema.after_step(step);
  }
  const TensorMap state = ema.state();
  for (const auto& item : model.named_buffers())
    EXPECT_TRUE(torch::equal(state.at("buffers/" + item.key()), item.value())) << item.key();
  EXPECT_EQ(state.at("buffers/bn.num_batches_tracked").item<std::int64_t>(), 3);
}

TEST(ema, loss_shadows_start_at_zero_and_follow_tf_by_hand) {
  SpecFixture f("[]", "losses = [\"l\"]\ndecay = 0.8\n");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  EXPECT_EQ(ema.loss_shadow("l"), 0.0);
  const std::vector<double> values = {2.0, 1.5, 1.25, 1.0, 0.75};
  double shadow = 0;
  for (std::size_t k = 0; k < values.size(); ++k) {
    run_step(ema, run, static_cast<std::int64_t>(k), {{"l", values[k]}});
    shadow = 0.8 * shadow + 0.2 * values[k];
    EXPECT_NEAR(ema.loss_shadow("l"), shadow, 1e-6);
    ASSERT_EQ(run.summaries["ema/l"].size(), k + 1);
    EXPECT_EQ(run.summaries["ema/l"].back().first, static_cast<std::int64_t>(k));
    EXPECT_NEAR(run.summaries["ema/l"].back().second, shadow, 1e-6);
  }
  EXPECT_EQ(ema.state().names(), (std::vector<std::string>{"losses/l"}));  // losses only: no weights
}

TEST(ema, zero_debias_follows_tf_assign_moving_average_by_hand) {
  SpecFixture f("[]", "losses = [\"l\"]\ndecay = 0.9\nzero_debias = true\nnum_updates = true\n");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  const std::vector<double> values = {3.0, 2.0, 2.5, 1.0, 1.5, 0.5, 0.25, 0.5, 1.0, 0.75, 0.5, 0.4, 0.3};
  double biased = 0;
  for (std::size_t k = 0; k < values.size(); ++k) {
    run_step(ema, run, static_cast<std::int64_t>(k), {{"l", values[k]}});
    const double d = std::min(0.9, (1.0 + k) / (10.0 + k));
    biased = biased - (biased - values[k]) * (1 - d);
    const double shadow = biased / (1 - std::pow(d, static_cast<double>(k + 1)));
    EXPECT_NEAR(ema.loss_shadow("l"), shadow, 1e-6) << "step " << k;
  }
  const TensorMap state = ema.state();
  EXPECT_EQ(state.at("local_step/l").item<std::int64_t>(), static_cast<std::int64_t>(values.size()));
  EXPECT_NEAR(state.at("biased/l").item<double>(), biased, 1e-6);
}

TEST(ema, the_first_debiased_average_is_the_value_itself) {
  SpecFixture f("[]", "losses = [\"l\"]\ndecay = 0.99\nzero_debias = true\n");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  run_step(ema, run, 0, {{"l", 4.0}});
  EXPECT_NEAR(ema.loss_shadow("l"), 4.0, 1e-12);
}

// ---- state ----

/// Runs `steps` more steps on `ema`, returning every state along the way.
std::vector<TensorMap> continue_run(Ema& ema, FakeRun& run, std::int64_t from, std::int64_t steps) {
  std::vector<TensorMap> states;
  for (std::int64_t k = from; k < from + steps; ++k) {
    run_step(ema, run, k, {{"l", 1.0 / (1.0 + static_cast<double>(k))}});
    states.push_back(saved_state(ema));
  }
  return states;
}

void expect_same_state(const TensorMap& a, const TensorMap& b) {
  ASSERT_EQ(a.names(), b.names());
  for (const auto& [key, value] : a) {
    EXPECT_EQ(value.scalar_type(), b.at(key).scalar_type()) << key;
    EXPECT_TRUE(torch::equal(value, b.at(key))) << key;  // bit for bit
  }
}

TEST(ema, state_round_trips_exactly_whether_loaded_before_or_after_begin) {
  const std::string extra = "losses = [\"l\"]\ndecay = 0.7\nzero_debias = true\nnum_updates = true\n";
  SpecFixture f("[\"all\"]", extra);
  TinyNet model;
  FakeRun run(model);
  Ema original(f.spec);
  original.begin(run);
  continue_run(original, run, 0, 4);
  const TensorMap saved = saved_state(original);
  EXPECT_EQ(saved.names(), (std::vector<std::string>{
                               "biased/l", "buffers/bn.num_batches_tracked", "buffers/bn.running_mean",
                               "buffers/bn.running_var", "local_step/l", "losses/l", "params/a.bias",
                               "params/a.weight", "params/b.bias", "params/b.weight", "params/bn.bias",
                               "params/bn.weight"}));
  const auto weights = snapshot(model);
  const std::vector<TensorMap> reference = continue_run(original, run, 4, 3);

  for (const bool before_begin : {true, false}) {
    SCOPED_TRACE(before_begin ? "load_state before begin" : "load_state after begin");
    TinyNet restored_model;
    {
      torch::NoGradGuard no_grad;
      for (auto& item : restored_model.named_parameters()) item.value().copy_(weights.at(item.key()));
      for (auto& item : restored_model.named_buffers()) item.value().copy_(weights.at(item.key()));
    }
    FakeRun restored_run(restored_model);
    Ema restored(f.spec);
    if (before_begin) restored.load_state(saved);
    restored.begin(restored_run);
    if (!before_begin) restored.load_state(saved);
    expect_same_state(restored.state(), saved);
    const std::vector<TensorMap> resumed = continue_run(restored, restored_run, 4, 3);
    for (std::size_t i = 0; i < resumed.size(); ++i) expect_same_state(resumed[i], reference[i]);
  }
}

// ---- swapping ----

TEST(ema, swap_puts_the_shadows_in_the_model_and_twice_is_the_identity) {
  SpecFixture f("[\"all\"]", "decay = 0.5\n");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  for (std::int64_t k = 0; k < 3; ++k) run_step(ema, run, k);
  const auto trained = snapshot(model);
  const TensorMap averages = saved_state(ema);
  std::map<std::string, const void*> storage;  // the optimizer's tensors must stay the same objects
  for (const auto& item : model.named_parameters()) storage[item.key()] = item.value().data_ptr();

  ema.swap_weights();
  for (const auto& item : model.named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), averages.at("params/" + item.key()))) << item.key();
    EXPECT_TRUE(torch::equal(ema.shadow(item.key()), trained.at(item.key()))) << item.key();
    EXPECT_EQ(item.value().data_ptr(), storage[item.key()]) << item.key();
  }
  expect_same_state(ema.state(), averages);  // a save while swapped still saves the averages

  ema.swap_weights();
  EXPECT_TRUE(same(snapshot(model), trained));
  expect_same_state(ema.state(), averages);
}

TEST(ema, swap_exchanges_non_contiguous_parameters_too) {
  SpecFixture f("[\"all\"]", "decay = 0.5\n");
  TinyNet model;
  {
    // A transposed weight: the swap cannot exchange raw bytes and goes through its scratch.
    torch::NoGradGuard no_grad;
    torch::Tensor weight = model.named_parameters()["a.weight"];
    weight.set_data(weight.t().contiguous().t());
  }
  ASSERT_FALSE(model.named_parameters()["a.weight"].is_contiguous());
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  run_step(ema, run, 0);
  const auto trained = snapshot(model);
  const torch::Tensor average = ema.shadow("a.weight").clone();
  ema.swap_weights();
  EXPECT_TRUE(torch::equal(model.named_parameters()["a.weight"], average));
  ema.swap_weights();
  EXPECT_TRUE(same(snapshot(model), trained));
}

TEST(ema, averaged_weights_swap_back_on_an_exception) {
  SpecFixture f("[\"all\"]", "decay = 0.5\n");
  TinyNet model;
  FakeRun run(model);
  Ema ema(f.spec);
  ema.begin(run);
  for (std::int64_t k = 0; k < 2; ++k) run_step(ema, run, k);
  const auto trained = snapshot(model);
  const torch::Tensor average = ema.shadow("b.weight").clone();
  try {
    AveragedWeights averaged(ema);
    EXPECT_TRUE(torch::equal(model.named_parameters()["b.weight"], average));
    throw std::runtime_error("evaluation failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(same(snapshot(model), trained));
  run_step(ema, run, 2);  // and training goes on
}

// ---- its table ----

/// The EMA's options as ExperimentSetup reads them: from [ema], against the declared losses
/// and the supervisor's schedule.
Ema::Options options_of(const ExperimentSpec& spec) {
  return Ema::Options::read(spec.ema.value(), spec.loss_names(), Supervisor::Options::read(spec.supervisor));
}

/// The error reading the [ema] of an mlp experiment with `extra` gives, its file shown as exp.toml.
std::string error_of(const std::string& extra) {
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", mlp_experiment(extra));
  try {
    options_of(load_experiment(file));
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    return what.rfind(file.string(), 0) == 0 ? "exp.toml" + what.substr(file.string().size()) : what;
  }
  return "(no error)";
}

TEST(ema_options, are_read_from_the_table_with_defaults) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment("[ema]\nparams = [\"all\"]\n")));
  const Ema::Options options = options_of(spec);
  EXPECT_EQ(options.decay, 0.999);
  EXPECT_FALSE(options.num_updates);
  EXPECT_FALSE(options.zero_debias);
  EXPECT_EQ(options.params, std::vector<std::string>{"all"});
  EXPECT_TRUE(options.losses.empty());

  const auto full = load_experiment(
      write_text(dir, "full.toml",
                 mlp_experiment("[ema]\ndecay = 0.5\nnum_updates = true\nzero_debias = true\nlosses = [\"mse\"]\n")));
  const Ema::Options read = options_of(full);
  EXPECT_EQ(read.decay, 0.5);
  EXPECT_TRUE(read.num_updates);
  EXPECT_TRUE(read.zero_debias);
  EXPECT_TRUE(read.params.empty());
  EXPECT_EQ(read.losses, std::vector<std::string>{"mse"});
}

TEST(ema_options, summaries_follow_the_supervisors_schedule) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment("[ema]\nlosses = [\"mse\"]\n")),
                                    {"supervisor.summary_every_steps=7", "supervisor.summary_every_secs=1.5"});
  const Ema::Options options = options_of(spec);
  EXPECT_EQ(options.summary_every_steps, 7);
  EXPECT_EQ(options.summary_every_secs, 1.5);
  // Without a [supervisor], the supervisor's defaults.
  EXPECT_EQ(options_of(load_experiment(write_text(dir, "b.toml", mlp_experiment("[ema]\nlosses = [\"mse\"]\n"))))
                .summary_every_steps,
            10);
}

TEST(ema_options, bad_values_are_errors_at_their_keys) {
  EXPECT_EQ(error_of("[ema]\nlosses = [\"mse\"]\ndecay = nan\n"),
            "exp.toml:25:9: ema.decay: must be a finite number, got nan");
  EXPECT_EQ(error_of("[ema]\nlosses = [\"mse\"]\ndecay = 1\n"), "exp.toml:25:9: ema.decay: must be in [0, 1), got 1");
  EXPECT_EQ(error_of("[ema]\nlosses = [\"mes\"]\n"),
            "exp.toml:24:10: ema.losses: no loss named 'mes'; did you mean 'mse'? (declared: mse)");
  EXPECT_EQ(error_of("[ema]\ndecay = 0.9\n"),
            "exp.toml:23:1: [ema]: averages nothing: name parameter groups in `params` and/or losses in `losses`");
  EXPECT_EQ(error_of("[ema]\nlosses = [\"mse\"]\nnum_updates = 1\n"),
            "exp.toml:25:15: ema.num_updates: expected a boolean (true or false), got an integer");
}

// ---- in the trainer ----

TEST(ema, through_the_trainer_ema_summaries_follow_the_losses) {
  TempDir dir;
  const std::string ema_table = "[ema]\ndecay = 0.8\nparams = [\"all\"]\nlosses = [\"mse\"]\n";
  const auto spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment(ema_table, 6)),
                                    {"supervisor.summary_every_steps=1", "supervisor.log_every_steps=0"});
  ASSERT_TRUE(spec.ema.has_value());
  PluginHost host(spec.plugin_paths, KILN_PLUGIN_DIR);
  Trainer trainer(spec, host);
  auto ema = std::make_shared<Ema>(options_of(spec));
  trainer.add_hook("ema", ema, ema->default_priority());
  trainer.add_hook("supervisor", std::make_shared<Supervisor>(spec.supervisor));
  MemoryRecorder recorder;
  trainer.attach(recorder, "t", dir.path());
  EXPECT_EQ(trainer.averager(), static_cast<WeightAverager*>(ema.get()));
  trainer.run();

  const std::vector<double> losses = recorder.values("loss/mse");
  const std::vector<double> averages = recorder.values("ema/mse");
  ASSERT_EQ(losses.size(), 6u);
  ASSERT_EQ(averages.size(), 6u);
  double shadow = 0;
  for (std::size_t k = 0; k < losses.size(); ++k) {
    shadow = 0.8 * shadow + 0.2 * losses[k];
    EXPECT_NEAR(averages[k], shadow, 1e-6) << "step " << k;
    EXPECT_EQ(recorder.summaries.at("ema/mse")[k].first, static_cast<std::int64_t>(k));
  }
  // The averaged weights lag the trained ones.
  const torch::Tensor trained = trainer.model().named_parameters()["net.0.weight"];
  EXPECT_FALSE(torch::equal(ema->shadow("net.0.weight"), trained));
}

TEST(ema, summaries_are_written_on_the_losses_schedule_and_at_the_last_step) {
  TempDir dir;
  const std::string ema_table = "[ema]\ndecay = 0.8\nlosses = [\"mse\"]\n";
  const auto spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment(ema_table, 10)),
                                    {"supervisor.summary_every_steps=4", "supervisor.log_every_steps=0"});
  EXPECT_EQ(options_of(spec).summary_every_steps, 4);
  PluginHost host(spec.plugin_paths, KILN_PLUGIN_DIR);
  Trainer trainer(spec, host);
  auto ema = std::make_shared<Ema>(options_of(spec));
  trainer.add_hook("ema", ema);
  trainer.add_hook("supervisor", std::make_shared<Supervisor>(spec.supervisor));
  MemoryRecorder recorder;
  trainer.attach(recorder, "t", dir.path());
  trainer.run();
  std::vector<std::int64_t> ema_steps, loss_steps;
  for (const auto& [step, value] : recorder.summaries.at("ema/mse")) ema_steps.push_back(step);
  for (const auto& [step, value] : recorder.summaries.at("loss/mse")) loss_steps.push_back(step);
  EXPECT_EQ(ema_steps, (std::vector<std::int64_t>{0, 4, 8, 9}));
  EXPECT_EQ(ema_steps, loss_steps);
  // The average is still kept every step: the last one is the average of all ten losses.
  EXPECT_GT(ema->loss_shadow("mse"), 0.0);
}

/// A trainer on the mlp experiment with an [ema] table, and the EMA hook in it.
struct EmaTrainer {
  EmaTrainer(const TempDir& dir, long max_steps)
      : spec(load_experiment(write_text(dir, "exp.toml",
                                        mlp_experiment("[ema]\ndecay = 0.8\nnum_updates = true\nzero_debias = true\n"
                                                       "params = [\"all\"]\nlosses = [\"mse\"]\n",
                                                       max_steps)),
                             {"supervisor.summary_every_steps=1", "supervisor.log_every_steps=0"})),
        host(spec.plugin_paths, KILN_PLUGIN_DIR),
        trainer(spec, host),
        ema(std::make_shared<Ema>(options_of(spec))) {
    trainer.add_hook("ema", ema, ema->default_priority());
    trainer.attach(recorder, "t", dir.path());
  }
  ExperimentSpec spec;
  PluginHost host;
  Trainer trainer;
  std::shared_ptr<Ema> ema;
  MemoryRecorder recorder;
};

TEST(ema, a_run_restored_from_captured_state_continues_the_same_averages) {
  TempDir dir;
  EmaTrainer straight(dir, 6);
  straight.trainer.run();

  EmaTrainer first(dir, 3);
  first.trainer.run();
  const TensorMap checkpoint = first.trainer.capture_state();
  EXPECT_TRUE(checkpoint.contains("hook/ema/params/net.0.weight"));
  EXPECT_TRUE(checkpoint.contains("hook/ema/local_step/mse"));

  EmaTrainer resumed(dir, 6);
  resumed.trainer.restore_state(checkpoint);  // before begin(): the EMA applies it there
  resumed.trainer.run();
  expect_same_state(saved_state(*resumed.ema), saved_state(*straight.ema));
  const std::vector<double> all = straight.recorder.values("ema/mse");
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(resumed.recorder.values("ema/mse"), std::vector<double>(all.begin() + 3, all.end()));
}

}  // namespace
}  // namespace kiln::runner
