// A safetensors reader of the tests' own, written from the format's description, to check
// what kiln writes without kiln's writer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

namespace kiln::test {

/// One tensor's header entry.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;  ///< "F32", "I64", ...
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  ///< data_offsets, from the start of the data
  torch::Tensor tensor;              ///< built from its bytes
};

/// What a safetensors file holds.
struct SafetensorsFile {
  std::uint64_t header_length = 0;  ///< the first 8 bytes
  std::string header;               ///< the JSON text, with its padding
  std::vector<SafetensorsEntry> entries;  ///< in the header's order
  std::map<std::string, std::string> metadata;
};

/// Reads `path`, checking what the format requires: a header length within the file, a JSON
/// object (whitespace after it allowed), each entry a known dtype with a shape whose bytes
/// are its data_offsets' span, the spans tiling the data exactly (no gap, no overlap, nothing
/// after), "__metadata__" strings only. Any breach throws std::runtime_error saying which.
SafetensorsFile read_safetensors(const std::filesystem::path& path);

}  // namespace kiln::test
