//
// polar-cpp testing: the emulator's implementation, for
// POLAR_SEPARATE_COMPILATION builds. Include this header in exactly one TU of
// a program that uses <polar/testing/emulator.hpp> or
// <polar/testing/emulator_state.hpp>, with POLAR_SEPARATE_COMPILATION defined
// in every TU; the SDK itself comes from <polar/src.hpp>, in the same TU or
// another one. With CMake, link polar::testing, which compiles this header.
//
// Header-only programs need neither: the emulator's headers include their
// implementation.
//
#ifndef POLAR_TESTING_SRC_HPP
#define POLAR_TESTING_SRC_HPP

#ifndef POLAR_SEPARATE_COMPILATION
#error "Define POLAR_SEPARATE_COMPILATION in every TU to use <polar/testing/src.hpp>"
#endif

#include <polar/testing/impl/emulator_state.ipp>
#include <polar/testing/impl/tls_cert.ipp>
#include <polar/testing/impl/emulator.ipp>

#endif
