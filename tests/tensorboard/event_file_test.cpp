// TensorBoard events files, torch-free: CRC32C, record framing, PNG/JPEG headers, and
// EventFileWriter's files read back by the tests' own reader, corrupted bytes included.
#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/temp_dir.hpp"
#include "event_reader.hpp"
#include "image/pixels.hpp"
#include "kiln/error.hpp"
#include "tensorboard/crc32c.hpp"
#include "tensorboard/event_writer.hpp"
#include "tensorboard/image_header.hpp"
#include "tensorboard/record.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using runner::tensorboard::crc32c;
using runner::tensorboard::EventFileWriter;
using runner::tensorboard::ImageHeader;
using runner::tensorboard::mask_crc;
using runner::tensorboard::read_image_header;

std::string png(int width, int height, int channels) {
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width * height * channels));
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 37);
  const std::vector<std::uint8_t> bytes = image::encode_png(pixels.data(), width, height, channels);
  return std::string(bytes.begin(), bytes.end());
}

/// The first bytes of a JPEG file up to its frame header (no scan: read_image_header needs no more).
std::string jpeg_header(unsigned char frame_marker, int width, int height, int components) {
  std::string bytes = "\xFF\xD8";                                        // SOI
  bytes += std::string("\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 18);  // APP0
  bytes += std::string("\xFF\xC4\x00\x04\x00\x00", 6);                  // a DHT before the frame
  const int length = 8 + 3 * components;
  bytes += {'\xFF', static_cast<char>(frame_marker), static_cast<char>(length >> 8), static_cast<char>(length & 0xFF),
            '\x08', static_cast<char>(height >> 8), static_cast<char>(height & 0xFF), static_cast<char>(width >> 8),
            static_cast<char>(width & 0xFF), static_cast<char>(components)};
  for (int c = 0; c < components; ++c) bytes += {static_cast<char>(c + 1), '\x11', '\x00'};
  return bytes;
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void overwrite(const fs::path& file, const std::string& bytes) { std::ofstream(file, std::ios::binary) << bytes; }

/// The message of what `read_events(file)` throws, or "" when it reads the file.
std::string read_error(const fs::path& file) {
  try {
    read_events(file);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(tensorboard_crc32c, matches_the_check_value_and_rfc_3720s_vectors) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  EXPECT_EQ(crc32c(""), 0u);
  // Continued over two pieces, the same as over the whole.
  EXPECT_EQ(crc32c("6789", crc32c("12345")), 0xE3069283u);
}

TEST(tensorboard_crc32c, mask_rotates_right_by_15_and_adds_tensorflows_constant) {
  EXPECT_EQ(mask_crc(0), 0xa282ead8u);
  EXPECT_EQ(mask_crc(1), 0xa282ead8u + (1u << 17));
  EXPECT_EQ(mask_crc(1u << 15), 0xa282ead8u + 1u);
  EXPECT_EQ(mask_crc(0xE3069283u), ((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u);
}

TEST(tensorboard_record, frames_data_with_its_length_and_both_masked_crcs_little_endian) {
  const std::string record = runner::tensorboard::frame_record("abc");
  ASSERT_EQ(record.size(), 3u + 16u);
  EXPECT_EQ(record.substr(0, 8), std::string("\x03\0\0\0\0\0\0\0", 8));
  const std::uint32_t length_crc = mask_crc(crc32c(record.substr(0, 8)));
  const std::uint32_t data_crc = mask_crc(crc32c("abc"));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(static_cast<unsigned char>(record[8 + i]), (length_crc >> (8 * i)) & 0xFF) << i;
    EXPECT_EQ(static_cast<unsigned char>(record[15 + i]), (data_crc >> (8 * i)) & 0xFF) << i;
  }
  EXPECT_EQ(record.substr(12, 3), "abc");
}

TEST(tensorboard_image_header, reads_png_size_and_colorspace_from_ihdr) {
  for (const auto& [channels, colorspace] : std::vector<std::pair<int, int>>{{1, 1}, {3, 3}, {4, 4}}) {
    const auto header = read_image_header(png(7, 5, channels));
    ASSERT_TRUE(header) << channels;
    EXPECT_EQ(header->width, 7);
    EXPECT_EQ(header->height, 5);
    EXPECT_EQ(header->colorspace, colorspace) << channels;
  }
}

TEST(tensorboard_image_header, reads_jpeg_size_from_its_frame_header_past_other_segments) {
  const auto baseline = read_image_header(jpeg_header(0xC0, 640, 480, 3));
  ASSERT_TRUE(baseline);
  EXPECT_EQ(baseline->width, 640);
  EXPECT_EQ(baseline->height, 480);
  EXPECT_EQ(baseline->colorspace, 3);
  const auto progressive_grey = read_image_header(jpeg_header(0xC2, 300, 1000, 1));
  ASSERT_TRUE(progressive_grey);
  EXPECT_EQ(progressive_grey->width, 300);
  EXPECT_EQ(progressive_grey->height, 1000);
  EXPECT_EQ(progressive_grey->colorspace, 1);
}

TEST(tensorboard_image_header, refuses_what_is_neither_or_cut_short) {
  EXPECT_FALSE(read_image_header(""));
  EXPECT_FALSE(read_image_header("GIF89a......................"));
  EXPECT_FALSE(read_image_header(png(4, 4, 3).substr(0, 20)));
  EXPECT_FALSE(read_image_header(jpeg_header(0xC0, 64, 64, 3).substr(0, 30)));
  EXPECT_FALSE(read_image_header(jpeg_header(0xC0, 0, 64, 3)));  // a zero width
}

TEST(tensorboard_event_file, is_named_as_tensorboards_writers_name_theirs) {
  const std::string name = runner::tensorboard::events_file_name(1700000000.75);
  EXPECT_TRUE(std::regex_match(name, std::regex(R"(events\.out\.tfevents\.1700000000\.[^./]+(\.[^/]+)*\.[0-9]+)")))
      << name;
  // A run's file, named after its start and host whoever exports it.
  EXPECT_EQ(runner::tensorboard::events_file_name(1700000000.75, "node1"), "events.out.tfevents.1700000000.node1");
  const std::string here = name.substr(0, name.rfind('.'));  // this host, without the pid
  EXPECT_EQ(runner::tensorboard::events_file_name(1700000000.75, ""), here);
  EXPECT_EQ(runner::tensorboard::events_file_name(1700000000.75, "a/b"), here);
}

TEST(tensorboard_event_file, starts_with_the_file_version_and_holds_scalars_exactly) {
  TempDir dir;
  const std::vector<EventScalar> written = {{"loss/l1", 0, 0.25f, 1700000001.5},
                                            {"loss/l1", 10, 1.0f / 3.0f, 1700000002.25},
                                            {"eval/psnr", 1LL << 40, -12345.678f, 1700000003.0},
                                            {"lr/adam", 7, 1e-30f, 1700000004.0},
                                            {"big", 8, std::numeric_limits<float>::infinity(), 1700000005.0}};
  fs::path file;
  {
    EventFileWriter events = EventFileWriter::create_in(dir / "nested/folder", 1700000000.5);
    file = events.path();
    for (const EventScalar& s : written) events.scalar(s.tag, s.step, s.value, s.wall_time);
    events.scalar("nan", 9, std::numeric_limits<float>::quiet_NaN(), 1700000006.0);
    EXPECT_EQ(events.records(), 7);
    events.close();
  }
  EXPECT_EQ(file.parent_path(), dir / "nested/folder");
  const std::vector<TensorboardEvent> events = read_events(file);
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[0].file_version(), "brain.Event:2");
  EXPECT_EQ(events[0].wall_time(), 1700000000.5);
  const std::vector<EventScalar> read = scalars_of(events);
  ASSERT_EQ(read.size(), written.size() + 1);
  for (std::size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(read[i].tag, written[i].tag);
    EXPECT_EQ(read[i].step, written[i].step);
    EXPECT_EQ(read[i].value, written[i].value) << read[i].tag;
    EXPECT_EQ(read[i].wall_time, written[i].wall_time);
  }
  EXPECT_TRUE(std::isnan(read.back().value));
  EXPECT_EQ(fs::file_size(file), static_cast<std::uintmax_t>(read_all(file).size()));
}

TEST(tensorboard_event_file, holds_images_as_their_encoded_bytes_with_size_and_colorspace) {
  TempDir dir;
  const std::vector<std::string> files = {png(16, 8, 3), png(5, 9, 1), png(3, 2, 4)};
  fs::path path;
  {
    EventFileWriter events = EventFileWriter::create_in(dir.path(), 1.0);
    path = events.path();
    for (std::size_t i = 0; i < files.size(); ++i)
      events.image("images/grid", static_cast<std::int64_t>(i) * 100, files[i], *read_image_header(files[i]), 2.0);
  }  // closed by its destructor
  const std::vector<EventImage> images = images_of(read_events(path));
  ASSERT_EQ(images.size(), files.size());
  const std::vector<std::array<int, 3>> expected = {{16, 8, 3}, {5, 9, 1}, {3, 2, 4}};
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(images[i].tag, "images/grid");
    EXPECT_EQ(images[i].step, static_cast<std::int64_t>(i) * 100);
    EXPECT_EQ(images[i].encoded, files[i]);
    EXPECT_EQ(images[i].width, expected[i][0]);
    EXPECT_EQ(images[i].height, expected[i][1]);
    EXPECT_EQ(images[i].colorspace, expected[i][2]);
    const image::Pixels decoded = image::decode_pixels(images[i].encoded.data(), images[i].encoded.size(), "event");
    EXPECT_EQ(decoded.width, images[i].width);
    EXPECT_EQ(decoded.height, images[i].height);
  }
}

TEST(tensorboard_event_file, a_corrupted_byte_or_a_cut_is_found_by_the_reader) {
  TempDir dir;
  fs::path file;
  {
    EventFileWriter events = EventFileWriter::create_in(dir.path(), 1.0);
    file = events.path();
    events.scalar("loss/l1", 1, 0.5f, 2.0);
    events.scalar("loss/l1", 2, 0.25f, 3.0);
  }
  const std::string good = read_all(file);
  ASSERT_EQ(read_error(file), "");
  // The file-version record's length, then its data, then the last record's data CRC.
  const std::size_t first_length = static_cast<unsigned char>(good[0]);
  const std::size_t second_record = 16 + first_length;
  struct Case {
    std::size_t at;
    std::string error;
  };
  for (const Case& c : {Case{second_record + 2, "record 1 at byte " + std::to_string(second_record) + ": length CRC"},
                        Case{second_record + 14, "record 1 at byte " + std::to_string(second_record) + ": data CRC"},
                        Case{good.size() - 1, "data CRC mismatch"}}) {
    std::string bad = good;
    bad[c.at] = static_cast<char>(bad[c.at] ^ 0x10);
    overwrite(file, bad);
    EXPECT_NE(read_error(file).find(c.error), std::string::npos) << "byte " << c.at << ": " << read_error(file);
  }
  overwrite(file, good.substr(0, good.size() - 3));
  EXPECT_NE(read_error(file).find("record 2 at byte"), std::string::npos) << read_error(file);
  EXPECT_NE(read_error(file).find("cut short"), std::string::npos) << read_error(file);
}

TEST(tensorboard_event_file, two_files_in_one_second_get_distinct_names_and_none_is_overwritten) {
  TempDir dir;
  EventFileWriter first = EventFileWriter::create_in(dir.path(), 5.0);
  EventFileWriter second = EventFileWriter::create_in(dir.path(), 5.0);
  EXPECT_NE(first.path(), second.path());
  EXPECT_EQ(second.path().string(), first.path().string() + ".1");
  try {
    EventFileWriter again(first.path(), 5.0);
    FAIL() << "created over " << first.path();
  } catch (const kiln::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create the TensorBoard events file " + first.path().string()),
              std::string::npos)
        << e.what();
  }
}

TEST(tensorboard_event_file, a_folder_that_cannot_be_made_is_an_error_naming_it) {
  TempDir dir;
  dir.write("file", "not a folder");
  try {
    EventFileWriter::create_in(dir / "file" / "tensorboard", 1.0);
    FAIL() << "no error";
  } catch (const kiln::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot make the TensorBoard folder " + (dir / "file/tensorboard").string()),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kiln::test
