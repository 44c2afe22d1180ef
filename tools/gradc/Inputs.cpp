// Inputs.cpp: turning command-line and JSON values into parameter tensors. Numbers follow
// the one rule of support/Numbers.h; JSON files are read by support/JsonValues.h.
#include "Inputs.h"

#include "ir/DimArith.h"
#include "support/JsonValues.h"
#include "support/Memory.h"
#include "support/Numbers.h"
#include "support/ReadFile.h"

#include <cerrno>
#include <random>
#include <cmath>
#include <cstdlib>
#include <set>

namespace gradc::cli {

namespace {

// A value as given: flat numbers, and the nested shape when it came from JSON.
struct Given {
  std::vector<double> data;
  std::optional<std::vector<int64_t>> shape;
  std::optional<std::pair<size_t, std::string>> inexactInteger; // see JsonValue
};

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Integers beyond 2^53 are not exact as doubles: an integer parameter refuses them with the
// text as given.
bool isInexactInteger(const std::string &t) {
  size_t digits = t.find_first_not_of("+-");
  if (digits == std::string::npos || digits > 1 || t.find_first_not_of("0123456789", digits) != std::string::npos)
    return false;
  std::string d = t.substr(digits);
  d.erase(0, std::min(d.find_first_not_of('0'), d.size() - 1));
  return d.size() > 16 || (d.size() == 16 && d > "9007199254740992"); // 2^53
}

bool parseList(const std::string &text, Given &g, std::string &error) {
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    std::string item = trim(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    double x;
    NumberStatus st = parseReal(item, x, true);
    if (st != NumberStatus::Ok) {
      error = "'" + item + "' " + numberProblem(st);
      return false;
    }
    if (isInexactInteger(item) && !g.inexactInteger)
      g.inexactInteger = {{g.data.size(), item}};
    g.data.push_back(x);
    if (comma == std::string::npos)
      return true;
    pos = comma + 1;
  }
}

std::string dimName(const DimTable &dims, int32_t sym) { return dims.names[static_cast<size_t>(sym)]; }

// Binds the dims of `shape` from a given value: a nested shape binds each entry; a flat
// list binds the one unknown dim when its size follows from the element count. When no
// size fits, `hint` says so, for the error about the unbound dim.
bool inferDims(const Shape &shape, const Given &g, const std::string &name, const DimTable &dims,
               std::vector<std::optional<int64_t>> &bound, std::map<int32_t, std::string> &hint,
               std::string &error) {
  auto bind = [&](int32_t sym, int64_t v) {
    auto &b = bound[static_cast<size_t>(sym)];
    if (b && *b != v) {
      error = "dim '" + dimName(dims, sym) + "' is " + std::to_string(*b) + " elsewhere but " +
              std::to_string(v) + " from the value of '" + name + "'";
      return false;
    }
    if (v < 1 || v > kMaxDimSize) {
      error = "the value of '" + name + "' makes dim '" + dimName(dims, sym) + "' " + std::to_string(v) +
              ": a dim is between 1 and " + std::to_string(kMaxDimSize) + " (2^40)";
      return false;
    }
    b = v;
    return true;
  };
  if (g.shape) {
    if (g.shape->size() != shape.size()) {
      error = "'" + name + "' has shape " + dims.str(shape) + ", but its value has " +
              std::to_string(g.shape->size()) + " dimension" + (g.shape->size() == 1 ? "" : "s");
      return false;
    }
    for (size_t k = 0; k < shape.size(); ++k) // a derived dim is computed, and then checked by take()
      if (!shape[k].isLiteral() && !dims.isDerived(shape[k].sym) && !bind(shape[k].sym, (*g.shape)[k] - shape[k].off))
        return false;
    return true;
  }
  std::vector<int64_t> knownSizes;
  int32_t unknown = -1;
  int power = 0;
  for (const Dim &d : shape) {
    if (d.isLiteral()) {
      knownSizes.push_back(d.off);
    } else if (dims.isDerived(d.sym)) {
      return true; // computed once its dims are known
    } else if (bound[static_cast<size_t>(d.sym)]) {
      knownSizes.push_back(*bound[static_cast<size_t>(d.sym)] + d.off);
    } else if (d.off == 0 && (unknown < 0 || unknown == d.sym)) {
      unknown = d.sym;
      ++power;
    } else {
      return true; // two unknown dims: leave it to another value or --dim
    }
  }
  int64_t known = checkedElementCount(knownSizes);
  if (unknown < 0 || known <= 0) // nothing to infer, or sizes the memory check reports
    return true;
  double root = std::pow(static_cast<double>(g.data.size()) / static_cast<double>(known), 1.0 / power);
  int64_t n = std::llround(root);
  std::vector<int64_t> sizes(static_cast<size_t>(power), n);
  sizes.push_back(known);
  if (n < 1 || checkedElementCount(sizes) != static_cast<int64_t>(g.data.size())) {
    std::string product = dimName(dims, unknown);
    for (int i = 1; i < power; ++i)
      product += "*" + dimName(dims, unknown);
    hint[unknown] = "'" + name + "' has shape " + dims.str(shape) + ", but no size of dim '" +
                    dimName(dims, unknown) + "' gives " + std::to_string(g.data.size()) + " values" +
                    (known == 1 ? " (" + product + " = " + std::to_string(g.data.size()) + ")" : "") +
                    ": give nested arrays in --at-file, or --dim " + dimName(dims, unknown) + "=SIZE";
    return true;
  }
  return bind(unknown, n);
}

std::string gib(double bytes) {
  char text[64];
  if (bytes >= 0x1p40)
    std::snprintf(text, sizeof text, "%.1f TiB", bytes / 0x1p40);
  else
    std::snprintf(text, sizeof text, "%.1f GiB", bytes / 0x1p30);
  return text;
}

} // namespace

bool integerInRange(double v, DType dtype, std::string &why) {
  if (!std::isfinite(v) || v != std::floor(v)) {
    why = "its values must be integers";
    return false;
  }
  double lo = dtype == DType::I32 ? -0x1p31 : -0x1p63, hi = dtype == DType::I32 ? 0x1p31 : 0x1p63;
  if (v < lo || v >= hi) {
    why = "its values must be between " + integerText(lo) + " and " + integerText(hi - 1);
    return false;
  }
  return true;
}

bool parseDims(const std::vector<std::string> &specs, const DimTable &dims,
               std::map<int32_t, int64_t> &out, std::string &error) {
  std::set<int32_t> seen;
  for (const std::string &s : specs) {
    size_t eq = s.find('=');
    std::string name = s.substr(0, eq);
    int32_t sym = -1;
    for (size_t i = 0; i < dims.names.size(); ++i)
      if (dims.names[i] == name)
        sym = static_cast<int32_t>(i);
    if (eq == std::string::npos) {
      error = "--dim expects NAME=SIZE, got '" + s + "'";
      return false;
    }
    if (sym < 0) {
      error = "--dim " + s + ": the program declares no dim '" + name + "'";
      return false;
    }
    if (!seen.insert(sym).second) {
      error = "--dim " + name + " is given twice";
      return false;
    }
    if (dims.isDerived(sym)) {
      error = "--dim " + s + ": " + derivedDimNotGiven(dims, sym);
      return false;
    }
    std::string v = s.substr(eq + 1);
    char *end = nullptr;
    errno = 0;
    long long k = std::strtoll(v.c_str(), &end, 10);
    bool integral = !v.empty() && end == v.c_str() + v.size() && v.find_first_not_of("+-0123456789") == std::string::npos;
    if (!integral || errno == ERANGE || k <= 0 || k > kMaxDimSize) {
      error = "--dim " + s + ": the size must be an integer from 1 to " + std::to_string(kMaxDimSize) + " (2^40)";
      return false;
    }
    out[sym] = k;
  }
  return true;
}

std::string checkValueMemory(const Function &fn, const DimTable &dims, const std::vector<int64_t> &dimValues) {
  // Each value is held as doubles (the interpreter's tensors) and once more in its C type for
  // compiled code: 16 bytes per element.
  double bytes = 0;
  auto add = [&](const std::string &what, const Shape &shape, int copies) -> std::string {
    std::vector<int64_t> sizes = concreteShape(shape, dimValues);
    int64_t count = checkedElementCount(sizes);
    if (count < 0) {
      std::string concrete;
      bool negative = false;
      for (int64_t s : sizes) {
        concrete += (concrete.empty() ? "" : ", ") + std::to_string(s);
        negative = negative || s < 0;
      }
      return what + " of shape " + dims.str(shape) +
             (negative ? " would have a negative size" : " would have more than " + maxElementsText() + " elements") +
             " ([" + concrete + "]) for these dims";
    }
    bytes += 16.0 * static_cast<double>(count) * copies;
    return "";
  };
  for (const ParamInfo &p : fn.params)
    if (std::string e = add("'" + p.name + "'", p.type.shape, p.isConst ? 1 : 2); !e.empty())
      return e;
  const Type &result = fn.graph->type(fn.result);
  if (std::string e = add("the result", result.shape, result.isScalar() ? 1 : 2); !e.empty())
    return e;
  size_t available = availableMemoryBytes();
  if (available && bytes > static_cast<double>(available))
    return "the values for these dims (parameters, gradients and result) need about " + gib(bytes) +
           " of memory, and " + gib(static_cast<double>(available)) + " are available";
  return "";
}

namespace {

// The values given by --at-file, --at and --d-out, by name; false with `error` set when one
// cannot be read.
bool readGiven(const Function &fn, const InputSpec &spec, bool scalarResult, const std::string &program,
               std::map<std::string, Given> &given, std::string &error) {
  auto fail = [&](const std::string &message) {
    error = program + ": error: " + message + "\n";
    return false;
  };
  if (!spec.atFile.empty()) {
    std::string readError;
    std::optional<std::string> text = readBoundedFile(spec.atFile, kMaxJsonBytes, "JSON file", readError);
    if (!text)
      return fail("--at-file: " + readError);
    auto file = std::make_shared<SourceFile>(SourceFile{spec.atFile, std::move(*text)});
    Diagnostics diags(file);
    auto values = parseJsonValues(file->text, diags);
    if (!values) {
      error = diags.rendered();
      return false;
    }
    for (auto &[k, v] : *values)
      given[k] = Given{std::move(v.data), std::move(v.shape), std::move(v.inexactInteger)};
  }
  std::set<std::string> atNames;
  for (const std::string &a : spec.at) {
    size_t eq = a.find('=');
    if (eq == std::string::npos)
      return fail("--at expects NAME=V[,V...], got '" + a + "'");
    std::string name = a.substr(0, eq);
    if (!atNames.insert(name).second)
      return fail("--at " + name + " is given twice");
    Given g;
    std::string why;
    if (!parseList(a.substr(eq + 1), g, why))
      return fail("--at " + name + ": " + why);
    given[name] = std::move(g); // overrides the --at-file entry
  }
  if (!spec.dOut.empty()) {
    if (scalarResult)
      return fail("--d-out: '" + fn.name + "' returns a scalar; --d-out is the upstream gradient of a "
                  "non-scalar result");
    Given g;
    std::string why;
    if (!parseList(spec.dOut, g, why))
      return fail("--d-out: " + why);
    given["d_out"] = std::move(g);
  }
  return true;
}

// The value of parameter `name` of `type` for dims `dimValues`: the given one, checked, or
// (`defaultOnes`, for d_out) ones or a normal random draw. False with `why` when it cannot be.
bool takeValue(const std::map<std::string, Given> &given, const std::string &name, const Type &type,
               bool defaultOnes, const InputSpec &spec, const DimTable &dims, const std::vector<int64_t> &dimValues,
               std::vector<Tensor> &params, std::string &why) {
  Tensor t;
  t.shape = concreteShape(type.shape, dimValues);
  int64_t count = checkedElementCount(t.shape); // valid: checkValueMemory passed
  auto it = given.find(name);
  if (it == given.end()) {
    if (!defaultOnes) {
      why = "no value for parameter '" + name + "' (give --at " + name + "=...)";
      return false;
    }
    t.data.assign(static_cast<size_t>(count), 1.0);
    if (spec.randomDOutSeed) {
      std::mt19937_64 rng(*spec.randomDOutSeed);
      std::normal_distribution<double> normal(0.0, 1.0);
      for (double &v : t.data)
        v = normal(rng);
    }
    params.push_back(std::move(t));
    return true;
  }
  const Given &g = it->second;
  if (static_cast<int64_t>(g.data.size()) != count) {
    why = "'" + name + "' has shape " + dims.str(type.shape) + " (" + std::to_string(count) + " value" +
          (count == 1 ? "" : "s") + "), but " + std::to_string(g.data.size()) +
          (g.data.size() == 1 ? " was" : " were") + " given";
    return false;
  }
  if (g.shape && *g.shape != t.shape) { // equal counts, but a derived size differs
    auto text = [](const std::vector<int64_t> &v) {
      std::string r;
      for (int64_t x : v)
        r += (r.empty() ? "" : ", ") + std::to_string(x);
      return "[" + r + "]";
    };
    why = "'" + name + "' has shape " + dims.str(type.shape) + ", which is " + text(t.shape) +
          " for these dims, but its value has shape " + text(*g.shape);
    return false;
  }
  if (isInteger(type.dtype)) {
    if (g.inexactInteger) {
      why = "'" + name + "' is " + std::string(dtypeName(type.dtype)) + ": its value " + g.inexactInteger->second +
            " (element " + std::to_string(g.inexactInteger->first) +
            ") is beyond 2^53, past every index and label that can be in range";
      return false;
    }
    for (size_t i = 0; i < g.data.size(); ++i)
      if (std::string whyNot; !integerInRange(g.data[i], type.dtype, whyNot)) {
        why = "'" + name + "' is " + std::string(dtypeName(type.dtype)) + ": " + whyNot + " (element " +
              std::to_string(i) + " is " + integerText(g.data[i]) + ")";
        return false;
      }
  }
  t.data = g.data;
  params.push_back(std::move(t));
  return true;
}

} // namespace

std::optional<BoundInputs> bindInputs(const Function &fn, const DimTable &dims, const InputSpec &spec,
                                      const std::string &program, std::string &error) {
  auto fail = [&](const std::string &message) -> std::optional<BoundInputs> {
    error = program + ": error: " + message + "\n";
    return std::nullopt;
  };
  bool scalarResult = fn.graph->type(fn.result).isScalar();
  std::map<std::string, Given> given;
  if (!readGiven(fn, spec, scalarResult, program, given, error))
    return std::nullopt;

  std::vector<std::optional<int64_t>> bound(dims.names.size());
  std::map<int32_t, int64_t> fixed;
  std::string why;
  if (!parseDims(spec.dims, dims, fixed, why))
    return fail(why);
  for (auto &[sym, v] : fixed)
    bound[static_cast<size_t>(sym)] = v;

  for (const auto &[name, g] : given) {
    bool known = name == "d_out" && !scalarResult;
    for (const ParamInfo &p : fn.params)
      known = known || p.name == name;
    if (name == "d_out" && scalarResult)
      return fail(spec.atFile + ": 'd_out': '" + fn.name + "' returns a scalar; d_out is the upstream "
                  "gradient of a non-scalar result");
    if (!known && !spec.ignoreUnknown)
      return fail("'" + fn.name + "' has no parameter '" + name + "' (--ignore-unknown skips values of other names)");
  }
  // Two rounds: a flat list may need a dim that another value binds.
  std::map<int32_t, std::string> hint;
  for (int round = 0; round < 2; ++round)
    for (const ParamInfo &p : fn.params)
      if (auto it = given.find(p.name); it != given.end())
        if (!inferDims(p.type.shape, it->second, p.name, dims, bound, hint, why))
          return fail(why);

  BoundInputs out;
  for (int32_t sym : fn.usedDims()) {
    if (!bound[static_cast<size_t>(sym)]) {
      auto h = hint.find(sym);
      return fail(h != hint.end() ? h->second
                                  : "the size of dim '" + dimName(dims, sym) + "' is unknown: give --dim " +
                                        dimName(dims, sym) + "=SIZE");
    }
  }
  out.dimValues.resize(dims.names.size(), 0);
  for (size_t i = 0; i < bound.size(); ++i)
    out.dimValues[i] = bound[i].value_or(0);
  if (std::string e = completeDimValues(dims, out.dimValues, fn.mentionedDims()); !e.empty())
    return fail(e);
  if (std::string e = checkValueMemory(fn, dims, out.dimValues); !e.empty())
    return fail(e);
  for (const ParamInfo &p : fn.params)
    if (!takeValue(given, p.name, p.type, false, spec, dims, out.dimValues, out.params, why))
      return fail(why);
  if (!scalarResult && !takeValue(given, "d_out", fn.graph->type(fn.result), true, spec, dims, out.dimValues,
                                  out.params, why))
    return fail(why);
  return out;
}

} // namespace gradc::cli
