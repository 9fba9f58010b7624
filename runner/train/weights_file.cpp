// Named tensors as files Python reads without kiln: safetensors, and the .pt of torch.save.
#include "train/weights_file.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "common/atomic_file.hpp"
#include "kiln/error.hpp"
#include "store/json_text.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;

/// A dtype's name in each format: safetensors' "F32", and the legacy storage class torch.save
/// names ("FloatStorage"), from which torch.load takes the dtype.
struct DtypeNames {
  c10::ScalarType type;
  const char* safetensors;
  const char* storage;
};

constexpr std::array<DtypeNames, 10> kDtypes{{
    {c10::ScalarType::Float, "F32", "FloatStorage"},
    {c10::ScalarType::Double, "F64", "DoubleStorage"},
    {c10::ScalarType::Half, "F16", "HalfStorage"},
    {c10::ScalarType::BFloat16, "BF16", "BFloat16Storage"},
    {c10::ScalarType::Long, "I64", "LongStorage"},
    {c10::ScalarType::Int, "I32", "IntStorage"},
    {c10::ScalarType::Short, "I16", "ShortStorage"},
    {c10::ScalarType::Char, "I8", "CharStorage"},
    {c10::ScalarType::Byte, "U8", "ByteStorage"},
    {c10::ScalarType::Bool, "BOOL", "BoolStorage"},
}};

const DtypeNames& names_of(const std::string& name, const torch::Tensor& tensor) {
  for (const DtypeNames& names : kDtypes)
    if (names.type == tensor.scalar_type()) return names;
  throw Error(fmt::format("tensor '{}' is {}, which kiln does not export (float32, float64, float16, bfloat16, "
                          "int64, int32, int16, int8, uint8 and bool are)",
                          name, c10::toString(tensor.scalar_type())));
}

/// A tensor as the files hold it: named, on the CPU, contiguous, with its format names.
struct Entry {
  std::string name;
  torch::Tensor tensor;
  const DtypeNames* dtype;
  std::uint64_t begin = 0;  ///< where safetensors' data holds it
};

std::vector<Entry> entries_of(const TensorMap& tensors) {
  std::vector<Entry> entries;
  entries.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors)
    entries.push_back({name, tensor.detach().to(torch::kCPU).contiguous(), &names_of(name, tensor), 0});
  return entries;
}

/// The bytes of a contiguous CPU tensor; a valid pointer even for an empty one.
const void* bytes_of(const torch::Tensor& tensor) { return tensor.nbytes() == 0 ? "" : tensor.data_ptr(); }

void put_u32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void put_u64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

/// The few pickle opcodes (protocol 2) a dict of tensors needs, as Python's pickle module
/// defines them (Lib/pickletools.py documents each).
class Pickle {
 public:
  Pickle() {
    bytes_ += "\x80\x02";  // PROTO 2, as torch.save writes
  }
  void op(char code) { bytes_.push_back(code); }
  void mark() { op('('); }
  void global(std::string_view module, std::string_view name) {
    op('c');
    bytes_.append(module).append("\n").append(name).append("\n");
  }
  void string(std::string_view text) {
    op('X');  // BINUNICODE: u32 length, UTF-8
    if (text.size() > std::numeric_limits<std::uint32_t>::max())
      throw Error(fmt::format("a name of {} bytes is too long to pickle", text.size()));
    put_u32(bytes_, static_cast<std::uint32_t>(text.size()));
    bytes_.append(text);
  }
  void integer(std::int64_t value) {
    if (value >= 0 && value < 256) {
      op('K');  // BININT1
      bytes_.push_back(static_cast<char>(value));
    } else if (value >= std::numeric_limits<std::int32_t>::min() && value <= std::numeric_limits<std::int32_t>::max()) {
      op('J');  // BININT: 4 bytes, signed
      put_u32(bytes_, static_cast<std::uint32_t>(value));
    } else {
      bytes_.append("\x8a\x08");  // LONG1 of 8 bytes, two's complement
      put_u64(bytes_, static_cast<std::uint64_t>(value));
    }
  }
  void tuple(c10::IntArrayRef values) {
    if (values.empty()) return op(')');  // EMPTY_TUPLE
    mark();
    for (std::int64_t value : values) integer(value);
    op('t');  // TUPLE
  }
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

/// The pickle torch.save writes for {name: tensor, ...}; tensor i's storage is the archive's
/// record data/<i>. Each value is torch._utils._rebuild_tensor_v2(storage, offset 0, size,
/// stride, requires_grad False, backward hooks OrderedDict()), the storage a persistent id
/// ('storage', torch.<Type>Storage, '<i>', 'cpu', numel) that torch.load resolves.
std::string pickle_dict(const std::vector<Entry>& entries) {
  Pickle pickle;
  pickle.op('}');  // EMPTY_DICT
  pickle.mark();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const torch::Tensor& tensor = entries[i].tensor;
    pickle.string(entries[i].name);
    pickle.global("torch._utils", "_rebuild_tensor_v2");
    pickle.mark();
    pickle.mark();
    pickle.string("storage");
    pickle.global("torch", entries[i].dtype->storage);
    pickle.string(std::to_string(i));
    pickle.string("cpu");
    pickle.integer(tensor.numel());
    pickle.op('t');
    pickle.op('Q');  // BINPERSID
    pickle.integer(0);
    pickle.tuple(tensor.sizes());
    pickle.tuple(tensor.strides());
    pickle.op('\x89');  // NEWFALSE
    pickle.global("collections", "OrderedDict");
    pickle.op(')');
    pickle.op('R');  // REDUCE
    pickle.op('t');
    pickle.op('R');
  }
  pickle.op('u');  // SETITEMS
  pickle.op('.');  // STOP
  return std::move(pickle.bytes());
}

}  // namespace

std::uint64_t write_safetensors(const fs::path& path, const TensorMap& tensors,
                                const std::map<std::string, std::string>& metadata) {
  std::vector<Entry> entries = entries_of(tensors);
  // The data's order: larger elements first, so that each tensor is aligned to its element.
  std::vector<Entry*> order;
  for (Entry& entry : entries) order.push_back(&entry);
  std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->tensor.element_size() > b->tensor.element_size();
  });
  std::uint64_t end = 0;
  for (Entry* entry : order) {
    entry->begin = end;
    end += entry->tensor.nbytes();
  }

  std::string header = "{";
  for (const Entry& entry : entries) {
    if (entry.name == "__metadata__")
      throw Error("a tensor named '__metadata__' cannot be written as safetensors, where the name is reserved");
    header += fmt::format("{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}},",
                          store::json_string(entry.name), entry.dtype->safetensors,
                          fmt::join(entry.tensor.sizes(), ","), entry.begin, entry.begin + entry.tensor.nbytes());
  }
  std::vector<std::string> pairs;
  for (const auto& [key, value] : metadata) pairs.push_back(store::json_string(key) + ":" + store::json_string(value));
  header += fmt::format("\"__metadata__\":{{{}}}}}", fmt::join(pairs, ","));
  // Spaces after the JSON, which readers allow, so that the data starts at a multiple of 8.
  header.append((8 - header.size() % 8) % 8, ' ');

  std::string length;
  put_u64(length, header.size());
  common::AtomicFile file(path, "weights");
  file.write(length.data(), length.size());
  file.write(header.data(), header.size());
  for (const Entry* entry : order) file.write(bytes_of(entry->tensor), entry->tensor.nbytes());
  file.commit();
  return length.size() + header.size() + end;
}

std::uint64_t write_torch_dict(const fs::path& path, const TensorMap& tensors) {
  const std::vector<Entry> entries = entries_of(tensors);
  const std::string pickle = pickle_dict(entries);
  // The zip archive is built in memory, with a writer that cannot fail: LibTorch's would
  // report a failed write as an exception from inside miniz (C code), and its destructor
  // finishes an unfinished archive. The file is then written as the safetensors one is.
  std::string archive;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&archive](const void* data, std::size_t size) {
      archive.append(static_cast<const char*>(data), size);
      return size;
    });
    writer.writeRecord("data.pkl", pickle.data(), pickle.size());
    // torch.save says which byte order the data is in; torch.load assumes this one without it.
    writer.writeRecord("byteorder", "little", std::strlen("little"));
    for (std::size_t i = 0; i < entries.size(); ++i)
      writer.writeRecord("data/" + std::to_string(i), bytes_of(entries[i].tensor), entries[i].tensor.nbytes());
    writer.writeEndOfFile();
  }
  common::AtomicFile file(path, "weights");
  file.write(archive.data(), archive.size());
  file.commit();
  return archive.size();
}

}  // namespace kiln::runner
