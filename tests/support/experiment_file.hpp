// Writes experiment files for tests: a minimal valid experiment, edited per test.
#pragma once

#include <fstream>
#include <string>

#include "temp_dir.hpp"

namespace kiln::test {

/// A small valid experiment on the in-tree hello-world plugins.
inline std::string mlp_experiment(const std::string& extra = "", long max_steps = 20) {
  return "[experiment]\nname = \"t\"\nseed = 1\nmax_steps = " + std::to_string(max_steps) +
         "\nthreads = 1\n"
         "[data]\nplugin = \"synthetic_regression\"\nsize = 256\ninputs = 4\nbatch_size = 16\nworkers = 1\n"
         "[model]\nplugin = \"mlp\"\ninputs = 4\nhidden = [8]\n"
         "[[losses]]\nplugin = \"mse\"\n"
         "[[optimizers]]\nname = \"adam\"\ntype = \"adam\"\nlr = 1e-2\nlosses = [\"mse\"]\n" +
         extra;
}

inline std::filesystem::path write_text(const TempDir& dir, const std::string& name, const std::string& text) {
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace kiln::test
