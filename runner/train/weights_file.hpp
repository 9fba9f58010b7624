// Named tensors as files Python reads without kiln: safetensors, and the .pt of torch.save.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "kiln/tensors.hpp"

namespace kiln::runner {

// Both writers take the tensors by name (a TensorMap's order: sorted), write each one's
// contiguous CPU form in its own dtype, and replace `path` atomically (common::AtomicFile): a
// failure (no such folder, a full disk) throws a kiln::Error, "cannot write weights
// out/w.pt: No space left on device", and leaves no file behind and an old one unchanged.
// The dtypes are those kiln's checkpoints hold: float32, float64, float16, bfloat16, int64,
// int32, int16, int8, uint8 and bool; another is an Error naming the tensor.

/// Writes `tensors` as safetensors: an 8-byte little-endian header length, a JSON header
/// {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
/// "__metadata__": {...}} padded with spaces to a multiple of 8 bytes, then the raw bytes.
/// The data goes by element size, largest first, then by name, so that every tensor starts
/// at a multiple of its element size, as the safetensors library lays it out.
/// Returns the file's size.
///
///   write_safetensors("w.safetensors", weights, {{"format", "pt"}, {"step", "100"}});
std::uint64_t write_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                                const std::map<std::string, std::string>& metadata);

/// Writes `tensors` as the zip archive torch.save writes for a dict {name: tensor}, which
/// Python's torch.load(path) reads back, also with weights_only=True (the default since
/// PyTorch 2.6): its pickle names nothing but the tensors' storages and
/// torch._utils._rebuild_tensor_v2 (torch::pickle_save's typed dicts name
/// torch.jit._pickle.restore_type_tag, which weights_only refuses). Returns the file's size.
std::uint64_t write_torch_dict(const std::filesystem::path& path, const TensorMap& tensors);

}  // namespace kiln::runner
