// Sema.cpp: program-level checks (dims, definitions, parameters, statements, recursion)
// and the construction of one IR function per definition, callees first.
#include "sema/Sema.h"

#include "sema/ExprBuilder.h"
#include "sema/SizeExprs.h"

#include "ir/DimArith.h"
#include "ir/Inline.h"

#include <unordered_map>
#include <unordered_set>

namespace gradc {

namespace {

std::string where(SourceLoc loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

// The user functions each function calls, with the location of the first call.
std::vector<std::vector<std::pair<size_t, SourceLoc>>>
callGraph(const Ast &ast, const std::unordered_map<std::string, size_t> &funcIndex) {
  std::vector<std::vector<std::pair<size_t, SourceLoc>>> calls(ast.funcs.size());
  for (size_t f = 0; f < ast.funcs.size(); ++f) {
    std::unordered_set<size_t> seen;
    std::vector<ExprId> stack;
    for (const Stmt &s : ast.funcs[f].body)
      stack.push_back(s.value);
    while (!stack.empty()) {
      ExprId id = stack.back();
      stack.pop_back();
      if (id == kNoExpr)
        continue;
      const Expr &e = ast[id];
      if (e.kind == ExprKind::Call) {
        auto it = funcIndex.find(e.text);
        if (it != funcIndex.end() && seen.insert(it->second).second)
          calls[f].push_back({it->second, e.loc});
      }
      for (ExprId k : e.kids)
        stack.push_back(k);
    }
  }
  return calls;
}

// Orders functions callees-first; reports each cycle once, at the call that closes it.
// An iterative depth-first search: the call chain may be as long as the program.
std::vector<size_t> calleesFirst(const Ast &ast,
                                 const std::vector<std::vector<std::pair<size_t, SourceLoc>>> &calls,
                                 Diagnostics &diags) {
  enum Color : uint8_t { White, Grey, Black };
  std::vector<Color> color(ast.funcs.size(), White);
  std::vector<size_t> order;
  for (size_t root = 0; root < ast.funcs.size(); ++root) {
    if (color[root] != White)
      continue;
    std::vector<std::pair<size_t, size_t>> stack{{root, 0}}; // function, next call to follow
    color[root] = Grey;
    while (!stack.empty()) {
      auto &[f, next] = stack.back();
      if (next == calls[f].size()) {
        color[f] = Black;
        order.push_back(f);
        stack.pop_back();
        continue;
      }
      auto [callee, loc] = calls[f][next++];
      if (color[callee] == Grey) {
        std::string chain = ast.funcs[callee].name;
        bool in = false;
        for (auto &[g, unused] : stack) {
          (void)unused;
          in = in || g == callee;
          if (in && g != callee)
            chain += " -> " + ast.funcs[g].name;
        }
        chain += " -> " + ast.funcs[callee].name;
        diags.error(loc, "recursive call of '" + ast.funcs[callee].name + "' (" + chain +
                             "); functions cannot call themselves");
      } else if (color[callee] == White) {
        color[callee] = Grey;
        stack.push_back({callee, 0});
      }
    }
  }
  return order;
}

// A size of a parameter's shape or a dim declaration, when it is a literal: 0 to 2^40.
bool literalSizeOk(const Dim &d, SourceLoc loc, const std::string &what, Diagnostics &diags) {
  if (!d.isLiteral() || (d.off >= 0 && d.off <= kMaxDimSize))
    return true;
  diags.error(loc, what + " is " + std::to_string(d.off) + ": a size is between 0 and " + std::to_string(kMaxDimSize) +
                       " (2^40)");
  return false;
}

bool checkParams(const Ast &ast, const FuncDef &def, const DimTable &dims, Diagnostics &diags,
                 std::vector<ParamInfo> &out) {
  bool ok = true;
  std::unordered_map<std::string, SourceLoc> seen;
  for (const ParamDecl &p : def.params) {
    auto [it, fresh] = seen.insert({p.name, p.loc});
    if (!fresh) {
      diags.error(p.loc, "duplicate parameter '" + p.name + "' (first declared at " +
                             where(it->second) + ")");
      ok = false;
    }
    if (findDim(dims, p.name, dims.names.size()) >= 0) {
      diags.error(p.loc, "parameter '" + p.name + "' has the name of a dim");
      ok = false;
    }
    if (isInteger(p.dtype) && !p.isConst) {
      diags.error(p.loc, "integer parameter '" + p.name + "' must be declared const (" +
                             dtypeName(p.dtype) + " values have no gradient)");
      ok = false;
    }
    ParamInfo info{p.name, p.loc, Type{p.dtype, {}}, p.isConst, kNoNode};
    for (const DimRef &d : p.shape) {
      if (d.expr != kNoExpr) {
        std::optional<Dim> size = sizeOfExpr(ast, d.expr, dims, def.dimsBefore, diags);
        bool fine = size && literalSizeOk(*size, d.loc, "this shape entry", diags);
        ok = ok && fine;
        info.type.shape.push_back(fine ? *size : Dim::lit(0));
        continue;
      }
      if (d.name.empty()) {
        info.type.shape.push_back(Dim::lit(d.size));
        continue;
      }
      int32_t sym = findDim(dims, d.name, def.dimsBefore);
      if (sym < 0) {
        bool later = findDim(dims, d.name, dims.names.size()) >= 0;
        diags.error(d.loc, later ? "dim '" + d.name + "' is used before its declaration"
                                 : "undeclared dim '" + d.name + "' (declare it with 'dim " +
                                       d.name + "')");
        ok = false;
        sym = 0;
      }
      info.type.shape.push_back(resolveDim(dims, sym));
    }
    if (literalElementCount(info.type.shape) < 0) {
      diags.error(p.loc, "parameter '" + p.name + "' would have more than " + maxElementsText() +
                             " elements (" + dims.str(info.type.shape) + ")");
      ok = false;
    }
    out.push_back(std::move(info));
  }
  return ok;
}

bool buildBody(const Ast &ast, const FuncDef &def, Diagnostics &diags, const Program &program,
               const std::unordered_map<std::string, size_t> &funcIndex, Function &fn) {
  ExprBuilder b(ast, diags, program.bodies, funcIndex, *fn.graph, def.dimsBefore);
  for (size_t i = 0; i < fn.params.size(); ++i) {
    ParamInfo &p = fn.params[i];
    p.node = fn.graph->param(static_cast<int64_t>(i), p.type);
    fn.graph->setLoc(p.node, p.loc);
    b.env[p.name] = p.node;
  }
  std::unordered_map<std::string, SourceLoc> defined;
  for (const ParamInfo &p : fn.params)
    defined[p.name] = p.loc;
  bool ok = true;
  for (size_t i = 0; i < def.body.size(); ++i) {
    const Stmt &s = def.body[i];
    if (fn.result != kNoNode || (i > 0 && def.body[i - 1].kind == Stmt::Return)) {
      diags.error(s.loc, "statement after 'return' is never reached");
      return false;
    }
    NodeId v = b.build(s.value);
    ok = ok && v != kNoNode;
    if (s.kind == Stmt::Return) {
      if (v != kNoNode && fn.graph->type(v).dtype == DType::Bool) {
        diags.error(ast[s.value].loc, "a function cannot return a comparison; use where(c, a, b)");
        return false;
      }
      fn.result = v;
      continue;
    }
    auto prev = defined.find(s.name);
    if (prev != defined.end()) {
      diags.error(s.loc, "'" + s.name + "' is already defined at " + where(prev->second) +
                             "; a name is assigned once");
      ok = false;
      continue;
    }
    if (findDim(fn.graph->dims(), s.name, fn.graph->dims().names.size()) >= 0) {
      diags.error(s.loc, "cannot assign to '" + s.name + "': it is a dim");
      ok = false;
      continue;
    }
    defined[s.name] = s.loc;
    b.env[s.name] = v; // kNoNode when it failed: its uses then fail quietly, not as unknown names
  }
  fn.exprValues = b.exprValues();
  if (ok && fn.result == kNoNode) {
    diags.error(def.endLoc, "function '" + def.name + "' has no 'return' statement");
    return false;
  }
  return ok;
}

} // namespace

bool checkProgram(const Ast &ast, Diagnostics &diags, Program &program, bool inlineAll) {
  // Dims: declared once, names distinct from everything else.
  std::unordered_map<std::string, SourceLoc> dimLoc;
  std::vector<bool> badName(ast.dims.size(), false);
  for (size_t i = 0; i < ast.dims.size(); ++i) {
    const DimDecl &d = ast.dims[i];
    auto [it, fresh] = dimLoc.insert({d.name, d.loc});
    badName[i] = !fresh || isBuiltinFunction(d.name);
    if (!fresh)
      diags.error(d.loc, "dim '" + d.name + "' is already declared at " + where(it->second));
    else if (isBuiltinFunction(d.name))
      diags.error(d.loc, "'" + d.name + "' is a builtin function and cannot be a dim");
    program.dims->names.push_back(d.name);
  }
  // Derived dims (`dim M = D*(D+1)/2`) once every declared name has its place, each seeing the
  // dims declared before it. Each is checked, whatever failed before it: a failed one stays a
  // plain name, which makes no error in the ones after it.
  for (size_t i = 0; i < ast.dims.size(); ++i) {
    const DimDecl &d = ast.dims[i];
    if (d.value == kNoExpr || badName[i])
      continue;
    size_t firstNew = program.dims->names.size();
    std::optional<Dim> size = sizeOfExpr(ast, d.value, *program.dims, i, diags);
    if (size && literalSizeOk(*size, d.loc, "dim '" + d.name + "'", diags))
      declareDerivedDim(*program.dims, static_cast<int32_t>(i), *size, firstNew);
  }
  // Functions: one definition per name, none shadowing a builtin or a dim.
  std::unordered_map<std::string, size_t> funcIndex;
  for (size_t i = 0; i < ast.funcs.size(); ++i) {
    const FuncDef &f = ast.funcs[i];
    auto [it, fresh] = funcIndex.insert({f.name, i});
    if (!fresh)
      diags.error(f.loc, "function '" + f.name + "' is already defined at " +
                             where(ast.funcs[it->second].loc));
    else if (isBuiltinFunction(f.name))
      diags.error(f.loc, "'" + f.name + "' is a builtin function and cannot be redefined");
    else if (dimLoc.count(f.name))
      diags.error(f.loc, "function '" + f.name + "' has the name of a dim");
  }
  if (ast.funcs.empty()) {
    diags.error({}, "no function is defined (a program needs at least one 'def')");
    return false;
  }
  if (diags.hasErrors())
    return false;

  std::vector<size_t> order = calleesFirst(ast, callGraph(ast, funcIndex), diags);
  if (diags.hasErrors())
    return false;

  // Callees first, so that a call knows its callee's signature and result type. A call is
  // one node (Op::Call); bodies are inlined afterwards, each function on its own
  // (ir/Inline.h), so that checking costs the program's size, not the sum of inlined bodies.
  // A function with errors does not stop the others: each is checked, and every error of
  // the file is reported. A call of a function with errors fails quietly (the callee's
  // errors are the cause), so its caller has errors too, and reports only its own.
  program.bodies.resize(ast.funcs.size());
  for (size_t f : order) {
    const FuncDef &def = ast.funcs[f];
    Function &fn = program.bodies[f];
    fn.name = def.name;
    fn.loc = def.loc;
    fn.isLocal = def.isLocal;
    fn.graph = std::make_shared<Graph>(program.dims);
    bool paramsOk = checkParams(ast, def, *program.dims, diags, fn.params);
    if (!paramsOk || !buildBody(ast, def, diags, program, funcIndex, fn)) {
      fn.hasErrors = true;
      fn.graph = nullptr;
      fn.result = kNoNode;
    }
  }
  for (const Function &body : program.bodies) {
    Function fn = body;
    if (!body.hasErrors && hasCalls(body))
      fn.graph = nullptr; // made by Program::inlined
    program.funcs.push_back(std::move(fn));
  }
  if (inlineAll)
    for (size_t f = 0; f < program.funcs.size(); ++f)
      if (!program.funcs[f].hasErrors)
        program.inlined(f);
  return !diags.hasErrors();
}

} // namespace gradc
