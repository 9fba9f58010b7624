// kiln's checkpoint file: its byte format, an atomic and durable write, a verified read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace kiln::runner {

// The format, version 2. Every integer is little-endian (kiln only builds on little-endian
// machines); there is no padding anywhere.
//
//   "KILNCKPT"                  8 bytes, the magic
//   u32 format version          2 (version 1 is the same without the LibTorch version)
//   u32 entry count             N
//   u32 length, bytes           the LibTorch version of the kiln that wrote it (TORCH_VERSION,
//                               e.g. "1.13.0"), at most 64 bytes
//   N entries, in order:
//     u32 name length, name bytes (UTF-8, no terminator; names are unique)
//     i8  dtype                 the c10::ScalarType value: Byte 0, Char 1, Short 2, Int 3,
//                               Long 4, Half 5, Float 6, Double 7, Bool 11, BFloat16 15
//     u8  ndim, i64 dims[ndim]  ndim 0 is a scalar (0-d) tensor
//     u64 payload bytes         numel * element size, checked when reading
//     payload                   the elements in row-major (contiguous) order, native layout
//   "KILNEND\0"                 8 bytes, the trailer magic
//   u64 entry count             N again
//
// The trailer makes a truncated file an error even when no sha256 is at hand. The sha256 of
// the whole file, which the saver records in the run store, is what detects flipped bits.
// Nothing in the format depends on the LibTorch version (dtypes are numbered as c10 numbers
// them, checked at compile time), so a checkpoint loads in a kiln built on another LibTorch;
// the recorded version names the writer when one does not load.

/// A checkpoint's content: named tensors in a fixed order (names unique).
using CheckpointEntries = std::vector<std::pair<std::string, torch::Tensor>>;

/// What write_checkpoint() put on disk.
struct WrittenCheckpoint {
  std::filesystem::path path;
  std::uint64_t bytes = 0;  ///< the file's size
  std::string sha256;       ///< the whole file's sha256, lowercase hex
};

/// Writes `entries` to `path` atomically and durably: a temp file beside it
/// (`path` + ".tmp-<pid>"), written with large write() calls and hashed as it goes, fsync,
/// close, rename over `path`, fsync the directory. Reading a checkpoint thus finds either the
/// old file or the complete new one, never a mix, even after a crash or a power cut.
///
/// Tensors may be non-contiguous or off the CPU: their contiguous CPU form is written. They
/// are only read, never modified, so this may run on a background thread while training goes
/// on, as long as nobody writes to these tensors meanwhile (the saver hands it a snapshot).
/// One write per `path` at a time: two in one process would share the temp file.
///
/// Any failure (no directory, ENOSPC, EFBIG, EIO, a dtype the format lacks, a repeated name)
/// throws a kiln::CheckpointError such as "cannot write checkpoint
/// runs/a/checkpoints/ckpt-100.kiln: No space left on device"; the temp file is removed and
/// the file at `path`, if any, is unchanged. Only a failure to fsync the directory comes after
/// the rename: the new file is then in place but may not survive a power cut.
///
/// RLIMIT_FSIZE: crossing it raises SIGXFSZ, whose default action kills the process. kiln's
/// main ignores SIGXFSZ so that the write fails with EFBIG ("File too large") instead; this
/// function leaves signal dispositions alone.
///
///   CheckpointEntries entries{{"step", torch::tensor(int64_t{100})}, {"w", weight}};
///   WrittenCheckpoint saved = write_checkpoint(dir / "ckpt-100.kiln", entries);
WrittenCheckpoint write_checkpoint(const std::filesystem::path& path, const CheckpointEntries& entries);

/// Reads the checkpoint at `path` into CPU tensors, in the order they were written. Format
/// versions 1 and 2 are read.
///
/// When `expected_sha256` is non-empty the whole file's sha256 must equal it, and it is
/// checked before any tensor is built: "checkpoint PATH is corrupt: sha256 X, expected Y".
/// Without it a flipped payload bit goes unnoticed, but a truncated file never does.
/// Throws a kiln::CheckpointError naming the file for an unreadable file ("cannot read
/// checkpoint PATH: No such file or directory"), a wrong magic ("PATH is not a kiln
/// checkpoint"), a cut file ("checkpoint PATH is truncated"), an unknown format version or
/// dtype, and sizes that do not add up. When the file records another LibTorch version than
/// this kiln's, such an error names both: "checkpoint PATH is corrupt: ... (written with
/// LibTorch 2.11.0; this kiln uses LibTorch 1.13.0)".
///
/// Payloads are read straight into the new tensors, so the memory needed is theirs plus a
/// 1 MiB buffer. With `expected_sha256` the file is read twice through one descriptor (hash,
/// then parse; the second pass normally comes from the page cache): the file must not be
/// modified in place meanwhile, which kiln never does (a rename over it is harmless).
CheckpointEntries read_checkpoint(const std::filesystem::path& path, const std::string& expected_sha256 = "");

/// The LibTorch version the checkpoint at `path` records: "1.13.0"; "" for a format-1 file,
/// which records none. Reads the header only; throws read_checkpoint()'s errors for it.
std::string checkpoint_torch_version(const std::filesystem::path& path);

}  // namespace kiln::runner
