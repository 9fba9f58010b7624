// The LibTorch version a checkpoint records: written by every save, named beside both sides'
// versions when a checkpoint from another LibTorch does not load, ignored when it does.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "hooks/checkpoint_file.hpp"
#include "kiln/error.hpp"
#include "plugins/sha256.hpp"
#include "../support/temp_dir.hpp"
#include "checkpoint_support.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using namespace checkpoint_test;

/// Where the header's fields are: magic 8, format version 4, entry count 4, then the LibTorch
/// version's length and its bytes.
constexpr std::size_t kFormatAt = 8;
constexpr std::size_t kTorchLengthAt = 16;
constexpr std::size_t kOwnLength = sizeof(TORCH_VERSION) - 1;
/// This kiln's version in the messages.
const std::string kOwn = TORCH_VERSION;

/// `bytes` of a checkpoint this kiln wrote, as a kiln on LibTorch `version` would have.
std::string recorded_as(std::string bytes, const std::string& version) {
  const auto length = static_cast<std::uint32_t>(version.size());
  std::memcpy(&bytes[kTorchLengthAt], &length, sizeof length);
  return bytes.replace(kTorchLengthAt + 4, kOwnLength, version);
}

/// `bytes` as format 1 wrote them: the same without the LibTorch version.
std::string as_format_1(std::string bytes) {
  const std::uint32_t format = 1;
  std::memcpy(&bytes[kFormatAt], &format, sizeof format);
  return bytes.erase(kTorchLengthAt, 4 + kOwnLength);
}

TEST(checkpoint_version, every_checkpoint_records_the_libtorch_version_that_wrote_it) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  write_checkpoint(file, two_entries());
  const std::string bytes = file_bytes(file);
  std::uint32_t format = 0, length = 0;
  std::memcpy(&format, &bytes[kFormatAt], sizeof format);
  std::memcpy(&length, &bytes[kTorchLengthAt], sizeof length);
  EXPECT_EQ(format, 2u);
  EXPECT_EQ(length, kOwnLength);
  EXPECT_EQ(bytes.substr(kTorchLengthAt + 4, length), kOwn);
  EXPECT_EQ(checkpoint_torch_version(file), kOwn);
}

TEST(checkpoint_version, an_intact_checkpoint_from_another_libtorch_loads) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  write_checkpoint(file, two_entries());
  write_bytes(file, recorded_as(file_bytes(file), "9.9.9"));
  EXPECT_EQ(checkpoint_torch_version(file), "9.9.9");
  expect_same(two_entries(), read_checkpoint(file));
  expect_same(two_entries(), read_checkpoint(file, sha256_file(file)));
}

TEST(checkpoint_version, a_broken_checkpoint_from_another_libtorch_names_both_versions) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  write_checkpoint(file, two_entries());
  const std::string foreign = recorded_as(file_bytes(file), "9.9.9");
  const std::string versions = " (written with LibTorch 9.9.9; this kiln uses LibTorch " + kOwn + ")";

  std::string bytes = foreign;
  bytes[bytes.size() - 8] = 3;  // the trailer's entry count
  write_bytes(file, bytes);
  EXPECT_EQ(read_error(file),
            "checkpoint " + file.string() + " is corrupt: the trailer counts 3 entries, the header 2" + versions);

  write_bytes(file, foreign.substr(0, foreign.size() - 20));  // cut inside the last payload
  const std::string cut = read_error(file);
  EXPECT_EQ(cut.rfind("checkpoint " + file.string() + " is truncated: entry 1 ('step')", 0), 0u) << cut;
  EXPECT_EQ(cut.substr(cut.size() - versions.size()), versions) << cut;

  // A sha256 that does not match is checked before anything is parsed: the header still says who wrote it.
  const std::string expected = sha256_hex(foreign);
  write_bytes(file, bytes);
  EXPECT_EQ(read_error(file, expected), "checkpoint " + file.string() + " is corrupt: sha256 " + sha256_hex(bytes) +
                                            ", expected " + expected + versions);
}

TEST(checkpoint_version, a_broken_checkpoint_from_this_libtorch_or_format_1_names_none) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  write_checkpoint(file, two_entries());
  std::string bytes = file_bytes(file);
  bytes[bytes.size() - 8] = 3;
  write_bytes(file, bytes);
  EXPECT_EQ(read_error(file), "checkpoint " + file.string() + " is corrupt: the trailer counts 3 entries, the header 2");
  write_bytes(file, as_format_1(bytes));
  EXPECT_EQ(read_error(file), "checkpoint " + file.string() + " is corrupt: the trailer counts 3 entries, the header 2");
}

TEST(checkpoint_version, format_1_checkpoints_still_load_and_record_no_version) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  write_checkpoint(file, two_entries());
  write_bytes(file, as_format_1(file_bytes(file)));
  EXPECT_EQ(checkpoint_torch_version(file), "");
  expect_same(two_entries(), read_checkpoint(file, sha256_file(file)));
}

TEST(checkpoint_version, a_version_length_past_the_limit_is_corrupt) {
  TempDir dir;
  const fs::path file = dir / "ckpt.kiln";
  write_checkpoint(file, two_entries());
  std::string bytes = file_bytes(file);
  std::memset(&bytes[kTorchLengthAt], 0xff, 4);
  write_bytes(file, bytes);
  const std::string error =
      "checkpoint " + file.string() + " is corrupt: its LibTorch version is 4294967295 bytes long; at most 64 fit";
  EXPECT_EQ(read_error(file), error);
  try {
    checkpoint_torch_version(file);
    ADD_FAILURE() << "checkpoint_torch_version read a corrupt header";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(e.what(), error);
  }
  EXPECT_THROW(checkpoint_torch_version(dir / "none.kiln"), CheckpointError);
}

}  // namespace
}  // namespace kiln::runner
