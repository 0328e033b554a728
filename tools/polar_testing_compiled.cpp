// The one TU of the emulator's separate-compilation build (polar::testing):
// every polar::testing implementation file. The SDK it calls is in
// polar_compiled (tools/polar_compiled.cpp).
#include <polar/testing/src.hpp>
