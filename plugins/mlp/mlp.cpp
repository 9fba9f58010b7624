// The `mlp` model plugin: a multi-layer perceptron, kiln's hello-world model.
#include <torch/torch.h>

#include "kiln/kiln.hpp"

namespace {

/// Linear layers with an activation between them, reading `input` from the batch and
/// writing `output`:
///   [model]
///   plugin = "mlp"
///   inputs = 16
///   hidden = [64, 64]
///   outputs = 1
class Mlp : public kiln::Model {
 public:
  explicit Mlp(const kiln::Config& config)
      : input_(config.get_or<std::string>("input", "x")),
        output_(config.get_or<std::string>("output", "prediction")) {
    const auto inputs = config.get_positive<std::int64_t>("inputs");
    const auto hidden = config.get_positive<std::vector<std::int64_t>>("hidden", {64, 64});
    const auto outputs = config.get_positive<std::int64_t>("outputs", 1);
    const auto activation = config.get_choice("activation", "relu", {"relu", "tanh", "gelu"});

    std::int64_t width = inputs;
    for (const std::int64_t h : hidden) {
      net_->push_back(torch::nn::Linear(width, h));
      if (activation == "relu") net_->push_back(torch::nn::ReLU());
      if (activation == "tanh") net_->push_back(torch::nn::Tanh());
      if (activation == "gelu") net_->push_back(torch::nn::GELU());
      width = h;
    }
    net_->push_back(torch::nn::Linear(width, outputs));
    register_module("net", net_);
  }

  kiln::Outputs forward(const kiln::Batch& batch, kiln::Step&) override {
    kiln::Outputs out("outputs");
    out.set(output_, net_->forward(batch.at(input_)));
    return out;
  }

 private:
  std::string input_;
  std::string output_;
  torch::nn::Sequential net_;
};

}  // namespace

KILN_PLUGIN("mlp", "1.0.0") { registry.add_model<Mlp>("mlp"); }
