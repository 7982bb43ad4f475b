# Freestanding checks (host builds): compile a library's sources as the firmware would —
# no libc headers beyond the compiler's, no builtins, no sanitizers, optimised so loop
# idioms could turn into memset/memcpy calls — link them into one relocatable object, and
# register a ctest test that fails if the object needs any symbol outside an allowed set.
#
# vnet_freestanding_check(<test-name> LABEL <label> SOURCES <src>... INCLUDES <dir>...
#                         ALLOWED <ERE of allowed undefined symbols>
#                         DEFINED <ERE matched against `nm -g --defined-only` lines>
#                         MIN <how many DEFINED lines prove nm read the right object>)
function(vnet_freestanding_check test)
  cmake_parse_arguments(F "" "LABEL;ALLOWED;DEFINED;MIN" "SOURCES;INCLUDES" ${ARGN})
  string(REPLACE "." "_" base ${test})
  add_library(${base}_fs OBJECT ${F_SOURCES})
  # Replaces (not appends to) the directory options, so the sanitizers are dropped.
  # -fno-pic as in the firmware (cmake/firmware.cmake): a host compiler's default PIE
  # code would take a function's address through the GOT and need _GLOBAL_OFFSET_TABLE_.
  set_property(TARGET ${base}_fs PROPERTY COMPILE_OPTIONS
    ${VNET_WARN_FLAGS} -O2 -ffreestanding -fno-builtin -fno-stack-protector -fno-pic)
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${base}_fs PRIVATE -fno-tree-loop-distribute-patterns)
  endif()
  target_include_directories(${base}_fs PRIVATE ${F_INCLUDES})
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${base}_freestanding.o)
  add_custom_command(OUTPUT ${obj}
    COMMAND ${CMAKE_C_COMPILER} -nostdlib -r -o ${obj} $<TARGET_OBJECTS:${base}_fs>
    DEPENDS ${base}_fs $<TARGET_OBJECTS:${base}_fs>
    COMMAND_EXPAND_LISTS VERBATIM)
  add_custom_target(${base}_freestanding_obj ALL DEPENDS ${obj})
  add_test(NAME ${test}
    COMMAND sh ${PROJECT_SOURCE_DIR}/tests/check_freestanding.sh ${CMAKE_NM} ${obj}
            "${F_ALLOWED}" "${F_DEFINED}" ${F_MIN})
  set_tests_properties(${test} PROPERTIES TIMEOUT 30 LABELS ${F_LABEL})
endfunction()
