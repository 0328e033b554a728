//
// polar-cpp: the codec (internal): JSON encoding and decoding of every model.
//
// This folder turns the models (include/polar/models/) into JSON text and
// back. It knows Boost.JSON and the models, and nothing of sockets, HTTP or
// Asio: it includes no Asio or Beast header. Its users are the operations
// (detail/operations/result.hpp, impl/response.ipp), the emulator, and the public
// from_json() / to_json() (models/json.hpp). The headers declare only;
// Boost.JSON is included by the .ipp files, under POLAR_HEADER_ONLY or from
// src.hpp, so public headers stay light.
//
//   codec.hpp            this overview; decode(), encode(), decode_error_body()
//   codec.ipp            the implementation: includes stream/ and encode.ipp
//   stream_decoder.hpp   stream_decoder: the models decoded from a body fed in
//                        pieces as it arrives
//   stream/              the decoder used by everything: the models built from
//                        boost::json::basic_parser's events, no DOM
//                        (entry.ipp: decode() and stream_decoder)
//   decode_common.ipp    what both decoders share: quoting values in messages,
//                        raw texts, parse failures, exact doubles
//   error_body.ipp       decode_error_body(): 4xx/5xx bodies, best effort,
//                        through a small DOM (dom/document.ipp)
//   encode.ipp           encode(): compact JSON written straight into a string
//   encode_writer.ipp    the writer: escaping, numbers, date-times, the path
//                        of a value that cannot be encoded
//   encode_models.ipp    the models as the server writes them
//   encode_requests.ipp  the request bodies, with only the keys that were set
//   utf8.ipp             UTF-8 validation, for the encoder and messages
//   dom/                 the previous DOM decoder, kept as the reference that
//                        tests and fuzzers compare stream/ with; its
//                        document.ipp also serves error_body.ipp
//   dom_arena.hpp        the per-thread block for the DOMs of larger bodies
//   json_source.hpp      Boost.JSON's sources in header-only programs
//
#ifndef POLAR_DETAIL_CODEC_CODEC_HPP
#define POLAR_DETAIL_CODEC_CODEC_HPP

#include <polar/detail/config.hpp>
#include <polar/error.hpp>
#include <polar/models/aggregation.hpp>
#include <polar/models/common.hpp>
#include <polar/models/customer.hpp>
#include <polar/models/customer_meter.hpp>
#include <polar/models/event.hpp>
#include <polar/models/filter.hpp>
#include <polar/models/meter.hpp>
#include <polar/models/meter_quantities.hpp>
#include <polar/models/page.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace polar {
namespace detail {

/// Deepest JSON nesting (arrays and objects) a decoded document may have.
inline constexpr std::size_t max_json_depth = 256;

/// Deepest filter nesting (filters inside filters) decoding accepts.
inline constexpr std::size_t max_filter_depth = 100;

// Decoding
// --------
// Every decode() parses `body` and fills `out`. On success it returns an
// empty error_code and leaves `what` empty. On failure it returns
// errc::invalid_response and `what` says where and why, e.g.
//   items[3].aggregation.func: expected string, got number
//   invalid JSON at offset 17: syntax error
//   modified_at: invalid date-time "2025-13-01"
// `out` is then valid but unspecified. decode() never throws: allocation
// failures and any other exception become errc::invalid_response too.
//
// Rules: unknown object keys are ignored; unknown enum values decode to
// `unknown` keeping the raw string; nullable fields may also be absent;
// required non-nullable fields must be present with the right JSON type;
// integers must fit in int64 and be written without fraction or exponent.
// Fields of the dated API (2026-04 and later) may be absent, so 2025-03
// bodies decode as before. Metadata values: a number with a fraction or
// exponent (or an integer beyond int64) is a double; filter clause values
// stay string | integer | boolean. Doubles are exact (the shortest text of
// a double decodes to that double). Events: see polar::event. Duplicate
// keys: every occurrence is checked and the last one wins. The models are
// built from the parser's events, without a DOM (detail/codec/stream/);
// stream_decoder (stream_decoder.hpp) does the same with the body in pieces.

POLAR_DECL error_code decode(std::string_view body, meter& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, page<meter>& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, page<event>& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, page<customer_meter>& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, customer_meter& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, meter_quantities& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, events_ingest_response& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, event& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, customer& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, address& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, filter& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, aggregation& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, pagination& out, std::string& what);
// Request bodies (useful for fakes and servers).
POLAR_DECL error_code decode(std::string_view body, meter_create& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, meter_update& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, event_create& out, std::string& what);
POLAR_DECL error_code decode(std::string_view body, events_ingest& out, std::string& what);

/**
 * @brief Best-effort decoding of an error response body into `out`.
 *
 * @details Reads `error`; `detail` when it is a string (or else
 * `error_description`) into diagnostics::detail; a `detail` array (422) into
 * diagnostics::validation_errors, with `loc` items kept as strings or
 * integers and `input` / `ctx` kept as compact JSON text. Fields it cannot
 * read are skipped; a body that is not JSON leaves `out` unchanged. Never
 * throws.
 */
POLAR_DECL void decode_error_body(std::string_view body, diagnostics& out) noexcept;

// Encoding
// --------
// Compact JSON. Request bodies contain only the keys that were set.
// Timestamps are written as the server writes them (UTC, `Z`, microseconds
// when non-zero). Strings are escaped; invalid UTF-8 in them is replaced by
// U+FFFD so the output is always valid JSON. Unknown enum values are written
// with their raw string. Doubles are written in their shortest round-trip
// form, with a fraction or exponent (`2.0`). An event with raw_json is
// written as that text.
//
// Errors: JSON has no NaN or infinity. A metadata value that is one cannot
// be encoded: the encode() overloads returning std::string then throw
// api_error with errc::invalid_argument (diagnostics::message names the
// key, e.g. `events[2].metadata.ratio: NaN or infinity cannot be encoded as
// JSON`); the overloads taking `out` and `what` return that error instead
// and never throw but for std::bad_alloc. Quantities and other response
// numbers that are not finite are written as null.

POLAR_DECL std::string encode(const meter_create& v);
POLAR_DECL std::string encode(const meter_update& v);
POLAR_DECL std::string encode(const events_ingest& v);
POLAR_DECL std::string encode(const event_create& v);
POLAR_DECL std::string encode(const meter& v);
POLAR_DECL std::string encode(const page<meter>& v);
POLAR_DECL std::string encode(const page<event>& v);
POLAR_DECL std::string encode(const page<customer_meter>& v);
POLAR_DECL std::string encode(const customer_meter& v);
POLAR_DECL std::string encode(const event& v);
POLAR_DECL std::string encode(const customer& v);
POLAR_DECL std::string encode(const address& v);
POLAR_DECL std::string encode(const meter_quantities& v);
POLAR_DECL std::string encode(const events_ingest_response& v);
POLAR_DECL std::string encode(const filter& v);
POLAR_DECL std::string encode(const aggregation& v);
POLAR_DECL std::string encode(const pagination& v);

// Request bodies without exceptions: on success `out` holds the JSON and
// `what` is empty; on failure errc::invalid_argument and `what` says why.
POLAR_DECL error_code encode(const meter_create& v, std::string& out, std::string& what);
POLAR_DECL error_code encode(const meter_update& v, std::string& out, std::string& what);
POLAR_DECL error_code encode(const events_ingest& v, std::string& out, std::string& what);
POLAR_DECL error_code encode(const event_create& v, std::string& out, std::string& what);

} // namespace detail
} // namespace polar

#ifdef POLAR_HEADER_ONLY
#include <polar/detail/codec/codec.ipp>
#endif

#endif
