// GraphvizPicture.h: a Picture as a Graphviz graph (cgraph), written as DOT or laid out and
// rendered (gvc) as SVG, PNG or PDF.
#pragma once

#include "picture/SourceGraph.h"

#include <optional>
#include <string>

namespace gradc {

enum class PictureFormat { Dot, Svg, Png, Pdf };

/// The format a file name asks for by its extension (.dot or .gv, .svg, .png, .pdf).
std::optional<PictureFormat> pictureFormatOf(const std::string &path);

/// `p` in `format`: DOT text without positions, or the laid-out picture. False with `error`.
bool renderPicture(const Picture &p, PictureFormat format, std::string &bytes, std::string &error);

} // namespace gradc
