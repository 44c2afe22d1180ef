// Printer.h: the loop IR as text (`--dump=loops`), deterministic, for reading and for golden
// tests: a schedule change shows up as a readable diff.
#pragma once

#include "loops/LoopIR.h"

#include <ostream>

namespace gradc::loops {

void print(std::ostream &os, const Func &f);
void print(std::ostream &os, const Module &m);

} // namespace gradc::loops
