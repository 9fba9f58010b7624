// The sine plugin's parts, each added to the registry by its own source file.
#pragma once

#include "kiln/registry.hpp"

namespace sine {

void add_dataset(kiln::Registry& registry);  // noisy_sine (dataset.cpp)
void add_model(kiln::Registry& registry);    // sine_net (model.cpp)
void add_loss(kiln::Registry& registry);     // huber (loss.cpp)
void add_hook(kiln::Registry& registry);     // best_loss (hook.cpp)

}  // namespace sine
