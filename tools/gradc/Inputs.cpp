// Inputs.cpp: turning command-line and JSON values into parameter tensors.
#include "Inputs.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

namespace gradc::cli {

namespace {

bool parseNumber(const std::string &text, double &out) {
  std::string t = text;
  while (!t.empty() && t.front() == ' ')
    t.erase(t.begin());
  while (!t.empty() && t.back() == ' ')
    t.pop_back();
  if (t == "nan") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (t == "inf" || t == "-inf") {
    out = t == "inf" ? INFINITY : -INFINITY;
    return true;
  }
  if (t.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  out = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size() && errno != ERANGE;
}

// A value as given: flat numbers, and the nested shape when it came from JSON.
struct Given {
  std::vector<double> data;
  std::optional<std::vector<int64_t>> shape;
  std::string origin;
};

bool flattenJson(const nlohmann::json &j, Given &g, std::string &error) {
  // Breadth-first over nesting levels, so that the depth of the JSON is not recursion.
  std::vector<const nlohmann::json *> level{&j};
  std::vector<int64_t> shape;
  while (true) {
    bool arrays = level.front()->is_array();
    for (const auto *v : level) {
      if (v->is_array() != arrays) {
        error = "ragged nested array";
        return false;
      }
    }
    if (!arrays)
      break;
    size_t n = level.front()->size();
    std::vector<const nlohmann::json *> next;
    for (const auto *v : level) {
      if (v->size() != n) {
        error = "ragged nested array (rows of " + std::to_string(n) + " and " +
                std::to_string(v->size()) + " elements)";
        return false;
      }
      for (const auto &e : *v)
        next.push_back(&e);
    }
    shape.push_back(static_cast<int64_t>(n));
    if (n == 0) {
      error = "empty array";
      return false;
    }
    level = std::move(next);
  }
  for (const auto *v : level) {
    double x;
    if (v->is_number())
      x = v->get<double>();
    else if (v->is_string() && parseNumber(v->get<std::string>(), x))
      ;
    else {
      error = "expected a number, got " + v->dump();
      return false;
    }
    g.data.push_back(x);
  }
  g.shape = shape;
  return true;
}

bool parseList(const std::string &text, Given &g, std::string &error) {
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    double x;
    if (!parseNumber(item, x)) {
      error = "'" + item + "' is not a number";
      return false;
    }
    g.data.push_back(x);
    if (comma == std::string::npos)
      return true;
    pos = comma + 1;
  }
}

// Binds the dims of `shape` from a given value: a nested shape binds each entry; a
// flat list binds the one unknown dim when its size follows from the element count.
bool inferDims(const Shape &shape, const Given &g, const std::string &name, const DimTable &dims,
               std::vector<std::optional<int64_t>> &bound, std::string &error) {
  auto bind = [&](int32_t sym, int64_t v) {
    auto &b = bound[static_cast<size_t>(sym)];
    if (b && *b != v) {
      error = "dim '" + dims.names[static_cast<size_t>(sym)] + "' is " + std::to_string(*b) +
              " elsewhere but " + std::to_string(v) + " from the value of '" + name + "'";
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
    for (size_t k = 0; k < shape.size(); ++k)
      if (!shape[k].isLiteral() && !bind(shape[k].sym, (*g.shape)[k] - shape[k].off))
        return false;
    return true;
  }
  int64_t known = 1;
  int32_t unknown = -1;
  int power = 0;
  for (const Dim &d : shape) {
    if (d.isLiteral()) {
      known *= d.off;
    } else if (bound[static_cast<size_t>(d.sym)]) {
      known *= *bound[static_cast<size_t>(d.sym)];
    } else if (unknown < 0 || unknown == d.sym) {
      unknown = d.sym;
      ++power;
    } else {
      return true; // two unknown dims: leave it to another value or --dim
    }
  }
  if (unknown < 0 || known == 0)
    return true;
  double root = std::pow(static_cast<double>(g.data.size()) / static_cast<double>(known), 1.0 / power);
  int64_t n = std::llround(root);
  int64_t total = known;
  for (int i = 0; i < power; ++i)
    total *= n;
  if (total != static_cast<int64_t>(g.data.size()))
    return true; // the count check below reports it
  return bind(unknown, n);
}

} // namespace

bool parseDims(const std::vector<std::string> &specs, const DimTable &dims,
               std::map<int32_t, int64_t> &out, std::string &error) {
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
    std::string v = s.substr(eq + 1);
    char *end = nullptr;
    errno = 0;
    long long k = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || end != v.c_str() + v.size() || errno == ERANGE || k <= 0 || k > (1ll << 40)) {
      error = "--dim " + s + ": the size must be a positive integer";
      return false;
    }
    out[sym] = k;
  }
  return true;
}

std::vector<int64_t> concreteShape(const Shape &shape, const std::vector<int64_t> &dimValues) {
  std::vector<int64_t> out;
  for (const Dim &d : shape)
    out.push_back((d.isLiteral() ? 0 : dimValues[static_cast<size_t>(d.sym)]) + d.off);
  return out;
}

std::optional<BoundInputs> bindInputs(const Function &fn, const DimTable &dims,
                                      const InputSpec &spec, std::string &error) {
  std::map<std::string, Given> given;
  if (!spec.atFile.empty()) {
    std::ifstream in(spec.atFile);
    if (!in) {
      error = "cannot open '" + spec.atFile + "'";
      return std::nullopt;
    }
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      error = "'" + spec.atFile + "' is not a JSON object of parameter values";
      return std::nullopt;
    }
    for (auto &[k, v] : j.items()) {
      Given g;
      g.origin = spec.atFile;
      if (!flattenJson(v, g, error)) {
        error = spec.atFile + ": '" + k + "': " + error;
        return std::nullopt;
      }
      given[k] = std::move(g);
    }
  }
  for (const std::string &a : spec.at) {
    size_t eq = a.find('=');
    if (eq == std::string::npos) {
      error = "--at expects NAME=V[,V...], got '" + a + "'";
      return std::nullopt;
    }
    Given g;
    g.origin = "--at";
    if (!parseList(a.substr(eq + 1), g, error)) {
      error = "--at " + a.substr(0, eq) + ": " + error;
      return std::nullopt;
    }
    given[a.substr(0, eq)] = std::move(g);
  }
  if (!spec.dOut.empty()) {
    Given g;
    g.origin = "--d-out";
    if (!parseList(spec.dOut, g, error)) {
      error = "--d-out: " + error;
      return std::nullopt;
    }
    given["d_out"] = std::move(g);
  }

  std::vector<std::optional<int64_t>> bound(dims.names.size());
  std::map<int32_t, int64_t> fixed;
  if (!parseDims(spec.dims, dims, fixed, error))
    return std::nullopt;
  for (auto &[sym, v] : fixed)
    bound[static_cast<size_t>(sym)] = v;

  bool scalarResult = fn.graph->type(fn.result).isScalar();
  for (const auto &[name, g] : given) {
    bool known = name == "d_out" && !scalarResult;
    for (const ParamInfo &p : fn.params)
      known = known || p.name == name;
    if (!known) {
      error = "'" + fn.name + "' has no parameter '" + name + "'";
      return std::nullopt;
    }
  }
  // Two rounds: a flat list may need a dim that another value binds.
  for (int round = 0; round < 2; ++round)
    for (const ParamInfo &p : fn.params)
      if (auto it = given.find(p.name); it != given.end())
        if (!inferDims(p.type.shape, it->second, p.name, dims, bound, error))
          return std::nullopt;

  BoundInputs out;
  for (int32_t sym : fn.usedDims()) {
    if (!bound[static_cast<size_t>(sym)]) {
      error = "the size of dim '" + dims.names[static_cast<size_t>(sym)] +
              "' is unknown: give --dim " + dims.names[static_cast<size_t>(sym)] + "=SIZE";
      return std::nullopt;
    }
  }
  out.dimValues.resize(dims.names.size(), 0);
  for (size_t i = 0; i < bound.size(); ++i)
    out.dimValues[i] = bound[i].value_or(0);

  auto take = [&](const std::string &name, const Type &type, bool defaultOnes) -> bool {
    Tensor t;
    t.shape = concreteShape(type.shape, out.dimValues);
    int64_t count = 1;
    for (int64_t d : t.shape)
      count *= d;
    auto it = given.find(name);
    if (it == given.end()) {
      if (!defaultOnes) {
        error = "no value for parameter '" + name + "' (give --at " + name + "=...)";
        return false;
      }
      t.data.assign(static_cast<size_t>(count), 1.0);
    } else {
      const Given &g = it->second;
      if (static_cast<int64_t>(g.data.size()) != count) {
        error = "'" + name + "' has shape " + dims.str(type.shape) + " (" + std::to_string(count) +
                " value" + (count == 1 ? "" : "s") + "), but " + std::to_string(g.data.size()) +
                (g.data.size() == 1 ? " was" : " were") + " given";
        return false;
      }
      t.data = g.data;
      if (isInteger(type.dtype))
        for (double v : t.data)
          if (v != std::floor(v) || !std::isfinite(v)) {
            error = "'" + name + "' is " + dtypeName(type.dtype) + ": its values must be integers";
            return false;
          }
    }
    out.params.push_back(std::move(t));
    return true;
  };
  for (const ParamInfo &p : fn.params)
    if (!take(p.name, p.type, false))
      return std::nullopt;
  if (!scalarResult && !take("d_out", fn.graph->type(fn.result), true))
    return std::nullopt;
  return out;
}

} // namespace gradc::cli
