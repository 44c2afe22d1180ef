// The emitted headers together in a C++17 translation unit.
#include "lecture.h"
#include "other.h"
#include "powers.h"

extern "C" int headers_compile_as_cpp() { return gradc_abi_version(); }
