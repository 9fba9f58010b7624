// The weights files' writers on tensors of every dtype kiln exports: safetensors read back by
// the tests' own reader, the .pt by Debian's Python torch.load with weights_only=True.
#include "train/weights_file.hpp"

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/temp_dir.hpp"
#include "exported_tensors.hpp"
#include "kiln/error.hpp"
#include "safetensors_reader.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

/// One tensor of each dtype, and the shapes that are easy to get wrong: a scalar, an empty
/// tensor, one whose size does not fit in 32 bits (empty, so it takes no memory: the pickle
/// writes its size as a LONG1), a transposed one (not contiguous), and sizes that leave the
/// next tensor unaligned unless the writer orders the data.
TensorMap every_dtype() {
  torch::manual_seed(3);
  TensorMap tensors("weights");
  tensors.set("a.f32", torch::randn({2, 3}));
  tensors.set("b.f64", torch::randn({3}, torch::kDouble));
  tensors.set("c.f16", torch::randn({3}).to(torch::kHalf));
  tensors.set("d.bf16", torch::randn({5}).to(torch::kBFloat16));
  tensors.set("e.i64_scalar", torch::scalar_tensor(-7, torch::kLong));
  tensors.set("f.i32_transposed", torch::arange(-3, 3, torch::kInt).reshape({2, 3}).t());
  tensors.set("g.i16", torch::tensor({-300, 2, 7}, torch::kShort));
  tensors.set("h.i8", torch::tensor({-128, 127, 0}, torch::kChar));
  tensors.set("i.u8", torch::tensor({0, 255}, torch::kByte));
  tensors.set("j.bool", torch::tensor({true, false, true}));
  tensors.set("k.empty", torch::empty({0, 4}));
  tensors.set("l.wide_empty", torch::empty({0, 3000000000LL}));
  return tensors;
}

Tensors as_tensors(const TensorMap& map) {
  Tensors out;
  for (const auto& [name, tensor] : map) out[name] = tensor;
  return out;
}

TEST(weights_file, safetensors_holds_every_dtype_exactly_and_aligned) {
  TempDir dir;
  const TensorMap tensors = every_dtype();
  const std::uint64_t bytes = runner::write_safetensors(dir / "w.safetensors", tensors, {{"step", "3"}, {"run", "a\"b"}});
  EXPECT_EQ(bytes, fs::file_size(dir / "w.safetensors"));
  const SafetensorsFile file = read_safetensors(dir / "w.safetensors");
  expect_same_tensors(tensors_of(file), as_tensors(tensors));
  EXPECT_EQ(file.metadata, (std::map<std::string, std::string>{{"step", "3"}, {"run", "a\"b"}}));
  std::map<std::string, std::string> dtypes;
  for (const SafetensorsEntry& entry : file.entries) {
    dtypes[entry.name] = entry.dtype;
    EXPECT_EQ((8 + file.header_length + entry.begin) % entry.tensor.element_size(), 0u) << entry.name;
  }
  EXPECT_EQ(dtypes, (std::map<std::string, std::string>{
                        {"a.f32", "F32"}, {"b.f64", "F64"}, {"c.f16", "F16"}, {"d.bf16", "BF16"},
                        {"e.i64_scalar", "I64"}, {"f.i32_transposed", "I32"}, {"g.i16", "I16"}, {"h.i8", "I8"},
                        {"i.u8", "U8"}, {"j.bool", "BOOL"}, {"k.empty", "F32"}, {"l.wide_empty", "F32"}}));
}

TEST(weights_file, pt_holds_every_dtype_exactly_for_python_with_weights_only) {
  if (!python_has_torch()) GTEST_SKIP() << kNoPythonTorch;
  TempDir dir;
  const TensorMap tensors = every_dtype();
  const std::uint64_t bytes = runner::write_torch_dict(dir / "w.pt", tensors);
  EXPECT_EQ(bytes, fs::file_size(dir / "w.pt"));
  const auto [how, rows] = python_listing(dir / "w.pt", "pt");
  EXPECT_THAT(how, HasSubstr("through torch.load, weights_only=True"));
  EXPECT_EQ(rows, listing_of(as_tensors(tensors)));
}

TEST(weights_file, python_reads_the_safetensors_of_every_dtype) {
  if (!python_has_torch()) GTEST_SKIP() << kNoPythonTorch;
  TempDir dir;
  const TensorMap tensors = every_dtype();
  runner::write_safetensors(dir / "w.safetensors", tensors, {});
  EXPECT_EQ(python_listing(dir / "w.safetensors", "safetensors").second, listing_of(as_tensors(tensors)));
}

TEST(weights_file, a_dtype_neither_format_takes_is_an_error_and_no_file) {
  TempDir dir;
  TensorMap tensors = every_dtype();
  tensors.set("z", torch::zeros({2}, torch::kComplexFloat));
  for (const bool safetensors : {true, false}) {
    const fs::path out = dir / (safetensors ? "w.safetensors" : "w.pt");
    try {
      safetensors ? runner::write_safetensors(out, tensors, {}) : runner::write_torch_dict(out, tensors);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()),
                "tensor 'z' is ComplexFloat, which kiln does not export (float32, float64, float16, bfloat16, int64, "
                "int32, int16, int8, uint8 and bool are)");
    }
    EXPECT_TRUE(fs::is_empty(dir.path()));
  }
}

TEST(weights_file, a_tensor_named_like_the_safetensors_metadata_is_an_error) {
  TempDir dir;
  TensorMap tensors("weights");
  tensors.set("__metadata__", torch::zeros({1}));
  try {
    runner::write_safetensors(dir / "w.safetensors", tensors, {});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("'__metadata__'"));
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

}  // namespace
}  // namespace kiln::test
