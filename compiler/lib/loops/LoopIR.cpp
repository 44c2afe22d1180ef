// LoopIR.cpp: the loop IR's types and what a Func declares: its hash-consed table of
// expressions, buffers, locals, loop variables and callees; and the module. The checked
// factories of nodes are in LoopIRExpressions.cpp and LoopIRStatements.cpp.
#include "loops/LoopIR.h"

#include "gradc/Diagnostics.h"

#include <bit>
#include <cstring>
#include <unordered_map>

namespace gradc::loops {

Ty registerTy(DType t) {
  switch (t) {
  case DType::F64:
    return kF64;
  case DType::F32:
    return kF32;
  case DType::I32:
    return kI32;
  case DType::I64:
    return kI64;
  case DType::Bool:
    return kBool;
  }
  return kF64;
}

Ty memoryTy(DType t) { return t == DType::Bool ? kI8 : registerTy(t); }

int64_t kindBytes(Kind k) {
  switch (k) {
  case Kind::Bool:
  case Kind::I8:
    return 1;
  case Kind::I32:
  case Kind::F32:
    return 4;
  case Kind::Void:
    return 0;
  default:
    return 8;
  }
}

const char *kindName(Kind k) {
  static const char *const names[] = {"void", "bool", "i8", "i32", "i64", "u64", "f32", "f64", "ptr"};
  return names[static_cast<int>(k)];
}

namespace {
// A 64-bit mix (the finalizer of MurmurHash3): every input bit reaches every output bit, so
// linear probing over ids of nearby expressions does not cluster.
uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}
} // namespace

size_t Func::hashOf(const Expr &e) const {
  uint64_t h = mix(static_cast<uint64_t>(e.op) | static_cast<uint64_t>(e.type.kind) << 8 |
                   static_cast<uint64_t>(e.type.lanes) << 16 | static_cast<uint64_t>(e.flags) << 32 |
                   static_cast<uint64_t>(static_cast<uint32_t>(e.ref)) << 40) ^
               mix(static_cast<uint64_t>(e.i));
  for (ExprId o : e.ops)
    h = mix(h ^ static_cast<uint32_t>(o));
  return static_cast<size_t>(h);
}

bool Func::same(const Expr &a, const Expr &b) const {
  return a.op == b.op && a.type == b.type && a.flags == b.flags && a.ref == b.ref && a.i == b.i && a.ops == b.ops;
}

Func::Func(std::string symbol, Ty ret, std::vector<Param> params, Linkage linkage)
    : symbol(std::move(symbol)), ret(ret), params(std::move(params)), linkage(linkage) {}

std::unique_ptr<Func> Func::withSameTables(std::string symbol, std::vector<Param> params) const {
  auto f = std::make_unique<Func>(std::move(symbol), ret, std::move(params), linkage);
  f->exprs_ = exprs_;
  f->stmts_ = stmts_;
  f->buffers_ = buffers_;
  f->locals_ = locals_;
  f->callees_ = callees_;
  f->vars_ = vars_;
  f->table_ = table_;
  return f;
}

void Func::bad(const std::string &what) const {
  internalError("loop IR of '" + symbol + "': " + what);
}

ExprId Func::make(Expr e) {
  size_t mask = table_.size() - 1;
  size_t slot = hashOf(e) & mask;
  for (; table_[slot] != kNone; slot = (slot + 1) & mask)
    if (same(exprs_[static_cast<size_t>(table_[slot])], e))
      return table_[slot];
  ExprId id = static_cast<ExprId>(exprs_.size());
  exprs_.push_back(std::move(e));
  table_[slot] = id;
  if (exprs_.size() * 2 > table_.size()) { // grow: rehash every id
    std::vector<ExprId> bigger(table_.size() * 2, kNone);
    size_t m = bigger.size() - 1;
    for (ExprId x : table_)
      if (x != kNone) {
        size_t k = hashOf(exprs_[static_cast<size_t>(x)]) & m;
        while (bigger[k] != kNone)
          k = (k + 1) & m;
        bigger[k] = x;
      }
    table_ = std::move(bigger);
  }
  return id;
}

void Func::reserve(size_t exprs, size_t stmts) {
  exprs_.reserve(exprs);
  stmts_.reserve(stmts);
  if (exprs * 2 > table_.size() && exprs_.empty())
    table_.assign(std::bit_ceil(exprs * 2), kNone);
}

StmtId Func::append(Stmt s) {
  stmts_.push_back(std::move(s));
  return static_cast<StmtId>(stmts_.size() - 1);
}

// --- declarations ---

int32_t Func::argBuffer(int32_t arg, Ty elem, std::string name) {
  if (arg < 0 || static_cast<size_t>(arg) >= params.size() || params[static_cast<size_t>(arg)].type != kPtr)
    bad("buffer of argument " + std::to_string(arg) + ", which is not a pointer");
  buffers_.push_back({std::move(name), elem, BufferKind::Arg, arg, 0, kNone, -1});
  return static_cast<int32_t>(buffers_.size() - 1);
}

int32_t Func::stackBuffer(Ty elem, int64_t elems, std::string name, int64_t align) {
  if (elems <= 0)
    bad("an empty stack buffer");
  if (align < 0 || (align & (align - 1)) != 0 || (align > 0 && align < kindBytes(elem.kind)))
    bad("a stack buffer aligned to " + std::to_string(align) + " bytes, not a power of two at least its element's");
  buffers_.push_back({std::move(name), elem, BufferKind::Stack, kNone, elems, kNone, -1, align});
  return static_cast<int32_t>(buffers_.size() - 1);
}

int32_t Func::viewBuffer(ExprId base, Ty elem, std::string name, int32_t disjointGroup) {
  if (type(base) != kPtr)
    bad("a view whose base is not a pointer");
  buffers_.push_back({std::move(name), elem, BufferKind::View, kNone, 0, base, disjointGroup});
  return static_cast<int32_t>(buffers_.size() - 1);
}

int32_t Func::local(Ty type, std::string name) {
  locals_.push_back({std::move(name), type});
  return static_cast<int32_t>(locals_.size() - 1);
}

std::vector<std::string> uniqueLocalNames(const Func &f) {
  std::vector<std::string> names;
  std::unordered_map<std::string, int> taken; // name -> how many times taken
  for (const Local &l : f.locals()) {
    auto [it, fresh] = taken.try_emplace(l.name, 0);
    names.push_back(fresh ? l.name : l.name + "_" + std::to_string(++it->second));
    // A suffixed name may be another local's own name: take it too, and retry on clashes.
    while (!fresh && !taken.try_emplace(names.back(), 0).second)
      names.back() = l.name + "_" + std::to_string(++it->second);
  }
  return names;
}

int32_t Func::var() { return vars_++; }

int32_t Func::callee(const Callee &c) {
  for (size_t k = 0; k < callees_.size(); ++k)
    if (callees_[k].symbol == c.symbol)
      return static_cast<int32_t>(k);
  callees_.push_back(c);
  return static_cast<int32_t>(callees_.size() - 1);
}

Func &Module::add(std::unique_ptr<Func> f) {
  if (f->shared)
    if (const Func *known = find(f->symbol); known && known->shared)
      return const_cast<Func &>(*known);
  funcs.push_back(std::move(f));
  return *funcs.back();
}

const Func *Module::find(const std::string &symbol) const {
  for (const auto &f : funcs)
    if (f->symbol == symbol)
      return f.get();
  return nullptr;
}

} // namespace gradc::loops
