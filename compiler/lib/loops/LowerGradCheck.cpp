// LowerGradCheck.cpp: f_gradcheck as loop IR. The parameters are copied into the workspace
// after f's own (the caller's arrays are const, and f_grad must see exactly what f sees),
// f_grad is called once, then every element of every differentiable float parameter is
// moved by +-h and f called twice:
//   error = |g - d| / max(1, |g|, |d|),  d = (F(x + h) - F(x - h)) / ((x + h) - (x - h))
// with F = f for a scalar result and <d_out, f> otherwise (summed in order, in double), and
// h = cbrt(eps) max(1, |x|) rounded to x's type. Dividing by the difference of the rounded
// moved values rather than by 2h keeps d free of the rounding of x +- h. The worst error is
// returned: NaN when any error is NaN, when f fails (a NaN value) on the inputs, when a dim
// is out of range or a shape too large to index, or when a workspace is needed and NULL. The
// size function returns SIZE_MAX for such dims and for a layout whose sum wraps.
#include "loops/LowerGradCheck.h"

#include "loops/Builder.h"
#include "loops/DerivedDims.h"
#include "loops/ElementRules.h"
#include "loops/FunctionLowering.h"
#include "gradc/Diagnostics.h"

#include <limits>

namespace gradc::loops {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double stepFor(DType t) { return centralDifferenceStep(t); }

// Byte offsets (U64) of the buffers after f's own workspace, and the bytes in all.
struct Layout {
  std::vector<ExprId> copy, grad; // per parameter; kNone for scalars (on the stack) and const
  ExprId out = kNone;             // a non-scalar result
  ExprId total = kNone;
  ExprId valid = kNone; // f's size known, no sum wrapped: only then is `total` meaningful
};

class GradCheckLowering {
public:
  GradCheckLowering(const Function &fn, const AbiSet &abi, const std::map<int32_t, int64_t> &bound)
      : fn_(fn), g_(*fn.graph), abi_(abi), bound_(bound), result_(g_.type(fn.result)) {
    const std::vector<AbiArg> &args = abi.gradcheck.args;
    paramArg_.assign(fn.params.size(), -1);
    for (size_t i = 0; i < args.size(); ++i) {
      int32_t k = static_cast<int32_t>(i);
      if (args[i].role == ArgRole::Param)
        paramArg_[static_cast<size_t>(args[i].index)] = k;
      else if (args[i].role == ArgRole::DOut)
        dOutArg_ = k;
      else if (args[i].role == ArgRole::Workspace)
        wsArg_ = k;
      else if (args[i].role == ArgRole::Dim) // the dims come first, in abi.dimArgs' order
        GRADC_ASSERT(i < abi.dimArgs.size() && abi.dimArgs[i] == args[i].index, "gradcheck's dims out of order");
    }
  }

  std::unique_ptr<Func> checkFunction();
  std::unique_ptr<Func> sizeFunction();

private:
  void begin(Func &f);
  ExprId dimValue(const Dim &d) {
    return d.isLiteral() ? f_->i64(d.off) : f_->add(dims_[static_cast<size_t>(d.sym)], f_->i64(d.off));
  }
  ExprId count(const Shape &shape);
  ExprId sizesOk();
  Layout layout();
  void placeBuffers(const Layout &l);
  void copyParams();
  ExprId call(const AbiFunction &target);
  ExprId objective(const std::string &name);
  void checkElement(size_t p, ExprId i);
  ExprId toDouble(ExprId v, DType t) { return convert(*f_, v, t, DType::F64); }
  ExprId loadValue(int32_t buffer, ExprId i, DType t);
  void storeValue(int32_t buffer, ExprId i, ExprId v, DType t) {
    b_->store(buffer, i, t == DType::Bool ? f_->cast(kI8, v) : v);
  }

  const Function &fn_;
  const Graph &g_;
  const AbiSet &abi_;
  const std::map<int32_t, int64_t> &bound_;
  const Type &result_;
  std::vector<int32_t> paramArg_; // parameter -> f_gradcheck's argument
  int32_t dOutArg_ = kNone, wsArg_ = kNone;

  // The function being built.
  Func *f_ = nullptr;
  std::unique_ptr<Builder> b_;
  std::vector<ExprId> dims_;          // per dim symbol: its value (kNone: not this function's)
  std::vector<int32_t> copy_, grad_;  // per parameter: its copy's and gradient's buffers
  int32_t out_ = kNone, dOut_ = kNone;
  int32_t worst_ = kNone;
};

void GradCheckLowering::begin(Func &f) {
  f_ = &f;
  b_ = std::make_unique<Builder>(f);
  dims_.assign(g_.dims().names.size(), kNone);
  for (auto [sym, v] : bound_)
    if (static_cast<size_t>(sym) < dims_.size())
      dims_[static_cast<size_t>(sym)] = f.i64(v);
  for (size_t i = 0; i < abi_.dimArgs.size(); ++i)
    dims_[static_cast<size_t>(abi_.dimArgs[i])] = f.arg(static_cast<int32_t>(i));
  deriveDims(f, g_.dims(), dims_, fn_.mentionedDims());
  copy_.assign(fn_.params.size(), kNone);
  grad_.assign(fn_.params.size(), kNone);
  out_ = dOut_ = worst_ = kNone;
}

// Only formed once sizesOk() holds: then it is at most 2^56 and cannot wrap.
ExprId GradCheckLowering::count(const Shape &shape) {
  ExprId n = f_->i64(1);
  for (const Dim &d : shape)
    n = f_->mul(n, dimValue(d));
  return n;
}

// Every dim argument in 0..2^56, as the entry functions require, and every parameter's and
// the result's element count in range (ir/Type.h's rule).
ExprId GradCheckLowering::sizesOk() {
  Func &f = *f_;
  ExprId ok = f.boolImm(true);
  for (size_t i = 0; i < abi_.dimArgs.size(); ++i)
    ok = f.logic(Op::And, ok,
                 f.compare(Op::Le, f.cast(kU64, f.arg(static_cast<int32_t>(i))),
                           f.u64(static_cast<uint64_t>(kMaxElements))));
  ok = f.logic(Op::And, ok, derivedDimsOk(f, g_.dims(), dims_, fn_.mentionedDims()));
  for (const ParamInfo &p : fn_.params)
    ok = f.logic(Op::And, ok, shapeFits(f, g_, dims_, p.type.shape));
  return f.logic(Op::And, ok, shapeFits(f, g_, dims_, result_.shape));
}

// After f's own workspace (which f and f_grad use at offset 0), 64-byte aligned: each array
// parameter's copy, its gradient unless const, then f's output.
Layout GradCheckLowering::layout() {
  Func &f = *f_;
  std::vector<ExprId> dimArgs;
  for (size_t i = 0; i < abi_.dimArgs.size(); ++i)
    dimArgs.push_back(f.arg(static_cast<int32_t>(i)));
  // A local: a call in an expression would be made again by every statement using it.
  int32_t sizeFn = f.callee({abi_.workspaceSizeSymbol, kU64, std::vector<Ty>(dimArgs.size(), kI64)});
  ExprId own = f.localRef(b_->let(kU64, f.call(sizeFn, dimArgs), "own"));
  auto align = [&](ExprId v) { return alignToBuffer(f, v); };
  Layout l;
  l.total = align(own);
  // SIZE_MAX: f's dims out of range or its own layout wrapped. A size so near it that
  // aligning it wraps leaves no room either.
  l.valid = f.logic(Op::And, f.compare(Op::Ne, own, f.u64(UINT64_MAX)), f.compare(Op::Ge, l.total, own));
  auto buffer = [&](DType t, const Shape &shape) {
    ExprId at = l.total;
    ExprId bytes = f.mul(f.u64(static_cast<uint64_t>(kindBytes(memoryTy(t).kind))), f.cast(kU64, count(shape)));
    ExprId sum = f.add(at, align(bytes)); // bytes <= 2^59: aligning cannot wrap, the sum can
    l.valid = f.logic(Op::And, l.valid, f.compare(Op::Ge, sum, at));
    l.total = sum;
    return at;
  };
  for (const ParamInfo &p : fn_.params) {
    bool array = !p.type.isScalar();
    l.copy.push_back(array ? buffer(p.type.dtype, p.type.shape) : kNone);
    l.grad.push_back(array && !p.isConst ? buffer(p.type.dtype, p.type.shape) : kNone);
  }
  if (!result_.isScalar())
    l.out = buffer(result_.dtype, result_.shape);
  return l;
}

// The arrays as views of the workspace, the scalars (and scalar gradients, whose address
// f_grad takes) as one-element stack buffers.
void GradCheckLowering::placeBuffers(const Layout &l) {
  Func &f = *f_;
  int32_t ws = f.argBuffer(wsArg_, kI8, "ws");
  // The buffers never overlap: a disjoint group, which the code generator may tell LLVM.
  auto view = [&](ExprId offset, DType t, const std::string &name) {
    ExprId base = f.localRef(b_->let(kPtr, f.addr(ws, f.cast(kI64, offset)), name + "_at"));
    return f.viewBuffer(base, memoryTy(t), name, 0);
  };
  for (size_t p = 0; p < fn_.params.size(); ++p) {
    const ParamInfo &pi = fn_.params[p];
    Ty t = memoryTy(pi.type.dtype);
    bool scalar = pi.type.isScalar();
    copy_[p] = scalar ? f.stackBuffer(t, 1, "copy_" + pi.name) : view(l.copy[p], pi.type.dtype, "copy_" + pi.name);
    if (!pi.isConst)
      grad_[p] = scalar ? f.stackBuffer(t, 1, "grad_" + pi.name) : view(l.grad[p], pi.type.dtype, "grad_" + pi.name);
  }
  if (!result_.isScalar()) {
    out_ = view(l.out, result_.dtype, "out");
    dOut_ = f.argBuffer(dOutArg_, memoryTy(result_.dtype), "d_out");
  }
}

void GradCheckLowering::copyParams() {
  Func &f = *f_;
  for (size_t p = 0; p < fn_.params.size(); ++p) {
    const ParamInfo &pi = fn_.params[p];
    DType dt = pi.type.dtype;
    if (pi.type.isScalar()) {
      storeValue(copy_[p], f.i64(0), f.arg(paramArg_[p]), dt);
      continue;
    }
    int32_t src = f.argBuffer(paramArg_[p], memoryTy(dt), pi.name);
    b_->loop(f.i64(0), count(pi.type.shape),
             [&](ExprId i) { b_->store(copy_[p], i, f.load(src, i, memoryTy(dt))); });
  }
}

ExprId GradCheckLowering::loadValue(int32_t buffer, ExprId i, DType t) {
  ExprId v = f_->load(buffer, i, memoryTy(t));
  return t == DType::Bool ? f_->compare(Op::Ne, v, f_->intImm(kI8, 0)) : v;
}

// A call of f or f_grad with the copies in place of the parameters, typed as the lowering of
// `target` types it (argTy, returnTy).
ExprId GradCheckLowering::call(const AbiFunction &target) {
  Func &f = *f_;
  std::vector<ExprId> args;
  std::vector<Ty> types;
  for (const AbiArg &a : target.args) {
    size_t p = static_cast<size_t>(a.index);
    ExprId v = kNone;
    switch (a.role) {
    case ArgRole::Dim: v = dims_[p]; break;
    case ArgRole::Param:
      v = fn_.params[p].type.isScalar() ? loadValue(copy_[p], f.i64(0), a.dtype) : f.addr(copy_[p], f.i64(0));
      break;
    case ArgRole::DOut: v = f.arg(dOutArg_); break;
    case ArgRole::Out: v = f.addr(out_, f.i64(0)); break;
    case ArgRole::Grad: v = f.addr(grad_[p], f.i64(0)); break;
    case ArgRole::Workspace: v = f.arg(wsArg_); break;
    }
    GRADC_ASSERT(f.type(v) == argTy(a), "gradcheck: an argument of '" + target.symbol + "' of the wrong type");
    args.push_back(v);
    types.push_back(argTy(a));
  }
  return f.call(f.callee({target.symbol, returnTy(target), types}), std::move(args));
}

// F at the current copies, as a double, in a local of its own (`name`).
ExprId GradCheckLowering::objective(const std::string &name) {
  Func &f = *f_;
  DType rt = result_.dtype;
  if (result_.isScalar())
    return f.localRef(b_->let(kF64, toDouble(call(abi_.value), rt), name));
  b_->emit(f.eval(call(abi_.value)));
  int32_t acc = b_->let(kF64, f.floatImm(kF64, 0.0), name);
  b_->loop(f.i64(0), count(result_.shape), [&](ExprId j) {
    ExprId u = toDouble(loadValue(dOut_, j, rt), rt), o = toDouble(loadValue(out_, j, rt), rt);
    b_->assign(acc, f.add(f.localRef(acc), f.mul(u, o)));
  });
  return f.localRef(acc); // not assigned again: its value stays F's
}

// Element i of parameter p: moved up and down, restored, and its error merged into worst_.
void GradCheckLowering::checkElement(size_t p, ExprId i) {
  Func &f = *f_;
  DType dt = fn_.params[p].type.dtype;
  Ty t = registerTy(dt);
  ExprId one = f.floatImm(kF64, 1.0);
  auto atLeastOne = [&](ExprId v) { return f.select(f.compare(Op::Gt, v, one), v, one); }; // NaN: 1
  auto fabs = [&](ExprId v) { return f.math(Math::Fabs, v); };
  ExprId x = f.localRef(b_->let(t, loadValue(copy_[p], i, dt), "x"));
  ExprId h = convert(f, f.mul(f.floatImm(kF64, stepFor(dt)), atLeastOne(fabs(toDouble(x, dt)))), DType::F64, dt);
  ExprId up = f.localRef(b_->let(t, f.add(x, h), "up"));
  ExprId down = f.localRef(b_->let(t, f.sub(x, h), "down"));
  storeValue(copy_[p], i, up, dt);
  ExprId fu = objective("f_up");
  storeValue(copy_[p], i, down, dt);
  ExprId fd = objective("f_down");
  storeValue(copy_[p], i, x, dt);
  ExprId d = f.div(f.sub(fu, fd), f.sub(toDouble(up, dt), toDouble(down, dt)));
  ExprId g = toDouble(loadValue(grad_[p], i, dt), dt);
  ExprId ag = fabs(g), ad = fabs(d);
  ExprId e = f.div(fabs(f.sub(g, d)), atLeastOne(f.select(f.compare(Op::Gt, ag, ad), ag, ad)));
  // The larger, and NaN once any error is NaN (`e <= worst` alone would let a later finite
  // error replace a NaN worst).
  ExprId worst = f.localRef(worst_);
  ExprId keep = f.logic(Op::Or, f.isNaN(worst), f.compare(Op::Le, e, worst));
  b_->assign(worst_, f.select(keep, worst, e));
}

std::unique_ptr<Func> GradCheckLowering::checkFunction() {
  const AbiFunction &gc = abi_.gradcheck;
  std::vector<Param> params;
  for (const AbiArg &a : gc.args)
    params.push_back({a.name, argTy(a), false});
  auto fn = std::make_unique<Func>(gc.symbol, kF64, params);
  Func &f = *fn;
  std::vector<std::string> types = gc.cTypes();
  f.cReturn = types[0];
  f.cParams.assign(types.begin() + 1, types.end());
  begin(f);
  ExprId nan = f.floatImm(kF64, kNaN);
  // The sizes first: nothing that depends on them is computed before they are in range.
  b_->when(f.logicalNot(sizesOk()), [&] { b_->emit(f.returnStmt(nan)); });
  Layout l = layout();
  ExprId given = f.logic(Op::Or, f.compare(Op::Eq, l.total, f.u64(0)),
                         f.compare(Op::Ne, f.cast(kU64, f.arg(wsArg_)), f.u64(0)));
  b_->when(f.logicalNot(f.logic(Op::And, l.valid, given)), [&] { b_->emit(f.returnStmt(nan)); });
  placeBuffers(l);
  copyParams();
  if (result_.isScalar()) {
    ExprId value = f.localRef(b_->let(kF64, toDouble(call(abi_.grad), result_.dtype), "value"));
    b_->when(f.isNaN(value), [&] { b_->emit(f.returnStmt(nan)); }); // f fails on these inputs
  } else {
    b_->emit(f.eval(call(abi_.grad)));
  }
  worst_ = b_->let(kF64, f.floatImm(kF64, 0.0), "worst");
  for (size_t p = 0; p < fn_.params.size(); ++p) {
    const ParamInfo &pi = fn_.params[p];
    if (pi.isConst || !isFloat(pi.type.dtype))
      continue;
    if (pi.type.isScalar())
      checkElement(p, f.i64(0));
    else
      b_->loop(f.i64(0), count(pi.type.shape), [&](ExprId i) { checkElement(p, i); });
  }
  b_->emit(f.returnStmt(f.localRef(worst_)));
  f.body = b_->finish();
  return fn;
}

// size_t f_gradcheck_workspace_size(dims...): f's own workspace and the buffers after it.
std::unique_ptr<Func> GradCheckLowering::sizeFunction() {
  std::vector<Param> params;
  for (const std::string &name : abi_.dimArgNames)
    params.push_back({name, kI64, false});
  auto fn = std::make_unique<Func>(abi_.gradcheckWorkspaceSizeSymbol, kU64, params);
  Func &f = *fn;
  f.cReturn = "size_t";
  f.cParams.assign(params.size(), "int64_t");
  begin(f);
  ExprId fail = f.u64(UINT64_MAX);
  b_->when(f.logicalNot(sizesOk()), [&] { b_->emit(f.returnStmt(fail)); });
  Layout l = layout();
  b_->emit(f.returnStmt(f.select(l.valid, l.total, fail)));
  f.body = b_->finish();
  return fn;
}

} // namespace

std::vector<std::unique_ptr<Func>> lowerGradCheck(const Function &fn, const AbiSet &abi,
                                                  const std::map<int32_t, int64_t> &boundDims) {
  GradCheckLowering lowering(fn, abi, boundDims);
  std::vector<std::unique_ptr<Func>> out;
  out.push_back(lowering.checkFunction());
  out.push_back(lowering.sizeFunction());
  return out;
}

} // namespace gradc::loops
