// Escaping, base64, data: URIs, image signatures and the report's number formats.
#include "report/html.hpp"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace kiln::runner::report {
namespace {

TEST(report_html, escapes_the_five_special_characters) {
  EXPECT_EQ(escape("<a href=\"x\">Tom & 'Jerry'</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  EXPECT_EQ(escape("plain text, ünïcode"), "plain text, ünïcode");
  EXPECT_EQ(escape(""), "");
}

TEST(report_html, base64_matches_rfc_4648_test_vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\xfe", 3)), "/wD+");
  EXPECT_EQ(base64(std::string("\xfb\xff", 2)), "+/8=");
}

TEST(report_html, data_uri_names_the_type_and_holds_base64) {
  EXPECT_EQ(data_uri("image/png", "foo"), "data:image/png;base64,Zm9v");
}

/// The first 24 bytes of a PNG file: signature, then the IHDR chunk's length, type, width, height.
std::string png_header(unsigned width, unsigned height) {
  std::string bytes("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (const unsigned v : {width, height})
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((v >> shift) & 0xff);
  return bytes;
}

TEST(report_html, tells_images_by_their_signature) {
  EXPECT_EQ(image_mime(png_header(3, 2)), "image/png");
  EXPECT_EQ(image_mime("\xFF\xD8\xFF\xE0 rest"), "image/jpeg");
  EXPECT_EQ(image_mime("GIF89a"), "");
  EXPECT_EQ(image_mime(""), "");
}

TEST(report_html, reads_a_png_size_from_its_header) {
  EXPECT_EQ(png_size(png_header(96, 64)), (std::pair<int, int>(96, 64)));
  EXPECT_EQ(png_size(png_header(70000, 1)), (std::pair<int, int>(70000, 1)));
  EXPECT_FALSE(png_size(png_header(0, 64)));
  EXPECT_FALSE(png_size(png_header(96, 64).substr(0, 20)));
  EXPECT_FALSE(png_size("\xFF\xD8\xFF\xE0 a jpeg"));
}

TEST(report_html, formats_values_with_four_significant_digits) {
  EXPECT_EQ(format_value(0.254312), "0.2543");
  EXPECT_EQ(format_value(40), "40");
  EXPECT_EQ(format_value(123456), "1.235e+05");
  EXPECT_EQ(format_value(-0.5), "-0.5");
  EXPECT_EQ(format_value(std::nan("")), "nan");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(report_html, formats_bytes_and_durations_for_people) {
  EXPECT_EQ(format_bytes(812), "812 B");
  EXPECT_EQ(format_bytes(4753044), "4.8 MB");
  EXPECT_EQ(format_bytes(4800), "4.8 kB");
  EXPECT_EQ(format_bytes(2'500'000'000), "2.50 GB");
  EXPECT_EQ(format_duration(0.54), "0.5 s");
  EXPECT_EQ(format_duration(42.4), "42 s");
  EXPECT_EQ(format_duration(192), "3 min 12 s");
  EXPECT_EQ(format_duration(7500), "2 h 05 min");
  EXPECT_EQ(format_duration(-1), "-");
  EXPECT_EQ(format_duration(std::nan("")), "-");
}

}  // namespace
}  // namespace kiln::runner::report
