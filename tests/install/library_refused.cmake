# Installs gradc, then configures one small project per refused gradc_add_library call and
# checks that configuring fails with the expected message.
# Args: -DBUILD_DIR= -DWORK_DIR=
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install failed")
endif()
file(WRITE ${WORK_DIR}/m.expr "def f(x) = x * x\n")
set(cases
  "SOURCES m.expr CHEK|'CHEK' is neither a keyword"
  "SOURCES m.expr DIMS n|DIMS expects NAME=SIZE entries, got 'n'"
  "BOGUS SOURCES m.expr|'BOGUS' is not a keyword"
  "SOURCES m.expr OPT_LEVEL 2|OPT_LEVEL is 0 or 3, got '2'"
  "PREFIX p_|no SOURCES given")
set(i 0)
foreach(case IN LISTS cases)
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 args)
  list(GET parts 1 expected)
  math(EXPR i "${i} + 1")
  set(dir ${WORK_DIR}/case${i})
  file(MAKE_DIRECTORY ${dir})
  file(COPY ${WORK_DIR}/m.expr DESTINATION ${dir})
  file(WRITE ${dir}/CMakeLists.txt "cmake_minimum_required(VERSION 3.25)\nproject(p LANGUAGES C)\n"
             "find_package(gradc REQUIRED)\ngradc_add_library(lib ${args})\n")
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${dir} -B ${dir}/build -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "gradc_add_library(lib ${args}) was accepted")
  endif()
  string(REPLACE "\n" " " flat "${err}")
  string(REGEX REPLACE " +" " " flat "${flat}")
  string(FIND "${flat}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "gradc_add_library(lib ${args}): expected '${expected}' in:\n${err}")
  endif()
  message("refused as expected: gradc_add_library(lib ${args})")
endforeach()
