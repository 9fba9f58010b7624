// A real `kiln serve` for the server's tests, and HTTP requests to it with cpp-httplib's client.
#include "serve_process.hpp"

#include <regex>
#include <stdexcept>

namespace kiln::test {
namespace {

std::vector<std::string> serve_args(const std::vector<std::string>& args) {
  std::vector<std::string> out = {"serve", "--port", "0"};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

}  // namespace

ServeProcess::ServeProcess(const std::filesystem::path& cwd, const std::vector<std::string>& args)
    : process_(serve_args(args), cwd) {
  const std::regex url(R"(kiln serve: http://[^ ]*:([0-9]+)/[^\n]*\n)");
  std::smatch match;
  const bool ready = process_.wait_until(
      [&](const KilnProcess& p) { return std::regex_search(p.out(), url) || !p.err().empty(); },
      std::chrono::seconds(30));
  if (!ready || !std::regex_search(process_.out(), match, url))
    throw std::runtime_error("kiln serve printed no URL line; stdout: " + process_.out() + "; stderr: " + process_.err());
  port_ = std::stoi(match[1]);
  line_ = match[0];
}

httplib::Result ServeProcess::get(const std::string& path, const httplib::Headers& headers) const {
  httplib::Client client = client_for(port_);
  return client.Get(path, headers);
}

httplib::Result ServeProcess::post(const std::string& path, const std::string& body, const std::string& type) const {
  httplib::Client client = client_for(port_);
  return client.Post(path, body, type);
}

httplib::Client client_for(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_url_encode(false);
  client.set_keep_alive(false);
  client.set_connection_timeout(std::chrono::seconds(30));
  client.set_read_timeout(std::chrono::seconds(30));
  return client;
}

JsonValue json_of(const httplib::Result& result, int status) {
  if (!result) throw std::runtime_error("no answer: " + httplib::to_string(result.error()));
  if (result->status != status)
    throw std::runtime_error("status " + std::to_string(result->status) + ", expected " + std::to_string(status) +
                             ": " + result->body);
  if (result->get_header_value("Content-Type") != "application/json")
    throw std::runtime_error("Content-Type " + result->get_header_value("Content-Type") + ": " + result->body);
  return JsonValue::parse(result->body);
}

}  // namespace kiln::test
