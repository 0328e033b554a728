//
// polar-cpp: asynchronous C++20 client for the Polar Meters API.
//
#ifndef POLAR_DETAIL_CONFIG_HPP
#define POLAR_DETAIL_CONFIG_HPP

// Build modes
// -----------
// Header-only (default): every public header pulls in its implementation and
// functions are `inline`. Boost.JSON's sources are compiled into the program
// from <polar/detail/codec/json_source.hpp>; see that header for multi-TU programs.
//
// Separate compilation: define POLAR_SEPARATE_COMPILATION in every TU and
// include <polar/src.hpp> in exactly one of them. Beast, Asio, OpenSSL and
// JSON code is then compiled once, in that TU.
#if defined(POLAR_SEPARATE_COMPILATION)
#define POLAR_DECL
#else
#define POLAR_HEADER_ONLY 1
#define POLAR_DECL inline
#endif

#if __cplusplus < 202002L && (!defined(_MSVC_LANG) || _MSVC_LANG < 202002L)
#error "polar-cpp requires C++20 (coroutines)"
#endif

#include <boost/version.hpp>
#if BOOST_VERSION < 108100
#error "polar-cpp requires Boost 1.81 or newer"
#endif

// Marks a function off the common path: compiled out of line, away from the
// code every request runs.
#if defined(__GNUC__) || defined(__clang__)
#define POLAR_COLD [[gnu::cold, gnu::noinline]]
#elif defined(_MSC_VER)
#define POLAR_COLD __declspec(noinline)
#else
#define POLAR_COLD
#endif

#define POLAR_VERSION_MAJOR 0
#define POLAR_VERSION_MINOR 1
#define POLAR_VERSION_PATCH 0
#define POLAR_VERSION_STRING "0.1.0"

#endif
