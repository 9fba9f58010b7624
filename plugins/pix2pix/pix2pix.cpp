// The `pix2pix` model plugin: a conditional GAN, U-Net generator against a PatchGAN.
#include <string>

#include <torch/torch.h>

#include "kiln/kiln.hpp"
#include "networks.hpp"

namespace kiln::plugins::pix2pix {
namespace {

/// Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks", with
/// the networks of the authors' PyTorch code (`unet_256`, `basic`, norm = batch):
///   [model]
///   plugin = "pix2pix"
///   image_size = 256                       # a power of 2; the U-Net has log2(size) levels
///   input_channels = 3
///   output_channels = 3
///   ngf = 64                               # generator width
///   ndf = 64                               # discriminator width
///   n_layers = 3                           # the PatchGAN's stride-2 layers (70×70 patches)
///   dropout = 0.5
///   discriminator_phase = "discriminator"  # the [[optimizers]] entry that trains D
///   input = "input"                        # batch entries
///   target = "target"
/// Parameter groups "generator" and "discriminator". Outputs "fake" always; in the
/// discriminator's phase also "d_real" = D(input, target) and "d_fake" = D(input, fake) with
/// fake detached; in any other phase "d_fake" = D(input, fake), through which the generator
/// learns. The fake is computed once per step and shared by its phases (step scratch).
class Pix2Pix : public Model {
 public:
  explicit Pix2Pix(const Config& config)
      : discriminator_phase_(config.get_or<std::string>("discriminator_phase", "discriminator")),
        input_(config.get_or<std::string>("input", "input")),
        target_(config.get_or<std::string>("target", "target")) {
    const auto image_size = config.get_or<std::int64_t>("image_size", 256);
    const auto input_channels = config.get_positive<std::int64_t>("input_channels", 3);
    const auto output_channels = config.get_positive<std::int64_t>("output_channels", 3);
    const auto ngf = config.get_positive<std::int64_t>("ngf", 64);
    const auto ndf = config.get_positive<std::int64_t>("ndf", 64);
    const auto n_layers = config.get_positive<std::int64_t>("n_layers", 3);
    const auto dropout = config.get_in_range<double>("dropout", 0.5, 0, 1, Bounds::closed_open);

    if (image_size < 4 || (image_size & (image_size - 1)) != 0)
      config.fail("image_size", "must be a power of 2 and at least 4, got " + std::to_string(image_size));
    std::int64_t num_downs = 0;  // log2(image_size): the U-Net's bottleneck is 1×1
    while ((std::int64_t{1} << num_downs) < image_size) ++num_downs;
    if (PatchDiscriminatorImpl::patches(image_size, n_layers) < 1)
      config.fail("n_layers", std::to_string(n_layers) + " stride-2 layers leave no patch of a " +
                                  std::to_string(image_size) + "-pixel image; use fewer or larger images");
    if (discriminator_phase_.empty()) config.fail("discriminator_phase", "must name an optimizer");

    generator_ = register_module(
        "generator", UnetGenerator(UnetGeneratorOptions{num_downs, input_channels, output_channels, ngf, dropout}));
    discriminator_ = register_module(
        "discriminator", PatchDiscriminator(PatchDiscriminatorOptions{input_channels + output_channels, ndf, n_layers}));
    init_weights(*this);
  }

  Outputs forward(const Batch& batch, Step& step) override {
    const torch::Tensor& input = batch.at(input_);
    Outputs outputs("outputs");
    if (!step.training()) {
      outputs.set("fake", generator_(input));
      return outputs;
    }
    TensorMap& scratch = step.scratch();
    if (!scratch.contains(kFake)) scratch.set(kFake, generator_(input));
    const torch::Tensor fake = scratch.at(kFake);
    outputs.set("fake", fake);
    if (step.phase() == discriminator_phase_) {
      outputs.set("d_real", discriminator_(input, batch.at(target_)));
      outputs.set("d_fake", discriminator_(input, fake.detach()));
    } else {
      outputs.set("d_fake", discriminator_(input, fake));
    }
    return outputs;
  }

  std::map<std::string, std::vector<torch::Tensor>> parameter_groups() override {
    return {{"generator", generator_->parameters()}, {"discriminator", discriminator_->parameters()}};
  }

 private:
  static inline const std::string kFake = "fake";

  std::string discriminator_phase_;
  std::string input_;
  std::string target_;
  UnetGenerator generator_{nullptr};
  PatchDiscriminator discriminator_{nullptr};
};

}  // namespace
}  // namespace kiln::plugins::pix2pix

KILN_PLUGIN("pix2pix", "1.0.0") { registry.add_model<kiln::plugins::pix2pix::Pix2Pix>("pix2pix"); }
