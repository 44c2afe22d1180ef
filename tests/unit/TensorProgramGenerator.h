// TensorProgramGenerator.h: random tensor programs for property and differential tests
// (broadcasting, every reduction, matmul of each rank, indexing and slices, pick, where,
// softmax, fan-out, every comparison, tensors built by lists, concat, stack, iota, eye and
// full, the structure builtins, gathers by the index array y, once or twice) over parameters of fixed shapes,
//   def f(A: [3, 4], b: [4], c: [3, 1], s, M: [4, 3], v: [3], y: const i32[3])
// or, with `symbolic`, of a run-time dim n (4 in [3, 4] becomes n; run with n >= 4), with
// sizes computed from it (3*n, n+n).
#pragma once

#include <random>
#include <string>
#include <utility>
#include <vector>

namespace gradc::test {

// Expressions of a requested shape, built from smaller ones. Values stay moderate (every
// log, sqrt, division and pow is of a positive, bounded argument), so that central
// differences are accurate.
class TensorProgramGenerator {
public:
  explicit TensorProgramGenerator(uint64_t seed, bool symbolic = false) : rng_(seed), symbolic_(symbolic) {}

  std::string program() {
    names_ = {{"A", "34"}, {"b", "4"}, {"c", "31"}, {"s", ""}, {"M", "43"}, {"v", "3"}};
    std::string body;
    for (int i = 0; i < 3; ++i) { // statements: fan-out of tensors
      static const char *shapes[] = {"34", "4", "3", ""};
      std::string shape = shapes[rng_() % 4];
      std::string name = "t" + std::to_string(i);
      body += "  " + name + " = " + expr(shape, 3) + "\n";
      names_.push_back({name, shape});
    }
    bool vectorResult = rng_() % 4 == 0;
    body += "  return " + (vectorResult ? expr("34", 2) : expr("", 3)) + "\n";
    if (symbolic_)
      return "dim n\ndef f(A: [3, n], b: [n], c: [3, 1], s, M: [n, 3], v: [3], y: const i32[3]) {\n" + body +
             "}\n";
    return "def f(A: [3, 4], b: [4], c: [3, 1], s, M: [4, 3], v: [3], y: const i32[3]) {\n" +
           body + "}\n";
  }

private:
  std::string pick(std::initializer_list<const char *> options) {
    return *(options.begin() + rng_() % options.size());
  }
  std::string leaf(const std::string &shape) {
    std::vector<std::string> fits;
    for (auto &[name, sh] : names_)
      if (sh == shape)
        fits.push_back(name);
    if (fits.empty())
      return shape == "" ? "0.5" : expr(shape, 0);
    return fits[rng_() % fits.size()];
  }
  std::string unary(const std::string &x) {
    switch (rng_() % 13) { // 9 to 12: the math library, on tensors (vector code in C and LLVM)
    case 9: return "erf(" + x + ") + atan(" + x + ")";
    case 10: return "softplus(" + x + ") - log1p(" + x + " * " + x + ")";
    case 11: return "digamma(tanh(" + x + ")^2 * 3 + 0.25) + lgamma(tanh(" + x + ")^2 * 3 + 0.25)";
    case 12: return "floor(" + x + " * 3) * 0.25 + expm1(tanh(" + x + "))";
    case 0: return "tanh(" + x + ")";
    case 1: return "exp(tanh(" + x + "))";
    case 2: return "log(" + x + " * " + x + " + 1)";
    case 3: return "sqrt(" + x + " * " + x + " + 0.25)";
    case 4: return "sin(" + x + ")";
    case 5: return "sigmoid(" + x + ")";
    case 6: return "relu(" + x + ")";
    case 7: return "abs(" + x + ")";
    default: return "-" + x;
    }
  }
  std::string binary(const std::string &x, const std::string &y) {
    switch (rng_() % 9) {
    case 7: return "min(" + x + ", " + y + ")";
    case 8: { // the other comparisons (== and != of random values: mostly false and true)
      std::string op = pick({" < ", " >= ", " <= ", " == ", " != "});
      return "where(" + x + op + y + ", " + x + " * " + y + ", " + y + ")";
    }
    case 0: return "(" + x + " + " + y + ")";
    case 1: return "(" + x + " - " + y + ")";
    case 2: return "(" + x + " * " + y + ")";
    case 3: return "(" + x + " / (" + y + " * " + y + " + 1))";
    case 4: return "max(" + x + ", " + y + ")";
    case 5: return "where(" + x + " > " + y + ", " + x + ", " + y + " * 0.5)";
    default: return "pow(" + x + " * " + x + " + 0.5, tanh(" + y + "))";
    }
  }
  // Something of `shape` ("34", "4", "3", "31", "" for a scalar), parenthesized.
  std::string expr(const std::string &shape, int depth) {
    std::string e = build(shape, depth);
    bool name = e.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.") ==
                std::string::npos;
    return name ? e : "(" + e + ")";
  }
  std::string build(const std::string &shape, int depth) {
    if (depth == 0)
      return leaf(shape);
    int d = depth - 1;
    int r = static_cast<int>(rng_() % 10);
    if (r < 2)
      return leaf(shape);
    if (r < 4)
      return unary(expr(shape, d));
    if (r < 6) { // binary, the second operand broadcast from a smaller shape
      std::string other = shape;
      if (shape == "34")
        other = pick({"34", "4", "31", ""});
      else if (shape != "")
        other = pick({"", shape.c_str()});
      return binary(expr(shape, d), expr(other, d));
    }
    // Shape-changing constructions.
    if (shape == "34")
      return special34(d);
    if (shape == "4") {
      std::string n = symbolic_ ? "n" : "4";
      if (rng_() % 5 == 0)
        return "prod(tanh(" + expr("34", d) + ") + 1.5, axis=0)";
      if (rng_() % 6 == 0) // dim arithmetic: sizes 3*n and n+n, a slice n:2*n of length n
        return rng_() % 2 ? "reshape(" + expr("34", d) + ", [3*" + n + "])[" + n + ":2*" + n + "]"
                          : "reshape(concat(" + expr("4", d) + ", " + expr("4", d) + "), [2, " + n + "])[1]";
      if (rng_() % 4 == 0)
        return "concat(" + expr("4", d) + "[0:1], " + expr("4", d) + "[1:" + n + "] * full([" + n + " - 1], " +
               expr("", d) + "))";
      return pick({"sum(", "max(", "mean(", "logsumexp(", "min("}) + expr("34", d) + ", axis=0)";
    }
    if (shape == "3")
      switch (rng_() % 10) {
      case 8: // a diagonal, a gather, and a gather by two index arrays (NumPy's X[i, j])
        switch (rng_() % 3) {
        case 0: return "diagonal(" + expr("34", d) + "[0:3, 0:3])";
        case 1: return expr("4", d) + "[y]";
        default: return "(" + pick({"M", "tanh(M)"}) + " @ " + expr("34", d) + ")[y, y]"; // y < 4
        }
      case 9: return "cross(" + expr("3", d) + ", " + expr("3", d) + ")";
      case 5: return "[" + expr("", d) + ", " + expr("", d) + ", " + expr("", d) + "]";
      case 6: return "iota(3) * " + expr("3", d);
      case 7: return "eye(3) @ " + expr("3", d);
      case 0: return expr("34", d) + " @ " + expr("4", d);
      case 1: return "pick(" + expr("34", d) + ", y)";
      case 2: return "logsumexp(" + expr("34", d) + ", axis=1)";
      case 3: return expr("34", d) + "[0:3, 2]";
      default: return "max(" + expr("34", d) + ", axis=-1)";
      }
    if (shape == "31")
      return rng_() % 2 ? "reshape(" + expr("3", d) + ", [3, 1])" : "stack(" + expr("3", d) + ", axis=1)";
    switch (rng_() % 10) { // a scalar
    case 7: return "trace(" + expr("34", d) + "[0:3, 1:4])";
    case 8: return "norm(" + expr("4", d) + ")";
    case 9: return "prod(tanh(" + expr("3", d) + ") + 1.5) + prod(" + expr("3", d) + ")";
    case 0: return "sum(" + expr("34", d) + ")";
    // A matrix in memory times a vector, its adjoint elementwise: the gradient's row sweep.
    case 6: return "sum(" + unary("(A @ " + leaf("4") + ")") + " * " + expr("3", d) + ")";
    case 1: return "mean(" + expr("4", d) + ")";
    case 2: return expr("3", d) + " @ " + expr("3", d);
    case 3: return "logsumexp(" + expr("34", d) + ")";
    case 4: return "max(" + expr("4", d) + ")";
    default: return expr("34", d) + "[1, 2] + " + expr("4", d) + "[1:3][0]";
    }
  }
  std::string special34(int d) {
    switch (rng_() % 9) {
    case 6: return rng_() % 2 ? "flip(" + expr("34", d) + pick({", axis=1)", ", axis=0)", ")"})
                              : "cumsum(" + expr("34", d) + pick({", axis=1)", ", axis=0)", ", axis=-1)"});
    case 7: return pick({"tril(", "triu("}) + expr("34", d) + pick({")", ", k=1)", ", k=-1)"});
    case 8: return rng_() % 2 ? "outer(" + expr("3", d) + ", " + expr("4", d) + ")"
                              : "(" + expr("34", d) + "[:, y] @ " + pick({"M", "tanh(M)"}) + "[y]) @ " + expr("34", d);
    case 4: return "concat(" + expr("34", d) + "[0:1], " + expr("34", d) + "[1:3])";
    case 5: return "stack(" + expr("4", d) + ", " + expr("4", d) + ", " + expr("4", d) + ") + zeros([3, " +
                   (symbolic_ ? "n" : "4") + "])";
    case 0: return "softmax(" + expr("34", d) + ", axis=1)";
    case 1: return "(" + expr("3", d) + " @ " + expr("34", d) + ") * " + expr("34", d) + ".T.T";
    case 2: return std::string(symbolic_ ? "reshape(M, [3, n]) * " : "reshape(M, [3, 4]) * ") + expr("34", d);
    default: return "(" + pick({"M", "tanh(M)", "M * 2"}) + ").T";
    }
  }

  std::mt19937_64 rng_;
  bool symbolic_;
  std::vector<std::pair<std::string, std::string>> names_;
};

} // namespace gradc::test
