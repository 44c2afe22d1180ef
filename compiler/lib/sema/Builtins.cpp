// Builtins.cpp: the language's builtin functions, checked and lowered to IR ops.
#include "sema/ExprBuilder.h"

#include "ir/OpTable.h"

#include <algorithm>
#include <limits>
#include <map>

namespace gradc {

namespace {

constexpr int kManyArgs = std::numeric_limits<int>::max();

struct Builtin {
  int minArgs, maxArgs;
  bool takesAxis;
};

// Elementwise functions of one argument and the op each becomes.
const std::map<std::string, Op> &unaryBuiltins() {
  static const std::map<std::string, Op> m{
      {"exp", Op::Exp},       {"log", Op::Log},     {"sqrt", Op::Sqrt},   {"sin", Op::Sin},
      {"cos", Op::Cos},       {"tanh", Op::Tanh},   {"sigmoid", Op::Sigmoid},
      {"relu", Op::Relu},     {"abs", Op::Abs},     {"sign", Op::Sign},   {"log1p", Op::Log1p},
      {"expm1", Op::Expm1},   {"erf", Op::Erf},     {"erfc", Op::Erfc},   {"lgamma", Op::Lgamma},
      {"digamma", Op::Digamma}, {"tan", Op::Tan},   {"asin", Op::Asin},   {"acos", Op::Acos},
      {"atan", Op::Atan},     {"sinh", Op::Sinh},   {"cosh", Op::Cosh},   {"log2", Op::Log2},
      {"log10", Op::Log10},   {"exp2", Op::Exp2},   {"softplus", Op::Softplus},
      {"floor", Op::Floor},   {"ceil", Op::Ceil},   {"round", Op::Round}};
  return m;
}

const std::map<std::string, Builtin> &builtins() {
  static const std::map<std::string, Builtin> m{
      {"max", {1, 2, true}},       {"min", {1, 2, true}},     {"pow", {2, 2, false}},
      {"sum", {1, 1, true}},       {"mean", {1, 1, true}},    {"logsumexp", {1, 1, true}},
      {"softmax", {1, 1, true}},   {"transpose", {1, 1, false}}, {"pick", {2, 2, false}},
      {"reshape", {2, 2, false}},  {"where", {3, 3, false}},  {"atan2", {2, 2, false}},
      {"hypot", {2, 2, false}},    {"clamp", {3, 3, false}},  {"square", {1, 1, false}},
      {"zeros", {1, 1, false}},    {"ones", {1, 1, false}},   {"full", {2, 2, false}},
      {"iota", {1, 1, false}},     {"eye", {1, 1, false}},
      {"concat", {1, kManyArgs, true}}, {"stack", {1, kManyArgs, true}},
      {"tril", {1, 1, true}},      {"triu", {1, 1, true}},    {"diag", {1, 1, false}},
      {"diagonal", {1, 1, false}}, {"trace", {1, 1, false}},  {"outer", {2, 2, false}},
      {"cross", {2, 2, true}},     {"prod", {1, 1, true}},    {"norm", {1, 1, true}},
      {"flip", {1, 1, true}},      {"cumsum", {1, 1, true}}};
  return m;
}

std::string plural(int n, const char *word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

} // namespace

bool isBuiltinFunction(const std::string &name) {
  return unaryBuiltins().count(name) || builtins().count(name);
}

std::optional<int64_t> ExprBuilder::axisArg(const std::vector<ExprId> &kws, const char *fn,
                                            bool &ok) {
  std::optional<int64_t> axis;
  for (ExprId k : kws) {
    const Expr &kw = ast_[k];
    if (kw.text != "axis") {
      fail(kw.loc, "unknown keyword argument '" + kw.text + "' for '" + fn + "'");
      ok = false;
      return axis;
    }
    const Value &v = values_[kw.kids[0]];
    if (!v.dim || v.dim->sym != -1) { // a literal (not -n, not out of range)
      fail(ast_[kw.kids[0]].loc, "'axis' must be an integer literal");
      ok = false;
      return axis;
    }
    axis = v.dim->off;
  }
  return axis;
}

// The number of elements reduced, as a node: literal sizes fold, dims are read at run time.
NodeId ExprBuilder::countOf(const Shape &shape, const std::vector<int64_t> &axes, DType dtype) {
  dtype = dtype == DType::F32 ? DType::F32 : DType::F64; // the count is weakly typed
  double lit = 1;
  NodeId count = kNoNode;
  for (int64_t ax : axes) {
    const Dim &d = shape[static_cast<size_t>(ax)];
    if (d.isLiteral()) {
      lit *= static_cast<double>(d.off);
      continue;
    }
    Attrs a;
    a.ints = {d.sym};
    a.type.dtype = dtype;
    NodeId n = g_.make(Op::DimValue, {}, a);
    if (d.off != 0)
      n = g_.make(Op::Add, {n, g_.constant(static_cast<double>(d.off), {}, dtype)});
    count = count == kNoNode ? n : g_.make(Op::Mul, {count, n});
  }
  NodeId l = g_.constant(lit, {}, dtype);
  return count == kNoNode ? l : g_.make(Op::Mul, {count, l});
}

// A reduction (sum, reduce_max, reduce_min) over one axis (negative counts from the end)
// or over everything; `mean` divides a sum by the count.
NodeId ExprBuilder::reduce(SourceLoc loc, NodeId x, std::optional<int64_t> axis, bool mean, Op op) {
  const Shape shape = g_.type(x).shape;
  int64_t rank = static_cast<int64_t>(shape.size());
  Attrs a;
  if (axis) {
    int64_t ax = *axis < 0 ? *axis + rank : *axis;
    if (ax < 0 || ax >= rank) {
      diags_.error(loc, "axis " + std::to_string(*axis) + " is out of range for a value of shape " +
                            g_.dims().str(shape));
      return kNoNode;
    }
    a.ints = {ax};
  } else {
    for (int64_t k = 0; k < rank; ++k)
      a.ints.push_back(k);
  }
  std::vector<int64_t> axes = a.ints;
  NodeId s = make(loc, op, {x}, a);
  if (s == kNoNode || !mean)
    return s;
  std::vector<NodeId> ops{s, countOf(shape, axes, g_.type(x).dtype)};
  if (!broadcastAll(loc, "'mean'", ops))
    return kNoNode;
  return make(loc, Op::Div, ops);
}

// A @ B with an operand of rank above 2: NumPy's batched product, one matrix product per
// index of the leading axes, which broadcast (a vector operand is a one-row or one-column
// matrix whose axis then drops out). The matmul op takes equal batch axes: an operand with
// fewer is broadcast first, so its gradient sums over them by broadcast's rule.
NodeId ExprBuilder::batchedMatMul(SourceLoc loc, NodeId a, NodeId b) {
  const Type ta = g_.type(a), tb = g_.type(b); // copies: building nodes may move the array
  const DimTable &dims = g_.dims();
  std::string both = dims.str(ta.shape) + " @ " + dims.str(tb.shape);
  bool vectorA = ta.shape.size() == 1, vectorB = tb.shape.size() == 1;
  Shape sa = ta.shape, sb = tb.shape;
  if (vectorA)
    sa.insert(sa.begin(), Dim::lit(1));
  if (vectorB)
    sb.push_back(Dim::lit(1));
  const Dim ka = sa.back(), kb = sb[sb.size() - 2];
  if (!(ka == kb)) {
    diags_.error(loc, "shape mismatch in '@': " + both + " (inner sizes " + dims.str(ka) + " and " +
                          dims.str(kb) + " differ)");
    return kNoNode;
  }
  Shape batchA(sa.begin(), sa.end() - 2), batchB(sb.begin(), sb.end() - 2);
  for (size_t i = 1; i <= std::min(batchA.size(), batchB.size()); ++i) {
    const Dim &x = batchA[batchA.size() - i], &y = batchB[batchB.size() - i];
    if (!(x == y) && !(x == Dim::lit(1)) && !(y == Dim::lit(1))) {
      diags_.error(loc, "the batch axes of '@' do not broadcast together: " + both);
      return kNoNode;
    }
  }
  Shape batch = batchA.size() >= batchB.size() ? batchA : batchB;
  for (size_t i = 1; i <= std::min(batchA.size(), batchB.size()); ++i) {
    Dim &t = batch[batch.size() - i];
    if (t == Dim::lit(1))
      t = (batchA.size() >= batchB.size() ? batchB : batchA)[std::min(batchA.size(), batchB.size()) - i];
  }
  // Each operand as a batch of matrices: [batch..., rows, cols].
  auto asBatch = [&](NodeId x, DType dt, const Shape &matrix) {
    Shape full = batch;
    full.insert(full.end(), matrix.end() - 2, matrix.end());
    if (!(g_.type(x).shape == matrix)) {
      Attrs r;
      r.type = Type{dt, matrix};
      x = make(loc, Op::Reshape, {x}, r);
    }
    if (x != kNoNode && !(g_.type(x).shape == full)) {
      Attrs r;
      r.type = Type{dt, full};
      x = make(loc, Op::Broadcast, {x}, r);
    }
    return x;
  };
  NodeId A = asBatch(a, ta.dtype, sa), B = asBatch(b, tb.dtype, sb);
  if (A == kNoNode || B == kNoNode)
    return kNoNode;
  NodeId product = make(loc, Op::MatMul, {A, B});
  if (product == kNoNode || !(vectorA || vectorB))
    return product;
  Attrs squeeze;
  squeeze.type = g_.type(product);
  if (vectorB)
    squeeze.type.shape.pop_back();
  if (vectorA)
    squeeze.type.shape.erase(squeeze.type.shape.end() - 1 - (vectorB ? 0 : 1));
  return make(loc, Op::Reshape, {product}, squeeze);
}

ExprBuilder::Value ExprBuilder::builtin(const Expr &e, const std::vector<ExprId> &args,
                                        const std::vector<ExprId> &kws) {
  const std::string &fn = e.text;
  int n = static_cast<int>(args.size());
  auto node = [&](size_t i) { return values_[args[i]].node; };
  auto ok = [](NodeId id) { return Value{id, std::nullopt, id == kNoNode}; };

  if (auto u = unaryBuiltins().find(fn); u != unaryBuiltins().end()) {
    if (n != 1)
      return fail(e.loc, "'" + fn + "' takes 1 argument, got " + std::to_string(n));
    if (!kws.empty())
      return fail(ast_[kws[0]].loc, "'" + fn + "' takes no keyword arguments");
    // log(exp(y)) -> y: what makes log(softmax(s)) the stable s - logsumexp(s).
    if (u->second == Op::Log && g_.node(node(0)).op == Op::Exp)
      return ok(g_.node(node(0)).operands[0]);
    // log(pick(exp(z), y)) -> pick(z, y): so the cross-entropy -log(pick(softmax(s), y)) is
    // the stable logsumexp(s) - pick(s, y).
    if (u->second == Op::Log && g_.node(node(0)).op == Op::Pick) {
      const Node &p = g_.node(node(0));
      if (g_.node(p.operands[0]).op == Op::Exp)
        return ok(make(e.loc, Op::Pick, {g_.node(p.operands[0]).operands[0], p.operands[1]}));
    }
    return ok(make(e.loc, u->second, {node(0)}));
  }
  auto b = builtins().find(fn);
  if (b == builtins().end()) {
    if (env.count(fn))
      return fail(e.loc, "'" + fn + "' is a value, not a function");
    return fail(e.loc, "unknown function '" + fn + "'");
  }
  const Builtin &spec = b->second;
  if (n < spec.minArgs || n > spec.maxArgs) {
    std::string want = spec.minArgs == spec.maxArgs ? plural(spec.minArgs, "argument")
                       : spec.maxArgs == kManyArgs  ? "at least " + plural(spec.minArgs, "argument")
                                                    : std::to_string(spec.minArgs) + " or " + plural(spec.maxArgs, "argument");
    return fail(e.loc, "'" + fn + "' takes " + want + ", got " + std::to_string(n));
  }
  if (!spec.takesAxis && !kws.empty())
    return fail(ast_[kws[0]].loc, "'" + fn + "' takes no keyword arguments");
  if (fn == "tril" || fn == "triu") // keyword k, not axis
    return triangle(e, node(0), kws);
  bool good = true;
  std::optional<int64_t> axis = axisArg(kws, fn.c_str(), good);
  if (!good)
    return Value{kNoNode, std::nullopt, true};

  if (isTensorBuilder(fn))
    return tensorBuilder(e, args, axis);
  if (isStructureBuiltin(fn))
    return structureBuiltin(e, args, axis);
  if ((fn == "max" || fn == "min") && n == 2) {
    if (!kws.empty())
      return fail(ast_[kws[0]].loc, "'" + fn + "' of two arguments is elementwise and takes no 'axis'");
    std::vector<NodeId> ops{node(0), node(1)};
    if (!broadcastAll(e.loc, ("'" + fn + "'").c_str(), ops))
      return Value{kNoNode, std::nullopt, true};
    return ok(make(e.loc, fn == "max" ? Op::Max : Op::Min, ops));
  }
  if (fn == "pow" || fn == "atan2" || fn == "hypot") {
    std::vector<NodeId> ops{node(0), node(1)};
    if (!broadcastAll(e.loc, ("'" + fn + "'").c_str(), ops))
      return Value{kNoNode, std::nullopt, true};
    return ok(make(e.loc, fn == "pow" ? Op::Pow : fn == "atan2" ? Op::Atan2 : Op::Hypot, ops));
  }
  if (fn == "square") // x * x: the gradient 2 x da comes from the fan-out
    return ok(make(e.loc, Op::Mul, {node(0), node(0)}));
  if (fn == "clamp")
    return ok(clampBuiltin(e.loc, node(0), node(1), node(2)));
  if (fn == "sum" || fn == "mean")
    return ok(reduce(e.loc, node(0), axis, fn == "mean"));
  if (fn == "max" || fn == "min")
    return ok(reduce(e.loc, node(0), axis, false, fn == "max" ? Op::ReduceMax : Op::ReduceMin));
  if (fn == "logsumexp" || fn == "softmax")
    return ok(logSumExp(e.loc, node(0), axis, fn == "softmax"));
  if (fn == "transpose")
    return ok(transposeOf(e.loc, node(0)));
  if (fn == "where") {
    if (g_.type(node(0)).dtype != DType::Bool)
      return fail(ast_[args[0]].loc, "the first argument of 'where' must be a comparison");
    std::vector<NodeId> ops{node(0), node(1), node(2)};
    if (!broadcastAll(e.loc, "'where'", ops))
      return Value{kNoNode, std::nullopt, true};
    return ok(make(e.loc, Op::Where, ops));
  }
  if (fn == "reshape")
    return reshapeBuiltin(e, args);
  if (fn == "pick") {
    if (!isInteger(g_.type(node(1)).dtype))
      return fail(ast_[args[1]].loc, "the labels of 'pick' must be integers: declare them as a "
                                     "const i32 or i64 parameter");
    return ok(make(e.loc, Op::Pick, {node(0), node(1)}));
  }
  return fail(e.loc, "'" + fn + "' is not supported yet");
}

// clamp(x, lo, hi) = min(max(x, lo), hi) (hi when lo > hi, as NumPy and PyTorch), broadcasting,
// built from wheres so the gradient goes to whichever value was taken: x where
// lo <= x <= hi, else the bound. A NaN x stays NaN with no gradient (as PyTorch's).
NodeId ExprBuilder::clampBuiltin(const SourceLoc &loc, NodeId x, NodeId lo, NodeId hi) {
  std::vector<NodeId> ops{x, lo, hi};
  if (!broadcastAll(loc, "'clamp'", ops))
    return kNoNode;
  x = ops[0], lo = ops[1], hi = ops[2];
  NodeId nan = make(loc, Op::Ne, {x, x});
  NodeId passed = make(loc, Op::Where, {nan, make(loc, Op::Detach, {x}), x});
  NodeId raised = make(loc, Op::Where, {make(loc, Op::Lt, {passed, lo}), lo, passed});
  return make(loc, Op::Where, {make(loc, Op::Gt, {raised, hi}), hi, raised});
}

// reshape(x, [d, ...]): each entry a static dim, positive and at most kMaxDimSize.
ExprBuilder::Value ExprBuilder::reshapeBuiltin(const Expr &e, const std::vector<ExprId> &args) {
  std::optional<Shape> shape = shapeList(args[1], "reshape");
  if (!shape)
    return Value{kNoNode, std::nullopt, true};
  NodeId x = values_[args[0]].node;
  Attrs a;
  a.type = Type{g_.type(x).dtype, *shape};
  NodeId reshaped = make(e.loc, Op::Reshape, {x}, a);
  return Value{reshaped, std::nullopt, reshaped == kNoNode};
}

// logsumexp(x) = m + log(sum(exp(x - m))) with m = max(x): every exp is of a number <= 0,
// so nothing overflows, and the largest term is exp(0) = 1, so the log's argument is >= 1.
// m is detached: the derivative through it cancels exactly in the math, and without it the
// gradient is exactly softmax(x). An all -inf input gives -inf (m is replaced by 0 where it
// is infinite, as PyTorch does). softmax(x) = exp(x - logsumexp(x)), from the same parts.
NodeId ExprBuilder::logSumExp(SourceLoc loc, NodeId x, std::optional<int64_t> axis, bool softmax) {
  NodeId m = reduce(loc, x, axis, false, Op::ReduceMax);
  if (m == kNoNode)
    return kNoNode;
  const Type mt = g_.type(m); // a copy: building nodes may move the node array
  NodeId inf = g_.constant(std::numeric_limits<double>::infinity(), mt.shape, mt.dtype);
  NodeId zero = g_.constant(0.0, mt.shape, mt.dtype);
  NodeId finite = g_.make(Op::Ne, {g_.make(Op::Abs, {m}), inf});
  m = g_.make(Op::Detach, {g_.make(Op::Where, {finite, m, zero})});
  // m back over the reduced axes (as a size-1 axis, then broadcast).
  const Shape shape = g_.type(x).shape;
  int64_t rank = static_cast<int64_t>(shape.size());
  Attrs keep;
  keep.type = Type{mt.dtype, {}};
  for (int64_t k = 0; k < rank; ++k) {
    bool reduced = !axis || k == (*axis < 0 ? *axis + rank : *axis);
    keep.type.shape.push_back(reduced ? Dim::lit(1) : shape[static_cast<size_t>(k)]);
  }
  auto spread = [&](NodeId v) {
    std::vector<NodeId> ops{x, g_.make(Op::Reshape, {v}, keep)};
    broadcastAll(loc, "'logsumexp'", ops);
    return ops[1];
  };
  NodeId shifted = make(loc, Op::Sub, {x, spread(m)});
  NodeId s = reduce(loc, make(loc, Op::Exp, {shifted}), axis, false, Op::Sum);
  NodeId lse = make(loc, Op::Add, {m, make(loc, Op::Log, {s})});
  if (!softmax)
    return lse;
  return make(loc, Op::Exp, {make(loc, Op::Sub, {x, spread(lse)})});
}

} // namespace gradc
