# golden.cmake: runs `gradc run NAME.expr` (plus the arguments on a first-line
# comment `# args: ...`) and compares its stderr, word for word, with NAME.err.
file(STRINGS ${DIR}/${NAME}.expr first LIMIT_COUNT 1)
set(args run ${NAME}.expr)
if(first MATCHES "^# args: (.*)$")
  separate_arguments(extra UNIX_COMMAND "${CMAKE_MATCH_1}")
  list(APPEND args ${extra})
endif()
execute_process(COMMAND ${GRADC} ${args} WORKING_DIRECTORY ${DIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(READ ${DIR}/${NAME}.err expected)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "expected exit code 1, got ${rc}\nstderr:\n${err}")
endif()
if(NOT err STREQUAL expected)
  message(FATAL_ERROR "diagnostic differs.\n--- expected\n${expected}--- got\n${err}")
endif()
