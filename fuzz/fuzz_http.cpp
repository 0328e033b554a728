// The client's handling of a raw HTTP response: the bytes arrive on a fake
// stream (in chunks of a fuzzed size, then EOF), are read with the client's
// parser and limits (async_read into a flat_buffer, as the client does),
// then taken and interpreted as the client does (status, content type,
// error bodies, Retry-After, decoding into the operation's result type).
//
// Input: byte 0 picks the result type, the body limit and whether a 2xx JSON
// body is decoded as it arrives (as the client does; then it must agree with
// decode() of the whole body), byte 1 the read chunk size (0: all at once),
// the rest is what the server sends.
#include "fuzz_check.hpp"

#include <polar/detail/codec/codec.hpp>
#include <polar/detail/response.hpp>
#include <polar/detail/codec/stream_decoder.hpp>

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

// Decodes a 2xx JSON body as it arrives, as the client does.
template <class T>
struct sink final : polar::detail::body_sink {
    polar::detail::stream_decoder dec;
    T value{};
    polar::error_code ec;
    std::string what;
    void start(std::uint64_t length) override {
        ec = {};
        what.clear();
        dec.start(value);
        if (length) dec.expect(static_cast<std::size_t>(length));
    }
    void put(std::string_view bytes) override {
        if (!ec) ec = dec.write_some(bytes, what);
    }
    void finish() override {
        if (!ec) ec = dec.finish(what);
    }
    polar::error_code result(std::string& w) override {
        w = what;
        return ec;
    }
};

template <class T>
void interpret(const received_response& r, const sink<T>* streamed) {
    if (streamed && r.streamed && r.body.size() < polar::detail::max_kept_body) {
        // The whole body was kept too: decoding it whole agrees.
        T whole{};
        std::string what;
        const auto ec = polar::detail::decode(r.body, whole, what);
        constexpr std::string_view invalid = "invalid JSON at offset ";
        POLAR_FUZZ_CHECK(bool(ec) == bool(r.decode_ec) &&
                             (what == r.decode_what || (what.starts_with(invalid) && r.decode_what.starts_with(invalid))) &&
                             (ec || polar::detail::encode(whole) == polar::detail::encode(streamed->value)),
                         "streamed decoding disagrees with decode()\n  streamed: %s\n  whole: %s",
                         r.decode_what.c_str(), what.c_str());
    }
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

template <class T>
void read_and_interpret(const std::uint8_t* data, std::size_t size, std::uint8_t selector, std::size_t chunk);

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t selector = data[0];
    const std::size_t chunk = data[1];
    switch (selector & 0x07) {
    case 0: read_and_interpret<polar::meter>(data, size, selector, chunk); break;
    case 1: read_and_interpret<polar::page<polar::meter>>(data, size, selector, chunk); break;
    case 2: read_and_interpret<polar::page<polar::event>>(data, size, selector, chunk); break;
    case 3: read_and_interpret<polar::meter_quantities>(data, size, selector, chunk); break;
    default: read_and_interpret<polar::events_ingest_response>(data, size, selector, chunk); break;
    }
    return 0;
}

namespace {

// Bit 0x40 of the selector streams 2xx JSON bodies to a sink, as the client does.
template <class T>
void read_and_interpret(const std::uint8_t* data, std::size_t size, std::uint8_t selector, std::size_t chunk) {
    static asio::io_context ioc;
    // The client's default limit, or a small one to reach body_too_large.
    const std::size_t max_body = selector & 0x80 ? 512 : std::size_t(16) << 20;

    beast::test::stream stream(ioc, polar_fuzz::as_text(data + 2, size - 2));
    if (chunk) stream.read_size(chunk);
    stream.close_remote();

    polar::detail::response_parser parser;
    polar::detail::limit_response_parser(parser, max_body);
    sink<T> streaming;
    if (selector & 0x40) parser.get().body().sink = &streaming;
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
        return;
    }
    POLAR_FUZZ_CHECK(r.body.size() <= max_body, "body of %zu bytes over the limit", r.body.size());
    interpret<T>(r, selector & 0x40 ? &streaming : nullptr);
}

} // namespace
