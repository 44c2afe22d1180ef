/* runtime.c: ABI version and status strings of the gradc runtime. */
#include "gradc_runtime.h"

int gradc_runtime_abi_version(void) { return GRADC_ABI_VERSION; }

const char *gradc_status_string(int status) {
  switch (status) {
  case GRADC_OK:
    return "ok";
  case GRADC_INDEX_OUT_OF_RANGE:
    return "index out of range";
  default:
    return "unknown status";
  }
}
