// Builds in-tree datasets for tests from the real plugin library, as a run would.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "document.hpp"
#include "kiln/kiln.hpp"
#include "plugins/plugin_host.hpp"

namespace kiln::test {

/// The dataset `name` from libdatasets.so, built from `toml` (the body of its [data] table);
/// every key must be read, as in a run.
inline std::shared_ptr<Dataset> make_dataset(const std::string& name, const std::string& toml) {
  const Config config = detail::Document::parse(toml, "data.toml")->root();
  runner::PluginHost host({}, KILN_PLUGIN_DIR);
  auto dataset = host.make_dataset(name, std::string(KILN_PLUGIN_DIR) + "/libdatasets.so", config);
  config.reject_unread("plugin '" + name + "'");
  return dataset;
}

/// What building a dataset throws, as text; "no error" when it builds.
inline std::string construction_error(const std::string& name, const std::string& toml) {
  try {
    make_dataset(name, toml);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

/// The message of the kiln::Error `action` throws; "no error" when it throws none.
template <class Action>
std::string error_of(Action&& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

/// Pixels (as a H×W bool mask) whose colour in a [-1, 1] C×H×W image is `rgb` (0..255).
inline torch::Tensor pixels_of(const torch::Tensor& image, int r, int g, int b) {
  const auto level = [](int v) { return static_cast<float>(v) / 127.5f - 1.0f; };
  return image[0].eq(level(r)) & image[1].eq(level(g)) & image[2].eq(level(b));
}

}  // namespace kiln::test
