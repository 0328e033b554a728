# Fails if a program or archive defines a symbol it must not define.
#
# Default: a polar symbol with strong linkage (nm types T, D, B, R) in a
# program built from the single headers. In a header-only library every such
# definition must be inline (weak, W/V/u), or a second TU including the
# header breaks the link with "multiple definition". This covers the
# emulator's header too without compiling it in a second TU.
#
# With PATTERN: any defined symbol whose `nm -C --defined-only` line matches
# the regular expression PATTERN (e.g. emulator code in an archive that must
# hold the SDK only); WHAT names such symbols in the messages. With
# EXPECT=some the check is reversed: it fails unless every file defines at
# least one such symbol (the control that shows PATTERN finds what it seeks).
#
# Variables: NM, FILES ("|"-separated executables or archives), optional
# PATTERN, WHAT and EXPECT (none, the default, or some).
foreach(var NM FILES)
    if(NOT ${var})
        message(FATAL_ERROR "check_symbols.cmake: ${var} is not set")
    endif()
endforeach()
if(NOT PATTERN)
    set(PATTERN "^[0-9a-fA-F]+ [TDBR] polar::")
    set(WHAT "not inline in the single headers (add inline / POLAR_DECL)")
elseif(NOT WHAT)
    set(WHAT "symbols matching ${PATTERN}")
endif()
if(NOT EXPECT)
    set(EXPECT none)
elseif(NOT EXPECT MATCHES "^(none|some)$")
    message(FATAL_ERROR "check_symbols.cmake: EXPECT must be none or some, not ${EXPECT}")
endif()
string(REPLACE "|" ";" files "${FILES}")
set(bad)
set(without)
foreach(file IN LISTS files)
    # Named after the file and the pattern: checks may run side by side.
    string(MD5 key "${file}|${PATTERN}")
    set(listing ${CMAKE_CURRENT_BINARY_DIR}/symbols_${key}.txt)
    execute_process(COMMAND ${NM} -C --defined-only ${file}
        OUTPUT_FILE ${listing} RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "${NM} ${file} failed (${result})")
    endif()
    file(STRINGS ${listing} found REGEX "${PATTERN}")
    file(REMOVE ${listing})
    if(NOT found)
        list(APPEND without "${file}")
    endif()
    foreach(line IN LISTS found)
        string(REGEX REPLACE "^[0-9a-fA-F]+ " "" line "${line}")
        list(APPEND bad "${line}")
    endforeach()
endforeach()
list(LENGTH files count)
if(EXPECT STREQUAL "some")
    if(without)
        list(JOIN without "\n  " text)
        message(FATAL_ERROR "no ${WHAT} in:\n  ${text}")
    endif()
    list(LENGTH bad nbad)
    message(STATUS "${nbad} ${WHAT} in ${count} files, as expected")
    return()
endif()
if(bad)
    list(REMOVE_DUPLICATES bad)
    list(LENGTH bad nbad)
    # A few hundred lines at most: enough to see what leaked.
    if(nbad GREATER 200)
        list(SUBLIST bad 0 200 bad)
        list(APPEND bad "... (${nbad} in all)")
    endif()
    list(JOIN bad "\n  " text)
    message(FATAL_ERROR "${WHAT} in ${count} files:\n  ${text}")
endif()
message(STATUS "no such symbols in ${count} files: ${WHAT}")
