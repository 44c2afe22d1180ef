# gradcFunctions.cmake: gradc_add_library, installed with the gradc package.
#
#   gradc_add_library(<target> SOURCES <model.expr>... [DIMS <n=4096>...] [PREFIX <p>]
#                     [TARGET_CPU <cpu>] [C_SOURCE])
#
# Runs `gradc emit` at build time for each source (editing a .expr rebuilds it) and makes
# <target> a static library of the emitted objects, with the headers (<stem>.h) on its
# public include path and the C math library and gradc::runtime linked. With C_SOURCE the
# sources are emitted as C (`gradc emit --c`) and compiled by the project's C compiler with
# its flags (cross builds, other compilers). Works in C-only projects. Like bison_target or
# protobuf_generate, the outputs live in the build tree.
function(gradc_add_library target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "C_SOURCE" "PREFIX;TARGET_CPU" "SOURCES;DIMS")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "gradc_add_library(${target}): no SOURCES given")
  endif()
  if(NOT GRADC_EXECUTABLE)
    message(FATAL_ERROR "gradc_add_library: GRADC_EXECUTABLE is not set (find_package(gradc))")
  endif()
  set(outdir ${CMAKE_CURRENT_BINARY_DIR}/${target}_gradc)
  file(MAKE_DIRECTORY ${outdir})
  set(flags)
  foreach(d IN LISTS ARG_DIMS)
    list(APPEND flags --dim ${d})
  endforeach()
  if(ARG_PREFIX)
    list(APPEND flags --prefix ${ARG_PREFIX})
  endif()
  if(ARG_TARGET_CPU)
    list(APPEND flags --target-cpu ${ARG_TARGET_CPU})
  endif()
  set(ext o)
  if(ARG_C_SOURCE)
    list(APPEND flags --c)
    set(ext c)
  endif()
  set(objects)
  foreach(src IN LISTS ARG_SOURCES)
    get_filename_component(abs ${src} ABSOLUTE)
    get_filename_component(stem ${src} NAME_WE)
    add_custom_command(
      OUTPUT ${outdir}/${stem}.${ext} ${outdir}/${stem}.h
      COMMAND ${GRADC_EXECUTABLE} emit ${abs} -o ${outdir}/${stem} ${flags}
      DEPENDS ${abs} ${GRADC_EXECUTABLE}
      COMMENT "gradc emit ${src}"
      VERBATIM)
    list(APPEND objects ${outdir}/${stem}.${ext})
  endforeach()
  add_library(${target} STATIC ${objects})
  if(ARG_C_SOURCE)
    set_source_files_properties(${objects} PROPERTIES GENERATED TRUE LANGUAGE C)
  else()
    set_source_files_properties(${objects} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  endif()
  set_target_properties(${target} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${target} PUBLIC ${outdir})
  find_library(GRADC_LIBM m)
  if(GRADC_LIBM)
    target_link_libraries(${target} PUBLIC ${GRADC_LIBM})
  endif()
  if(TARGET gradc::runtime)
    target_link_libraries(${target} PUBLIC gradc::runtime)
  endif()
endfunction()
