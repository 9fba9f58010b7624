// Who may use kiln serve: loopback addresses, the token, its constant-time check.
#include "serve/access.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <fstream>

#include <arpa/inet.h>
#include <fmt/format.h>

#include "kiln/error.hpp"

namespace kiln::runner::serve {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr address{};
  if (inet_pton(AF_INET, host.c_str(), &address) != 1) return false;
  return (ntohl(address.s_addr) >> 24) == 127;
}

std::string random_token() {
  std::ifstream random("/dev/urandom", std::ios::binary);
  unsigned char bytes[16] = {};
  if (!random.read(reinterpret_cast<char*>(bytes), sizeof(bytes)))
    throw Error("cannot read /dev/urandom for kiln serve's token; pass one with --token");
  std::string token;
  for (const unsigned char byte : bytes) token += fmt::format("{:02x}", byte);
  return token;
}

bool same_token(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size() || expected.empty()) return false;
  unsigned char differ = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    differ |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return differ == 0;
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const std::size_t end = std::min(header.find(';'), header.size());
    const std::string_view pair = trim(header.substr(0, end));
    const std::size_t equals = pair.find('=');
    if (equals != std::string_view::npos && trim(pair.substr(0, equals)) == name)
      return std::string(trim(pair.substr(equals + 1)));
    header.remove_prefix(std::min(end + 1, header.size()));
  }
  return std::nullopt;
}

std::string host_name(std::string_view host_header) {
  host_header = trim(host_header);
  if (!host_header.empty() && host_header.front() == '[')
    return std::string(host_header.substr(1, host_header.find(']') == std::string_view::npos ? std::string_view::npos
                                                                                          : host_header.find(']') - 1));
  const std::size_t colon = host_header.find(':');
  // More than one colon: an IPv6 address written without brackets, no port.
  if (colon != std::string_view::npos && host_header.find(':', colon + 1) == std::string_view::npos)
    host_header = host_header.substr(0, colon);
  return std::string(host_header);
}

std::optional<std::string> bearer_token(std::string_view header) {
  header = trim(header);
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size()) return std::nullopt;
  // The scheme's name is case-insensitive (RFC 7235).
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(kScheme[i])))
      return std::nullopt;
  return std::string(trim(header.substr(kScheme.size())));
}

}  // namespace kiln::runner::serve
