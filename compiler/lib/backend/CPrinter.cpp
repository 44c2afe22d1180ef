// CPrinter.cpp: prints one exported function (f or f_grad) as C99 from its schedule, as
// Lowering.cpp emits it as LLVM IR: scalars are `const` temporaries, tensors loops over
// row-major buffers, the op table supplies each element's arithmetic and each view's index
// map. No chunking: a C compiler takes long straight-line functions as they come.
#include "backend/CPrinter.h"

#include "backend/CElementBuilder.h"
#include "backend/CMatMulKernel.h"
#include "backend/LlvmTypes.h"
#include "backend/Schedule.h"
#include "ir/OpTable.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <limits>
#include <map>
#include <set>

namespace gradc {

namespace {

constexpr int64_t kBufferAlign = 64; // as the LLVM lowering: the layouts are the same
constexpr int kLanes = 32; // independent partial results of a reduction (see foldLanes)

using Index = std::vector<Val>;

// Whether C text reads the identifier `name`.
bool readsName(const std::string &text, const std::string &name) {
  auto ident = [&](size_t p) {
    return p < text.size() && (std::isalnum(static_cast<unsigned char>(text[p])) || text[p] == '_');
  };
  for (size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + 1))
    if (!(at > 0 && ident(at - 1)) && !ident(at + name.size()))
      return true;
  return false;
}
using Body = std::function<void(const Index &)>;

class FunctionPrinter {
public:
  FunctionPrinter(const LoweringInput &in, const AbiFunction &abi, std::vector<NodeId> roots,
                  const std::string &prefix, std::set<DType> &kernels)
      : in_(in), g_(*in.graph), abi_(abi), roots_(std::move(roots)), prefix_(prefix), kernels_(kernels) {
    std::vector<DType> rootTypes;
    for (size_t r = 0; r < roots_.size(); ++r)
      rootTypes.push_back(outputDtype(r));
    s_ = scheduleFunction(g_, roots_, rootTypes);
  }

  std::string print();
  /// Prints the workspace layout into `c` for `dims`: returns the bytes needed, and each
  /// buffer's offset when `offsets` is given.
  Val layout(CBody &c, const std::vector<Val> &dims, std::vector<Val> *offsets, Val *valid = nullptr);

private:
  DType outputDtype(size_t root) const {
    return root == 0 ? abi_.returnType : in_.fn->params[root - 1].type.dtype;
  }
  Val arg(int i) { return c_.expr("a" + std::to_string(i)); }
  Val dimValue(const Dim &d) { return CIndexMapper(c_, g_, dims_).dim(d); }
  Val idx(int64_t v) { return CIndexMapper(c_, g_, dims_).constant(v); }
  Val konst(double v, DType t) { return c_.expr(cLiteral(v, t)); }
  Val add(Val a, Val b) { return CIndexMapper(c_, g_, dims_).add(a, b); }
  Val sub(Val a, Val b) { // a - b, folded when b is 0
    int64_t v;
    if (cIntLiteral(c(b), v) && v == 0)
      return a;
    return c_.expr("(" + c(a) + " - " + c(b) + ")", {a, b});
  }
  const std::string &c(Val v) const { return c_.c(v); }
  std::vector<Val> extentsOf(const Shape &shape) {
    std::vector<Val> e;
    for (const Dim &d : shape)
      e.push_back(dimValue(d));
    return e;
  }

  // --- loops ---
  void forRange(Val lo, Val hi, const std::vector<Val> &inner, const Body &body);
  void forEach(const std::vector<Val> &extents, const Body &body) {
    if (extents.empty())
      return body({});
    forRange(idx(0), extents[0], std::vector<Val>(extents.begin() + 1, extents.end()), body);
  }

  // --- values ---
  Val basePointer(NodeId n);
  Val place(Val base, const Shape &shape, const Index &at); // base[linear index]
  Val loadAt(Val base, DType dt, const Shape &shape, const Index &at);
  void storeAt(Val base, const Shape &shape, const Index &at, Val v, DType from, DType to);
  Val element(NodeId n, const Index &at);
  Val compute(NodeId n, const Index &at);
  Val gatherElement(NodeId n, const Index &at);
  Val scalarOf(NodeId n);
  Val get(NodeId x, const Index &at, DType dt) { return cConvert(c_, element(x, at), g_.type(x).dtype, dt); }

  // --- steps ---
  void emitStep(NodeId n);
  void emitMaterialize(NodeId n);
  Val emitReduce(NodeId n, Val out);
  using Combine = std::function<Val(Val, Val)>;
  Val foldLanes(DType dt, Val init, const std::vector<Val> &extents,
                const std::function<Val(const Index &)> &elementAt, const Combine &combine);
  // foldLanes' parts: an array of kLanes partial results; one loop along an axis that joins
  // element elementAt(k, i) into array k and runs also(i) for each i; an array's result.
  std::string laneArray(DType dt, Val init);
  void laneLoop(Val extent, const std::vector<std::string> &lanes, const std::function<Val(size_t, Val)> &elementAt,
                const Combine &combine, const std::function<void(Val)> &also = nullptr);
  Val foldArray(const std::string &lanes, const Combine &combine);
  Val emitMatMul(NodeId n, Val out);
  bool emitMatMulKernel(NodeId n, Val out);
  void emitRowSweep(const RowSweep &sw);
  void emitScatter(NodeId n, Val out);
  void fill(Val base, DType dtype, const Shape &shape, Val v);
  std::string sizesOk(std::vector<Val> &deps);
  std::string dimArgsInRange();
  Val boundsOk();
  void emitFailure();

  const LoweringInput &in_;
  const Graph &g_;
  const AbiFunction &abi_;
  std::vector<NodeId> roots_;
  const std::string &prefix_;
  std::set<DType> &kernels_; // the matrix kernels the code calls
  Schedule s_;
  CBody c_;
  std::vector<int> paramArg_, outputArg_;
  int wsArg_ = -1;
  std::vector<Val> dims_, scalars_, buffers_;
  std::map<std::pair<NodeId, Index>, Val> memo_;
  std::vector<NodeId> knownInside_;
};

void FunctionPrinter::forRange(Val lo, Val hi, const std::vector<Val> &inner, const Body &body) {
  std::string i = c_.loopVar();
  c_.open("for (int64_t " + i + " = " + c(lo) + "; " + i + " < " + c(hi) + "; ++" + i + ")", {lo, hi});
  Val iv = c_.expr(i);
  forEach(inner, [&](const Index &rest) {
    Index all{iv};
    all.insert(all.end(), rest.begin(), rest.end());
    body(all);
  });
  c_.close();
}

Val FunctionPrinter::basePointer(NodeId n) {
  while (s_.storage[static_cast<size_t>(n)] == Storage::Alias)
    n = s_.slot[static_cast<size_t>(n)];
  size_t i = static_cast<size_t>(n);
  switch (s_.storage[i]) {
  case Storage::Param:
    return arg(paramArg_[static_cast<size_t>(g_.node(n).ints[0])]);
  case Storage::Output:
    return arg(outputArg_[static_cast<size_t>(s_.slot[i])]);
  case Storage::Workspace:
    return buffers_[static_cast<size_t>(s_.slot[i])];
  default:
    internalError("node %" + std::to_string(n) + " has no buffer");
  }
}

Val FunctionPrinter::place(Val base, const Shape &shape, const Index &at) {
  GRADC_ASSERT(at.size() == shape.size(), "index rank mismatch");
  std::string lin = at.empty() ? "0" : c(at[0]);
  for (size_t k = 1; k < shape.size(); ++k)
    lin = "(" + lin + " * " + c(dimValue(shape[k])) + " + " + c(at[k]) + ")";
  std::vector<Val> deps(at);
  deps.push_back(base);
  for (const Dim &d : shape)
    deps.push_back(dimValue(d));
  return c_.expr(c(base) + "[" + lin + "]", deps);
}

Val FunctionPrinter::loadAt(Val base, DType dt, const Shape &shape, const Index &at) {
  Val p = place(base, shape, at);
  return c_.temp(dt, dt == DType::Bool ? c(p) + " != 0" : c(p), {p});
}

void FunctionPrinter::storeAt(Val base, const Shape &shape, const Index &at, Val v, DType from, DType to) {
  v = cConvert(c_, v, from, to);
  Val p = place(base, shape, at);
  c_.stmt(c(p) + " = " + c(v) + ";", {p, v});
}

Val FunctionPrinter::scalarOf(NodeId n) {
  const Node &node = g_.node(n);
  if (node.op == Op::Const)
    return konst(node.num, node.type.dtype);
  if (node.op == Op::Param)
    return arg(paramArg_[static_cast<size_t>(node.ints[0])]);
  Val v = scalars_[static_cast<size_t>(n)];
  GRADC_ASSERT(v, "scalar %" + std::to_string(n) + " used before it is computed");
  return v;
}

Val FunctionPrinter::element(NodeId n, const Index &at) {
  const Type &t = g_.type(n);
  if (t.isScalar())
    return scalarOf(n);
  switch (s_.storage[static_cast<size_t>(n)]) {
  case Storage::Param:
  case Storage::Output:
  case Storage::Workspace:
  case Storage::Alias:
    return loadAt(basePointer(n), t.dtype, t.shape, at);
  default:
    break;
  }
  auto key = std::make_pair(n, at);
  auto it = memo_.find(key);
  if (it != memo_.end())
    return it->second;
  Val v = compute(n, at);
  memo_.emplace(std::move(key), v);
  return v;
}

Val FunctionPrinter::compute(NodeId n, const Index &at) {
  const Node &node = g_.node(n);
  const OpInfo &info = opInfo(node.op);
  switch (info.loop) {
  case LoopKind::Leaf:
    if (node.op == Op::Const)
      return konst(node.num, node.type.dtype);
    if (node.op == Op::DimValue)
      return cConvert(c_, dimValue(Dim{static_cast<int32_t>(node.ints[0]), 0}), DType::I64, node.type.dtype);
    break;
  case LoopKind::Elementwise: {
    DType ct = elementComputeDtype(g_, node);
    std::vector<Val> in;
    for (size_t k = 0; k < node.operands.size(); ++k) {
      NodeId o = node.operands[k];
      in.push_back(get(o, at, node.op == Op::Where && k == 0 ? DType::Bool : ct));
    }
    CElementBuilder eb(c_, ct);
    return info.element(eb, in);
  }
  case LoopKind::View: {
    CIndexMapper im(c_, g_, dims_);
    std::vector<Val> from;
    info.indexMap(im, node, at, from);
    return element(node.operands[0], from);
  }
  case LoopKind::Scatter:
    return gatherElement(n, at);
  case LoopKind::Iota:
    return cConvert(c_, at[static_cast<size_t>(node.ints[0])], DType::I64, node.type.dtype);
  case LoopKind::Gather: { // s[i, y[i]]; the labels were checked on entry
    NodeId y = node.operands[1];
    Val label = get(y, {at[0]}, DType::I64);
    NodeId sc = node.operands[0];
    return get(sc, {at[0], label}, node.type.dtype);
  }
  case LoopKind::Reshape: {
    NodeId o = node.operands[0];
    if (g_.type(o).isScalar())
      return element(o, {});
    // A reshape reads its operand's buffer at the same linear position.
    return loadAt(basePointer(o), node.type.dtype, node.type.shape, at);
  }
  default:
    break;
  }
  internalError(std::string("cannot compute '") + info.name + "' element by element");
}

// index_grad in gather form: the operand's element I - start inside the selected region,
// 0 outside; the operand is read under a branch, so nothing outside its range is touched.
Val FunctionPrinter::gatherElement(NodeId n, const Index &at) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  std::string inside;
  std::vector<Val> deps;
  Index src;
  std::vector<IndexAxis> axes = decodeIndexSpec(node.ints);
  bool outerKnown = std::find(knownInside_.begin(), knownInside_.end(), n) != knownInside_.end();
  auto both = [&](const std::string &cond) { inside += (inside.empty() ? "" : " && ") + cond; };
  for (size_t k = 0; k < axes.size(); ++k) {
    Val start = dimValue(axes[k].start);
    deps.push_back(at[k]);
    deps.push_back(start);
    if (!axes[k].slice && !(k == 0 && outerKnown)) {
      both(c(at[k]) + " == " + c(start));
      continue;
    }
    src.push_back(sub(at[k], start));
    if (k == 0 && outerKnown)
      continue;
    Val stop = dimValue(axes[k].stop);
    deps.push_back(stop);
    both(c(at[k]) + " >= " + c(start) + " && " + c(at[k]) + " < " + c(stop));
  }
  NodeId a = node.operands[0];
  if (inside.empty()) // inside on every axis: read without a branch
    return get(a, src, dt);
  Val cond = c_.temp(DType::Bool, inside, deps);
  Val r = c_.var(dt, konst(0.0, dt));
  c_.open("if (" + c(cond) + ")", {cond});
  auto saved = memo_; // what is computed under the branch is not available after it
  c_.assign(r, get(a, src, dt));
  memo_ = std::move(saved);
  c_.close();
  return r;
}

// --- steps ---

void FunctionPrinter::emitStep(NodeId n) {
  memo_.clear();
  if (const RowSweep *sw = s_.rowSweepOf(n)) {
    if (n == sw->matvec) // a row sweep's other steps are printed with its matvec
      emitRowSweep(*sw);
    return;
  }
  if (s_.riderOfSum(n)) // printed in its loop, the step before
    return;
  if (!g_.type(n).isScalar()) {
    emitMaterialize(n);
  } else {
    Val v;
    switch (opInfo(g_.node(n).op).loop) {
    case LoopKind::Reduce:
      v = emitReduce(n, nullptr);
      break;
    case LoopKind::MatMul:
      v = emitMatMul(n, nullptr);
      break;
    default:
      v = compute(n, {});
    }
    scalars_[static_cast<size_t>(n)] = v;
  }
  memo_.clear();
}

void FunctionPrinter::fill(Val base, DType dtype, const Shape &shape, Val v) {
  forEach(extentsOf(shape), [&](const Index &at) { storeAt(base, shape, at, v, dtype, dtype); });
}

void FunctionPrinter::emitMaterialize(NodeId n) {
  const Node &node = g_.node(n);
  Val out = basePointer(n);
  switch (opInfo(node.op).loop) {
  case LoopKind::Reduce:
    emitReduce(n, out);
    return;
  case LoopKind::MatMul:
    emitMatMul(n, out);
    return;
  case LoopKind::Scatter:
    emitScatter(n, out);
    return;
  default:
    break;
  }
  auto body = [&](const Index &at) {
    memo_.clear();
    storeAt(out, node.type.shape, at, compute(n, at), node.type.dtype, node.type.dtype);
    memo_.clear();
  };
  std::vector<NodeId> gathers = fusedGathers(g_, s_, n);
  if (gathers.empty())
    return forEach(extentsOf(node.type.shape), body);
  // Split the outer loop where every fused gather's slice is inside: there they read
  // their operand unconditionally, so the long middle part is branch-free and vectorizes.
  Val extent = dimValue(node.type.shape[0]);
  Val lo = idx(0), hi = extent;
  auto pick = [&](Val a, const char *op, Val b) {
    if (c(a) == c(b)) // the same either way (and no self-comparison for C compilers to warn of)
      return a;
    return c_.temp(DType::I64, c(a) + op + c(b) + " ? " + c(a) + " : " + c(b), {a, b});
  };
  for (NodeId gnode : gathers) {
    IndexAxis ax = decodeIndexSpec(g_.node(gnode).ints)[0];
    lo = pick(dimValue(ax.start), " > ", lo);
    hi = pick(dimValue(ax.stop), " < ", hi);
  }
  lo = pick(lo, " < ", extent);
  hi = pick(hi, " > ", lo);
  std::vector<Val> inner = extentsOf(Shape(node.type.shape.begin() + 1, node.type.shape.end()));
  std::vector<const SumRider *> riders;
  for (const SumRider &r : s_.riders)
    if (r.loop == n)
      riders.push_back(&r);
  if (riders.empty()) {
    forRange(idx(0), lo, inner, body);
    knownInside_ = gathers;
    forRange(lo, hi, inner, body);
    knownInside_.clear();
    forRange(hi, extent, inner, body);
    return;
  }
  // Sums riding on the loop (Schedule.h's SumRider), in lanes as foldLanes keeps them: the
  // middle part runs as a lane loop that also writes the loop's elements; the head and
  // tail add an element only where the gather's slice is inside.
  DType dt = g_.type(riders[0]->sum).dtype; // one dtype per loop (fuseSumRiders)
  CElementBuilder eb(c_, dt);
  Combine plus = [&](Val x, Val y) { return eb.reduceAdd(x, y); };
  std::vector<std::string> lanes;
  for (size_t k = 0; k < riders.size(); ++k)
    lanes.push_back(laneArray(dt, konst(opInfo(Op::Sum).reduceInit, dt)));
  auto termAt = [&](size_t k, Val i) {
    IndexAxis ax = decodeIndexSpec(g_.node(riders[k]->gather).ints)[0];
    Val t = c_.temp(DType::I64, c(i) + " - " + c(dimValue(ax.start)), {i});
    return get(g_.node(riders[k]->sum).operands[0], {t}, dt);
  };
  auto bodyAndGuardedTerms = [&](const Index &at) {
    body(at);
    for (size_t k = 0; k < riders.size(); ++k) {
      IndexAxis ax = decodeIndexSpec(g_.node(riders[k]->gather).ints)[0];
      Val start = dimValue(ax.start), stop = dimValue(ax.stop);
      c_.open("if (" + c(at[0]) + " >= " + c(start) + " && " + c(at[0]) + " < " + c(stop) + ")", {at[0], start, stop});
      memo_.clear();
      Val slot = c_.expr(lanes[k] + "[0]");
      Val v = plus(slot, termAt(k, at[0]));
      c_.stmt(c(slot) + " = " + c(v) + ";", {v});
      memo_.clear();
      c_.close();
    }
  };
  forRange(idx(0), lo, inner, bodyAndGuardedTerms);
  knownInside_ = gathers;
  Val count = c_.temp(DType::I64, c(hi) + " - " + c(lo), {hi, lo});
  auto at = [&](Val i) { return c_.temp(DType::I64, c(lo) + " + " + c(i), {lo, i}); };
  laneLoop(count, lanes, [&](size_t k, Val i) { return termAt(k, at(i)); }, plus,
           [&](Val i) { body({at(i)}); });
  knownInside_.clear();
  forRange(hi, extent, inner, bodyAndGuardedTerms);
  for (size_t k = 0; k < riders.size(); ++k)
    scalars_[static_cast<size_t>(riders[k]->sum)] = foldArray(lanes[k], plus);
}

Val FunctionPrinter::emitReduce(NodeId n, Val out) {
  const Node &node = g_.node(n);
  const OpInfo &info = opInfo(node.op);
  NodeId a = node.operands[0];
  const Shape &inShape = g_.type(a).shape;
  DType dt = node.type.dtype;
  CElementBuilder eb(c_, dt);
  std::vector<bool> reduced(inShape.size(), false);
  for (int64_t ax : node.ints)
    reduced[static_cast<size_t>(ax)] = true;
  auto join = [&](Val acc, const Index &at) {
    Val both[] = {acc, get(a, at, dt)};
    return info.reduceCombine(eb, std::span<Val const>(both, 2));
  };
  if (!out && !inShape.empty()) // a scalar
    return foldLanes(dt, konst(info.reduceInit, dt), extentsOf(inShape),
                     [&](const Index &at) { return get(a, at, dt); },
                     [&](Val x, Val y) {
                       Val both[] = {x, y};
                       return info.reduceCombine(eb, std::span<Val const>(both, 2));
                     });
  if (!out) { // of a scalar
    Val init = konst(info.reduceInit, dt);
    return join(init, {});
  }
  fill(out, dt, node.type.shape, konst(info.reduceInit, dt));
  forEach(extentsOf(inShape), [&](const Index &at) {
    memo_.clear();
    Index kept;
    for (size_t k = 0; k < at.size(); ++k)
      if (!reduced[k])
        kept.push_back(at[k]);
    storeAt(out, node.type.shape, kept, join(loadAt(out, dt, node.type.shape, kept), at), dt, dt);
    memo_.clear();
  });
  return nullptr;
}

// Folds elementAt(I) over every index I of `extents` with `combine`, into kLanes partial
// results along the innermost axis, joined pairwise at the end. The lanes are independent,
// so a C compiler vectorizes them without reassociating anything itself: the C version of
// the reassociable adds the LLVM lowering emits (DESIGN.md: reductions may be reordered).
// 32 lanes, measured with gcc 12 -O3 -march=native: with 8 or 16, gcc unrolls the lane loop
// completely and vectorizes the outer loop with strided loads (rosenbrock's sum 3-5x slower);
// with 32 it vectorizes the lane loop itself.
std::string FunctionPrinter::laneArray(DType dt, Val init) {
  std::string lanes = c_.arrayName();
  std::string inits = c(init); // the rest are zero-initialized when init is 0
  if (c(init) != cLiteral(0.0, dt))
    for (int l = 1; l < kLanes; ++l)
      inits += ", " + c(init);
  c_.stmt(std::string(cRegisterType(dt)) + " " + lanes + "[" + std::to_string(kLanes) + "] = {" + inits + "};",
          {init});
  return lanes;
}

void FunctionPrinter::laneLoop(Val extent, const std::vector<std::string> &lanes,
                               const std::function<Val(size_t, Val)> &elementAt, const Combine &combine,
                               const std::function<void(Val)> &also) {
  auto step = [&](Val i, const std::string &lane) {
    memo_.clear();
    for (size_t k = 0; k < lanes.size(); ++k) {
      Val slot = c_.expr(lanes[k] + "[" + lane + "]");
      Val v = combine(slot, elementAt(k, i));
      c_.stmt(c(slot) + " = " + c(v) + ";", {v});
    }
    if (also)
      also(i);
    memo_.clear();
  };
  std::string i = c_.loopVar(), l = c_.loopVar();
  std::string width = std::to_string(kLanes);
  c_.stmt("int64_t " + i + " = 0;");
  c_.open("for (; " + i + " + " + width + " <= " + c(extent) + "; " + i + " += " + width + ")", {extent});
  c_.open("for (int " + l + " = 0; " + l + " < " + width + "; ++" + l + ")");
  step(c_.expr("(" + i + " + " + l + ")"), l);
  c_.close();
  c_.close();
  c_.open("for (; " + i + " < " + c(extent) + "; ++" + i + ")", {extent});
  step(c_.expr(i), "0");
  c_.close();
}

Val FunctionPrinter::foldArray(const std::string &lanes, const Combine &combine) {
  std::vector<Val> parts;
  for (int l = 0; l < kLanes; ++l)
    parts.push_back(c_.expr(lanes + "[" + std::to_string(l) + "]"));
  while (parts.size() > 1) {
    std::vector<Val> next;
    for (size_t k = 0; k + 1 < parts.size(); k += 2)
      next.push_back(combine(parts[k], parts[k + 1]));
    parts = std::move(next);
  }
  return parts[0];
}

Val FunctionPrinter::foldLanes(DType dt, Val init, const std::vector<Val> &extents,
                               const std::function<Val(const Index &)> &elementAt, const Combine &combine) {
  std::string lanes = laneArray(dt, init);
  std::vector<Val> outer(extents.begin(), extents.end() - 1);
  forEach(outer, [&](const Index &o) {
    laneLoop(extents.back(), {lanes}, [&](size_t, Val i) {
      Index at = o;
      at.push_back(i);
      return elementAt(at);
    }, combine);
  });
  return foldArray(lanes, combine);
}

// The loops of Lowering.cpp's emitMatMul: inner loops along contiguous rows.
Val FunctionPrinter::emitMatMul(NodeId n, Val out) {
  const Node &node = g_.node(n);
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &as = g_.type(a).shape, &bs = g_.type(bb).shape, &cs = node.type.shape;
  DType dt = node.type.dtype;
  CElementBuilder eb(c_, dt);
  Val k = dimValue(as.back());
  // out[ci] += av * B[p, j] (or B[p])
  auto update = [&](const Index &ci, Val av, const Index &bi) {
    memo_.clear();
    Val sum = eb.add(loadAt(out, dt, cs, ci), eb.mul(av, get(bb, bi, dt)));
    storeAt(out, cs, ci, sum, dt, dt);
    memo_.clear();
  };
  if (bs.size() == 1) { // a dot product per row of A (or one dot product)
    auto dot = [&](const Index &row) {
      return foldLanes(dt, konst(0.0, dt), {k},
                       [&](const Index &p) {
                         Index ai = row;
                         ai.push_back(p[0]);
                         return eb.mul(get(a, ai, dt), get(bb, {p[0]}, dt));
                       },
                       [&](Val x, Val y) { return eb.reduceAdd(x, y); });
    };
    if (as.size() == 1)
      return dot({});
    if (readsColumnMajor(g_, s_, a)) { // W^T @ v: out = sum over p of v[p] * (row p of W)
      fill(out, dt, cs, konst(0.0, dt));
      forEach({k}, [&](const Index &p) {
        memo_.clear();
        Val bv = get(bb, {p[0]}, dt);
        forEach({dimValue(as[0])}, [&](const Index &i) {
          memo_.clear();
          Val sum = eb.add(loadAt(out, dt, cs, {i[0]}), eb.mul(get(a, {i[0], p[0]}, dt), bv));
          storeAt(out, cs, {i[0]}, sum, dt, dt);
          memo_.clear();
        });
      });
      return nullptr;
    }
    forEach({dimValue(as[0])}, [&](const Index &i) { storeAt(out, cs, {i[0]}, dot({i[0]}), dt, dt); });
    return nullptr;
  }
  if (emitMatMulKernel(n, out))
    return nullptr;
  // Lowering.cpp's emitRowUpdates: the first term writes C, the rest add; only an empty
  // shared axis fills C with zeros.
  c_.open("if (" + c(k) + " <= 0)", {k});
  fill(out, dt, cs, konst(0.0, dt));
  c_.close();
  c_.open("if (" + c(k) + " > 0)", {k});
  Val ncols = dimValue(bs[1]);
  auto term = [&](const Index &outRow, Val av, Val p, bool first) {
    forEach({ncols}, [&](const Index &j) {
      Index ci = outRow;
      ci.push_back(j[0]);
      if (first) {
        memo_.clear();
        storeAt(out, cs, ci, eb.mul(av, get(bb, {p, j[0]}, dt)), dt, dt);
        memo_.clear();
      } else {
        update(ci, av, {p, j[0]});
      }
    });
  };
  auto aAt = [&](Index ai, Val p) {
    memo_.clear();
    ai.push_back(p);
    return get(a, ai, dt);
  };
  auto rowUpdate = [&](const Index &outRow, const Index &aRow) {
    term(outRow, aAt(aRow, idx(0)), idx(0), true);
    forRange(idx(1), k, {}, [&](const Index &p) { term(outRow, aAt(aRow, p[0]), p[0], false); });
  };
  if (as.size() == 1) {
    rowUpdate({}, {});
  } else if (readsColumnMajor(g_, s_, a)) { // A[i, p] = W[p, i]: sweep W's rows, p outermost
    auto sweep = [&](Val p, bool first) {
      forEach({dimValue(as[0])}, [&](const Index &i) { term({i[0]}, aAt({i[0]}, p), p, first); });
    };
    sweep(idx(0), true);
    forRange(idx(1), k, {}, [&](const Index &p) { sweep(p[0], false); });
  } else {
    forEach({dimValue(as[0])}, [&](const Index &i) { rowUpdate({i[0]}, {i[0]}); });
  }
  c_.close();
  return nullptr;
}

// Lowering.cpp's emitTiledMatMul: the same kernel, as one C function (CMatMulKernel.h).
bool FunctionPrinter::emitMatMulKernel(NodeId n, Val out) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &as = g_.type(a).shape, &bs = g_.type(bb).shape;
  MatrixInMemory am, bm;
  if (!tilesMatMul(g_, s_, n, am, bm))
    return false;
  kernels_.insert(dt);
  Val m = dimValue(as[0]), k = dimValue(as[1]), ncols = dimValue(bs[1]);
  Val aBase = basePointer(am.buffer), bBase = basePointer(bm.buffer);
  Val rsa = am.transposed ? idx(1) : k, csa = am.transposed ? m : idx(1);
  c_.stmt(cMatMulKernelName(prefix_, dt) + "(" + c(m) + ", " + c(ncols) + ", " + c(k) + ", " + c(aBase) + ", " +
              c(rsa) + ", " + c(csa) + ", " + c(bBase) + ", " + c(ncols) + ", " + c(out) + ");",
          {m, ncols, k, aBase, rsa, csa, bBase, out});
  return true;
}

// A row sweep (Schedule.h), as the LLVM lowering does it: blocks of 4 rows, whose row values
// and updates (rows of the outer products written, terms added to the W^T products) run in
// one loop along the rows with the next block's dot products (in lanes), so W's rows are read
// from memory once, and again from cache.
void FunctionPrinter::emitRowSweep(const RowSweep &sw) {
  constexpr int64_t kRows = 4;
  const Node &mv = g_.node(sw.matvec);
  DType dt = mv.type.dtype;
  CElementBuilder eb(c_, dt);
  NodeId w = mv.operands[0], x = mv.operands[1];
  const Shape &ws = g_.type(w).shape;
  Val m = dimValue(ws[0]), n = dimValue(ws[1]);
  Val q = basePointer(sw.matvec);
  Combine plus = [&](Val a, Val b) { return eb.reduceAdd(a, b); };
  for (NodeId t : sw.transposed)
    fill(basePointer(t), dt, g_.type(t).shape, konst(0.0, dt));

  // The row values of rows `is`, and the g of each product there (read once per row).
  struct Updates {
    std::vector<Val> rows;
    std::vector<std::vector<Val>> go, gt; // per product, per row
  };
  auto prepare = [&](const std::vector<Val> &is) {
    for (Val i : is)
      for (NodeId e : sw.rowValues) {
        memo_.clear();
        storeAt(basePointer(e), g_.type(e).shape, {i}, compute(e, {i}), g_.type(e).dtype, g_.type(e).dtype);
      }
    memo_.clear();
    Updates u{is, std::vector<std::vector<Val>>(sw.outers.size()), std::vector<std::vector<Val>>(sw.transposed.size())};
    auto once = [&](Val v) { return c_.temp(dt, c(v), {v}); };
    for (Val i : is) {
      for (size_t o = 0; o < sw.outers.size(); ++o)
        u.go[o].push_back(once(get(g_.node(sw.outers[o]).operands[0], {i, idx(0)}, dt)));
      for (size_t t = 0; t < sw.transposed.size(); ++t) {
        NodeId gv = g_.node(sw.transposed[t]).operands[1];
        u.gt[t].push_back(once(get(gv, g_.type(gv).shape.size() == 2 ? Index{i, idx(0)} : Index{i}, dt)));
      }
    }
    memo_.clear();
    return u;
  };
  // Column j of the updates.
  auto update = [&](const Updates &u, Val j) {
    for (size_t o = 0; o < sw.outers.size(); ++o) {
      NodeId on = sw.outers[o];
      Val v = get(g_.node(on).operands[1], {idx(0), j}, dt);
      for (size_t k = 0; k < u.rows.size(); ++k)
        storeAt(basePointer(on), g_.type(on).shape, {u.rows[k], j}, eb.mul(u.go[o][k], v), dt, dt);
    }
    for (size_t t = 0; t < sw.transposed.size(); ++t) {
      NodeId tn = sw.transposed[t];
      Val r = basePointer(tn);
      Index ri = g_.type(tn).shape.size() == 2 ? Index{j, idx(0)} : Index{j};
      Val sum = loadAt(r, dt, g_.type(tn).shape, ri);
      for (size_t k = 0; k < u.rows.size(); ++k)
        sum = eb.add(sum, eb.mul(u.gt[t][k], get(w, {u.rows[k], j}, dt)));
      storeAt(r, g_.type(tn).shape, ri, sum, dt, dt);
    }
  };
  // q for rows `dots` (rows past the last recompute it: the same value, stored again), in the
  // loop of `upd`'s updates when given.
  auto sweep = [&](const std::vector<Val> &dots, const Updates *upd) {
    std::vector<std::string> lanes;
    for (size_t k = 0; k < dots.size(); ++k)
      lanes.push_back(laneArray(dt, konst(0.0, dt)));
    laneLoop(n, lanes, [&](size_t k, Val j) { return eb.mul(get(w, {dots[k], j}, dt), get(x, {j}, dt)); }, plus,
             [&](Val j) {
               if (upd)
                 update(*upd, j);
             });
    for (size_t k = 0; k < dots.size(); ++k)
      storeAt(q, mv.type.shape, {dots[k]}, foldArray(lanes[k], plus), dt, dt);
  };
  Val last = c_.temp(DType::I64, c(m) + " - 1", {m});
  auto dotRows = [&](Val i0) {
    std::vector<Val> rows;
    for (int64_t k = 0; k < kRows; ++k) {
      Val i = add(i0, idx(k));
      rows.push_back(c_.expr("(" + c(i) + " < " + c(last) + " ? " + c(i) + " : " + c(last) + ")", {i, last}));
    }
    return rows;
  };

  c_.open("if (" + c(m) + " > 0)", {m}); // the first block's dot products
  sweep(dotRows(idx(0)), nullptr);
  c_.close();
  Val blocks = c_.temp(DType::I64, c(m) + " / " + std::to_string(kRows), {m});
  forEach({blocks}, [&](const Index &b) {
    Val i0 = c_.temp(DType::I64, c(b[0]) + " * " + std::to_string(kRows), {b[0]});
    std::vector<Val> is;
    for (int64_t k = 0; k < kRows; ++k)
      is.push_back(add(i0, idx(k)));
    Updates u = prepare(is);
    sweep(dotRows(add(i0, idx(kRows))), &u);
  });
  // The rows after the last whole block, one by one (their q are known).
  forRange(c_.temp(DType::I64, c(blocks) + " * " + std::to_string(kRows), {blocks}), m, {}, [&](const Index &i) {
    Updates u = prepare({i[0]});
    forEach({n}, [&](const Index &j) {
      memo_.clear();
      update(u, j[0]);
      memo_.clear();
    });
  });
}

void FunctionPrinter::emitScatter(NodeId n, Val out) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  NodeId a = node.operands[0];
  fill(out, dt, node.type.shape, konst(0.0, dt));
  std::vector<IndexAxis> axes = decodeIndexSpec(node.ints);
  forEach(extentsOf(g_.type(a).shape), [&](const Index &sel) {
    memo_.clear();
    Index dst;
    size_t j = 0;
    for (const IndexAxis &ax : axes) {
      Val start = dimValue(ax.start);
      if (!ax.slice) {
        dst.push_back(start);
        continue;
      }
      dst.push_back(add(start, sel[j]));
      ++j;
    }
    storeAt(out, node.type.shape, dst, element(a, sel), g_.type(a).dtype, dt);
    memo_.clear();
  });
}

// Every extent is non-negative and every value's size in range (ir/Type.h): a C condition,
// or "" when nothing needs checking.
std::string FunctionPrinter::sizesOk(std::vector<Val> &deps) {
  // Every dim argument in 0..2^56 first (&& evaluates in order): then no `dim + offset` after
  // it can overflow.
  std::string all = dimArgsInRange();
  for (const Dim &d : s_.extents) {
    Val e = dimValue(d);
    int64_t v;
    if (d.isLiteral() || cIntLiteral(c(e), v))
      continue; // literal sizes are checked at compile time
    all += (all.empty() ? "" : " && ") + c(e) + " >= 0";
    deps.push_back(e);
  }
  for (const Shape &shape : s_.shapes) {
    std::string fits = cShapeFits(c_, g_, dims_, shape, deps);
    if (fits != "1")
      all += (all.empty() ? "" : " && ") + fits;
  }
  return all;
}

// "0 <= a && a <= 2^56" for every dim argument, or "".
std::string FunctionPrinter::dimArgsInRange() {
  std::string all;
  for (size_t i = 0; i < abi_.args.size(); ++i)
    if (abi_.args[i].role == ArgRole::Dim) {
      std::string a = "a" + std::to_string(i);
      all += (all.empty() ? "" : " && ") + a + " >= 0 && " + a + " <= " + std::to_string(kMaxElements);
    }
  return all;
}

// The workspace given when one is needed, every index and slice in range, every pick label
// a class (after sizesOk).
Val FunctionPrinter::boundsOk() {
  std::vector<std::string> conds;
  std::vector<Val> deps;
  auto require = [&](Val a, const char *op, Val b) {
    int64_t x, y;
    if (cIntLiteral(c(a), x) && cIntLiteral(c(b), y)) { // known now: only a failure is kept
      bool holds = std::string(op) == " >= " ? x >= y : x <= y;
      if (!holds)
        conds.push_back("0");
      return;
    }
    if (c(a) == c(b)) // n <= n: always true, and C compilers warn of the comparison
      return;
    conds.push_back(c(a) + op + c(b));
    deps.push_back(a);
    deps.push_back(b);
  };
  auto requireText = [&](const std::string &cond, const std::vector<Val> &condDeps) {
    if (cond == "1")
      return;
    conds.push_back(cond);
    deps.insert(deps.end(), condDeps.begin(), condDeps.end());
  };
  if (wsArg_ >= 0 && !s_.buffers.empty()) { // the layout in range, and the workspace given
    Val valid = nullptr;
    Val bytes = layout(c_, dims_, nullptr, &valid);
    requireText(c(valid) + " && (" + c(bytes) + " == 0 || " + c(arg(wsArg_)) + " != 0)",
                {valid, bytes, arg(wsArg_)});
  }
  for (NodeId n : s_.indexNodes) {
    const Node &node = g_.node(n);
    const Shape &full = node.op == Op::Index ? g_.type(node.operands[0]).shape : node.type.shape;
    std::vector<IndexAxis> axes = decodeIndexSpec(node.ints);
    for (size_t k = 0; k < axes.size(); ++k) {
      Val start = dimValue(axes[k].start);
      Val stop = axes[k].slice ? dimValue(axes[k].stop) : add(start, idx(1));
      require(start, " >= ", idx(0));
      require(stop, " <= ", dimValue(full[k]));
      require(start, " <= ", stop);
    }
  }
  if (conds.empty() && s_.pickNodes.empty())
    return nullptr; // nothing to check
  std::string all;
  for (const std::string &cond : conds)
    all += (all.empty() ? "" : " && ") + cond;
  Val ok = c_.temp(DType::Bool, all.empty() ? "1" : all, deps);
  for (NodeId n : s_.pickNodes) {
    const Node &node = g_.node(n);
    NodeId y = node.operands[1];
    Val classes = dimValue(g_.type(node.operands[0]).shape[1]);
    Val flag = c_.var(DType::Bool, ok);
    forEach(extentsOf(g_.type(y).shape), [&](const Index &i) {
      memo_.clear();
      Val label = get(y, i, DType::I64);
      Val good = c_.temp(DType::Bool, c(flag) + " && " + c(label) + " >= 0 && " + c(label) + " < " + c(classes),
                         {flag, label, classes});
      c_.assign(flag, good);
      memo_.clear();
    });
    ok = flag;
  }
  return ok;
}

// An index out of range: every output is NaN (DESIGN.md), nothing is read.
void FunctionPrinter::emitFailure() {
  for (size_t r = 0; r < roots_.size(); ++r) {
    if (roots_[r] == kNoNode || outputArg_[r] < 0)
      continue;
    DType to = outputDtype(r);
    Val nan = konst(std::numeric_limits<double>::quiet_NaN(), to);
    const Type &t = g_.type(roots_[r]);
    Val out = arg(outputArg_[r]);
    if (t.isScalar())
      c_.stmt("*" + c(out) + " = " + c(nan) + ";", {out});
    else
      fill(out, to, t.shape, nan);
  }
  if (abi_.returnsValue)
    c_.stmt("return " + cLiteral(std::numeric_limits<double>::quiet_NaN(), abi_.returnType) + ";");
  else
    c_.stmt("return;");
}

// The workspace: one 64-byte aligned buffer per slot, as the LLVM lowering lays it out, in
// unsigned arithmetic (defined when it wraps); `valid` says whether every buffer's size is in
// range and the sum did not wrap (otherwise the bytes are meaningless).
Val FunctionPrinter::layout(CBody &c, const std::vector<Val> &dims, std::vector<Val> *offsets, Val *valid) {
  CIndexMapper im(c, g_, dims);
  Val total = c.expr("(uint64_t)0");
  std::string ok;
  std::vector<Val> okDeps;
  for (NodeId n : s_.buffers) {
    if (offsets)
      offsets->push_back(total);
    const Type &t = g_.type(n);
    std::string count = "(uint64_t)" + std::to_string(byteSize(t.dtype));
    std::vector<Val> deps;
    for (const Dim &d : t.shape) {
      Val e = im.dim(d);
      deps.push_back(e);
      int64_t v;
      count += cIntLiteral(c.c(e), v) ? " * " + std::to_string(std::max<int64_t>(v, 0))
                                      : " * (uint64_t)(" + c.c(e) + " < 0 ? 0 : " + c.c(e) + ")";
    }
    Val bytes = c.temp("const uint64_t", "(" + count + " + " + std::to_string(kBufferAlign - 1) + ") & ~(uint64_t)" +
                                             std::to_string(kBufferAlign - 1),
                       deps);
    Val sum = c.temp("const uint64_t", c.c(total) + " + " + c.c(bytes), {total, bytes});
    if (valid) {
      std::string fits = cShapeFits(c, g_, dims, t.shape, okDeps);
      if (fits != "1")
        ok += (ok.empty() ? "" : " && ") + fits;
      if (total != nullptr && c.c(total) != "(uint64_t)0") {
        ok += (ok.empty() ? "" : " && ") + c.c(sum) + " >= " + c.c(total);
        okDeps.push_back(sum);
        okDeps.push_back(total);
      }
    }
    total = sum;
  }
  if (valid)
    *valid = ok.empty() ? c.expr("1") : c.temp(DType::Bool, ok, okDeps);
  return total;
}

std::string FunctionPrinter::print() {
  // Arguments are a0, a1, ... in the definition (the header names them as the source
  // does), so no user name can clash with a name the printer makes up.
  ArgumentMap m = mapArguments(abi_, in_.fn->params.size(), roots_.size());
  paramArg_ = std::move(m.paramArg);
  outputArg_ = std::move(m.outputArg);
  wsArg_ = m.wsArg;
  dims_.assign(g_.dims().names.size(), nullptr);
  for (auto [sym, v] : in_.boundDims)
    dims_[static_cast<size_t>(sym)] = idx(v);
  std::vector<std::string> types = abi_.cTypes();
  std::string params, comment;
  for (size_t i = 0; i < abi_.args.size(); ++i) {
    const AbiArg &a = abi_.args[i];
    int k = static_cast<int>(i);
    if (a.role == ArgRole::Dim)
      dims_[static_cast<size_t>(a.index)] = arg(k);
    const std::string &ty = types[i + 1];
    bool restrict = a.pointer && a.role != ArgRole::Workspace;
    params += (i ? ", " : "") + ty + (ty.back() == '*' ? "" : " ") + (restrict ? "restrict " : "") + "a" +
              std::to_string(k);
    comment += (i ? ", " : "") + std::string("a") + std::to_string(k) + " = " + a.name;
  }
  scalars_.assign(g_.size(), nullptr);

  // Sizes first: dims that are negative or too large to index make no array the caller can
  // have, so the value is NaN and nothing is read or written.
  std::vector<Val> sizeDeps;
  if (std::string sizes = sizesOk(sizeDeps); !sizes.empty()) {
    c_.open("if (!(" + sizes + "))", sizeDeps);
    c_.stmt(abi_.returnsValue ? "return " + cLiteral(std::numeric_limits<double>::quiet_NaN(), abi_.returnType) + ";"
                              : "return;");
    c_.close();
  }
  if (Val ok = boundsOk()) {
    c_.open("if (!" + c_.c(ok) + ")", {ok});
    emitFailure();
    c_.close();
  }
  if (wsArg_ >= 0 && !s_.buffers.empty()) {
    Val ws = c_.temp("char *const", "(char *)" + c(arg(wsArg_)), {});
    std::vector<Val> offsets;
    layout(c_, dims_, &offsets);
    for (size_t k = 0; k < s_.buffers.size(); ++k) {
      const char *ty = cTypeName(g_.type(s_.buffers[k]).dtype);
      buffers_.push_back(c_.temp(std::string(ty) + " *const", "(" + std::string(ty) + " *)(void *)(" +
                                                                   c(ws) + " + " + c(offsets[k]) + ")",
                                 {ws, offsets[k]}));
    }
  }
  for (NodeId step : s_.steps)
    emitStep(step);
  for (size_t r : s_.copies) {
    NodeId id = roots_[r];
    const Type &t = g_.type(id);
    Val out = arg(outputArg_[r]);
    forEach(extentsOf(t.shape), [&](const Index &at) {
      memo_.clear();
      storeAt(out, t.shape, at, element(id, at), t.dtype, outputDtype(r));
      memo_.clear();
    });
  }
  for (size_t r = 1; r < roots_.size(); ++r) {
    NodeId id = roots_[r];
    if (id != kNoNode && g_.type(id).isScalar()) {
      Val v = cConvert(c_, scalarOf(id), g_.type(id).dtype, outputDtype(r));
      c_.stmt("*a" + std::to_string(outputArg_[r]) + " = " + c(v) + ";", {v});
    }
  }
  if (abi_.returnsValue) {
    Val v = cConvert(c_, scalarOf(roots_[0]), g_.type(roots_[0]).dtype, abi_.returnType);
    c_.stmt("return " + c(v) + ";", {v});
  }
  std::string body = c_.finish();
  // Arguments the body never reads (a workspace f does not need, say) are marked used.
  std::string unused;
  for (size_t i = 0; i < abi_.args.size(); ++i) {
    std::string name = "a" + std::to_string(i);
    if (!readsName(body, name))
      unused += "  (void)" + name + ";\n";
  }
  std::string ret = abi_.returnsValue ? cTypeName(abi_.returnType) : "void";
  return "/* " + comment + " */\n" + ret + " " + abi_.symbol + "(" + params + ") {\n" + unused + body + "}\n";
}

} // namespace

AbiSet printCFunctions(const LoweringInput &in, const std::string &prefix, std::string &out,
                       std::set<DType> &kernels) {
  AbiSet abi = describeAbi(*in.fn, in.graph->dims(), in.boundDims, prefix);
  FunctionPrinter value(in, abi.value, {in.value}, prefix, kernels);
  FunctionPrinter grad(in, abi.grad, in.gradRoots, prefix, kernels);
  out += value.print() + "\n" + grad.print() + "\n";

  // size_t f_workspace_size(dims...): enough for both f and f_grad.
  CBody c;
  std::vector<Val> dims(in.graph->dims().names.size(), nullptr);
  for (auto [sym, v] : in.boundDims)
    dims[static_cast<size_t>(sym)] = c.expr(std::to_string(v));
  std::string params, inRange;
  std::vector<Val> dimArgs;
  for (size_t i = 0; i < abi.dimArgs.size(); ++i) {
    std::string a = "a" + std::to_string(i);
    params += (i ? ", " : "") + std::string("int64_t ") + a;
    dims[static_cast<size_t>(abi.dimArgs[i])] = c.expr(a);
    dimArgs.push_back(dims[static_cast<size_t>(abi.dimArgs[i])]);
    inRange += (inRange.empty() ? "" : " && ") + a + " >= 0 && " + a + " <= " + std::to_string(kMaxElements);
  }
  if (!inRange.empty()) { // before anything adds to a dim (ABI.md: SIZE_MAX out of range)
    c.open("if (!(" + inRange + "))", dimArgs);
    c.stmt("return (size_t)-1;");
    c.close();
  }
  Val aValid = nullptr, gValid = nullptr;
  Val a = value.layout(c, dims, nullptr, &aValid);
  Val g = grad.layout(c, dims, nullptr, &gValid);
  // Sizes beyond what can be indexed, or a sum that wraps, report SIZE_MAX (ABI.md).
  std::string valid = c.c(aValid) == "1" ? c.c(gValid) : c.c(gValid) == "1" ? c.c(aValid)
                                                                             : c.c(aValid) + " && " + c.c(gValid);
  const std::string zero = "(uint64_t)0"; // no buffers: an unsigned 0 > t would warn (-Wtype-limits)
  std::string most = c.c(a) == c.c(g) || c.c(g) == zero ? c.c(a)
                     : c.c(a) == zero                   ? c.c(g)
                                      : "(" + c.c(a) + " > " + c.c(g) + " ? " + c.c(a) + " : " + c.c(g) + ")";
  if (valid == "1")
    c.stmt("return (size_t)" + most + ";", {a, g});
  else
    c.stmt("return " + valid + " ? (size_t)" + most + " : (size_t)-1;", {a, g, aValid, gValid});
  std::string body = c.finish();
  for (size_t i = 0; i < abi.dimArgs.size(); ++i)
    if (!readsName(body, "a" + std::to_string(i)))
      body = "  (void)a" + std::to_string(i) + ";\n" + body;
  out += "size_t " + abi.workspaceSizeSymbol + "(" + (params.empty() ? "void" : params) + ") {\n" + body + "}\n";
  return abi;
}

} // namespace gradc
