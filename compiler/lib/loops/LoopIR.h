// LoopIR.h: the loop IR, between the schedule and code generation. Every decision about
// the generated code (fusion, loop splits, tiling, prefetch, streaming stores, chunks) is
// made when it is built; the LLVM and C code generators only print it.
//
// A Func owns its nodes: expressions are immutable and hash-consed (equal expressions are
// one node), statements form a tree. Nodes are made only through the checked factories of
// Func (operand types are checked as nodes are made; a violation is a compiler bug).
//
// What comes next fits without new kinds of node: a source-level `for` with carried state
// is a For whose body assigns Locals declared before it (state that lives across
// iterations, as C prints it and LLVM's mem2reg rebuilds), its tape a workspace buffer
// indexed by the loop variable; a new entry function (a JVP, an HVP) is one more Func with
// its own C signature, lowered from another graph (autodiff/ForwardMode.h's tangents) by
// the same FunctionLowering, and neither printer changes.
#pragma once

#include "ir/MathFunctions.h"
#include "ir/Type.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace gradc::loops {

/// A scalar kind; a Ty is a kind and a number of lanes (1 for scalars).
enum class Kind : uint8_t {
  Void,
  Bool, // a condition in registers (stored as I8)
  I8,
  I32,
  I64, // signed: index arithmetic never wraps (sizes are checked on entry)
  U64, // unsigned, wrapping: byte counts whose overflow is tested
  F32,
  F64,
  Ptr,
};

struct Ty {
  Kind kind = Kind::Void;
  uint16_t lanes = 1;
  bool operator==(const Ty &) const = default;
  bool isVector() const { return lanes > 1; }
  bool isFloat() const { return kind == Kind::F32 || kind == Kind::F64; }
  bool isInt() const { return kind == Kind::I8 || kind == Kind::I32 || kind == Kind::I64 || kind == Kind::U64; }
  Ty scalar() const { return {kind, 1}; }
  Ty withLanes(uint16_t n) const { return {kind, n}; }
};

constexpr Ty kVoid{Kind::Void}, kBool{Kind::Bool}, kI8{Kind::I8}, kI32{Kind::I32}, kI64{Kind::I64},
    kU64{Kind::U64}, kF32{Kind::F32}, kF64{Kind::F64}, kPtr{Kind::Ptr};

/// The loop IR type of a dtype in registers (masks: Bool) and in memory (masks: I8).
Ty registerTy(DType t);
Ty memoryTy(DType t);
/// Bytes of one element of kind `k` in memory.
int64_t kindBytes(Kind k);
const char *kindName(Kind k);

using ExprId = int32_t;
using StmtId = int32_t;
constexpr int32_t kNone = -1;

/// Math functions (ir/ElementBuilder.h: called by name, or expanded by the code generator).
using Math = MathFn;

enum class Op : uint8_t {
  // Leaves.
  Int,   // i: value (any integer or Bool kind)
  Float, // f: value
  Arg,   // ref: the function's parameter
  Var,   // ref: a loop variable (I64)
  Local, // ref: a local variable's current value
  Hole,  // ref: 0 or 1, the accumulator and the value in an accumulate's combine
  // Arithmetic on operands of the result type.
  Add, Sub, Mul, Div, Rem, Min, Max, Neg,
  // Comparisons (Bool result, lanes of the operands): floats ordered, Ne unordered.
  Lt, Le, Gt, Ge, Eq, Ne,
  And, Or, Not, // Bool
  IsNaN,        // Bool
  Select,       // ops: condition, then, else
  Fma,          // a * b + c, which the code generator may fuse into one rounding
  Call,         // ref: math function (Math) when `math`, else a callee of the Func
  Cast,         // a conversion: floats round, integers to floats are signed (masks 0/1),
                // floats to integers truncate, integers sign-extend or truncate; pointers
                // to integers are their addresses (a mask is made with a comparison)
  Load,         // ref: buffer; ops: index [, mask]; a vector loads consecutive elements
  Addr,         // ref: buffer; ops: index; the element's address (Ptr)
  Broadcast,    // ops: a scalar; the vector of it
  Ramp,         // ops: a scalar base; the vector base, base + 1, ...
  ReduceAdd,    // ops: a vector; the sum of its lanes, in any order
};

/// Flags of an expression.
enum ExprFlags : uint8_t {
  kReassoc = 1, // Add, ReduceAdd: may be reassociated (sums in a vectorized order)
  kMathCall = 2, // Call: `ref` is a Math
  kInlineCall = 4, // Call: inlined where the printer can (its constant arguments then specialize it)
};

/// An expression's operands: up to four inline (almost every node), more on the heap (calls).
class ExprOps {
public:
  ExprOps() = default;
  ExprOps(std::initializer_list<ExprId> l) {
    for (ExprId e : l)
      push_back(e);
  }
  ExprOps(const std::vector<ExprId> &v) {
    for (ExprId e : v)
      push_back(e);
  }
  ExprOps(const ExprOps &o) { *this = o; }
  ExprOps(ExprOps &&) = default;
  ExprOps &operator=(ExprOps &&) = default;
  ExprOps &operator=(const ExprOps &o) {
    if (this != &o) {
      std::copy(o.inline_, o.inline_ + kInline, inline_);
      n_ = o.n_;
      more_ = o.more_ ? std::make_unique<std::vector<ExprId>>(*o.more_) : nullptr;
    }
    return *this;
  }
  void push_back(ExprId e) {
    if (n_ < kInline) {
      inline_[n_] = e;
    } else {
      if (!more_)
        more_ = std::make_unique<std::vector<ExprId>>();
      more_->push_back(e);
    }
    ++n_;
  }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  ExprId operator[](size_t k) const { return k < kInline ? inline_[k] : (*more_)[k - kInline]; }
  bool operator==(const ExprOps &o) const {
    if (n_ != o.n_)
      return false;
    for (size_t k = 0; k < n_; ++k)
      if ((*this)[k] != o[k])
        return false;
    return true;
  }
  class iterator {
  public:
    iterator(const ExprOps *o, size_t k) : o_(o), k_(k) {}
    ExprId operator*() const { return (*o_)[k_]; }
    iterator &operator++() {
      ++k_;
      return *this;
    }
    bool operator!=(const iterator &x) const { return k_ != x.k_; }

  private:
    const ExprOps *o_;
    size_t k_;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, n_}; }

private:
  static constexpr size_t kInline = 4;
  ExprId inline_[kInline] = {kNone, kNone, kNone, kNone};
  uint32_t n_ = 0;
  std::unique_ptr<std::vector<ExprId>> more_; // a pointer: most nodes have no more, and stay small
};

struct Expr {
  Op op;
  Ty type;
  uint8_t flags = 0;
  int32_t ref = kNone;
  int64_t i = 0; // Int: the value; Float: the double's bits (so equal constants hash equal)
  ExprOps ops;
  double f() const { return std::bit_cast<double>(i); }
};

enum class SOp : uint8_t {
  Block,      // list
  For,        // ref: variable; a: begin, b: end (I64); body; runs begin, begin+1, .. end-1
  If,         // a: condition; body; orelse (kNone: none)
  Store,      // ref: buffer; a: index, b: value, c: mask (kNone: none); flags: kStreaming
  Let,        // ref: local; a: its first value (declares it)
  Assign,     // ref: local; a: value
  Accumulate, // ref: local; a: value; b: combine (with Hole 0 the local, Hole 1 the value);
              // flags: kReassocAcc when the accumulation may be reordered (a reduction),
              // c: then the combine's identity (partial results start from it)
  Prefetch,   // a: address (Ptr)
  Eval,       // a: a call whose value is not used
  Return,     // a: value (kNone for void)
};

enum StmtFlags : uint8_t {
  kStreaming = 1,  // Store: non-temporal (bypasses the cache), one whole 64-byte aligned line, its pieces together
  kReassocAcc = 2, // Accumulate: order of accumulation is free
  kRolled = 4,     // For: not unrolled by a trip count known only at run time (the loops of
                   // fused elements, reductions, fills and plain products: that copies their
                   // code for no measured gain; BENCHMARKS.md)
  kShort = 8,      // For: fewer than kShortLoopTrips iterations, known now: vectorized without
                   // interleaving (set by Func::forLoop)
  kWithinIteration = 16, // For: vectorized within an iteration, never across iterations: each
                         // iteration touches a row of contiguous elements and the next starts
                         // far away, so across iterations every load is a gather (a loop around
                         // a short row, set by Func::forLoop)
  kCompact = 32, // For: vectorized one vector at a time, its tail in masked vectors, never
                 // unrolled; and no straight-line vectorizing in its module (CompactLoops.h)
};

/// A loop of fewer iterations is vectorized one vector at a time: four vectors at a time left
/// up to 15 of ODE's 63-element loops to a scalar remainder (the JIT 1.23x the emitted C).
constexpr int64_t kShortLoopTrips = 256;
/// A loop around a short loop of at least this many iterations is kWithinIteration.
constexpr int64_t kWithinIterationTrips = 8;

struct Stmt {
  SOp op;
  uint8_t flags = 0;
  int32_t ref = kNone;
  ExprId a = kNone, b = kNone, c = kNone;
  StmtId body = kNone, orelse = kNone;
  std::vector<StmtId> list;
};

enum class BufferKind : uint8_t {
  Arg,   // the function's pointer parameter `arg`
  Stack, // `elems` elements on the stack (fixed size)
  View,  // at address `base` (a Ptr expression of arguments and locals)
};

struct Buffer {
  std::string name;
  Ty elem; // the element type in memory (lanes 1)
  BufferKind kind = BufferKind::Arg;
  int32_t arg = kNone;
  int64_t elems = 0;
  ExprId base = kNone;
  /// Buffers of one group never overlap each other (workspace slots): the code generator may
  /// tell its optimizer so (alias scopes). -1: no such knowledge.
  int32_t disjointGroup = -1;
  /// A stack buffer's alignment in bytes (0: its element's).
  int64_t align = 0;
};

struct Local {
  std::string name;
  Ty type;
};

struct Param {
  std::string name;
  Ty type;
  bool noalias = false; // a pointer no other argument's memory overlaps (outputs)
};

enum class Linkage : uint8_t { Export, Internal, WeakODR };

/// The elements a call touches through one of its pointer arguments: from the pointer on,
/// 1 + sum((args[count] - 1) * stride) of them, with stride args[stride] or 1 (kNone); for
/// a matrix of m rows of stride rs and k columns of stride 1, {{m, rs}, {k, kNone}}.
struct ArgFootprint {
  struct Axis {
    int32_t count, stride;
  };
  int32_t arg;
  bool written; // also stored to (else only read)
  std::vector<Axis> axes;
};

/// A callee of a function: another function of the module or an external symbol.
struct Callee {
  std::string symbol;
  Ty ret;
  std::vector<Ty> params;
  bool readsArgMemoryOnly = false; // touches only memory its pointer arguments point to
  /// With readsArgMemoryOnly: what it touches through each pointer argument, when known (the
  /// loops around a call of it may then merge with others).
  std::vector<ArgFootprint> footprints = {};
};

class Func {
public:
  Func(std::string symbol, Ty ret, std::vector<Param> params, Linkage linkage = Linkage::Export);
  Func(const Func &) = delete; // lowerings keep references into it
  Func &operator=(const Func &) = delete;

  std::string symbol;
  Ty ret;
  std::vector<Param> params;
  Linkage linkage;
  bool noinline = false; // compiled on its own (a chunk of long code, a kernel many call)
  /// Defined alike wherever it appears (a kernel several functions call): printed once per
  /// module, whichever functions of the module ask for it.
  bool shared = false;
  /// The C spelling of the return and parameter types where the ABI fixes it (a header
  /// declares the function: `const double *`, `size_t`); empty: spelled from the types.
  std::string cReturn;
  std::vector<std::string> cParams;
  StmtId body = kNone;

  const Expr &expr(ExprId e) const { return exprs_[static_cast<size_t>(e)]; }
  const Stmt &stmt(StmtId s) const { return stmts_[static_cast<size_t>(s)]; }
  Ty type(ExprId e) const { return expr(e).type; }
  size_t exprCount() const { return exprs_.size(); }
  size_t stmtCount() const { return stmts_.size(); }
  const std::vector<Buffer> &buffers() const { return buffers_; }
  const std::vector<Local> &locals() const { return locals_; }
  const std::vector<Callee> &callees() const { return callees_; }
  int32_t vars() const { return vars_; }

  /// Room for about `exprs` expressions and `stmts` statements (a hint: a long chunk's
  /// tables then grow once).
  void reserve(size_t exprs, size_t stmts);
  /// A function with this one's expressions, statements, buffers, locals, callees and
  /// variables, under the same ids, and no body: one made of some of these statements
  /// (SplitTail.h). `params` begins with this function's parameters.
  std::unique_ptr<Func> withSameTables(std::string symbol, std::vector<Param> params) const;

  // --- declarations ---
  int32_t argBuffer(int32_t arg, Ty elem, std::string name);
  int32_t stackBuffer(Ty elem, int64_t elems, std::string name, int64_t align = 0);
  int32_t viewBuffer(ExprId base, Ty elem, std::string name, int32_t disjointGroup = -1);
  /// Marks the buffer as one of group `g`'s, whose buffers never overlap each other.
  void setDisjointGroup(int32_t buffer, int32_t g) { buffers_[static_cast<size_t>(buffer)].disjointGroup = g; }
  int32_t local(Ty type, std::string name);
  int32_t var();
  int32_t callee(const Callee &c);

  // --- expressions (checked; integer constants folded) ---
  ExprId i64(int64_t v) { return intImm(kI64, v); }
  ExprId u64(uint64_t v) { return intImm(kU64, static_cast<int64_t>(v)); }
  ExprId intImm(Ty t, int64_t v);
  ExprId boolImm(bool v) { return intImm(kBool, v ? 1 : 0); }
  /// The null pointer.
  ExprId nullPtr();
  ExprId floatImm(Ty t, double v);
  /// 0 or the value `v` of a dtype's register type (masks: v != 0).
  ExprId constant(Ty t, double v);
  ExprId arg(int32_t k);
  ExprId varRef(int32_t v);
  ExprId localRef(int32_t l);
  ExprId hole(int32_t k, Ty t);
  ExprId binary(Op op, ExprId a, ExprId b, uint8_t flags = 0);
  ExprId add(ExprId a, ExprId b) { return binary(Op::Add, a, b); }
  ExprId sub(ExprId a, ExprId b) { return binary(Op::Sub, a, b); }
  ExprId mul(ExprId a, ExprId b) { return binary(Op::Mul, a, b); }
  ExprId div(ExprId a, ExprId b) { return binary(Op::Div, a, b); }
  ExprId rem(ExprId a, ExprId b) { return binary(Op::Rem, a, b); }
  ExprId min(ExprId a, ExprId b) { return binary(Op::Min, a, b); }
  ExprId max(ExprId a, ExprId b) { return binary(Op::Max, a, b); }
  ExprId neg(ExprId a);
  ExprId compare(Op op, ExprId a, ExprId b);
  ExprId logic(Op op, ExprId a, ExprId b); // And, Or
  ExprId logicalNot(ExprId a);
  ExprId isNaN(ExprId a);
  ExprId select(ExprId c, ExprId a, ExprId b);
  ExprId fma(ExprId a, ExprId b, ExprId c);
  ExprId math(Math fn, ExprId a, ExprId b = kNone);
  ExprId call(int32_t callee, std::vector<ExprId> args, uint8_t flags = 0);
  ExprId cast(Ty to, ExprId a);
  ExprId load(int32_t buffer, ExprId index, Ty type, ExprId mask = kNone);
  ExprId addr(int32_t buffer, ExprId index);
  ExprId broadcast(ExprId a, uint16_t lanes);
  ExprId ramp(ExprId base, uint16_t lanes);
  ExprId reduceAdd(ExprId v);
  /// e with its operands replaced by `ops`, each of the type of the one it replaces (a
  /// substitution, such as one loop variable for another).
  ExprId withOperands(ExprId e, const ExprOps &ops);

  // --- statements (built bottom-up; Builder keeps an insertion point) ---
  StmtId block(std::vector<StmtId> list);
  StmtId forLoop(int32_t var, ExprId begin, ExprId end, StmtId body, uint8_t flags = 0);
  /// end - begin when both are constants (and end >= begin), else -1.
  int64_t constantTrips(ExprId begin, ExprId end) const;
  StmtId ifThen(ExprId cond, StmtId then, StmtId orelse = kNone);
  StmtId store(int32_t buffer, ExprId index, ExprId value, ExprId mask = kNone, uint8_t flags = 0);
  StmtId let(int32_t local, ExprId value);
  StmtId assign(int32_t local, ExprId value);
  /// local = combine(local, value); with kReassocAcc, `identity` is the combine's identity.
  StmtId accumulate(int32_t local, ExprId value, ExprId combine, uint8_t flags = 0, ExprId identity = kNone);
  StmtId prefetch(ExprId address);
  StmtId eval(ExprId call);
  StmtId returnStmt(ExprId value = kNone);
  /// Adds compile-time hints (kCompact) to loop `s`.
  void addLoopFlags(StmtId s, uint8_t flags);

private:
  ExprId make(Expr e);
  bool hasTerm(Op op, ExprId chain, ExprId term) const;
  StmtId append(Stmt s);
  [[noreturn]] void bad(const std::string &what) const;

  std::vector<Expr> exprs_;
  std::vector<Stmt> stmts_;
  std::vector<Buffer> buffers_;
  std::vector<Local> locals_;
  std::vector<Callee> callees_;
  int32_t vars_ = 0;
  // Hash-consing: open addressing over the expressions' ids (kNone: empty), at most half full.
  size_t hashOf(const Expr &e) const;
  bool same(const Expr &a, const Expr &b) const;
  std::vector<ExprId> table_ = std::vector<ExprId>(64, kNone);
};

/// Visits each expression under `root` once, a user before its operands, until `visit` (of the
/// Expr) returns false; `seen` carries over between calls, so several roots share one walk.
/// Iterative: an expression may be as deep as the program. Whether the walk ran to its end.
template <typename F>
bool visitExprs(const Func &f, ExprId root, std::unordered_set<ExprId> &seen, F visit) {
  std::vector<ExprId> stack{root};
  while (!stack.empty()) {
    ExprId e = stack.back();
    stack.pop_back();
    if (!seen.insert(e).second)
      continue;
    const Expr &x = f.expr(e);
    if (!visit(x))
      return false;
    for (ExprId o : x.ops)
      stack.push_back(o);
  }
  return true;
}

/// Visits statement `root` and every statement it contains, each before its contents and in
/// program order, until `visit(id, stmt)` returns false. `visit` must not add statements.
/// Iterative: statements nest as deep as the program's loops. Whether the walk ran to its end.
template <typename F>
bool visitStmts(const Func &f, StmtId root, F visit) {
  std::vector<StmtId> stack{root};
  while (!stack.empty()) {
    StmtId s = stack.back();
    stack.pop_back();
    const Stmt &st = f.stmt(s);
    if (!visit(s, st))
      return false;
    for (StmtId inner : {st.orelse, st.body})
      if (inner != kNone)
        stack.push_back(inner);
    stack.insert(stack.end(), st.list.rbegin(), st.list.rend());
  }
  return true;
}

/// Whether x calls a function other than a math function (memory the loop IR cannot see).
/// Add, Sub, Mul, Div, Rem, Min or Max: two operands of the result's type (Func::binary).
inline bool isBinaryArithmetic(Op op) { return op >= Op::Add && op <= Op::Max; }
inline bool callsOut(const Expr &x) { return x.op == Op::Call && !(x.flags & kMathCall); }

/// The locals' names made unique (a suffix `_N` where two share one): how printers name them.
/// Lowerings name locals for a reader, without the cost of keeping them unique.
std::vector<std::string> uniqueLocalNames(const Func &f);

/// A table of strings, read by index: `const char *symbol(int i)`, NULL out of range (the
/// metadata functions of docs/ABI.md).
struct StringTable {
  std::string symbol;
  std::vector<std::string> items;
};

struct Module {
  std::vector<std::unique_ptr<Func>> funcs;
  std::vector<StringTable> tables;
  /// Adds `f`, or returns the `shared` function of its symbol already added.
  Func &add(std::unique_ptr<Func> f);
  const Func *find(const std::string &symbol) const;
};

} // namespace gradc::loops
