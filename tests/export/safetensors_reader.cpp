// A safetensors reader of the tests' own, written from the format's description.
#include "safetensors_reader.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <utility>

#include <torch/torch.h>

namespace kiln::test {
namespace {

/// A JSON value of the kinds a safetensors header uses: objects (members in file order),
/// arrays, strings and non-negative integers.
struct Json {
  enum class Kind { object, array, string, integer } kind = Kind::integer;
  std::vector<std::pair<std::string, Json>> members;
  std::vector<Json> items;
  std::string text;
  std::uint64_t integer = 0;

  const Json& at(const std::string& key) const {
    for (const auto& [name, value] : members)
      if (name == key) return value;
    throw std::runtime_error("no member '" + key + "'");
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : text_(text) {}

  Json document() {
    Json value = parse();
    skip_space();
    if (at_ != text_.size()) fail("text after the JSON value");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("header JSON, byte " + std::to_string(at_) + ": " + what);
  }
  void skip_space() {
    while (at_ < text_.size() && std::strchr(" \t\r\n", text_[at_]) != nullptr) ++at_;
  }
  char next() {
    if (at_ >= text_.size()) fail("unexpected end");
    return text_[at_++];
  }
  void expect(char c) {
    skip_space();
    if (next() != c) fail(std::string("expected '") + c + "'");
  }
  bool take(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) return ++at_, true;
    return false;
  }

  Json parse() {
    skip_space();
    Json value;
    if (take('{')) {
      value.kind = Json::Kind::object;
      if (take('}')) return value;
      do {
        skip_space();
        std::string key = string();
        expect(':');
        for (const auto& member : value.members)
          if (member.first == key) fail("repeated key '" + key + "'");
        value.members.emplace_back(std::move(key), parse());
      } while (take(','));
      expect('}');
    } else if (take('[')) {
      value.kind = Json::Kind::array;
      if (take(']')) return value;
      do value.items.push_back(parse());
      while (take(','));
      expect(']');
    } else if (at_ < text_.size() && text_[at_] == '"') {
      value.kind = Json::Kind::string;
      value.text = string();
    } else {
      value.kind = Json::Kind::integer;
      const std::size_t start = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
      if (at_ == start) fail("expected a value");
      value.integer = std::stoull(text_.substr(start, at_ - start));
    }
    return value;
  }

  std::string string() {
    if (next() != '"') fail("expected a string");
    std::string out;
    for (char c = next(); c != '"'; c = next()) {
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      const char escaped = next();
      const char* from = "\"\\/bfnrt";
      const char* to = "\"\\/\b\f\n\r\t";
      if (const char* found = std::strchr(from, escaped); found && escaped != '\0') {
        out.push_back(to[found - from]);
      } else if (escaped == 'u') {
        const unsigned code = std::stoul(text_.substr(at_, 4), nullptr, 16);
        at_ += 4;
        if (code >= 0x80) fail("\\u escape beyond ASCII (the tests' names are ASCII)");
        out.push_back(static_cast<char>(code));
      } else {
        fail("bad escape");
      }
    }
    return out;
  }

  const std::string& text_;
  std::size_t at_ = 0;
};

struct Dtype {
  const char* name;
  c10::ScalarType type;
};
constexpr Dtype kDtypes[] = {{"F32", c10::ScalarType::Float}, {"F64", c10::ScalarType::Double},
                             {"F16", c10::ScalarType::Half},  {"BF16", c10::ScalarType::BFloat16},
                             {"I64", c10::ScalarType::Long},  {"I32", c10::ScalarType::Int},
                             {"I16", c10::ScalarType::Short}, {"I8", c10::ScalarType::Char},
                             {"U8", c10::ScalarType::Byte},   {"BOOL", c10::ScalarType::Bool}};

c10::ScalarType scalar_type(const std::string& name) {
  for (const Dtype& dtype : kDtypes)
    if (name == dtype.name) return dtype.type;
  throw std::runtime_error("unknown dtype '" + name + "'");
}

}  // namespace

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8) throw std::runtime_error("shorter than the header length");
  SafetensorsFile file;
  for (int i = 7; i >= 0; --i) file.header_length = (file.header_length << 8) | static_cast<unsigned char>(bytes[i]);
  if (file.header_length > bytes.size() - 8) throw std::runtime_error("header length past the end of the file");
  file.header = bytes.substr(8, file.header_length);
  if (file.header.empty() || file.header[0] != '{') throw std::runtime_error("header does not start with '{'");
  const Json root = JsonParser(file.header).document();
  const std::string data = bytes.substr(8 + file.header_length);

  std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
  for (const auto& [name, value] : root.members) {
    if (name == "__metadata__") {
      for (const auto& [key, text] : value.members) {
        if (text.kind != Json::Kind::string) throw std::runtime_error("metadata '" + key + "' is not a string");
        file.metadata[key] = text.text;
      }
      continue;
    }
    SafetensorsEntry entry;
    entry.name = name;
    entry.dtype = value.at("dtype").text;
    for (const Json& dim : value.at("shape").items) entry.shape.push_back(static_cast<std::int64_t>(dim.integer));
    const Json& offsets = value.at("data_offsets");
    if (offsets.items.size() != 2) throw std::runtime_error(name + ": data_offsets is not [begin, end]");
    entry.begin = offsets.items[0].integer;
    entry.end = offsets.items[1].integer;
    const auto type = scalar_type(entry.dtype);
    std::int64_t numel = 1;
    for (std::int64_t dim : entry.shape) numel *= dim;
    if (entry.end < entry.begin || entry.end > data.size() ||
        entry.end - entry.begin != static_cast<std::uint64_t>(numel) * c10::elementSize(type))
      throw std::runtime_error(name + ": data_offsets do not hold its shape's bytes, or lie past the data");
    entry.tensor = torch::empty(entry.shape, torch::TensorOptions().dtype(type));
    if (numel > 0) std::memcpy(entry.tensor.data_ptr(), data.data() + entry.begin, entry.end - entry.begin);
    spans.emplace_back(entry.begin, entry.end);
    file.entries.push_back(std::move(entry));
  }
  std::sort(spans.begin(), spans.end());
  std::uint64_t covered = 0;
  for (const auto& [begin, end] : spans) {
    if (begin != covered) throw std::runtime_error("the tensors' data leaves a gap or overlaps at byte " + std::to_string(covered));
    covered = end;
  }
  if (covered != data.size()) throw std::runtime_error("bytes after the last tensor's data");
  return file;
}

}  // namespace kiln::test
