# Compiles, links and runs pkg_config/main.cpp with the flags of the
# installed polar.pc only:
#   c++ $(pkg-config --cflags polar) main.cpp $(pkg-config --libs polar)
# Variables: PKG_CONFIG, PREFIX (the install prefix), DATADIR, LIBDIR,
# CXX_COMPILER, SOURCE, BINARY_DIR.
foreach(var PKG_CONFIG PREFIX DATADIR LIBDIR CXX_COMPILER SOURCE BINARY_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "pkg_config.cmake: ${var} is not set")
    endif()
endforeach()

set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${DATADIR}/pkgconfig:${PREFIX}/${LIBDIR}/pkgconfig")
foreach(what cflags libs)
    execute_process(COMMAND ${PKG_CONFIG} --${what} polar
        OUTPUT_VARIABLE ${what} ERROR_VARIABLE error RESULT_VARIABLE result
        OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "pkg-config --${what} polar failed (${result}): ${error}")
    endif()
    message(STATUS "pkg-config --${what} polar: ${${what}}")
    separate_arguments(${what} UNIX_COMMAND "${${what}}")
endforeach()

# The include directory must be the installed one, wherever the prefix is.
if(NOT EXISTS "${PREFIX}/include/polar/polar.hpp")
    message(FATAL_ERROR "${PREFIX}/include/polar/polar.hpp is not installed")
endif()
set(found FALSE)
foreach(flag IN LISTS cflags)
    if(flag MATCHES "^-I(.+)$")
        set(dir "${CMAKE_MATCH_1}")
        if(EXISTS "${dir}/polar/polar.hpp")
            file(REAL_PATH "${dir}" dir)
            file(REAL_PATH "${PREFIX}/include" expected)
            if(dir STREQUAL expected)
                set(found TRUE)
            endif()
        endif()
    endif()
endforeach()
if(NOT found)
    message(FATAL_ERROR "pkg-config --cflags polar does not point at ${PREFIX}/include")
endif()

file(MAKE_DIRECTORY ${BINARY_DIR})
set(program ${BINARY_DIR}/pkg_config_consumer)
string(TIMESTAMP start "%s")
execute_process(COMMAND ${CXX_COMPILER} ${cflags} ${SOURCE} -o ${program} ${libs}
    RESULT_VARIABLE result COMMAND_ECHO STDOUT)
string(TIMESTAMP end "%s")
math(EXPR seconds "${end} - ${start}")
if(NOT result EQUAL 0)
    message(FATAL_ERROR "compiling with pkg-config's flags failed (${result})")
endif()
message(STATUS "compiled and linked in ${seconds} s")
execute_process(COMMAND ${program} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "${program} failed (${result})")
endif()
