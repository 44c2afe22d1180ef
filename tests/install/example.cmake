# Installs gradc into a temporary prefix, builds examples/EXAMPLE against the installed
# package (find_package(gradc)), runs it, and looks for each of EXPECT (';'-separated) in
# its output.
# Args: -DBUILD_DIR= -DSOURCE_DIR= -DWORK_DIR= -DEXAMPLE= -DEXPECT= [-DOPTIONS=<cmake -D args>]
#       [-DPROJECT_DIR=<a test project instead of examples/EXAMPLE; its executable is EXAMPLE>]
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
if(NOT PROJECT_DIR)
  set(PROJECT_DIR ${SOURCE_DIR}/examples/${EXAMPLE})
endif()
run(${CMAKE_COMMAND} -S ${PROJECT_DIR} -B ${WORK_DIR}/build -G Ninja
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix ${OPTIONS})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/${EXAMPLE})
message("${out}")
file(WRITE ${WORK_DIR}/output.txt "${out}")
foreach(expected IN LISTS EXPECT)
  string(FIND "${out}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "expected in the output: ${expected}")
  endif()
endforeach()
