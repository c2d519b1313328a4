// Graph -> Graphviz DOT, drawn like Keras' plot_model(show_shapes=True, show_layer_names=True):
// a table per node, name scopes as nested clusters, measured times as a white-to-red fill.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "src/graph/graph_names.h"
#include "src/util/strings.h"
#include "tbprof/graph.h"

namespace tbprof {
namespace {

using internal::AsAbsl;

// Length of the valid UTF-8 sequence starting at s[i], 0 if invalid.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
  }
  return n;
}

// The entity for a character that is markup in Graphviz HTML-like labels, or nullptr.
const char* Entity(char c) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '"':
      return "&quot;";
    case '\'':
      return "&#39;";
    default:
      return nullptr;
  }
}

// `c` escaped inside a DOT double-quoted string, or nullptr when it stands as it is.
const char* QuoteEscape(char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    default:
      return nullptr;
  }
}

// Appends `s` to `out` with each character `escape` maps to text replaced by that text, and
// control characters and invalid UTF-8 (which Graphviz's parsers reject) as '?'.
void AppendEscaped(std::string_view s, const char* (*escape)(char), std::string* out) {
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (const char* escaped = escape(c); escaped != nullptr) {
      *out += escaped;
      ++i;
      continue;
    }
    size_t n = Utf8Length(s, i);
    if (n == 0 || (n == 1 && static_cast<unsigned char>(c) < 0x20) || c == 0x7f) {
      *out += '?';
      ++i;
      continue;
    }
    out->append(s.substr(i, n));
    i += n;
  }
}

// Text for a Graphviz HTML-like label: markup characters as entities, control characters and
// invalid UTF-8 (which would make Graphviz's XML parser reject the whole file) as '?'.
std::string Html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendEscaped(s, Entity, &out);
  return out;
}

// A DOT double-quoted string (IDs and escString attributes such as tooltip): `"` and `\`
// escaped, control characters and invalid UTF-8 as '?'.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  AppendEscaped(s, QuoteEscape, &out);
  out += '"';
  return out;
}

std::string ShapeText(const Shape& shape) {
  std::vector<std::string> dims;
  dims.reserve(shape.size());
  for (int64_t d : shape) dims.push_back(d < 0 ? "?" : absl::StrCat(d));
  if (dims.size() == 1) return absl::StrCat("(", dims[0], ",)");
  return absl::StrCat("(", absl::StrJoin(dims, ", "), ")");
}

std::string SpecText(const TensorSpec& spec) {
  return absl::StrCat(AsAbsl(DTypeName(spec.dtype)), " ", ShapeText(spec.shape));
}

std::string Millis(double ms) {
  if (ms >= 100) return absl::StrFormat("%.0f ms", ms);
  if (ms >= 10) return absl::StrFormat("%.1f ms", ms);
  if (ms >= 1) return absl::StrFormat("%.2f ms", ms);
  return absl::StrFormat("%.3f ms", ms);
}

// White at t = 0 to a strong red at t = 1.
std::string HeatColor(double t) {
  t = std::clamp(t, 0.0, 1.0);
  auto mix = [t](int to) { return static_cast<int>(std::lround(255 + (to - 255) * t)); };
  return absl::StrFormat("#%02x%02x%02x", mix(214), mix(39), mix(40));
}

// Name scopes as a tree; each scope lists its nodes and sub-scopes in first-appearance order.
struct Scope {
  std::string path;   // "dense_1/inner".
  std::string label;  // "inner".
  int depth = 0;
  // Items in order: >= 0 a node index, < 0 the child scope -(k + 1).
  std::vector<int64_t> items;
  std::map<std::string, size_t, std::less<>> children;  // Leaf name -> index into scopes.
};

class DotWriter {
 public:
  DotWriter(const Graph& graph, const DotOptions& options) : graph_(graph), options_(options) {}

  std::string Write() {
    for (const auto& [name, timing] : options_.timings) {
      if (graph_.Find(name) != nullptr) max_share_ = std::max(max_share_, timing.share);
    }
    BuildScopes();
    Line(0, "digraph tbprof {");
    Line(1, absl::StrCat("graph [rankdir=",
                         options_.direction == DotOptions::Direction::kLeftRight ? "LR" : "TB",
                         ", fontname=\"Helvetica\", fontsize=11, nodesep=0.25, ranksep=0.35",
                         TitleAttr(), "];"));
    Line(1, "node [shape=plaintext, margin=0, fontname=\"Helvetica\", fontsize=10];");
    Line(1, "edge [color=\"#4d4d4d\", arrowsize=0.7];");
    WriteScopes();
    WriteMissing();
    WriteEdges();
    Line(0, "}");
    return std::move(out_);
  }

 private:
  void Line(int indent, std::string_view text) {
    out_.append(static_cast<size_t>(indent) * 2, ' ');
    out_.append(text);
    out_ += '\n';
  }

  std::string TitleAttr() const {
    std::string title;
    if (!options_.title.empty()) title = absl::StrCat("<B>", Html(options_.title), "</B>");
    if (!options_.timings.empty()) {
      absl::StrAppend(&title, title.empty() ? "" : "<BR/>",
                      "<FONT POINT-SIZE=\"9\">fill: share of measured time, "
                      "red = hottest</FONT>");
    }
    if (title.empty()) return "";
    return absl::StrCat(", labelloc=t, label=<", title, ">");
  }

  // Scopes deeper than kMaxClusterDepth are not drawn as clusters: their nodes go into the
  // deepest drawn cluster, labelled with the rest of their name. This bounds the nesting (which
  // Graphviz cannot lay out anyway), the memory and the output for names of any depth.
  static constexpr int kMaxClusterDepth = 64;

  void BuildScopes() {
    scopes_.push_back(Scope{});
    const std::vector<Node>& nodes = graph_.nodes();
    shown_from_.assign(nodes.size(), 0);
    for (size_t i = 0; i < nodes.size(); ++i) {
      size_t scope = 0;
      if (options_.cluster_scopes) {
        std::string_view path = internal::ScopeOf(nodes[i].name);
        size_t start = 0;
        int depth = 0;
        while (start < path.size() && depth < kMaxClusterDepth) {
          size_t slash = path.find('/', start);
          if (slash == std::string_view::npos) slash = path.size();
          scope = Child(scope, path.substr(start, slash - start), path.substr(0, slash));
          start = slash + 1;
          ++depth;
        }
        shown_from_[i] = std::min(start, nodes[i].name.size());
      }
      scopes_[scope].items.push_back(static_cast<int64_t>(i));
    }
  }

  size_t Child(size_t parent, std::string_view leaf, std::string_view path) {
    auto it = scopes_[parent].children.find(leaf);
    if (it != scopes_[parent].children.end()) return it->second;
    Scope child;
    child.path = std::string(path);
    child.label = std::string(leaf);
    child.depth = scopes_[parent].depth + 1;
    const size_t index = scopes_.size();
    scopes_.push_back(std::move(child));
    scopes_[parent].children.emplace(std::string(leaf), index);
    scopes_[parent].items.push_back(-static_cast<int64_t>(index) - 1);
    return index;
  }

  // Writes the scope tree depth first with an explicit stack (no recursion: the depth comes
  // from the file).
  void WriteScopes() {
    struct Frame {
      size_t scope;
      size_t next_item = 0;
    };
    std::vector<Frame> stack = {{0}};
    while (!stack.empty()) {
      Frame& frame = stack.back();
      const int indent = static_cast<int>(stack.size());
      const std::vector<int64_t>& items = scopes_[frame.scope].items;
      if (frame.next_item == items.size()) {
        stack.pop_back();
        if (!stack.empty()) Line(indent - 1, "}");
        continue;
      }
      const int64_t item = items[frame.next_item++];
      if (item >= 0) {
        WriteNode(static_cast<size_t>(item), indent);
        continue;
      }
      const size_t child = static_cast<size_t>(-item - 1);
      const Scope& s = scopes_[child];
      static constexpr const char* kFills[] = {"#f2f5fb", "#e6ecf7", "#dae3f3", "#cedaef"};
      Line(indent, absl::StrCat("subgraph ", Quote(absl::StrCat("cluster_", s.path)), " {"));
      Line(indent + 1, absl::StrCat("label=<<B>", Html(s.label), "</B>>; tooltip=", Quote(s.path),
                                    "; style=\"rounded,filled\"; fillcolor=\"",
                                    kFills[std::min(s.depth - 1, 3)],
                                    "\"; color=\"#8796b8\"; fontname=\"Helvetica\"; fontsize=10;"));
      stack.push_back({child});  // `frame` is not used after this.
    }
  }

  std::vector<std::string> InputShapes(const Node& node) const {
    std::vector<std::string> shapes;
    for (const std::string& in : node.inputs) {
      internal::InputRef ref;
      const Node* src = internal::ParseInputRef(in, &ref) ? graph_.Find(ref.node) : nullptr;
      if (src != nullptr && ref.slot < static_cast<int64_t>(src->outputs.size())) {
        shapes.push_back(SpecText(src->outputs[static_cast<size_t>(ref.slot)]));
      } else {
        shapes.push_back("?");
      }
    }
    return shapes;
  }

  void WriteNode(size_t index, int indent) {
    const Node& node = graph_.nodes()[index];
    const auto timing_it = options_.timings.find(node.name);
    const NodeTiming* timing = timing_it == options_.timings.end() ? nullptr : &timing_it->second;
    double heat = 0;
    if (timing != nullptr && max_share_ > 0) heat = timing->share / max_share_;
    const std::string fill = timing != nullptr ? HeatColor(heat) : "#ffffff";
    const char* ink = heat > 0.55 ? "#ffffff" : "#000000";
    const char* dim = heat > 0.55 ? "#ffffff" : "#555555";
    const std::string font_open = absl::StrCat("<FONT COLOR=\"", ink, "\">");

    const std::string shown = node.name.substr(shown_from_[index]);
    std::string rows =
        absl::StrCat("<TR><TD COLSPAN=\"2\">", font_open, "<B>", Html(shown), "</B></FONT>");
    if (options_.show_types) {
      absl::StrAppend(&rows, "<BR/><FONT COLOR=\"", dim, "\">", Html(node.op), "</FONT>");
    }
    rows += "</TD></TR>";
    auto row = [&](std::string_view key, const std::vector<std::string>& values) {
      std::vector<std::string> escaped;
      escaped.reserve(values.size());
      for (const std::string& v : values) escaped.push_back(Html(v));
      absl::StrAppend(&rows, "<TR><TD ALIGN=\"LEFT\"><FONT COLOR=\"", dim, "\">", AsAbsl(key),
                      "</FONT></TD><TD ALIGN=\"LEFT\" BALIGN=\"LEFT\">", font_open,
                      absl::StrJoin(escaped, "<BR/>"), "</FONT></TD></TR>");
    };
    if (options_.show_shapes) {
      if (!node.inputs.empty()) row("input", InputShapes(node));
      if (!node.outputs.empty()) {
        std::vector<std::string> outs;
        for (const TensorSpec& spec : node.outputs) outs.push_back(SpecText(spec));
        row("output", outs);
      }
    }
    if (!node.device.empty()) row("device", {node.device});
    if (timing != nullptr) {
      row("host", {Millis(timing->host_ms)});
      if (timing->gpu_ms > 0) row("GPU", {Millis(timing->gpu_ms)});
      row("runs", {absl::StrFormat("%d (%.1f%%)", timing->executions, 100 * timing->share)});
    }
    const std::string label = absl::StrCat(
        "<<TABLE BORDER=\"1\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"3\" "
        "COLOR=\"#3d3d3d\" BGCOLOR=\"",
        fill, "\">", rows, "</TABLE>>");
    Line(indent,
         absl::StrCat(Quote(node.name), " [label=", label, ", tooltip=", Quote(node.name), "];"));
  }

  // Inputs that name no node (only in graphs that fail Validate) become visible red boxes.
  void WriteMissing() {
    for (const Node& node : graph_.nodes()) {
      auto add = [&](std::string_view name) {
        if (graph_.Find(name) != nullptr) return;
        if (std::find(missing_.begin(), missing_.end(), name) != missing_.end()) return;
        missing_.emplace_back(name);
        Line(1, absl::StrCat(Quote(name), " [label=<<FONT COLOR=\"#b00000\">", Html(name),
                             "<BR/>(missing)</FONT>>, shape=box, style=dashed, "
                             "color=\"#b00000\", tooltip=",
                             Quote(absl::StrCat(AsAbsl(name), " is not in the graph")), "];"));
      };
      for (const std::string& in : node.inputs) {
        internal::InputRef ref;
        add(internal::ParseInputRef(in, &ref) ? ref.node : std::string_view(in));
      }
      for (const std::string& in : node.control_inputs) {
        std::string_view name = in;
        if (!name.empty() && name[0] == '^') name.remove_prefix(1);
        add(name);
      }
    }
  }

  void WriteEdges() {
    for (const Node& node : graph_.nodes()) {
      for (const std::string& in : node.inputs) {
        internal::InputRef ref;
        std::string_view src = internal::ParseInputRef(in, &ref) ? ref.node : std::string_view(in);
        std::string attrs;
        if (ref.slot > 0) attrs = absl::StrCat(" [taillabel=\":", ref.slot, "\", fontsize=8]");
        Line(1, absl::StrCat(Quote(src), " -> ", Quote(node.name), attrs, ";"));
      }
      for (const std::string& in : node.control_inputs) {
        std::string_view src = in;
        if (!src.empty() && src[0] == '^') src.remove_prefix(1);
        Line(1, absl::StrCat(Quote(src), " -> ", Quote(node.name),
                             " [style=dashed, color=\"#9a9a9a\", arrowhead=odot];"));
      }
    }
  }

  const Graph& graph_;
  const DotOptions& options_;
  double max_share_ = 0;
  std::vector<Scope> scopes_;
  std::vector<size_t> shown_from_;  // Per node: where the name shown in its box starts.
  std::vector<std::string> missing_;
  std::string out_;
};

}  // namespace

std::string ToDot(const Graph& graph, const DotOptions& options) {
  return DotWriter(graph, options).Write();
}

}  // namespace tbprof
