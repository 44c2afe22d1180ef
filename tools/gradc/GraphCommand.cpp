// GraphCommand.cpp: `gradc graph`, the function's computational graph as written, with the
// values and gradients at a point on its edges (the lecture's picture).
#include "CommandSupport.h"

#include "picture/GraphvizPicture.h"
#include "pipeline/Invoke.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

namespace gradc::cli {

int graphCommand(const GraphOptions &opts) {
  const std::string &file = opts.common.file;
  std::optional<PictureFormat> format = PictureFormat::Dot;
  if (!opts.out.empty() && !(format = pictureFormatOf(opts.out))) {
    std::cerr << "gradc: error: cannot tell the picture's format from '" << opts.out
              << "': name it .dot, .svg, .png or .pdf\n";
    return kBadCommandLine;
  }
  int code = kOk;
  std::unique_ptr<CompiledSource> cs;
  Function *fn = loadFunction(opts.common, cs, code);
  if (!fn)
    return code;
  size_t index = static_cast<size_t>(fn - cs->program.funcs.data());
  // Values only when a point is given: otherwise the structure alone.
  const InputSpec &in = opts.inputs;
  bool atPoint = !in.at.empty() || !in.atFile.empty() || !in.dOut.empty();
  PictureValues values;
  std::string error;
  if (atPoint) {
    std::map<int32_t, int64_t> bound;
    if (!parseDims(in.dims, *cs->program.dims, bound, error)) {
      std::cerr << file << ": error: " << error << "\n";
      return kUserError;
    }
    auto inputs = bindInputs(*fn, *cs->program.dims, in, file, error);
    if (!inputs) {
      std::cerr << error;
      return kUserError;
    }
    values.params = std::move(inputs->params);
    values.dimValues = std::move(inputs->dimValues);
    // Indices and sizes checked as `gradc run` checks them, so a bad one is named alike.
    std::vector<std::string> names;
    for (const ParamInfo &p : fn->params)
      names.push_back(p.name);
    EvalResult bad;
    if (!checkIndexBounds(*fn->graph, {fn->result}, values.dimValues, bad.error, bad.errorLoc, values.params, names)) {
      reportRuntimeError(*cs, bad);
      return kUserError;
    }
  }
  PictureOptions options;
  options.fullValues = opts.fullValues;
  options.maxNodes = opts.maxNodes;
  options.expand = opts.expand;
  Picture picture;
  EvalResult failure;
  bool drawn = drawStage(opts.stage, cs->ast, *cs->source, cs->program, index, *fn, atPoint ? &values : nullptr,
                         options, picture, failure);
  if (!drawn) {
    reportRuntimeError(*cs, failure);
    return kUserError;
  }
  std::string bytes;
  if (!renderPicture(picture, *format, bytes, error)) {
    std::cerr << "gradc: error: " << error << "\n";
    return kUserError;
  }
  if (picture.grouped)
    std::cerr << "note: " << picture.operations << " nodes to draw, over the limit of " << opts.maxNodes
              << ": statements are grouped (--max-nodes)\n";
  if (opts.out.empty()) {
    std::cout << bytes;
    return kOk;
  }
  std::ofstream os(opts.out, std::ios::binary);
  if (os)
    os << bytes;
  if (!os || !os.flush()) {
    std::cerr << "gradc: error: cannot write '" << opts.out << "': " << std::strerror(errno) << "\n";
    return kUserError;
  }
  return kOk;
}

} // namespace gradc::cli
