// `kiln data`: writes a dataset plugin's examples as pix2pix-format PNG files (input | target).
#include <algorithm>
#include <string>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "cli/commands.hpp"
#include "image/image_io.hpp"
#include "document.hpp"
#include "kiln/dataset.hpp"
#include "plugins/plugin_host.hpp"

namespace kiln::runner::cli {
namespace {

namespace fs = std::filesystem;

/// One of an example's images, checked: float C×H×W with C = 1 or 3.
const torch::Tensor& image_of(const Example& example, const std::string& key, const DataArgs& args,
                              std::int64_t index) {
  if (!example.contains(key))
    throw Error(fmt::format("dataset '{}' gives examples with {}; kiln data needs 'input' and 'target' images",
                            args.dataset, fmt::join(example.names(), ", ")));
  const torch::Tensor& image = example.at(key);
  if (image.dim() != 3 || (image.size(0) != 1 && image.size(0) != 3) || !image.is_floating_point())
    throw Error(fmt::format("dataset '{}': example {}'s '{}' is {} of shape [{}]; expected a float C×H×W image with "
                            "1 or 3 channels",
                            args.dataset, index, key, c10::toString(image.scalar_type()),
                            fmt::join(image.sizes(), ", ")));
  return image;
}

/// input | target, one image wide: the layout paired_images reads (direction = "AtoB").
torch::Tensor side_by_side(const Example& example, const DataArgs& args, std::int64_t index) {
  torch::Tensor input = image_of(example, "input", args, index), target = image_of(example, "target", args, index);
  if (input.size(1) != target.size(1))
    throw Error(fmt::format("dataset '{}': example {}'s input is {} pixels high and its target {}; they must match",
                            args.dataset, index, input.size(1), target.size(1)));
  // A grey image beside a colour one is shown in colour.
  if (input.size(0) != target.size(0)) {
    if (input.size(0) == 1) input = input.expand({3, -1, -1});
    if (target.size(0) == 1) target = target.expand({3, -1, -1});
  }
  return torch::cat({input, target}, /*dim=*/2);
}

}  // namespace

int data(const DataArgs& args) {
  if (args.count <= 0) throw Error(fmt::format("--count must be greater than 0, got {}", args.count));

  // The dataset's table: the options as TOML, then --set KEY=VALUE for any other key.
  std::string toml;
  if (args.image_size) toml += fmt::format("image_size = {}\n", *args.image_size);
  if (args.data_seed) toml += fmt::format("data_seed = {}\n", *args.data_seed);
  const auto document = kiln::detail::Document::parse(toml, "command line");
  if (!args.split.empty()) document->set("split=" + args.split);
  for (const std::string& assignment : args.overrides) document->set(assignment);
  const Config config = document->root();

  PluginHost host({}, default_plugin_dir());
  const std::shared_ptr<Dataset> dataset = host.make_dataset(args.dataset, "", config);
  config.reject_unread(fmt::format("dataset '{}'", args.dataset));
  if (args.count > dataset->size())
    throw Error(fmt::format("--count {} is more than the {} examples dataset '{}' has (a `size` key may raise "
                            "that: --set size={})",
                            args.count, dataset->size(), args.dataset, args.count));

  std::error_code ec;
  fs::create_directories(args.out, ec);
  if (ec) throw Error(fmt::format("{}: cannot create the folder ({})", args.out.string(), ec.message()));

  // File names sort in index order: 0000.png, 0001.png, ... (wider when count needs it).
  const int digits = std::max<int>(4, static_cast<int>(std::to_string(args.count - 1).size()));
  // get() is thread-safe by contract. Seed 0 for every example: a fixed draw (no flip for
  // datasets that augment with image::Jitter, whose flip is bit 0 of the seed).
  at::parallel_for(0, args.count, /*grain_size=*/1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const Example example = dataset->get(i, /*seed=*/0);
      image::write_png(args.out / fmt::format("{:0{}}.png", i, digits), side_by_side(example, args, i));
    }
  });
  fmt::print("wrote {} pairs (input | target) from dataset '{}' to {}\n", args.count, args.dataset, args.out.string());
  return kExitOk;
}

}  // namespace kiln::runner::cli
