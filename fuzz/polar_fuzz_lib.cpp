// The part of polar the fuzz targets exercise, compiled once with coverage
// and sanitizers: Boost.JSON, Asio and Beast (the HTTP parser and the test
// stream), and polar's codecs, date-times, URL helpers and response
// handling. The client and the emulator (costly coroutine code) are left out.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/json/src.hpp>

#include <polar/impl/error.ipp>
#include <polar/impl/datetime.ipp>
#include <polar/detail/codec/codec.ipp>
#include <polar/impl/http_util.ipp>
#include <polar/impl/response.ipp>
