//
// polar-cpp: the implementation, for POLAR_SEPARATE_COMPILATION builds.
// Include this header in exactly one TU of the program, with
// POLAR_SEPARATE_COMPILATION defined in every TU. If the program also defines
// BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION, this TU
// compiles Asio's and Beast's sources too.
//
// The emulator (polar::testing) is not part of it: a program that uses it in
// this mode also compiles <polar/testing/src.hpp> once (CMake: link
// polar::testing).
//
#ifndef POLAR_SRC_HPP
#define POLAR_SRC_HPP

#ifndef POLAR_SEPARATE_COMPILATION
#error "Define POLAR_SEPARATE_COMPILATION in every TU to use <polar/src.hpp>"
#endif

#ifdef BOOST_ASIO_SEPARATE_COMPILATION
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#endif
#ifdef BOOST_BEAST_SEPARATE_COMPILATION
#include <boost/beast/src.hpp>
#endif
#ifndef POLAR_NO_BOOST_JSON_SOURCE
#include <boost/json/src.hpp>
#endif

#include <polar/impl/error.ipp>
#include <polar/impl/datetime.ipp>
#include <polar/detail/codec/codec.ipp>
#include <polar/impl/http_util.ipp>
#include <polar/impl/call.ipp>
#include <polar/impl/response.ipp>
#include <polar/impl/meters.ipp>
#include <polar/impl/events.ipp>
#include <polar/impl/customer_meters.ipp>
#include <polar/impl/client.ipp>
#include <polar/impl/generator.ipp>
#include <polar/impl/fan_out.ipp>
#include <polar/impl/ingest_batcher.ipp>
// POLAR_SRC_IPP_LIST

#endif
