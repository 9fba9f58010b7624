// serve/access.hpp: loopback addresses, tokens, their constant-time check, cookies and headers.
#include <set>

#include <gtest/gtest.h>

#include "serve/access.hpp"

namespace kiln::runner::serve {
namespace {

TEST(access, loopback_addresses_are_this_machine_only) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1"}) EXPECT_TRUE(is_loopback(host)) << host;
  for (const char* host : {"0.0.0.0", "::", "192.168.1.2", "128.0.0.1", "example.org", ""})
    EXPECT_FALSE(is_loopback(host)) << host;
}

TEST(access, tokens_are_32_hex_digits_and_differ) {
  std::set<std::string> tokens;
  for (int i = 0; i < 20; ++i) {
    const std::string token = random_token();
    EXPECT_EQ(token.size(), 32u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
    tokens.insert(token);
  }
  EXPECT_EQ(tokens.size(), 20u);
}

TEST(access, a_token_matches_only_itself) {
  EXPECT_TRUE(same_token("abc", "abc"));
  EXPECT_FALSE(same_token("abd", "abc"));
  EXPECT_FALSE(same_token("ab", "abc"));
  EXPECT_FALSE(same_token("abcd", "abc"));
  EXPECT_FALSE(same_token("", ""));  // no token is never a match
}

TEST(access, the_host_name_of_a_host_header) {
  EXPECT_EQ(host_name("localhost:6006"), "localhost");
  EXPECT_EQ(host_name("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(host_name("[::1]:6006"), "::1");
  EXPECT_EQ(host_name("::1"), "::1");
  EXPECT_EQ(host_name("evil.example:80"), "evil.example");
  EXPECT_EQ(host_name(""), "");
}

TEST(access, cookies_and_bearer_headers_are_read) {
  EXPECT_EQ(cookie_value("a=1; kiln_token=xyz; b=2", "kiln_token"), "xyz");
  EXPECT_EQ(cookie_value("kiln_token=xyz", "kiln_token"), "xyz");
  EXPECT_EQ(cookie_value("my_kiln_token=xyz", "kiln_token"), std::nullopt);
  EXPECT_EQ(cookie_value("", "kiln_token"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer  abc "), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer"), std::nullopt);
  EXPECT_EQ(bearer_token(""), std::nullopt);
}

}  // namespace
}  // namespace kiln::runner::serve
