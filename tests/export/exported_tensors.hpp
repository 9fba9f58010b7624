// What the export tests share: comparing tensors exactly, and listing them as Python loads them.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "safetensors_reader.hpp"

namespace kiln::test {

/// Tensors by name, sorted.
using Tensors = std::map<std::string, torch::Tensor>;

/// The tensors of a safetensors file, by name.
Tensors tensors_of(const SafetensorsFile& file);

/// Every name of `want` in `have` with the same dtype, shape and values, exactly, and nothing
/// else (gtest failures naming the tensor).
void expect_same_tensors(const Tensors& have, const Tensors& want);

/// Whether Debian's python3 (/usr/bin/python3) has torch, for the Python half of the tests;
/// `python3` on PATH may be another Python without it.
bool python_has_torch();

/// Why a Python test was skipped, and what to install.
extern const char* const kNoPythonTorch;

/// What tests/export/load_weights.py prints for `tensors`, one line each in name order:
/// NAME<TAB>DTYPE<TAB>SHAPE<TAB>the sha256 of the tensor's bytes.
std::vector<std::string> listing_of(const Tensors& tensors);

/// tests/export/load_weights.py run by Debian's python3 on `file` ("pt" or "safetensors"):
/// its first line (how it loaded the file), and the tensors' lines. A failure to run is a gtest
/// failure with what it printed.
std::pair<std::string, std::vector<std::string>> python_listing(const std::filesystem::path& file,
                                                                const std::string& format);

}  // namespace kiln::test
