// LowerModule.cpp: the exported functions of one source function as loop IR (f, f_grad,
// their packed entries, f_workspace_size), and the chunks of long code in pieces.
#include "loops/LowerModule.h"

#include "loops/CompactLoops.h"
#include "loops/DerivedDims.h"
#include "loops/FoldRows.h"
#include "loops/FuseLoops.h"
#include "loops/FunctionLowering.h"
#include "loops/SplitTail.h"
#include "loops/TiledKernel.h"
#include "loops/Verifier.h"

#include <algorithm>
#include <set>

namespace gradc::loops {

// f's and f_grad's plans: both functions' chunks are numbered together, f's first. When f can
// run the first chunks of f_grad instead (`sharedChunks` of them), or is not made
// (LoweringOptions::valueEntry), it has none.
struct FunctionPlans {
  FunctionPlan value, grad;
  size_t sharedChunks;
  bool valueEntry;
  FunctionPlans(const LoweringInput &in, const AbiSet &abi, const LoweringOptions &opts)
      : value(in, abi.value, {in.value}, opts), grad(in, abi.grad, in.gradRoots, opts),
        sharedChunks(grad.valueChunks()), valueEntry(opts.valueEntry) {}
  size_t valueChunks() const { return sharedChunks || !valueEntry ? 0 : value.chunkCount(); }
  size_t chunks() const { return valueChunks() + grad.chunkCount(); }
};

SourceLowering::SourceLowering(const LoweringInput &in, const LoweringOptions &opts, bool split, bool halves)
    : in_(in), opts_(opts), abi_(describeAbi(*in.fn, in.graph->dims(), in.boundDims, opts.prefix)),
      plans_(std::make_unique<FunctionPlans>(in, abi_, opts)) {
  size_t chunks = plans_->chunks();
  if (split && halves && chunks == 0) {
    // Whether f_grad may have enough loops to cut (splitTail, in both pieces, decides).
    const Schedule &s = plans_->grad.s;
    size_t stored = 0;
    for (NodeId n : s.steps)
      stored += s.storage[static_cast<size_t>(n)] != Storage::Scalar;
    tailPiece_ = stored >= kSplitLoops;
  }
  if (!split || chunks == 0)
    return;
  // Pieces small enough that two threads taking them in turn finish close together, large
  // enough that a module's fixed costs (pass setup, an object to link) stay small.
  chunksPerPiece_ = std::clamp<size_t>(chunks / 16, 4, 64);
  chunkPieces_ = (chunks + chunksPerPiece_ - 1) / chunksPerPiece_;
}

SourceLowering::~SourceLowering() = default;

// size_t f_workspace_size(dims...): enough for both f and f_grad; SIZE_MAX for dims out of
// range (negative or beyond 2^56, or sizes that cannot be indexed: ABI.md).
std::unique_ptr<Func> SourceLowering::workspaceSize() const {
  std::vector<Param> params;
  for (const std::string &name : abi_.dimArgNames)
    params.push_back({name, kI64, false});
  auto fn = std::make_unique<Func>(abi_.workspaceSizeSymbol, kU64, params);
  Func &f = *fn;
  f.cReturn = "size_t";
  f.cParams.assign(params.size(), "int64_t");
  Builder b(f);
  std::vector<ExprId> dims(in_.graph->dims().names.size(), kNone);
  for (auto [sym, v] : in_.boundDims)
    dims[static_cast<size_t>(sym)] = f.i64(v);
  ExprId valid = f.boolImm(true);
  for (size_t i = 0; i < abi_.dimArgs.size(); ++i) {
    ExprId d = f.arg(static_cast<int32_t>(i));
    dims[static_cast<size_t>(abi_.dimArgs[i])] = d;
    valid = f.logic(Op::And, valid, f.compare(Op::Le, f.cast(kU64, d), f.u64(static_cast<uint64_t>(kMaxElements))));
  }
  std::vector<int32_t> needed = mentionedDims(*in_.graph, in_.gradRoots);
  deriveDims(f, in_.graph->dims(), dims, needed);
  valid = f.logic(Op::And, valid, derivedDimsOk(f, in_.graph->dims(), dims, needed));
  // Dims first: only then are the layouts' sums meaningful (and free of overflow).
  b.when(f.logicalNot(valid), [&] { b.emit(f.returnStmt(f.u64(UINT64_MAX))); });
  ExprId aValid = kNone, gValid = kNone;
  ExprId a = FunctionLowering(plans_->value).layout(f, b, dims, nullptr, &aValid);
  ExprId g = FunctionLowering(plans_->grad).layout(f, b, dims, nullptr, &gValid);
  // Only the tape and buffers need space: a function with neither reports 0, so ws may be NULL.
  b.emit(f.returnStmt(f.select(f.logic(Op::And, aValid, gValid), f.max(a, g), f.u64(UINT64_MAX))));
  f.body = b.finish();
  return fn;
}

// void name(void **argv): argv[i] points at argument i's value, argv[n] at the result's
// storage. Lets a caller that knows the ABI only at run time (gradc run) call in.
std::unique_ptr<Func> SourceLowering::packedEntry(const Func &target, const std::string &symbol) const {
  auto fn = std::make_unique<Func>(symbol, kVoid, std::vector<Param>{{"argv", kPtr, false}});
  Func &f = *fn;
  Builder b(f);
  int32_t argv = f.argBuffer(0, kPtr, "argv");
  std::vector<ExprId> args;
  std::vector<Ty> types;
  for (size_t i = 0; i < target.params.size(); ++i) {
    Ty t = target.params[i].type;
    int32_t slot = f.viewBuffer(f.load(argv, f.i64(static_cast<int64_t>(i)), kPtr), t, "arg" + std::to_string(i));
    args.push_back(f.load(slot, f.i64(0), t));
    types.push_back(t);
  }
  ExprId call = f.call(f.callee({target.symbol, target.ret, types}), args);
  if (target.ret == kVoid) {
    b.emit(f.eval(call));
  } else {
    int32_t result = f.viewBuffer(f.load(argv, f.i64(static_cast<int64_t>(target.params.size())), kPtr),
                                  target.ret, "result");
    b.store(result, f.i64(0), call);
  }
  b.emit(f.returnStmt());
  f.body = b.finish();
  return fn;
}

void SourceLowering::lowerPiece(size_t k, const std::function<void(std::unique_ptr<Func>)> &sink) const {
  GRADC_ASSERT(k < pieces(), "no such piece");
  const FunctionPlans &plans = *plans_;
  bool split = chunkPieces_ > 0;
  ModuleVerifier verifier;
  auto check = [&](std::unique_ptr<Func> f) {
    if (std::string error = verifier.add(*f); !error.empty())
      internalError("the loop IR gradc generated is invalid: " + error);
    sink(std::move(f));
  };
  auto prepare = [](Func &f) {
    fuseLoops(f);
    foldRows(f);
    compactLoops(f);
  };
  auto give = [&](std::unique_ptr<Func> f) {
    prepare(*f);
    check(std::move(f));
  };
  FunctionLowering value(plans.value), grad(plans.grad);
  auto chunks = [&](size_t first, size_t end, bool external) {
    for (size_t c = first; c < end; ++c)
      give(c < plans.valueChunks() ? value.chunk(c, external) : grad.chunk(c - plans.valueChunks(), external));
  };
  // f_grad, cut in two when it has a tail piece: both pieces make it alike and cut it at the
  // same place; piece 0 keeps the head, the tail piece the rest.
  std::unique_ptr<Func> tail;
  auto gradEntry = [&] {
    std::unique_ptr<Func> g = grad.entry(split);
    prepare(*g);
    if (tailPiece_) {
      tail = splitTail(*g, g->symbol + ".tail");
      checkSameCut(tail.get());
    }
    return g;
  };
  std::set<std::pair<DType, Form>> kernels;
  if (k == 0) {
    auto prepared = [&](std::unique_ptr<Func> f) {
      prepare(*f);
      return f;
    };
    std::vector<std::unique_ptr<Func>> entries;
    if (plans.valueEntry)
      entries.push_back(prepared(plans.sharedChunks ? value.entryRunning(plans.grad, plans.sharedChunks, split)
                                                    : value.entry(split)));
    entries.push_back(gradEntry());
    entries.push_back(prepared(workspaceSize()));
    std::vector<std::unique_ptr<Func>> packed;
    if (opts_.packedEntries)
      for (const auto &e : entries)
        packed.push_back(packedEntry(*e, e->symbol + "__packed"));
    for (auto &e : entries)
      check(std::move(e));
    for (auto &p : packed)
      give(std::move(p));
    if (!split)
      chunks(0, plans.chunks(), false);
  } else if (k <= chunkPieces_) {
    size_t first = (k - 1) * chunksPerPiece_;
    chunks(first, std::min(plans.chunks(), first + chunksPerPiece_), true);
  } else {
    gradEntry(); // (the head: piece 0's)
  }
  if (k == 0 || k <= chunkPieces_) {
    kernels = value.kernelsCalled();
    kernels.insert(grad.kernelsCalled().begin(), grad.kernelsCalled().end());
  } else if (tail) { // the kernels the tail calls
    for (auto [dt, form] : grad.kernelsCalled())
      for (const Callee &c : tail->callees())
        if (c.symbol == tiledKernelCallee(dt, form).symbol)
          kernels.insert({dt, form});
    check(std::move(tail));
  }
  for (auto [dt, form] : kernels)
    give(tiledKernel(dt, form));
}

void SourceLowering::checkSameCut(const Func *tail) const {
  std::string cut = "none";
  if (tail) {
    cut = tail->symbol + "(";
    for (const Param &p : tail->params)
      cut += p.name + ":" + kindName(p.type.kind) + "x" + std::to_string(p.type.lanes) + ",";
    cut += ") " + std::to_string(tail->stmt(tail->body).list.size()) + " statements, " +
           std::to_string(tail->exprCount()) + " expressions";
  }
  std::lock_guard<std::mutex> lock(cutMutex_);
  if (!cut_)
    cut_ = cut;
  else if (*cut_ != cut)
    internalError("the two pieces of a gradient were cut differently: " + *cut_ + " and " + cut);
}

Module SourceLowering::lowerPiece(size_t k) const {
  Module m;
  lowerPiece(k, [&](std::unique_ptr<Func> f) { m.add(std::move(f)); });
  return m;
}

} // namespace gradc::loops
