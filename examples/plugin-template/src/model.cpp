// The `sine_net` model: one hidden layer of tanh units, x -> prediction.
#include <cstdint>

#include <torch/torch.h>

#include "kiln/kiln.hpp"
#include "sine.hpp"

namespace sine {
namespace {

/// Reads the batch's "x" (N×1) and writes the output "prediction" (N×1):
///   [model]
///   plugin = "sine_net"
///   hidden = 32
class SineNet : public kiln::Model {
 public:
  explicit SineNet(const kiln::Config& config)
      : hidden_(register_module("hidden", torch::nn::Linear(1, config.get_positive<std::int64_t>("hidden", 32)))),
        out_(register_module("out", torch::nn::Linear(hidden_->options.out_features(), 1))) {}

  kiln::Outputs forward(const kiln::Batch& batch, kiln::Step& /*step*/) override {
    kiln::Outputs outputs("outputs");
    outputs.set("prediction", out_(torch::tanh(hidden_(batch.at("x")))));
    return outputs;
  }

 private:
  torch::nn::Linear hidden_, out_;
};

}  // namespace

void add_model(kiln::Registry& registry) { registry.add_model<SineNet>("sine_net"); }

}  // namespace sine
