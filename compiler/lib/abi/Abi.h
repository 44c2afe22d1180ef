// Abi.h: the C signatures of the functions gradc exports for one source function,
// shared by the lowering, the JIT's typed lookup and (later) the emitted header.
#pragma once

#include "ir/Function.h"

#include <map>
#include <string>
#include <vector>

namespace gradc {

/// What one argument of an exported function carries.
enum class ArgRole : uint8_t {
  Dim,       // an unbound dim, int64_t
  Param,     // a parameter: scalar by value, array by const pointer
  DOut,      // the upstream gradient of a non-scalar result (const pointer)
  Out,       // the non-scalar result (pointer)
  Grad,      // the gradient of one non-const parameter (pointer)
  Workspace, // void *ws
};

struct AbiArg {
  ArgRole role;
  std::string name;  // as written in a header: "n", "W", "d_W", "out", "ws"
  DType dtype = DType::F64;
  bool pointer = false;
  Shape shape;       // the array's shape (empty for scalars, dims and ws)
  int32_t index = 0; // the dim's symbol, or the parameter's position
};

/// One exported C function.
struct AbiFunction {
  std::string symbol;       // "f", "f_grad" (after renaming names that clash with C)
  bool returnsValue = true; // scalar result: returned; otherwise written to `out`
  DType returnType = DType::F64;
  std::vector<AbiArg> args;

  /// The C prototype, e.g. "double f_grad(double x, double *d_x, void *ws)".
  std::string prototype() const;
  /// The C types of the result, then of each argument: {"double", "double", "double *", "void *"}.
  std::vector<std::string> cTypes() const;
  /// The symbol of a metadata function: "f_arg_count" for "count" (docs/ABI.md).
  std::string metadataSymbol(const std::string &what) const;
};

/// `base` joined to `suffix` by one '_': "f" and "grad" make "f_grad"; a renamed "exp2_" and
/// "grad" make "exp2_grad" (not "exp2__grad": C++ reserves names containing "__").
std::string exportedName(const std::string &base, const std::string &suffix);

/// The functions exported for `fn`: its value, its gradient (or vector-Jacobian
/// product) and its workspace size. Dims in `boundDims` are constants, not arguments.
struct AbiSet {
  AbiFunction value;
  AbiFunction grad;
  std::string workspaceSizeSymbol;
  std::vector<int32_t> dimArgs; // the dim arguments of all three, in order
  std::vector<std::string> dimArgNames; // their names in prototypes
  /// `gradc emit --check`: double f_gradcheck(dims, params, [d_out,] ws), the worst error of
  /// f_grad against central differences of f, with its own workspace-size function.
  AbiFunction gradcheck;
  std::string gradcheckWorkspaceSizeSymbol;

  /// The prototype of the workspace-size function: "size_t f_workspace_size(int64_t n)".
  std::string workspaceSizePrototype(const DimTable &dims) const;
  std::string gradcheckWorkspaceSizePrototype(const DimTable &dims) const;
};

AbiSet describeAbi(const Function &fn, const DimTable &dims,
                   const std::map<int32_t, int64_t> &boundDims, const std::string &prefix = "");

/// Checks the names `fns` export (docs/ABI.md, "Names"): in `c` mode (gradc emit), every name
/// that must become a C identifier and cannot, and every symbol that `prefix` turns into a
/// reserved name; in both modes, two functions that would export the same symbol (`f_grad`
/// next to `f`). Errors go to `diags` at the definition, parameter or dim they concern.
/// `gradcheck`: the file also exports f_gradcheck and its size function.
bool checkExportedNames(const std::vector<const Function *> &fns, const DimTable &dims, const std::string &prefix,
                        bool gradcheck, bool c, Diagnostics &diags);

/// Empty when `prefix` can begin C identifiers (a letter, then letters, digits and '_', no
/// "__"; not gradc's own), otherwise why not.
std::string checkSymbolPrefix(const std::string &prefix);

/// Where a compiled function finds its values among its arguments: each Param index's
/// argument (index `params` is d_out), each root's output argument (root 0 the value, root
/// i + 1 parameter i's gradient; -1 when returned or absent), and the workspace's.
struct ArgumentMap {
  std::vector<int> paramArg, outputArg;
  int wsArg = -1;
};
ArgumentMap mapArguments(const AbiFunction &f, size_t params, size_t roots);

/// What a host can ask at run time about a function's arguments (F_arg_name/type/shape):
/// per argument its name, C type ("const double *") and shape ("[n, 3]"; "" for dims and ws).
struct ArgMetadata {
  std::vector<std::string> names, types, shapes;
};
/// What `f_arg_name/type/shape` say (ABI.md), and the C++ API's Module::arguments: shapes in
/// terms of the function's dim arguments, a dim fixed at compile time (`bound`, with the
/// derived dims of bound ones) as its value: "[n, 3]", "[K, (D*D+D)/2]", "[4, 3]".
ArgMetadata argMetadata(const AbiFunction &f, const DimTable &dims, const std::map<int32_t, int64_t> &bound);
/// One shape as argMetadata writes it.
std::string shapeMetadata(const Shape &shape, const DimTable &dims, const std::map<int32_t, int64_t> &bound);

/// The C spelling of a dtype for values ("double", "int32_t").
const char *cTypeName(DType t);


} // namespace gradc
