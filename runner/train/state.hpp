// Loading weights into a model from a checkpoint's "model/<name>" entries.
#pragma once

#include <string>
#include <vector>

#include "kiln/model.hpp"
#include "kiln/tensors.hpp"

namespace kiln::runner {

/// Copies the "model/<name>" entries of `weights` into `model`'s parameters and buffers.
/// Strict: a missing, unexpected or mis-shaped entry is one CheckpointError naming them
/// all; not strict: those are skipped and their names returned.
std::vector<std::string> load_model_weights(Model& model, const TensorMap& weights, bool strict);

/// What a strict load of `weights` into `model` would refuse, without copying anything:
/// "missing: ...; unexpected: ...; wrong shape or type: ..."; empty when they fit.
std::string model_misfit(Model& model, const TensorMap& weights);

}  // namespace kiln::runner
