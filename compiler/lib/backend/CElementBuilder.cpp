// CElementBuilder.cpp: C99 text for the op table's element and index rules.
#include "backend/CElementBuilder.h"

#include "backend/Abi.h"

#include <cmath>
#include <cstdio>

namespace gradc {

const char *cRegisterType(DType t) { return t == DType::Bool ? "int" : cTypeName(t); }

std::string cLiteral(double v, DType t) {
  if (t == DType::Bool)
    return v != 0 ? "1" : "0";
  if (isInteger(t))
    return "(" + std::string(cTypeName(t)) + ")" + std::to_string(static_cast<int64_t>(v));
  bool f32 = t == DType::F32;
  if (std::isnan(v))
    return f32 ? "(float)NAN" : "NAN";
  if (std::isinf(v))
    return std::string(v < 0 ? "(-" : "(") + (f32 ? "HUGE_VALF" : "HUGE_VAL") + ")";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  if (v < 0 || (v == 0 && std::signbit(v)))
    s = "(" + s + ")";
  // Rounded as LLVM rounds a float constant: the double, then to float.
  return f32 ? "(float)" + s : s;
}

// --- CBody ---

Val CBody::make(std::string text, std::vector<int> temps) {
  values_.push_back({std::move(text), std::move(temps)});
  return reinterpret_cast<Val>(&values_.back());
}

std::vector<int> CBody::tempsOf(const std::vector<Val> &deps) const {
  std::vector<int> out;
  for (Val d : deps)
    for (int t : value(d).temps)
      out.push_back(t);
  return out;
}

const std::string &CBody::c(Val v) const { return value(v).text; }

Val CBody::expr(std::string text, std::vector<Val> deps) { return make(std::move(text), tempsOf(deps)); }

Val CBody::temp(DType t, const std::string &text, const std::vector<Val> &deps) {
  return temp("const " + std::string(cRegisterType(t)), text, deps);
}

Val CBody::temp(const std::string &ctype, const std::string &text, const std::vector<Val> &deps) {
  int id = temps_++;
  std::string name = "t" + std::to_string(id);
  lines_.push_back({depth_, ctype + " " + name + " = " + text + ";", id, tempsOf(deps)});
  return make(name, {id});
}

Val CBody::var(DType t, Val init) {
  int id = temps_++;
  std::string name = "t" + std::to_string(id);
  lines_.push_back({depth_, std::string(cRegisterType(t)) + " " + name + " = " + c(init) + ";", id,
                    tempsOf({init})});
  return make(name, {id});
}

void CBody::assign(Val var, Val v) {
  lines_.push_back({depth_, c(var) + " = " + c(v) + ";", value(var).temps.at(0), tempsOf({v})});
}

void CBody::stmt(const std::string &text, const std::vector<Val> &deps) {
  lines_.push_back({depth_, text, -1, tempsOf(deps)});
}

void CBody::open(const std::string &head, const std::vector<Val> &deps) {
  stmt(head + " {", deps);
  ++depth_;
}

void CBody::close() {
  --depth_;
  stmt("}");
}

std::string CBody::finish() const {
  // Drop the lines that set a temporary nothing reads, until none is left: a dropped
  // line's reads may leave others unread.
  std::vector<int> reads(static_cast<size_t>(temps_), 0);
  for (const Line &l : lines_)
    for (int t : l.uses)
      ++reads[static_cast<size_t>(t)];
  std::vector<bool> keep(lines_.size(), true);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = lines_.size(); i-- > 0;) {
      const Line &l = lines_[i];
      if (!keep[i] || l.def < 0 || reads[static_cast<size_t>(l.def)] > 0)
        continue;
      keep[i] = false;
      changed = true;
      for (int t : l.uses)
        --reads[static_cast<size_t>(t)];
    }
  }
  std::string out;
  for (size_t i = 0; i < lines_.size(); ++i)
    if (keep[i])
      out += std::string(static_cast<size_t>(lines_[i].depth) * 2, ' ') + lines_[i].text + "\n";
  return out;
}

// --- elements ---

Val CElementBuilder::konst(double v) { return c_.expr(cLiteral(v, type_)); }

Val CElementBuilder::infix(DType result, Val a, const char *op, Val b) {
  return c_.temp(result, c_.c(a) + op + c_.c(b), {a, b});
}

Val CElementBuilder::neg(Val a) { return c_.temp(type_, "-" + c_.c(a), {a}); }

Val CElementBuilder::math(MathFn fn, Val a, Val b) {
  static const char *const names[] = {"exp", "log", "sqrt", "sin", "cos", "tanh", "fabs", "pow"};
  std::string call = names[static_cast<int>(fn)];
  if (type_ == DType::F32)
    call += "f";
  call += "(" + c_.c(a);
  if (b)
    call += ", " + c_.c(b);
  return c_.temp(type_, call + ")", {a, b ? b : a});
}

Val CElementBuilder::isNaN(Val a) {
  if (!isFloat(type_))
    return c_.expr("0");
  return c_.temp(DType::Bool, c_.c(a) + " != " + c_.c(a), {a});
}

Val CElementBuilder::select(Val cond, Val a, Val b) {
  return c_.temp(type_, c_.c(cond) + " ? " + c_.c(a) + " : " + c_.c(b), {cond, a, b});
}

// NaN in either operand gives NaN, as LLVM's llvm.maximum/llvm.minimum.
Val CElementBuilder::extreme(Val a, const char *op, Val b) {
  const std::string &x = c_.c(a), &y = c_.c(b);
  return c_.temp(type_, "(" + x + " != " + x + " || " + x + op + y + ") ? " + x + " : " + y, {a, b});
}

// --- indices ---

Val CIndexMapper::dim(const Dim &d) {
  if (d.isLiteral())
    return constant(d.off);
  Val v = dims_[static_cast<size_t>(d.sym)];
  if (d.off == 0)
    return v;
  return c_.expr("(" + c_.c(v) + (d.off < 0 ? " - " : " + ") + std::to_string(d.off < 0 ? -d.off : d.off) + ")",
                 {v});
}

Val CIndexMapper::constant(int64_t v) {
  return c_.expr(v < 0 ? "(" + std::to_string(v) + ")" : std::to_string(v));
}

bool cIntLiteral(const std::string &text, int64_t &value) {
  std::string t = text;
  if (t.size() > 2 && t.front() == '(' && t.back() == ')')
    t = t.substr(1, t.size() - 2);
  if (t.empty() || t.find_first_not_of("-0123456789") != std::string::npos || t.find('-', 1) != std::string::npos)
    return false;
  try {
    value = std::stoll(t);
  } catch (...) {
    return false;
  }
  return true;
}

// Literal sums are folded, so bound dims give plain numbers.
Val CIndexMapper::add(Val a, Val b) {
  int64_t x, y;
  if (cIntLiteral(c_.c(a), x) && cIntLiteral(c_.c(b), y))
    return constant(x + y);
  if (cIntLiteral(c_.c(a), x) && x == 0)
    return b;
  if (cIntLiteral(c_.c(b), y) && y == 0)
    return a;
  return c_.expr("(" + c_.c(a) + " + " + c_.c(b) + ")", {a, b});
}

Val cConvert(CBody &c, Val v, DType from, DType to) {
  if (from == to)
    return v;
  if (to == DType::Bool)
    return c.temp(DType::Bool, c.c(v) + " != 0", {v});
  return c.temp(to, "(" + std::string(cRegisterType(to)) + ")" + c.c(v), {v});
}

std::string cShapeFitsText(const Shape &shape, const std::vector<std::string> &sizes) {
  int64_t literal = literalElementCount(shape);
  if (literal == 0)
    return "1";
  std::vector<std::string> symbolic;
  std::vector<int64_t> known{std::max<int64_t>(literal, 1)};
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k].isLiteral())
      continue;
    int64_t v;
    if (cIntLiteral(sizes[k], v))
      known.push_back(v);
    else
      symbolic.push_back(sizes[k]);
  }
  int64_t fixed = checkedElementCount(known);
  if (fixed == 0)
    return "1";
  if (fixed < 0)
    return "0";
  if (symbolic.empty())
    return "1";
  std::string zero, fits, room = "(uint64_t)" + std::to_string(kMaxElements / fixed);
  for (const std::string &e : symbolic) {
    zero += e + " == 0 || ";
    // Unsigned, as the object's check: a negative size does not fit (and is never divided by).
    fits += std::string(fits.empty() ? "" : " && ") + "(uint64_t)" + e + " <= " + room;
    room += " / (uint64_t)" + e;
  }
  return "(" + zero + "(" + fits + "))";
}

std::string cShapeFits(CBody &c, const Graph &g, const std::vector<Val> &dims, const Shape &shape,
                       std::vector<Val> &deps) {
  CIndexMapper im(c, g, dims);
  std::vector<std::string> sizes;
  for (const Dim &d : shape) {
    Val e = im.dim(d);
    sizes.push_back(c.c(e));
    if (!d.isLiteral())
      deps.push_back(e);
  }
  return cShapeFitsText(shape, sizes);
}

} // namespace gradc
