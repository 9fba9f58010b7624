// What the export tests share: comparing tensors exactly, and listing them as Python loads them.
#include "exported_tensors.hpp"

#include <cstdio>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cli_support.hpp"
#include "plugins/sha256.hpp"

namespace kiln::test {
namespace {

/// Debian's Python, which has python3-torch.
constexpr const char* kPython = "/usr/bin/python3";

struct Python {
  int status = 0;
  std::string out;
};

/// Runs Debian's python3 on `arguments` (already quoted as a shell needs), stdout only.
Python run_python(const std::string& arguments) {
  Python result;
  FILE* pipe = ::popen((std::string(kPython) + " " + arguments).c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) result.out.append(buffer, n);
  result.status = ::pclose(pipe);
  return result;
}

}  // namespace

Tensors tensors_of(const SafetensorsFile& file) {
  Tensors out;
  for (const SafetensorsEntry& entry : file.entries) out[entry.name] = entry.tensor;
  return out;
}

void expect_same_tensors(const Tensors& have, const Tensors& want) {
  std::vector<std::string> have_names, want_names;
  for (const auto& [name, tensor] : have) have_names.push_back(name);
  for (const auto& [name, tensor] : want) want_names.push_back(name);
  ASSERT_EQ(have_names, want_names);
  for (const auto& [name, tensor] : want) {
    const torch::Tensor& got = have.at(name);
    EXPECT_EQ(got.scalar_type(), tensor.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), tensor.sizes()) << name;
    if (got.scalar_type() == tensor.scalar_type() && got.sizes() == tensor.sizes()) {
      EXPECT_TRUE(torch::equal(got, tensor)) << name;
    }
  }
}

std::vector<std::string> listing_of(const Tensors& tensors) {
  static const std::map<c10::ScalarType, std::string> kPythonNames{
      {c10::ScalarType::Float, "float32"}, {c10::ScalarType::Double, "float64"}, {c10::ScalarType::Half, "float16"},
      {c10::ScalarType::BFloat16, "bfloat16"}, {c10::ScalarType::Long, "int64"}, {c10::ScalarType::Int, "int32"},
      {c10::ScalarType::Short, "int16"}, {c10::ScalarType::Char, "int8"}, {c10::ScalarType::Byte, "uint8"},
      {c10::ScalarType::Bool, "bool"}};
  std::vector<std::string> out;
  for (const auto& [name, tensor] : tensors) {
    const torch::Tensor bytes = tensor.contiguous();
    std::string shape;
    for (std::int64_t dim : bytes.sizes()) shape += (shape.empty() ? "" : ",") + std::to_string(dim);
    out.push_back(name + "\t" + kPythonNames.at(bytes.scalar_type()) + "\t" + shape + "\t" +
                  runner::sha256_hex({static_cast<const char*>(bytes.data_ptr()), bytes.nbytes()}));
  }
  return out;
}

bool python_has_torch() { return run_python("-c 'import torch' 2>/dev/null").status == 0; }

const char* const kNoPythonTorch =
    "/usr/bin/python3 cannot import torch: install Debian's python3-torch (apt-get install python3-torch, or "
    "scripts/setup.sh --tests) for the check that Python loads the exported weights";

std::pair<std::string, std::vector<std::string>> python_listing(const std::filesystem::path& file, const std::string& format) {
  const Python python = run_python("'" + (source_dir() / "tests/export/load_weights.py").string() + "' '" +
                                   file.string() + "' " + format);
  EXPECT_EQ(python.status, 0) << python.out;
  std::vector<std::string> rows = lines(python.out);
  if (rows.empty()) return {};
  const std::string first = rows.front();
  rows.erase(rows.begin());
  return {first, rows};
}

}  // namespace kiln::test
