#include "passes/dot.h"

#include <unordered_map>

namespace loom::passes {

namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

class DotWriter {
public:
  std::string write(const ir::Function& fn) {
    out_ = "digraph \"" + escape(fn.name()) + "\" {\n  node [shape=box, fontname=\"monospace\"];\n";
    write_body(fn, 1);
    for (size_t i = 0; i < fn.outputs().size(); ++i) {
      const ir::Output& o = fn.outputs()[i];
      std::string id = "out" + std::to_string(i);
      line(1, id + " [shape=ellipse, label=\"" + escape(o.name) + "\"];");
      line(1, source_of(o.value) + " -> " + id + ";");
    }
    return out_ + "}\n";
  }

private:
  void line(int depth, const std::string& s) { out_ += std::string(2 * depth, ' ') + s + "\n"; }

  std::string new_id(const ir::Node* n) {
    std::string id = "n" + std::to_string(ids_.size());
    ids_[n] = id;
    return id;
  }

  // The dot node a value comes from (inside fusion clusters, the node computing it).
  std::string source_of(const ir::Value* v) const {
    const ir::Node* def = v->def();
    if (def->body()) return source_of(def->body()->outputs().at(v->result_index()).value);
    return ids_.at(def);
  }

  std::string label(const ir::Node& n) const {
    std::string text = n.op() == Op::Parameter ? escape(n.result()->name()) : std::string(n.name());
    for (int i = 0; i < n.num_results(); ++i)
      text += "\\n" + n.result(i)->type().str();
    if (n.op() != Op::Parameter && n.num_results() == 1 && !n.result()->name().empty())
      text += "\\n%" + escape(n.result()->name());
    return text;
  }

  void write_body(const ir::Function& fn, int depth) {
    for (const auto& owned : fn.nodes()) {
      const ir::Node& n = *owned;
      if (n.body()) {
        write_cluster(n, depth);
        continue;
      }
      std::string shape = n.op() == Op::Parameter ? "ellipse" : "box";
      line(depth, new_id(&n) + " [shape=" + shape + ", label=\"" + label(n) + "\"];");
      for (const ir::Value* v : n.operands())
        line(depth, source_of(v) + " -> " + ids_.at(&n) + ";");
    }
  }

  void write_cluster(const ir::Node& n, int depth) {
    std::string kind = n.attrs().has("kind") ? n.attrs().get_string("fusion", "kind") : "";
    line(depth, "subgraph cluster_" + std::to_string(clusters_++) + " {");
    line(depth + 1,
         "label=\"" + escape(kind + " " + std::string(n.name()) + " @" + n.body()->name()) + "\";");
    line(depth + 1, "style=rounded; color=blue;");
    write_body(*n.body(), depth + 1);
    line(depth, "}");
    for (int i = 0; i < n.num_operands(); ++i)
      line(depth, source_of(n.operand(i)) + " -> " + ids_.at(n.body()->params()[i]->def()) + ";");
  }

  std::string out_;
  std::unordered_map<const ir::Node*, std::string> ids_;
  int clusters_ = 0;
};

} // namespace

std::string function_to_dot(const ir::Function& fn) { return DotWriter().write(fn); }

} // namespace loom::passes
