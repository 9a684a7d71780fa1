#include "ir/serialize.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <bit>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "ir/error.h"
#include "ir/loom.pb.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/text_syntax.h"
#include "ir/verifier.h"

namespace loom::ir {

namespace {

namespace pb = ::loom::proto;

// Bumped whenever a change to ir/loom.proto changes the meaning of existing files.
constexpr uint32_t kFormatVersion = 1;

// Nested bodies may go this deep. The limit keeps the reader's recursion (and the
// verifier's) shallow, and stays well inside protobuf's parse depth limit of 100 messages,
// so that everything the writer accepts, the reader can parse.
constexpr int kMaxBodyNesting = 32;

// Literal bytes are copied to and from the file as they are in memory.
static_assert(std::endian::native == std::endian::little,
              ".loompb stores literal data little-endian; a big-endian host needs byte swapping");

[[noreturn]] void fail(const std::string& message) {
  throw_error(ErrorCode::SerializationError, message);
}

// Runs `body`; a loom::Error escaping it is rethrown as a SerializationError whose message
// starts with `where`, so that errors deep inside a module say where they happened.
template <typename Body> decltype(auto) in_context(const std::string& where, Body&& body) {
  try {
    return body();
  } catch (const Error& e) {
    fail(where + ": " + e.message());
  }
}

// ---------------------------------------------------------------------------------------
// dtypes: the numbers of loom.proto's DType, independent of the order of loom::DType.

pb::DType dtype_to_proto(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return pb::DTYPE_F32;
  case DType::F64:
    return pb::DTYPE_F64;
  case DType::F16:
    return pb::DTYPE_F16;
  case DType::BF16:
    return pb::DTYPE_BF16;
  case DType::I8:
    return pb::DTYPE_I8;
  case DType::I32:
    return pb::DTYPE_I32;
  case DType::I64:
    return pb::DTYPE_I64;
  case DType::Bool:
    return pb::DTYPE_BOOL;
  }
  throw_error(ErrorCode::Internal, "dtype_to_proto: bad dtype");
}

// Proto3 enums are open: the field may hold any int32, so everything else is rejected.
DType dtype_from_proto(pb::DType dtype) {
  switch (dtype) {
  case pb::DTYPE_F32:
    return DType::F32;
  case pb::DTYPE_F64:
    return DType::F64;
  case pb::DTYPE_F16:
    return DType::F16;
  case pb::DTYPE_BF16:
    return DType::BF16;
  case pb::DTYPE_I8:
    return DType::I8;
  case pb::DTYPE_I32:
    return DType::I32;
  case pb::DTYPE_I64:
    return DType::I64;
  case pb::DTYPE_BOOL:
    return DType::Bool;
  case pb::DTYPE_UNSPECIFIED:
    fail("missing dtype");
  default:
    break;
  }
  fail("unknown dtype number " + std::to_string(static_cast<int>(dtype)));
}

// ---------------------------------------------------------------------------------------
// Writing

class ModuleWriter {
public:
  explicit ModuleWriter(const Module& module) : module_(module) {
    // std::map order: when several constants share a buffer, the first name wins.
    for (const auto& [name, literal] : module.constants())
      if (literal.identity()) constant_names_.emplace(literal.identity(), &name);
  }

  pb::Module write() {
    proto_.set_format_version(kFormatVersion);
    for (const auto& [name, literal] : module_.constants()) {
      pb::NamedConstant* constant = proto_.add_constants();
      constant->set_name(name);
      in_context("module constant " + text::sigil_name('@', name),
                 [&] { write_tensor_data(literal, *constant->mutable_value()); });
    }
    for (const auto& fn : module_.functions())
      write_function(*fn, *proto_.add_functions());
    return std::move(proto_);
  }

private:
  using ValueNumbers = std::unordered_map<const Value*, uint32_t>;

  void write_function(const Function& fn, pb::Function& out) {
    in_context("function " + text::sigil_name('@', fn.name()), [&] {
      out.set_name(fn.name());
      ValueNumbers numbers;
      for (const auto& node : fn.nodes())
        write_node(*node, numbers, *out.add_nodes());
      for (const Output& output : fn.outputs()) {
        pb::Output* o = out.add_outputs();
        o->set_name(output.name);
        o->set_value(number_of(numbers, output.value, "output '" + output.name + "'"));
      }
      for (const auto& [output, param] : fn.output_aliases()) {
        pb::OutputAlias* alias = out.add_output_aliases();
        alias->set_output(output);
        alias->set_param(param);
      }
    });
  }

  void write_node(const Node& node, ValueNumbers& numbers, pb::Node& out) {
    std::string what(node.name());
    out.set_op(what);
    for (int i = 0; i < node.num_operands(); ++i)
      out.add_operands(number_of(numbers, node.operand(i), what + " operand " + std::to_string(i)));
    for (int r = 0; r < node.num_results(); ++r) {
      const Value* result = node.result(r);
      pb::Result* res = out.add_results();
      write_type(result->type(), *res->mutable_type());
      res->set_name(result->name());
      numbers.emplace(result, static_cast<uint32_t>(numbers.size()));
    }
    for (const auto& [name, value] : node.attrs().items())
      in_context(what + " attribute '" + name + "'",
                 [&] { write_attr(name, value, *out.add_attributes()); });
    write_loc(node.loc(), out);
    if (node.body()) {
      if (++body_nesting_ > kMaxBodyNesting)
        fail(what + " body: bodies nested more than " + std::to_string(kMaxBodyNesting) + " deep");
      write_function(*node.body(), *out.mutable_body());
      --body_nesting_;
    }
  }

  static uint32_t number_of(const ValueNumbers& numbers, const Value* value,
                            const std::string& what) {
    auto it = numbers.find(value);
    if (it == numbers.end()) fail(what + " is not a value defined earlier in the function");
    return it->second;
  }

  void write_attr(const std::string& name, const AttrValue& value, pb::Attribute& out) {
    out.set_name(name);
    switch (attr_kind(value)) {
    case AttrKind::Int:
      out.set_int_value(std::get<int64_t>(value));
      break;
    case AttrKind::Float:
      out.set_float_value(std::get<double>(value));
      break;
    case AttrKind::Bool:
      out.set_bool_value(std::get<bool>(value));
      break;
    case AttrKind::String:
      out.set_string_value(std::get<std::string>(value));
      break;
    case AttrKind::Ints: {
      const auto& ints = std::get<std::vector<int64_t>>(value);
      out.mutable_ints_value()->mutable_values()->Add(ints.begin(), ints.end());
      break;
    }
    case AttrKind::DType:
      out.set_dtype_value(dtype_to_proto(std::get<DType>(value)));
      break;
    case AttrKind::Literal:
      write_literal(std::get<Literal>(value), *out.mutable_literal_value());
      break;
    }
  }

  void write_literal(const Literal& literal, pb::LiteralAttr& out) {
    auto shared = constant_names_.find(literal.identity());
    if (literal.identity() && shared != constant_names_.end()) {
      out.set_constant(*shared->second);
    } else {
      write_tensor_data(literal, *out.mutable_data());
    }
  }

  static void write_tensor_data(const Literal& literal, pb::TensorData& out) {
    if (!literal.identity()) fail("literal has no data");
    write_type(literal.type(), *out.mutable_type());
    // An empty tensor's data() may be null, which must not reach std::string.
    if (literal.nbytes() > 0)
      out.set_data(reinterpret_cast<const char*>(literal.data()), literal.nbytes());
  }

  static void write_type(const TensorType& type, pb::TensorType& out) {
    out.set_dtype(dtype_to_proto(type.dtype));
    out.mutable_dims()->Add(type.shape.begin(), type.shape.end());
  }

  void write_loc(const SourceLoc& loc, pb::Node& out) {
    if (loc.file.empty() && loc.line == 0 && loc.column == 0) return; // unknown: no field
    pb::SourceLoc* l = out.mutable_loc();
    l->set_file(file_index(loc.file));
    l->set_line(loc.line);
    l->set_column(loc.column);
  }

  // File names are stored once, in order of first use.
  uint32_t file_index(const std::string& file) {
    auto [it, inserted] = file_indices_.emplace(file, static_cast<uint32_t>(file_indices_.size()));
    if (inserted) proto_.add_source_files(file);
    return it->second;
  }

  const Module& module_;
  pb::Module proto_;
  std::unordered_map<const void*, const std::string*> constant_names_;
  std::unordered_map<std::string, uint32_t> file_indices_;
  int body_nesting_ = 0;
};

std::string serialize_deterministically(const pb::Module& proto) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    // Fails only past protobuf's 2 GB message limit.
    if (!proto.SerializeToCodedStream(&coded))
      fail("module too large for .loompb (protobuf messages are limited to 2 GB)");
  } // the streams flush into `bytes` when destroyed
  return bytes;
}

// ---------------------------------------------------------------------------------------
// Reading. The protobuf parser has already bounded sizes and nesting depth (its recursion
// limit caps nested bodies); everything else is checked here before it reaches the IR.

TensorType read_type(const pb::TensorType& proto) {
  TensorType type{dtype_from_proto(proto.dtype()), Shape(proto.dims().begin(), proto.dims().end())};
  shape_numel(type.shape); // throws on negative dims and absurd element counts
  return type;
}

Literal read_tensor_data(const pb::TensorData& proto) {
  TensorType type = read_type(proto.type());
  const std::string& data = proto.data();
  if (static_cast<int64_t>(data.size()) != type.nbytes())
    fail("literal of type " + type.str() + " needs " + std::to_string(type.nbytes()) +
         " bytes, has " + std::to_string(data.size()));
  if (type.dtype == DType::Bool) {
    // Any other byte would be an invalid `bool` object when read back.
    for (size_t i = 0; i < data.size(); ++i)
      if (data[i] != 0 && data[i] != 1)
        fail("bool literal element " + std::to_string(i) + " is byte " +
             std::to_string(static_cast<uint8_t>(data[i])) + ", not 0 or 1");
  }
  return Literal(std::move(type), std::vector<uint8_t>(data.begin(), data.end()));
}

class ModuleReader;

// Rebuilds one function (or nested body) from its message.
class FunctionReader {
public:
  // `nesting`: 0 for a module function, 1 for its nodes' bodies, and so on.
  FunctionReader(const ModuleReader& module, const pb::Function& proto, Function& fn, int nesting)
      : module_(module), proto_(proto), fn_(fn), nesting_(nesting) {
    for (const pb::Node& node : proto.nodes())
      value_count_ += node.results_size();
  }

  void read() {
    for (int i = 0; i < proto_.nodes_size(); ++i)
      in_context("node #" + std::to_string(i), [&] { read_node(proto_.nodes(i)); });
    read_outputs();
    read_aliases();
  }

private:
  void read_node(const pb::Node& proto) {
    Op op = read_op(proto.op());
    std::vector<Value*> operands = read_operands(op, proto);
    std::vector<TensorType> types;
    for (const pb::Result& result : proto.results())
      types.push_back(in_context("result " + std::to_string(types.size()),
                                 [&] { return read_type(result.type()); }));
    Attrs attrs = read_attrs(proto);
    SourceLoc loc = read_loc(proto);

    Node* node = op == Op::Parameter
                     ? read_parameter(proto, types, loc)
                     : fn_.append(op, operands, std::move(attrs), std::move(types), loc);
    seen_non_parameter_ |= op != Op::Parameter;
    for (int r = 0; r < node->num_results(); ++r) {
      node->result(r)->set_name(proto.results(r).name());
      values_.push_back(node->result(r));
    }
    if (proto.has_body())
      node->set_body(in_context("body", [&] { return read_body(proto.body()); }));
  }

  static Op read_op(const std::string& mnemonic) {
    std::optional<Op> op = parse_op(mnemonic);
    if (!op) fail("unknown op " + text::quote(mnemonic));
    return *op;
  }

  std::vector<Value*> read_operands(Op op, const pb::Node& proto) const {
    const OpInfo& info = op_info(op);
    int count = proto.operands_size();
    if (!operand_count_ok(info, count))
      fail(std::string(info.mnemonic) + " takes " + operand_count_str(info) + " operands, got " +
           std::to_string(count));
    std::vector<Value*> operands;
    for (int i = 0; i < count; ++i)
      operands.push_back(
          resolve(proto.operands(i), std::string(info.mnemonic) + " operand " + std::to_string(i)));
    return operands;
  }

  // Parameters go through add_param so that the function's signature is rebuilt too;
  // add_param files them in front of all other nodes, hence the order check.
  Node* read_parameter(const pb::Node& proto, const std::vector<TensorType>& types,
                       const SourceLoc& loc) {
    if (seen_non_parameter_) fail("parameter after other nodes (parameters must come first)");
    if (types.size() != 1)
      fail("parameter must have 1 result, has " + std::to_string(types.size()));
    if (proto.attributes_size() != 0 || proto.has_body())
      fail("parameter must have no attributes and no body");
    return fn_.add_param(proto.results(0).name(), types[0], loc)->def();
  }

  Attrs read_attrs(const pb::Node& proto) const;
  SourceLoc read_loc(const pb::Node& proto) const;
  std::unique_ptr<Function> read_body(const pb::Function& proto) const;

  Value* resolve(uint32_t number, const std::string& what) const {
    if (number < values_.size()) return values_[number];
    if (number < value_count_)
      fail(what + " refers to value #" + std::to_string(number) +
           ", which is defined later (operands must be defined before use)");
    fail(what + " refers to value #" + std::to_string(number) + ", but the function has only " +
         std::to_string(value_count_) + " values");
  }

  void read_outputs() {
    for (const pb::Output& output : proto_.outputs())
      fn_.add_output(output.name(),
                     resolve(output.value(), "output " + text::quote(output.name())));
  }

  void read_aliases() {
    for (const pb::OutputAlias& alias : proto_.output_aliases()) {
      if (fn_.output_aliases().count(alias.output()))
        fail("output " + text::quote(alias.output()) + " has two aliases");
      fn_.set_output_alias(alias.output(), alias.param());
    }
  }

  const ModuleReader& module_;
  const pb::Function& proto_;
  Function& fn_;
  int nesting_;
  std::vector<Value*> values_; // by value number
  size_t value_count_ = 0;     // values the function will have once read
  bool seen_non_parameter_ = false;
};

class ModuleReader {
public:
  explicit ModuleReader(const pb::Module& proto) : proto_(proto) {}

  std::unique_ptr<Module> read() {
    check_version();
    module_ = std::make_unique<Module>();
    for (const pb::NamedConstant& constant : proto_.constants())
      read_constant(constant);
    for (const pb::Function& function : proto_.functions())
      read_function(function);
    return std::move(module_);
  }

  Module* module() const { return module_.get(); }

  const Literal& constant(const std::string& name) const {
    const Literal* literal = module_->find_constant(name);
    if (!literal) fail("refers to unknown module constant " + text::sigil_name('@', name));
    return *literal;
  }

  const std::string& source_file(uint32_t index) const {
    if (static_cast<int64_t>(index) >= proto_.source_files_size())
      fail("source file #" + std::to_string(index) + " out of range (the module lists " +
           std::to_string(proto_.source_files_size()) + ")");
    return proto_.source_files(static_cast<int>(index));
  }

private:
  void check_version() const {
    uint32_t version = proto_.format_version();
    if (version == 0) fail("not a .loompb module (no format version)");
    if (version != kFormatVersion)
      fail("unsupported .loompb format version " + std::to_string(version) +
           " (this build reads version " + std::to_string(kFormatVersion) + ")");
  }

  void read_constant(const pb::NamedConstant& proto) {
    std::string where = "module constant " + text::sigil_name('@', proto.name());
    if (module_->find_constant(proto.name())) fail("duplicate " + where);
    module_->add_constant(proto.name(),
                          in_context(where, [&] { return read_tensor_data(proto.value()); }));
  }

  void read_function(const pb::Function& proto) {
    std::string where = "function " + text::sigil_name('@', proto.name());
    if (module_->find_function(proto.name())) fail("duplicate " + where);
    Function* fn = module_->add_function(proto.name());
    in_context(where, [&] { FunctionReader(*this, proto, *fn, 0).read(); });
  }

  const pb::Module& proto_;
  std::unique_ptr<Module> module_;
};

Attrs FunctionReader::read_attrs(const pb::Node& proto) const {
  Attrs attrs;
  for (const pb::Attribute& attr : proto.attributes()) {
    const std::string& name = attr.name();
    std::string where = "attribute " + text::quote(name);
    if (attrs.has(name)) fail("duplicate " + where);
    switch (attr.value_case()) {
    case pb::Attribute::kIntValue:
      attrs.set(name, attr.int_value());
      break;
    case pb::Attribute::kFloatValue:
      attrs.set(name, attr.float_value());
      break;
    case pb::Attribute::kBoolValue:
      attrs.set(name, attr.bool_value());
      break;
    case pb::Attribute::kStringValue:
      attrs.set(name, attr.string_value());
      break;
    case pb::Attribute::kIntsValue: {
      const auto& ints = attr.ints_value().values();
      attrs.set(name, std::vector<int64_t>(ints.begin(), ints.end()));
      break;
    }
    case pb::Attribute::kDtypeValue:
      attrs.set(name, in_context(where, [&] { return dtype_from_proto(attr.dtype_value()); }));
      break;
    case pb::Attribute::kLiteralValue: {
      const pb::LiteralAttr& literal = attr.literal_value();
      if (literal.source_case() == pb::LiteralAttr::kConstant)
        attrs.set(name, in_context(where, [&] { return module_.constant(literal.constant()); }));
      else if (literal.source_case() == pb::LiteralAttr::kData)
        attrs.set(name, in_context(where, [&] { return read_tensor_data(literal.data()); }));
      else
        fail(where + " is a literal without data or constant reference");
      break;
    }
    default:
      fail(where + " has no value");
    }
  }
  return attrs;
}

SourceLoc FunctionReader::read_loc(const pb::Node& proto) const {
  if (!proto.has_loc()) return {};
  const pb::SourceLoc& loc = proto.loc();
  return {module_.source_file(loc.file()), loc.line(), loc.column()};
}

// A body lives in the same module (for its constants) without being one of its functions.
std::unique_ptr<Function> FunctionReader::read_body(const pb::Function& proto) const {
  if (nesting_ + 1 > kMaxBodyNesting)
    fail("bodies nested more than " + std::to_string(kMaxBodyNesting) + " deep");
  auto body = std::make_unique<Function>(proto.name(), module_.module());
  FunctionReader(module_, proto, *body, nesting_ + 1).read();
  return body;
}

pb::Module parse_proto(std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    fail("input too large for a protobuf message (" + std::to_string(bytes.size()) + " bytes)");
  pb::Module proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail("malformed protobuf data (truncated, or not a .loompb file)");
  return proto;
}

// ---------------------------------------------------------------------------------------
// Files

enum class FileFormat { Text, Protobuf };

FileFormat format_of(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  if (extension == ".loompb" || extension == ".pb") return FileFormat::Protobuf;
  if (extension == ".loom") return FileFormat::Text;
  throw_error(ErrorCode::InvalidArgument,
              "cannot tell the format of '" + path + "': expected a .loom or .loompb file");
}

std::string read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw_error(ErrorCode::IOError, "cannot read '" + path + "': is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::IOError, "cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw_error(ErrorCode::IOError, "error reading '" + path + "'");
  return std::move(contents).str();
}

void write_file_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    throw_error(ErrorCode::IOError,
                "cannot open '" + path + "' for writing: " + std::strerror(errno));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw_error(ErrorCode::IOError, "error writing '" + path + "'");
}

} // namespace

std::string serialize_module(const Module& m) {
  return serialize_deterministically(ModuleWriter(m).write());
}

std::unique_ptr<Module> deserialize_module(std::string_view bytes, const std::string& filename) {
  try {
    pb::Module proto = parse_proto(bytes);
    std::unique_ptr<Module> module = ModuleReader(proto).read();
    verify(*module);
    return module;
  } catch (const Error& e) {
    throw Error(ErrorCode::SerializationError, filename + ": " + e.message());
  }
}

void write_module_file(const Module& m, const std::string& path) {
  FileFormat format = format_of(path);
  write_file_bytes(path, format == FileFormat::Protobuf ? serialize_module(m) : print_module(m));
}

std::unique_ptr<Module> read_module_file(const std::string& path) {
  FileFormat format = format_of(path);
  std::string bytes = read_file_bytes(path);
  return format == FileFormat::Protobuf ? deserialize_module(bytes, path)
                                        : parse_module(bytes, path);
}

} // namespace loom::ir
