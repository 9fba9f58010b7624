// Who may use kiln serve: loopback addresses, the token, its constant-time check.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kiln::runner::serve {

/// Whether binding `host` keeps the server on this machine: "localhost", 127.0.0.0/8, "::1".
bool is_loopback(const std::string& host);

/// A new token: 32 hexadecimal digits from /dev/urandom (128 bits). An error when it
/// cannot be read.
std::string random_token();

/// Whether `given` is `expected`, in a time that depends on their lengths only, so that
/// timing the answers tells nothing about where a guess goes wrong.
bool same_token(std::string_view given, std::string_view expected);

/// The value of the cookie `name` in a Cookie header ("a=1; kiln_token=abc"), if it is there.
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);

/// The host name of a Host header: "localhost" for "localhost:6006", "::1" for "[::1]:6006".
std::string host_name(std::string_view host_header);

/// The token of an "Authorization: Bearer TOKEN" header, if it is one.
std::optional<std::string> bearer_token(std::string_view header);

}  // namespace kiln::runner::serve
