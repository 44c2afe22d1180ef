# Installs gradc into a temporary prefix, builds examples/host_jit against the installed
# package (find_package(gradc), gradc::gradc) and runs it.
# Args: -DBUILD_DIR= -DSOURCE_DIR= -DWORK_DIR=
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/host_jit -B ${WORK_DIR}/build -G Ninja
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/host_jit)
message("${out}")
foreach(expected
    "bad.expr:1:15: error: unexpected end of file, expected an expression"
    "compiled: double loss_grad(const double *w, const double *X, const double *y, double *d_w, void *ws)"
    "wrong signature rejected: gradc: 'loss_grad' was requested as double(const double *, double *)"
    "recovered the true weights")
  string(FIND "${out}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "expected in the output: ${expected}")
  endif()
endforeach()
