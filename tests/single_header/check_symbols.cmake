# Fails if a program built from the single headers defines a polar symbol
# with strong linkage (nm types T, D, B, R): in a header-only library every
# such definition must be inline (weak, W/V/u), or a second TU including the
# header breaks the link with "multiple definition". This covers the
# emulator's header too without compiling it in a second TU.
# Variables: NM, FILES ("|"-separated executables).
foreach(var NM FILES)
    if(NOT ${var})
        message(FATAL_ERROR "check_symbols.cmake: ${var} is not set")
    endif()
endforeach()
string(REPLACE "|" ";" files "${FILES}")
set(bad)
set(index 0)
foreach(file IN LISTS files)
    math(EXPR index "${index} + 1")
    set(listing ${CMAKE_CURRENT_BINARY_DIR}/symbols_${index}.txt)
    execute_process(COMMAND ${NM} -C --defined-only ${file}
        OUTPUT_FILE ${listing} RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "${NM} ${file} failed (${result})")
    endif()
    file(STRINGS ${listing} found REGEX "^[0-9a-fA-F]+ [TDBR] polar::")
    file(REMOVE ${listing})
    foreach(line IN LISTS found)
        string(REGEX REPLACE "^[0-9a-fA-F]+ " "" line "${line}")
        list(APPEND bad "${line}")
    endforeach()
endforeach()
if(bad)
    list(REMOVE_DUPLICATES bad)
    list(JOIN bad "\n  " text)
    message(FATAL_ERROR "not inline in the single headers (add inline / POLAR_DECL):\n  ${text}")
endif()
list(LENGTH files count)
message(STATUS "no strong polar symbols in ${count} programs")
