// The client's handling of a raw HTTP response: the bytes arrive on a fake
// stream (in chunks of a fuzzed size, then EOF), are read with the client's
// parser and limits (async_read into a flat_buffer, as the client does),
// then taken and interpreted as the client does (status, content type,
// error bodies, Retry-After, decoding into the operation's result type).
//
// Input: byte 0 picks the result type and the body limit, byte 1 the read
// chunk size (0: all at once), the rest is what the server sends.
#include "fuzz_check.hpp"

#include <polar/detail/json_codec.hpp>
#include <polar/detail/response.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using polar::detail::received_response;

template <class T>
polar::error_code decode_as(std::string_view body, void* out, std::string& what) {
    return polar::detail::decode(body, *static_cast<T*>(out), what);
}

template <class T>
void interpret(const received_response& r) {
    T value{};
    polar::diagnostics diag;
    diag.message = r.message;
    const auto ec = polar::detail::interpret_response(r, diag, &decode_as<T>, &value);
    const bool ok_status = r.status >= 200 && r.status <= 299;
    POLAR_FUZZ_CHECK(ec || ok_status, "status %d reported as success", r.status);
    if (ec) {
        POLAR_FUZZ_CHECK(diag.body.size() <= 4096, "kept a body of %zu bytes", diag.body.size());
        if (ok_status)
            POLAR_FUZZ_CHECK(!diag.message.empty(), "a failed 2xx response has no message");
    }
    if (diag.retry_after) POLAR_FUZZ_CHECK(diag.retry_after->count() >= 0, "negative Retry-After");
    (void)diag.summary();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    static asio::io_context ioc;
    const std::uint8_t selector = data[0];
    const std::size_t chunk = data[1];
    // The client's default limit, or a small one to reach body_too_large.
    const std::size_t max_body = selector & 0x80 ? 512 : std::size_t(16) << 20;

    beast::test::stream stream(ioc, polar_fuzz::as_text(data + 2, size - 2));
    if (chunk) stream.read_size(chunk);
    stream.close_remote();

    polar::detail::response_parser parser;
    polar::detail::limit_response_parser(parser, max_body);
    beast::flat_buffer buffer;
    polar::error_code read_ec;
    bool done = false;
    http::async_read(stream, buffer, parser, [&](polar::error_code ec, std::size_t) {
        read_ec = ec;
        done = true;
    });
    ioc.restart();
    ioc.run();
    POLAR_FUZZ_CHECK(done, "the read did not complete");

    received_response r;
    polar::detail::take_response(read_ec, parser, max_body, r);
    if (r.ec) {
        POLAR_FUZZ_CHECK(r.status == 0 && r.body.empty(), "a failed read produced a response");
        return 0;
    }
    POLAR_FUZZ_CHECK(r.body.size() <= max_body, "body of %zu bytes over the limit", r.body.size());
    switch (selector & 0x07) {
    case 0: interpret<polar::meter>(r); break;
    case 1: interpret<polar::page<polar::meter>>(r); break;
    case 2: interpret<polar::page<polar::event>>(r); break;
    case 3: interpret<polar::meter_quantities>(r); break;
    default: interpret<polar::events_ingest_response>(r); break;
    }
    return 0;
}
