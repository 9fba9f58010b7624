// TFRecord framing: how each serialized Event sits in an events file.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kiln::runner::tensorboard {

/// Bytes of framing around each record's data: the length and two masked CRCs.
inline constexpr std::size_t kRecordOverhead = 8 + 4 + 4;

/// `data` framed as one record: its length as a little-endian uint64, the masked CRC32C of
/// those 8 bytes (little-endian uint32), the data, and the masked CRC32C of the data.
std::string frame_record(std::string_view data);

}  // namespace kiln::runner::tensorboard
