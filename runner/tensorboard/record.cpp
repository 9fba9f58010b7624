// TFRecord framing: how each serialized Event sits in an events file.
#include "tensorboard/record.hpp"

#include <cstdint>

#include "tensorboard/crc32c.hpp"

namespace kiln::runner::tensorboard {
namespace {

/// `value`'s low `bytes` bytes, least significant first, whatever the host's byte order.
void append_little_endian(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

}  // namespace

std::string frame_record(std::string_view data) {
  std::string out;
  out.reserve(data.size() + kRecordOverhead);
  append_little_endian(out, data.size(), 8);
  append_little_endian(out, mask_crc(crc32c(out)), 4);
  out.append(data);
  append_little_endian(out, mask_crc(crc32c(data)), 4);
  return out;
}

}  // namespace kiln::runner::tensorboard
