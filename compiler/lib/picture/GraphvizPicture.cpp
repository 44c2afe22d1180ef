// GraphvizPicture.cpp: the lecture's style: inputs as plain names on the left, a circle per
// gate, a box per call of a user function; on each edge the value (green) above its gradient
// (red). cgraph builds the graph; DOT is written without layout (stable text), the pictures
// are laid out by dot and rendered by gvc's plugins.
#include "picture/GraphvizPicture.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace gradc {

namespace {

// cgraph takes char * for names it does not modify.
char *cs(const std::string &s) { return const_cast<char *>(s.c_str()); }

std::string escapeHtml(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\n': out += "<br/>"; break;
    default: out += c;
    }
  }
  return out;
}

void setHtml(Agraph_t *g, void *object, Agsym_t *attr, const std::string &html) {
  char *text = agstrdup_html(g, cs(html));
  agxset(object, attr, text);
  agstrfree(g, text);
}

struct GraphCloser {
  void operator()(Agraph_t *g) const { agclose(g); }
};

std::unique_ptr<Agraph_t, GraphCloser> build(const Picture &p) {
  std::unique_ptr<Agraph_t, GraphCloser> g(agopen(cs(p.name), Agdirected, nullptr));
  Agraph_t *gr = g.get();
  agattr(gr, AGRAPH, cs(std::string("rankdir")), cs(std::string("LR")));
  agattr(gr, AGNODE, cs(std::string("fontname")), cs(std::string("Helvetica")));
  agattr(gr, AGEDGE, cs(std::string("fontname")), cs(std::string("Helvetica")));
  agattr(gr, AGEDGE, cs(std::string("fontsize")), cs(std::string("11")));
  Agsym_t *shape = agattr(gr, AGNODE, cs(std::string("shape")), cs(std::string("circle")));
  Agsym_t *label = agattr(gr, AGNODE, cs(std::string("label")), cs(std::string("\\N")));
  Agsym_t *tooltip = agattr(gr, AGNODE, cs(std::string("tooltip")), cs(std::string("")));
  Agsym_t *style = agattr(gr, AGNODE, cs(std::string("style")), cs(std::string("")));
  Agsym_t *edgeLabel = agattr(gr, AGEDGE, cs(std::string("label")), cs(std::string("")));
  // The inputs in one column at the left, as the lecture draws them.
  Agraph_t *inputs = agsubg(gr, cs(std::string("inputs")), 1);
  agsafeset(inputs, cs(std::string("rank")), cs(std::string("source")), cs(std::string("")));
  // An expanded call is a dashed box named by its function, inside its caller's.
  std::vector<Agraph_t *> clusters;
  for (size_t c = 0; c < p.clusters.size(); ++c) {
    Agraph_t *parent = p.clusters[c].parent < 0 ? gr : clusters[static_cast<size_t>(p.clusters[c].parent)];
    Agraph_t *box = agsubg(parent, cs("cluster_" + std::to_string(c)), 1);
    agsafeset(box, cs(std::string("label")), cs(p.clusters[c].label), cs(std::string("")));
    agsafeset(box, cs(std::string("style")), cs(std::string("dashed,rounded")), cs(std::string("")));
    clusters.push_back(box);
  }
  std::vector<Agnode_t *> nodes;
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const PictureNode &n = p.nodes[i];
    std::string name = "n" + std::to_string(i);
    Agraph_t *owner = n.cluster >= 0 ? clusters[static_cast<size_t>(n.cluster)]
                      : n.kind == PictureNode::Kind::Input ? inputs
                                                           : gr;
    Agnode_t *node = agnode(owner, cs(name), 1);
    const char *s = "circle";
    switch (n.kind) {
    case PictureNode::Kind::Input:
    case PictureNode::Kind::Output: s = "plaintext"; break;
    case PictureNode::Kind::Constant: s = "plaintext"; break;
    case PictureNode::Kind::Call: s = "box"; break;
    case PictureNode::Kind::Group: s = "box"; break;
    case PictureNode::Kind::Gate: s = n.label.size() > 3 ? "ellipse" : "circle"; break;
    }
    agxset(node, shape, cs(std::string(s)));
    if (n.kind == PictureNode::Kind::Call || n.kind == PictureNode::Kind::Group)
      agxset(node, style, cs(std::string("rounded")));
    agxset(node, label, cs(n.label));
    // A backslash is an escape in DOT's strings (\N, \l): the source line is written as it is.
    std::string tip;
    for (char c : n.tooltip)
      tip += c == '\\' ? std::string("\\\\") : std::string(1, c);
    agxset(node, tooltip, cs(tip));
    nodes.push_back(node);
  }
  for (size_t i = 0; i < p.edges.size(); ++i) {
    const PictureEdge &e = p.edges[i];
    Agedge_t *edge = agedge(gr, nodes[static_cast<size_t>(e.from)], nodes[static_cast<size_t>(e.to)], nullptr, 1);
    if (e.value.empty() && e.gradient.empty())
      continue;
    std::string html = "<font color=\"darkgreen\">" + escapeHtml(e.value) + "</font>";
    if (!e.gradient.empty())
      html += "<br/><font color=\"red\">" + escapeHtml(e.gradient) + "</font>";
    setHtml(gr, edge, edgeLabel, html);
  }
  return g;
}

} // namespace

std::optional<PictureFormat> pictureFormatOf(const std::string &path) {
  auto ends = [&](const char *ext) {
    std::string e(ext);
    return path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".dot") || ends(".gv"))
    return PictureFormat::Dot;
  if (ends(".svg"))
    return PictureFormat::Svg;
  if (ends(".png"))
    return PictureFormat::Png;
  if (ends(".pdf"))
    return PictureFormat::Pdf;
  return std::nullopt;
}

bool renderPicture(const Picture &p, PictureFormat format, std::string &bytes, std::string &error) {
  auto g = build(p);
  if (format == PictureFormat::Dot) {
    char *text = nullptr;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f) {
      error = "out of memory writing the graph";
      return false;
    }
    agwrite(g.get(), f);
    std::fclose(f);
    bytes.assign(text, size);
    std::free(text);
    return true;
  }
  const char *device = format == PictureFormat::Svg ? "svg" : format == PictureFormat::Png ? "png" : "pdf";
  GVC_t *gvc = gvContext();
  if (gvLayout(gvc, g.get(), "dot") != 0) {
    gvFreeContext(gvc);
    error = "Graphviz could not lay out the graph";
    return false;
  }
  char *data = nullptr;
  unsigned int length = 0;
  int rc = gvRenderData(gvc, g.get(), device, &data, &length);
  if (rc == 0 && data)
    bytes.assign(data, length);
  gvFreeRenderData(data);
  gvFreeLayout(gvc, g.get());
  gvFreeContext(gvc);
  if (rc != 0) {
    error = std::string("Graphviz cannot write ") + device + " here (its " + device + " plugin is missing)";
    return false;
  }
  return true;
}

} // namespace gradc
