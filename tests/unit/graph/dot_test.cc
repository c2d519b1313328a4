#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/util/file_util.h"
#include "tbprof/graph.h"

namespace tbprof {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Graph ScopedGraph() {
  Graph g;
  auto add = [&g](std::string name, std::string op, std::vector<std::string> inputs, Shape out) {
    Node n;
    n.name = std::move(name);
    n.op = std::move(op);
    n.inputs = std::move(inputs);
    n.outputs = {{DType::kFloat32, std::move(out)}};
    EXPECT_TRUE(g.AddNode(std::move(n)).ok());
  };
  add("input", "Placeholder", {}, {-1, 784});
  add("model/dense_1/MatMul", "MatMul", {"input"}, {-1, 64});
  add("model/dense_1/BiasAdd", "BiasAdd", {"model/dense_1/MatMul"}, {-1, 64});
  add("model/dense_2/MatMul", "MatMul", {"model/dense_1/BiasAdd"}, {-1, 10});
  add("output", "Softmax", {"model/dense_2/MatMul"}, {-1, 10});
  Node init;
  init.name = "init";
  init.op = "NoOp";
  EXPECT_TRUE(g.AddNode(init).ok());
  Node save;
  save.name = "save";
  save.op = "NoOp";
  save.control_inputs = {"init"};
  EXPECT_TRUE(g.AddNode(save).ok());
  return g;
}

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TBPROF_TEST_TMPDIR");
  std::string dir = internal::JoinPath(base != nullptr ? base : ::testing::TempDir(),
                                       "dot_test_" + name + "_" + std::to_string(getpid()));
  EXPECT_TRUE(internal::MakeDirs(dir).ok());
  return dir;
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

bool DotOnPath() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (access((dir + "/dot").c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Sets PATH for the lifetime of the object.
class ScopedPath {
 public:
  explicit ScopedPath(const std::string& value) {
    const char* old = std::getenv("PATH");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("PATH", value.c_str(), 1);
  }
  ~ScopedPath() {
    if (had_) {
      setenv("PATH", old_.c_str(), 1);
    } else {
      unsetenv("PATH");
    }
  }

 private:
  bool had_ = false;
  std::string old_;
};

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
    ++n;
  }
  return n;
}

TEST(DotTest, ScopesAreNestedClusters) {
  const std::string dot = ToDot(ScopedGraph());
  EXPECT_EQ(dot.rfind("digraph tbprof {", 0), 0u);
  EXPECT_EQ(Count(dot, "subgraph \"cluster_"), 3u);
  const size_t model = dot.find("subgraph \"cluster_model\" {");
  const size_t dense1 = dot.find("subgraph \"cluster_model/dense_1\" {");
  const size_t dense2 = dot.find("subgraph \"cluster_model/dense_2\" {");
  const size_t matmul1 = dot.find("\"model/dense_1/MatMul\" [label=");
  ASSERT_NE(model, std::string::npos);
  ASSERT_NE(dense1, std::string::npos);
  ASSERT_NE(dense2, std::string::npos);
  ASSERT_NE(matmul1, std::string::npos);
  EXPECT_LT(model, dense1);
  EXPECT_LT(dense1, matmul1);
  EXPECT_LT(matmul1, dense2);
  // dense_1 is indented one level deeper than model, its nodes one more.
  EXPECT_NE(dot.find("\n  subgraph \"cluster_model\" {"), std::string::npos);
  EXPECT_NE(dot.find("\n    subgraph \"cluster_model/dense_1\" {"), std::string::npos);
  EXPECT_NE(dot.find("\n      \"model/dense_1/MatMul\" [label="), std::string::npos);
  // Unscoped nodes stay at the top level.
  EXPECT_NE(dot.find("\n  \"input\" [label="), std::string::npos);
  EXPECT_NE(dot.find("label=<<B>dense_1</B>>"), std::string::npos);
}

TEST(DotTest, BoxesShowNameTypeAndShapes) {
  const std::string dot = ToDot(ScopedGraph());
  const size_t start = dot.find("\"model/dense_1/MatMul\" [label=");
  const std::string line = dot.substr(start, dot.find('\n', start) - start);
  EXPECT_THAT(line, HasSubstr("<B>MatMul</B>"));     // Leaf name inside its cluster.
  EXPECT_THAT(line, HasSubstr(">MatMul</FONT>"));    // Op type.
  EXPECT_THAT(line, HasSubstr("float32 (?, 784)"));  // Input shape, from "input".
  EXPECT_THAT(line, HasSubstr("float32 (?, 64)"));   // Output shape.
  EXPECT_THAT(line, HasSubstr("tooltip=\"model/dense_1/MatMul\""));
  EXPECT_NE(dot.find("\"input\" -> \"model/dense_1/MatMul\";"), std::string::npos);
  EXPECT_NE(dot.find("\"init\" -> \"save\" [style=dashed"), std::string::npos);
  EXPECT_NE(dot.find("rankdir=TB"), std::string::npos);
}

TEST(DotTest, OptionsChangeTheDrawing) {
  DotOptions options;
  options.direction = DotOptions::Direction::kLeftRight;
  options.cluster_scopes = false;
  options.show_shapes = false;
  options.show_types = false;
  options.title = "My model";
  const std::string dot = ToDot(ScopedGraph(), options);
  EXPECT_NE(dot.find("rankdir=LR"), std::string::npos);
  EXPECT_EQ(dot.find("subgraph"), std::string::npos);
  EXPECT_EQ(dot.find("(?, 64)"), std::string::npos);
  EXPECT_EQ(dot.find(">MatMul</FONT>"), std::string::npos);
  EXPECT_NE(dot.find("<B>model/dense_1/MatMul</B>"), std::string::npos);  // Full name.
  EXPECT_NE(dot.find("label=<<B>My model</B>>"), std::string::npos);
}

TEST(DotTest, EscapesMarkupInTypesAndTitle) {
  Graph g;
  Node n;
  n.name = "a>b";
  n.op = "Op<\"T\"> & 'x'";
  ASSERT_TRUE(g.AddNode(n).ok());
  Node m;
  m.name = "c";
  m.op =
      "Bad\xff\x01"
      "Bytes";
  m.inputs = {"a>b"};
  ASSERT_TRUE(g.AddNode(m).ok());
  DotOptions options;
  options.title = "Tom & \"Jerry\" <3";
  const std::string dot = ToDot(g, options);
  EXPECT_NE(dot.find("Op&lt;&quot;T&quot;&gt; &amp; &#39;x&#39;"), std::string::npos);
  EXPECT_NE(dot.find("<B>a&gt;b</B>"), std::string::npos);
  EXPECT_NE(dot.find("Tom &amp; &quot;Jerry&quot; &lt;3"), std::string::npos);
  EXPECT_NE(dot.find("Bad??Bytes"), std::string::npos);
  EXPECT_EQ(dot.find("Op<"), std::string::npos);
  EXPECT_EQ(dot.find('\xff'), std::string::npos);
}

TEST(DotTest, Deterministic) {
  DotOptions options;
  options.timings["input"] = {3, 1.5, 0, 0.2};
  EXPECT_EQ(ToDot(ScopedGraph(), options), ToDot(ScopedGraph(), options));
}

TEST(DotTest, TimingsShowAndColourByShare) {
  DotOptions options;
  options.timings["model/dense_1/MatMul"] = {10, 12.5, 3.25, 0.6};
  options.timings["model/dense_2/MatMul"] = {10, 1.0, 0.5, 0.3};
  options.timings["not_in_graph"] = {1, 99, 0, 0.99};  // Ignored: not a node.
  const std::string dot = ToDot(ScopedGraph(), options);
  auto line_of = [&dot](const std::string& name) {
    const size_t start = dot.find("\"" + name + "\" [label=");
    return dot.substr(start, dot.find('\n', start) - start);
  };
  const std::string hot = line_of("model/dense_1/MatMul");
  const std::string warm = line_of("model/dense_2/MatMul");
  const std::string cold = line_of("input");
  EXPECT_THAT(hot, HasSubstr("12.5 ms"));
  EXPECT_THAT(hot, HasSubstr("3.25 ms"));
  EXPECT_THAT(hot, HasSubstr("10 (60.0%)"));
  EXPECT_THAT(warm, HasSubstr("1.00 ms"));
  // Hottest timed node gets the full red; half its share gets a lighter red; untimed: white.
  EXPECT_THAT(hot, HasSubstr("BGCOLOR=\"#d62728\""));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(warm, m, std::regex("BGCOLOR=\"#([0-9a-f]{6})\"")));
  const int green = std::stoi(m[1].str().substr(2, 2), nullptr, 16);
  EXPECT_GT(green, 0x27);
  EXPECT_LT(green, 0xff);
  EXPECT_THAT(cold, HasSubstr("BGCOLOR=\"#ffffff\""));
  EXPECT_THAT(cold, Not(HasSubstr("ms")));
  EXPECT_NE(dot.find("red = hottest"), std::string::npos);
}

TEST(DotTest, MissingInputsAreDrawnNotDropped) {
  Graph g;
  Node n;
  n.name = "a";
  n.op = "Relu";
  n.inputs = {"ghost:1"};
  n.control_inputs = {"phantom"};
  ASSERT_TRUE(g.AddNode(n).ok());
  const std::string dot = ToDot(g);
  EXPECT_NE(dot.find("\"ghost\" [label=<<FONT COLOR=\"#b00000\">ghost<BR/>(missing)"),
            std::string::npos);
  EXPECT_NE(dot.find("\"phantom\" [label="), std::string::npos);
  EXPECT_NE(dot.find("\"ghost\" -> \"a\" [taillabel=\":1\""), std::string::npos);
}

TEST(DotTest, GraphvizAcceptsTheText) {
  if (!DotOnPath()) GTEST_SKIP() << "Graphviz's `dot` is not on PATH; cannot check the text";
  const std::string dir = TempDir("accept");
  DotOptions options;
  options.title = "Tom & \"Jerry\" <3";
  options.timings["model/dense_1/MatMul"] = {10, 12.5, 3.25, 0.6};
  const std::string svg = internal::JoinPath(dir, "g.svg");
  absl::Status s = RenderDot(ToDot(ScopedGraph(), options), svg);
  ASSERT_TRUE(s.ok()) << s;
  std::string contents;
  ASSERT_TRUE(internal::ReadFile(svg, &contents).ok());
  EXPECT_THAT(contents, HasSubstr("<svg"));
  EXPECT_THAT(contents, HasSubstr("dense_1"));
  EXPECT_THAT(contents, HasSubstr("(?, 784)"));
  EXPECT_THAT(contents, HasSubstr("Tom &amp; &quot;Jerry&quot; &lt;3"));

  const std::string png = internal::JoinPath(dir, "g.png");
  ASSERT_TRUE(RenderDot(ToDot(ScopedGraph()), png).ok());
  ASSERT_TRUE(internal::ReadFile(png, &contents).ok());
  EXPECT_EQ(contents.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST(DotTest, GraphvizAcceptsKeywordAndClashingNames) {
  if (!DotOnPath()) GTEST_SKIP() << "Graphviz's `dot` is not on PATH; cannot check the text";
  // DOT keywords as node names, a node named like a cluster, and a node that is also a scope.
  Graph g;
  std::string previous;
  for (const char* name : {"node", "edge", "graph", "digraph", "subgraph", "strict", "cluster_a",
                           "a", "a/b", ".dot", "9lives", "x-y>z"}) {
    Node n;
    n.name = name;
    n.op = "Op";
    if (!previous.empty()) n.inputs = {previous};
    ASSERT_TRUE(g.AddNode(n).ok()) << name;
    previous = name;
  }
  ASSERT_TRUE(g.Validate().ok());
  const std::string out = internal::JoinPath(TempDir("keywords"), "g.json");
  ASSERT_TRUE(RenderDot(ToDot(g), out).ok());
  std::string json;
  ASSERT_TRUE(internal::ReadFile(out, &json).ok());
  // Graphviz's JSON output ("/" written as "\/"): every name came through as its own node,
  // and the cluster "cluster_a" (scope "a") did not swallow the node "cluster_a".
  for (const char* name : {"node", "edge", "graph", "digraph", "subgraph", "strict", "a", "a\\/b",
                           ".dot", "9lives", "x-y>z"}) {
    EXPECT_EQ(Count(json, std::string("\"name\": \"") + name + "\""), 1u) << name;
  }
  EXPECT_EQ(Count(json, "\"name\": \"cluster_a\""), 2u);  // The scope's cluster and the node.
  EXPECT_EQ(Count(json, "\"_subgraph_cnt\": 1"), 1u);
  EXPECT_EQ(Count(json, "\"_gvid\""), 1u + 12u + 11u);  // Cluster, nodes, edges.
}

TEST(DotTest, DotFileIsTheTextItself) {
  const std::string dir = TempDir("text");
  const std::string path = internal::JoinPath(dir, "g.dot");
  const std::string text = ToDot(ScopedGraph());
  {
    ScopedPath no_dot(dir);  // Writing text needs no Graphviz.
    ASSERT_TRUE(RenderDot(text, path).ok());
  }
  std::string contents;
  ASSERT_TRUE(internal::ReadFile(path, &contents).ok());
  EXPECT_EQ(contents, text);
}

TEST(DotTest, MissingGraphvizIsFailedPreconditionWithHint) {
  const std::string dir = TempDir("nodot");
  const std::string empty = internal::JoinPath(dir, "empty_bin");
  ASSERT_TRUE(internal::MakeDirs(empty).ok());
  const std::string out = internal::JoinPath(dir, "g.svg");
  absl::Status s;
  {
    ScopedPath path(empty);
    s = RenderDot(ToDot(ScopedGraph()), out);
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("install Graphviz"));
  EXPECT_THAT(std::string(s.message()), HasSubstr(out));
  EXPECT_FALSE(Exists(out));
}

TEST(DotTest, GraphvizFailureIsInternalWithItsMessage) {
  if (!DotOnPath()) GTEST_SKIP() << "Graphviz's `dot` is not on PATH; cannot make it fail";
  const std::string dir = TempDir("fail");
  const std::string out = internal::JoinPath(dir, "bad.svg");
  absl::Status s = RenderDot("digraph { a -> ; }", out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(s.message()), HasSubstr("syntax error"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("exited with status"));
  EXPECT_FALSE(Exists(out));
  EXPECT_EQ(access((out + ".tmp." + std::to_string(getpid())).c_str(), F_OK), -1);
}

TEST(DotTest, LargeGraphDoesNotDeadlockThePipes) {
  if (!DotOnPath()) GTEST_SKIP() << "Graphviz's `dot` is not on PATH";
  // Input and output both far larger than a pipe buffer (64 KiB).
  Graph g;
  for (int i = 0; i < 400; ++i) {
    Node n;
    n.name = "layer_" + std::to_string(i / 20) + "/op_" + std::to_string(i);
    n.op = "Op";
    n.outputs = {{DType::kFloat32, {-1, i}}};
    ASSERT_TRUE(g.AddNode(n).ok());
  }
  const std::string text = ToDot(g);
  ASSERT_GT(text.size(), 100000u);
  const std::string out = internal::JoinPath(TempDir("large"), "g.json");
  ASSERT_TRUE(RenderDot(text, out).ok());
  std::string contents;
  ASSERT_TRUE(internal::ReadFile(out, &contents).ok());
  EXPECT_GT(contents.size(), 100000u);
  EXPECT_THAT(contents, HasSubstr("op_399"));
}

// Puts an executable `dot` script with `body` in `dir`.
void FakeDot(const std::string& dir, const std::string& body) {
  const std::string path = internal::JoinPath(dir, "dot");
  ASSERT_TRUE(internal::WriteFileAtomically(path, "#!/bin/sh\n" + body + "\n").ok());
  ASSERT_EQ(chmod(path.c_str(), 0755), 0);
}

TEST(DotTest, DotThatStopsReadingDoesNotKillTheProgram) {
  // A `dot` that exits at once without reading its input: writing the rest of a large input
  // must give an error status, not SIGPIPE.
  const std::string dir = TempDir("early_exit");
  FakeDot(dir, "echo 'fake dot: cannot cope' >&2\nexit 3");
  const std::string out = internal::JoinPath(dir, "g.svg");
  absl::Status s;
  {
    ScopedPath path(dir);
    s = RenderDot(std::string(4 << 20, '#'), out);
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(s.message()), HasSubstr("exited with status 3"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("fake dot: cannot cope"));
  EXPECT_FALSE(Exists(out));
}

TEST(DotTest, DotKilledBySignalIsInternal) {
  const std::string dir = TempDir("killed");
  FakeDot(dir, "kill -9 $$");
  const std::string out = internal::JoinPath(dir, "g.png");
  absl::Status s;
  {
    ScopedPath path(dir);
    s = RenderDot("digraph {}", out);
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(s.message()), HasSubstr("killed by signal 9"));
  EXPECT_FALSE(Exists(out));
}

TEST(DotTest, DotWithNoOutputIsInternal) {
  const std::string dir = TempDir("silent");
  FakeDot(dir, "cat > /dev/null");
  const std::string out = internal::JoinPath(dir, "g.pdf");
  absl::Status s;
  {
    ScopedPath path(dir + ":/usr/bin:/bin");  // The fake comes first.
    s = RenderDot("digraph {}", out);
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(s.message()), HasSubstr("produced no output"));
  EXPECT_FALSE(Exists(out));
}

TEST(DotTest, FakeDotGetsTheFormatAndTheText) {
  // Echo the arguments and the input back: checks -T<format> and that stdin arrives whole.
  const std::string dir = TempDir("echo");
  FakeDot(dir, "echo \"args: $*\"; cat");
  const std::string out = internal::JoinPath(dir, "g.JPEG");
  const std::string text = ToDot(ScopedGraph());
  {
    ScopedPath path(dir + ":/usr/bin:/bin");  // The fake comes first.
    absl::Status s = RenderDot(text, out);
    ASSERT_TRUE(s.ok()) << s;
  }
  std::string contents;
  ASSERT_TRUE(internal::ReadFile(out, &contents).ok());
  EXPECT_EQ(contents, "args: -Tjpg\n" + text);
}

TEST(DotTest, NonExecutableDotIsSkipped) {
  const std::string dir = TempDir("noexec");
  const std::string path = internal::JoinPath(dir, "dot");
  ASSERT_TRUE(internal::WriteFileAtomically(path, "#!/bin/sh\nexit 0\n").ok());
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  absl::Status s;
  {
    ScopedPath p(dir);
    s = RenderDot("digraph {}", internal::JoinPath(dir, "g.svg"));
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(DotTest, BadOutputPathsAreInvalidArgument) {
  EXPECT_EQ(RenderDot("digraph {}", "").code(), absl::StatusCode::kInvalidArgument);
  absl::Status s = RenderDot("digraph {}", "/tmp/picture.bmpx");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr(".svg"));
  EXPECT_EQ(RenderDot("digraph {}", "/tmp/dir.svg/noext").code(),
            absl::StatusCode::kInvalidArgument);
}

// Scopes of any depth: clusters nest down to 64 levels, the deeper rest of the scope stays in
// the node's label, and the drawing grows linearly with the depth.
TEST(DotTest, ScopesDeeperThan64LevelsStayInTheDeepestCluster) {
  auto drawing = [](int levels) {
    std::string name;
    for (int i = 0; i < levels; ++i) name += "s" + std::to_string(i) + "/";
    Graph g;
    Node n;
    n.name = name + "Relu";
    n.op = "Relu";
    EXPECT_TRUE(g.AddNode(std::move(n)).ok());
    return ToDot(g, DotOptions{});
  };
  auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
      ++n;
    }
    return n;
  };
  const std::string at_limit = drawing(64);
  EXPECT_EQ(count(at_limit, "subgraph "), 64u);
  EXPECT_THAT(at_limit, HasSubstr("<B>Relu</B>"));
  const std::string deeper = drawing(70);
  EXPECT_EQ(count(deeper, "subgraph "), 64u);
  EXPECT_THAT(deeper, HasSubstr("<B>s64/s65/s66/s67/s68/s69/Relu</B>"));
  EXPECT_EQ(count(deeper, "{"), count(deeper, "}"));
  EXPECT_LT(drawing(20000).size(), 3 * drawing(10000).size());  // Quadratic gives 4x.
}

}  // namespace
}  // namespace tbprof
