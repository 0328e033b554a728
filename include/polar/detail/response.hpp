//
// polar-cpp: how the client turns a received HTTP response into a result.
//
// Internal: included by the client implementation (and by the fuzzers, which
// feed arbitrary bytes through the same code). Not part of any public header,
// so it may name Beast's parser.
//
#ifndef POLAR_DETAIL_RESPONSE_HPP
#define POLAR_DETAIL_RESPONSE_HPP

#include <polar/api_version.hpp>
#include <polar/detail/config.hpp>
#include <polar/error.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/optional/optional.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace polar::detail {

/// Whether a Content-Type is application/json (any case, optional parameters).
POLAR_DECL bool is_json_content_type(std::string_view ct) noexcept;

/// Bytes of a body kept for diagnostics::body when the body is not kept whole.
inline constexpr std::size_t max_kept_body = 4096;

/**
 * @brief Where the body of a 2xx JSON response goes as it arrives: the
 * operation's decoder (detail::stream_decoder), so that a response is never
 * held whole next to its models and decoding overlaps the network.
 *
 * @details start() is called for each body (each attempt starts a fresh
 * decode) with its declared length (0 when unknown: chunked), put() with
 * each piece, finish() at its end; result() gives the
 * decode's outcome (see interpret_response). A failed decode keeps reading
 * (the connection stays usable), ignoring the rest.
 */
class body_sink {
public:
    virtual void start(std::uint64_t declared_length) = 0;
    virtual void put(std::string_view bytes) = 0;
    virtual void finish() = 0;
    virtual error_code result(std::string& what) = 0;

protected:
    ~body_sink() = default;
};

/**
 * @brief A response body read into a std::string that grows with the bytes
 * that actually arrive, or handed to a body_sink.
 *
 * @details With a `sink` set, the body of a 2xx response whose Content-Type
 * is JSON and whose length is unknown (chunked) or above `stream_above` goes
 * to the sink piece by piece (`streamed`); the string then keeps only its
 * first max_kept_body bytes, for diagnostics. Other bodies (error bodies,
 * unexpected content types, short bodies) are read into the string.
 *
 * Beast's string_body reserves the declared Content-Length up front (up to
 * the body limit): a server that announces 16 MiB and sends ten bytes would
 * cost 16 MiB per connection. This body reserves the declared length up to
 * `initial_reserve` and lets the string grow geometrically beyond it as data
 * comes in; the parser's body limit still bounds the total, streamed or not.
 */
struct response_body {
    struct value_type : std::string {
        body_sink* sink = nullptr; ///< set before the read to stream a 2xx JSON body
        std::uint64_t stream_above = 0; ///< only a body longer than this (or chunked) goes to `sink`
        bool streamed = false;     ///< the body went to `sink`
        std::uint64_t received = 0; ///< body bytes received
    };
    static constexpr std::size_t initial_reserve = 256 * 1024;

    static std::uint64_t size(const value_type& body) noexcept { return body.size(); }

    class reader {
    public:
        template <bool isRequest, class Fields>
        reader(boost::beast::http::header<isRequest, Fields>& h, value_type& body) : body_(body) {
            // Made with the parser, before the header arrives: init() reads it.
            if constexpr (!isRequest && std::is_same_v<Fields, boost::beast::http::fields>) header_ = &h;
        }

        void init(const boost::optional<std::uint64_t>& length, error_code& ec) {
            ec = {};
            body_.clear();
            body_.received = 0;
            body_.streamed =
                body_.sink && header_ && (!length || *length > body_.stream_above) && json_2xx(*header_);
            if (body_.streamed) {
                body_.sink->start(length ? *length : 0);
                return;
            }
            if (length) body_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*length, initial_reserve)));
        }

        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, error_code& ec) {
            ec = {};
            std::size_t n = 0;
            for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
                 ++it) {
                const boost::asio::const_buffer b = *it;
                const std::string_view bytes(static_cast<const char*>(b.data()), b.size());
                if (body_.streamed) {
                    if (body_.size() < max_kept_body)
                        body_.append(bytes.substr(0, max_kept_body - body_.size()));
                    body_.sink->put(bytes);
                } else {
                    body_.append(bytes);
                }
                n += b.size();
            }
            body_.received += n;
            return n;
        }

        void finish(error_code& ec) {
            ec = {};
            if (body_.streamed) body_.sink->finish();
        }

    private:
        static bool json_2xx(const boost::beast::http::response_header<>& h) {
            const unsigned status = h.result_int();
            const auto ct = h[boost::beast::http::field::content_type];
            return status >= 200 && status <= 299 && is_json_content_type(std::string_view(ct.data(), ct.size()));
        }

        value_type& body_;
        const boost::beast::http::response_header<>* header_ = nullptr;
    };
};

/// The parser the client reads every response with.
using response_parser = boost::beast::http::response_parser<response_body>;

/// Largest response header (status line and fields) the client accepts.
inline constexpr std::uint32_t response_header_limit = 64 * 1024;

/// What the client keeps of one read attempt.
struct received_response {
    error_code ec;            ///< read error, mapped (see take_response)
    std::string message;      ///< the SDK's explanation of `ec`
    int status = 0;
    std::string body;
    std::string content_type;
    std::string request_id;
    std::string retry_after;
    std::string polar_version;    ///< the `Polar-Version` response header
    bool has_polar_version = false;
    bool keep_alive = false;
    bool streamed = false;        ///< the body went to a body_sink (`body` holds its start)
    error_code decode_ec;         ///< streamed: the sink's result
    std::string decode_what;      ///< streamed: why the decode failed
};

/// Applies the client's limits: `max_body_size` for the body, response_header_limit for the header.
POLAR_DECL void limit_response_parser(response_parser& parser, std::size_t max_body_size);

/**
 * @brief Takes the result of reading into `parser` (`read_ec` is the read's error).
 *
 * @details On a read error sets `out.ec` / `out.message`: a Beast timeout is
 * left as is for the caller, the body and header limits become
 * errc::body_too_large and errc::unexpected_response, malformed HTTP
 * becomes errc::unexpected_response, other errors pass through. On success
 * moves the status, content type, request id, Retry-After, keep-alive and
 * body out of the parser.
 */
POLAR_DECL void take_response(error_code read_ec, response_parser& parser, std::size_t max_body_size,
                              received_response& out);

/// Decodes `body` into the object at `out` (see decode() in detail/codec/codec.hpp).
using body_decoder = error_code (*)(std::string_view body, void* out, std::string& what);

/**
 * @brief Interprets a complete response (`r.ec` empty) into `diag` and, for a
 * 2xx JSON response, the object at `out` via `decode` (or, when the body was
 * streamed to a body_sink, the sink's result).
 *
 * @returns empty for a 2xx that decoded; errc::unexpected_response for a 2xx
 * that is not application/json; errc::invalid_response for a 2xx body that
 * does not decode; for any other status the error its status maps to, with
 * the error body and Retry-After read into `diag`.
 */
POLAR_DECL error_code interpret_response(const received_response& r, diagnostics& diag, body_decoder decode,
                                         void* out);

/**
 * @brief Tells a 404 of an unknown API version from a resource 404.
 *
 * @details Polar answers a request whose `Polar-Version` it does not serve
 * with 404 and no `Polar-Version` header, whatever the path; every other
 * response, a route's or a resource's 404 included, echoes the version.
 * When `sent` is a dated version, `ec` is errc::not_found, `r` has no
 * such header and its body (already read into `diag`) is that 404's
 * `{"detail":"Not Found"}`, turns `ec` into errc::unsupported_api_version and
 * explains it in `diag.message`.
 */
POLAR_DECL void check_api_version(const received_response& r, api_version sent, error_code& ec, diagnostics& diag);

/**
 * @brief For meters().events() on the dated versions: a 422 whose only error
 * is the events list's unknown `meter_id` becomes errc::not_found (the
 * status and validation errors stay in `diag`), as the meter's own events
 * route answered.
 */
POLAR_DECL void unknown_meter(error_code& ec, diagnostics& diag);

/// The error an HTTP status other than 2xx maps to.
POLAR_DECL error_code map_http_status(int status) noexcept;

} // namespace polar::detail

#ifdef POLAR_HEADER_ONLY
#include <polar/impl/response.ipp>
#endif

#endif
