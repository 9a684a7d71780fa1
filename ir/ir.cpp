#include "ir/ir.h"

#include <algorithm>
#include <unordered_set>

#include "ir/error.h"

namespace loom::ir {

std::string SourceLoc::str() const {
  if (!known()) return "<unknown>";
  return file + ":" + std::to_string(line);
}

void Value::remove_use(Use u) {
  auto it = std::find(uses_.begin(), uses_.end(), u);
  if (it == uses_.end()) throw_error(ErrorCode::Internal, "use list out of sync");
  uses_.erase(it);
}

void Value::replace_all_uses_with(Value* other) {
  if (other == this) return;
  std::vector<Use> uses = uses_;
  for (const Use& u : uses) {
    if (u.user) {
      u.user->set_operand(u.index, other);
    } else {
      def_->parent()->set_output(u.index, other);
    }
  }
}

Node::~Node() = default;

void Node::set_operand(int i, Value* v) {
  Value*& slot = operands_.at(i);
  if (slot) slot->remove_use({this, i});
  slot = v;
  if (v) v->add_use({this, i});
}

void Node::drop_operands() {
  for (int i = 0; i < num_operands(); ++i)
    set_operand(i, nullptr);
}

void Node::set_body(std::unique_ptr<Function> body) { body_ = std::move(body); }

Function::~Function() {
  // Everything dies together: clear use lists wholesale (linear) instead of removing
  // uses one by one (quadratic for a value with many uses).
  for (auto& n : nodes_) {
    for (int i = 0; i < n->num_results(); ++i)
      n->result(i)->uses_.clear();
    n->operands_.clear();
  }
}

Node* Function::create(Op op, const std::vector<Value*>& operands, Attrs attrs,
                       std::vector<TensorType> result_types, SourceLoc loc) {
  auto node = std::unique_ptr<Node>(new Node(this, op, std::move(attrs), std::move(loc)));
  node->operands_.resize(operands.size(), nullptr);
  for (size_t i = 0; i < operands.size(); ++i) {
    if (!operands[i])
      throw_error(ErrorCode::InvalidArgument, std::string(op_name(op)) + ": null operand");
    node->set_operand(static_cast<int>(i), operands[i]);
  }
  for (size_t i = 0; i < result_types.size(); ++i)
    node->results_.push_back(std::unique_ptr<Value>(
        new Value(node.get(), static_cast<int>(i), std::move(result_types[i]))));
  Node* raw = node.release();
  return raw;
}

Node* Function::append(Op op, const std::vector<Value*>& operands, Attrs attrs,
                       std::vector<TensorType> result_types, SourceLoc loc) {
  Node* n = create(op, operands, std::move(attrs), std::move(result_types), std::move(loc));
  nodes_.emplace_back(n);
  return n;
}

Node* Function::insert_before(Node* pos, Op op, const std::vector<Value*>& operands, Attrs attrs,
                              std::vector<TensorType> result_types, SourceLoc loc) {
  int at = index_of(pos);
  Node* n = create(op, operands, std::move(attrs), std::move(result_types), std::move(loc));
  nodes_.emplace(nodes_.begin() + at, n);
  return n;
}

int Function::index_of(const Node* node) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].get() == node) return static_cast<int>(i);
  throw_error(ErrorCode::Internal, "node does not belong to function " + name_);
}

void Function::erase(Node* node) {
  for (int i = 0; i < node->num_results(); ++i)
    if (node->result(i)->has_uses())
      throw_error(ErrorCode::Internal,
                  "erasing a " + std::string(node->name()) + " node whose result is used");
  int at = index_of(node);
  if (node->op() == Op::Parameter)
    params_.erase(std::find(params_.begin(), params_.end(), node->result()));
  node->drop_operands();
  nodes_.erase(nodes_.begin() + at);
}

void Function::reorder(const std::vector<Node*>& order) {
  if (order.size() != nodes_.size()) throw_error(ErrorCode::Internal, "reorder: not a permutation");
  std::unordered_set<const Node*> seen;
  for (Node* n : order)
    if (n->parent() != this || !seen.insert(n).second)
      throw_error(ErrorCode::Internal, "reorder: not a permutation");
  for (auto& p : nodes_)
    (void)p.release();
  for (size_t i = 0; i < order.size(); ++i)
    nodes_[i].reset(order[i]);
}

Value* Function::add_param(const std::string& name, TensorType type, SourceLoc loc) {
  // Parameters stay in front of all other nodes.
  auto pos =
      std::find_if(nodes_.begin(), nodes_.end(), [](auto& n) { return n->op() != Op::Parameter; });
  Node* n = create(Op::Parameter, {}, {}, {std::move(type)}, std::move(loc));
  nodes_.emplace(pos, n);
  n->result()->set_name(name);
  params_.push_back(n->result());
  return n->result();
}

Value* Function::find_param(const std::string& name) const {
  for (Value* p : params_)
    if (p->name() == name) return p;
  return nullptr;
}

void Function::add_output(const std::string& name, Value* v) {
  outputs_.push_back({name, v});
  v->add_use({nullptr, static_cast<int>(outputs_.size()) - 1});
}

void Function::set_output(int i, Value* v) {
  Output& out = outputs_.at(i);
  out.value->remove_use({nullptr, i});
  out.value = v;
  v->add_use({nullptr, i});
}

const Output* Function::find_output(const std::string& name) const {
  for (const Output& o : outputs_)
    if (o.name == name) return &o;
  return nullptr;
}

Function* Module::add_function(const std::string& name) {
  if (find_function(name)) throw_error(ErrorCode::InvalidArgument, "duplicate function @" + name);
  functions_.push_back(std::make_unique<Function>(name, this));
  return functions_.back().get();
}

Function* Module::find_function(const std::string& name) const {
  for (auto& f : functions_)
    if (f->name() == name) return f.get();
  return nullptr;
}

void Module::add_constant(const std::string& name, Literal value) {
  if (constants_.count(name))
    throw_error(ErrorCode::InvalidArgument, "duplicate constant @" + name);
  constants_.emplace(name, std::move(value));
}

const Literal* Module::find_constant(const std::string& name) const {
  auto it = constants_.find(name);
  return it == constants_.end() ? nullptr : &it->second;
}

} // namespace loom::ir
