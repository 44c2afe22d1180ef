// ModuleGraph.cpp: Module::graph, the picture of `gradc graph` from a program the API compiled.
#include "gradc/gradc.h"

#include "ir/DimArith.h"
#include "ir/Inline.h"
#include "picture/GraphvizPicture.h"
#include "pipeline/Invoke.h"
#include "pipeline/Pipeline.h"
#include "support/Numbers.h"

#include "ModuleImpl.h"

#include <mutex>

namespace gradc {

std::string Module::graph(const std::string &function, const std::map<std::string, std::vector<double>> &values,
                          const std::map<std::string, int64_t> &dims, const GraphOptions &options) const {
  // Drawing adds derived dims to the program's shared table and Graphviz keeps global state:
  // one picture at a time.
  static std::mutex drawing;
  std::lock_guard<std::mutex> lock(drawing);
  if (!ok())
    throw LookupError("gradc: cannot draw '" + function + "': the module did not compile:\n" + errors());
  CompiledSource &cs = *impl_->source;
  Program &program = cs.program;
  size_t index = program.funcs.size();
  for (size_t i = 0; i < program.funcs.size(); ++i)
    if (program.funcs[i].name == function && !program.funcs[i].isLocal && !program.funcs[i].hasErrors)
      index = i;
  if (index == program.funcs.size())
    throw LookupError("gradc: no function '" + function + "' to draw");
  std::optional<PictureFormat> format = pictureFormatOf("x." + options.format);
  if (!format)
    throw LookupError("gradc: no picture format '" + options.format + "' (dot, svg, png or pdf)");
  if (options.stage != "source" && options.stage != "grad" && options.stage != "opt")
    throw LookupError("gradc: no stage '" + options.stage + "' (source, grad or opt)");
  // A fresh copy to differentiate: the module's graphs stay as its compiled code knows them.
  Function fn = inlineCalls(program, index);
  const DimTable &table = *program.dims;
  PictureValues point;
  if (!values.empty()) {
    point.dimValues.assign(table.names.size(), 0);
    std::vector<bool> known(table.names.size(), false);
    for (auto [sym, v] : impl_->boundDims)
      point.dimValues[static_cast<size_t>(sym)] = v, known[static_cast<size_t>(sym)] = true;
    for (const auto &[name, v] : dims) {
      auto it = std::find(table.names.begin(), table.names.end(), name);
      if (it == table.names.end())
        throw LookupError("gradc: graph: no dim '" + name + "'");
      if (v < 0 || v > kMaxElements)
        throw RangeError("gradc: graph: dim '" + name + "' = " + std::to_string(v) + " is out of range (0 to 2^56)");
      point.dimValues[static_cast<size_t>(it - table.names.begin())] = v;
      known[static_cast<size_t>(it - table.names.begin())] = true;
    }
    std::vector<int32_t> needed = fn.mentionedDims();
    for (int32_t d : fn.usedDims())
      if (!known[static_cast<size_t>(d)])
        throw RangeError("gradc: graph: dim '" + table.names[static_cast<size_t>(d)] + "' has no value (give it in dims)");
    if (std::string why = completeDimValues(table, point.dimValues, needed); !why.empty())
      throw RangeError("gradc: graph: " + why);
    // Every size valid for these dims (and the parameters' counts below cannot overflow).
    NodeId large = kNoNode;
    std::vector<bool> all(fn.graph->size(), true);
    if (std::string why = checkTensorSizes(*fn.graph, all, point.dimValues, large); !why.empty())
      throw RangeError("gradc: graph: " + why);
    auto bind = [&](const std::string &name, const Type &type) {
      Tensor t;
      for (const Dim &d : type.shape)
        t.shape.push_back(dimValue(d, point.dimValues));
      int64_t count = 1;
      for (int64_t n : t.shape)
        count *= n;
      auto v = values.find(name);
      if (v == values.end() && name == "d_out") {
        t.data.assign(static_cast<size_t>(count), 1.0);
        return t;
      }
      if (v == values.end())
        throw RangeError("gradc: graph: no values for '" + name + "'");
      if (static_cast<int64_t>(v->second.size()) != count)
        throw RangeError("gradc: graph: '" + name + "' has " + std::to_string(v->second.size()) + " values; its shape " +
                         table.str(type.shape) + " holds " + std::to_string(count));
      t.data = v->second;
      return t;
    };
    std::vector<std::string> names;
    for (const ParamInfo &p : fn.params) {
      point.params.push_back(bind(p.name, p.type));
      names.push_back(p.name);
    }
    if (!fn.graph->type(fn.result).isScalar())
      point.params.push_back(bind("d_out", fn.graph->type(fn.result)));
    std::string error;
    SourceLoc loc;
    if (!checkIndexBounds(*fn.graph, {fn.result}, point.dimValues, error, loc, point.params, names))
      throw RangeError("gradc: graph: " + error + " (" + cs.source->name + ":" + std::to_string(loc.line) + ":" +
                       std::to_string(loc.col) + ")");
  }
  PictureOptions po;
  po.fullValues = options.fullValues;
  po.maxNodes = options.maxNodes;
  po.expand = options.expand;
  Picture picture;
  EvalResult failure;
  const PictureValues *at = values.empty() ? nullptr : &point;
  bool drawn = drawStage(options.stage, cs.ast, *cs.source, program, index, fn, at, po, picture, failure);
  if (!drawn)
    throw RangeError("gradc: graph: " + failure.error + " (" + cs.source->name + ":" +
                     std::to_string(failure.errorLoc.line) + ":" + std::to_string(failure.errorLoc.col) + ")");
  std::string bytes, error;
  if (!renderPicture(picture, *format, bytes, error))
    throw RangeError("gradc: graph: " + error);
  return bytes;
}

} // namespace gradc
