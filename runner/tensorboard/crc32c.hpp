// CRC32C (Castagnoli), the checksum of TensorBoard's record framing.
#pragma once

#include <cstdint>
#include <string_view>

namespace kiln::runner::tensorboard {

/// The CRC32C of `bytes`, continuing from `crc` (the value for the bytes before them; 0 to
/// start): reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF, as in iSCSI
/// and ext4. crc32c("123456789") is 0xE3069283.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

/// TensorFlow's masked CRC: a CRC stored in data that is itself checksummed is rotated and
/// offset, so that the CRC of a string holding its own CRC is not trivially structured.
std::uint32_t mask_crc(std::uint32_t crc);

}  // namespace kiln::runner::tensorboard
