// Named tensors: batches, model outputs, a step's scratch space and hook state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "kiln/version.hpp"

namespace kiln {

/// An ordered map of named tensors whose lookups fail with a message that lists the names
/// it does have:
/// \code
///   const auto& y = outputs.at("prediction");  // error: no tensor 'prediction' in outputs (has: y)
/// \endcode
class KILN_API TensorMap {
 public:
  using Map = std::map<std::string, torch::Tensor>;

  /// `label` names the map in error messages ("batch", "outputs", ...).
  explicit TensorMap(std::string label = "tensors") : label_(std::move(label)) {}

  const torch::Tensor& at(const std::string& name) const;
  torch::Tensor& operator[](const std::string& name) { return map_[name]; }
  void set(const std::string& name, torch::Tensor value) { map_[name] = std::move(value); }
  bool contains(const std::string& name) const { return map_.count(name) != 0; }
  void erase(const std::string& name) { map_.erase(name); }
  void clear() { map_.clear(); }

  std::size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  std::vector<std::string> names() const;
  const std::string& label() const { return label_; }

  Map::const_iterator begin() const { return map_.begin(); }
  Map::const_iterator end() const { return map_.end(); }
  Map::iterator begin() { return map_.begin(); }
  Map::iterator end() { return map_.end(); }

 private:
  std::string label_;
  Map map_;
};

using Batch = TensorMap;    ///< a batch of examples, stacked along dimension 0
using Example = TensorMap;  ///< one example, as a dataset returns it
using Outputs = TensorMap;  ///< what a model's forward pass produced

/// Nothing when `a` and `b` have the same shape; else an Error naming both, their shapes and
/// what torch would make of them:
/// "model output 'prediction' has shape [64] and target 'y' has shape [64, 1]; they differ and
/// would broadcast to [64, 64] — reshape one of them". An element-wise loss or metric of
/// shapes that broadcast compares the wrong elements, with at most a warning from torch.
/// `a_what` and `b_what` say what each tensor is ("model output 'prediction'").
KILN_API void require_same_shape(const std::string& a_what, const torch::Tensor& a, const std::string& b_what,
                                 const torch::Tensor& b);

}  // namespace kiln
