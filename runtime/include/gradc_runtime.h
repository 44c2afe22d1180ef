/* gradc_runtime.h: the C runtime that code emitted by gradc may call. */
#ifndef GRADC_RUNTIME_H
#define GRADC_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The version of the emitted-code C ABI this runtime implements. */
#define GRADC_ABI_VERSION 1

/** Error codes a gradc function reports through the checked API. */
typedef enum gradc_status {
  GRADC_OK = 0,
  GRADC_INDEX_OUT_OF_RANGE = 1
} gradc_status;

/** Returns GRADC_ABI_VERSION of the runtime actually linked. */
int gradc_runtime_abi_version(void);

/** A human-readable name for a status code (never NULL). */
const char *gradc_status_string(int status);

#ifdef __cplusplus
}
#endif

#endif /* GRADC_RUNTIME_H */
