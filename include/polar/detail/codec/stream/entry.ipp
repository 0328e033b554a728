#ifndef POLAR_DETAIL_CODEC_STREAM_ENTRY_IPP
#define POLAR_DETAIL_CODEC_STREAM_ENTRY_IPP

// The entry points of decoding: decode() of a whole body (one write to the
// parser, so error offsets and raw texts come straight from the body) and
// stream_decoder (pieces as they arrive). Both build the models from the
// parser's events (detail/codec/stream/); error bodies keep their small DOM
// (detail/codec/error_body.ipp).

#include <polar/detail/codec/codec.hpp>
#include <polar/detail/codec/stream_decoder.hpp>
#include <polar/detail/codec/error_body.ipp>
#include <polar/detail/codec/stream/kept_text.ipp>

#include <exception>
#include <new>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace stream {

struct kinds {
    fk model;
    fk item = fk::root;
};
inline kinds kinds_of(const meter&) { return {fk::meter}; }
inline kinds kinds_of(const page<meter>&) { return {fk::page, fk::meter}; }
inline kinds kinds_of(const page<event>&) { return {fk::page, fk::event}; }
inline kinds kinds_of(const page<customer_meter>&) { return {fk::page, fk::customer_meter}; }
inline kinds kinds_of(const customer_meter&) { return {fk::customer_meter}; }
inline kinds kinds_of(const meter_quantities&) { return {fk::quantities}; }
inline kinds kinds_of(const events_ingest_response&) { return {fk::ingest_response}; }
inline kinds kinds_of(const event&) { return {fk::event}; }
inline kinds kinds_of(const customer&) { return {fk::customer}; }
inline kinds kinds_of(const address&) { return {fk::address}; }
inline kinds kinds_of(const filter&) { return {fk::filter}; }
inline kinds kinds_of(const aggregation&) { return {fk::aggregation}; }
inline kinds kinds_of(const pagination&) { return {fk::pagination}; }
inline kinds kinds_of(const meter_create&) { return {fk::meter_create}; }
inline kinds kinds_of(const meter_update&) { return {fk::meter_update}; }
inline kinds kinds_of(const event_create&) { return {fk::event_create}; }
inline kinds kinds_of(const events_ingest&) { return {fk::events_ingest}; }

inline bool has_raw_text(kinds k) noexcept { return k.model == fk::event || k.item == fk::event; }

inline bj::parse_options parse_options() noexcept {
    bj::parse_options opt;
    opt.max_depth = max_json_depth;
    return opt;
}

// Resets `out` as the DOM path did and starts the decoder on it.
template <class T>
void start(decoder& d, T& out) {
    if constexpr (requires { out.items; out.pagination; }) {
        out.items.clear();
        out.pagination = {};
    } else {
        out = T();
    }
    const kinds k = kinds_of(out);
    d.start(k.model, &out);
    d.top().flag = static_cast<std::uint8_t>(k.item);
}

POLAR_COLD inline void describe_exception(std::string& what) noexcept {
    try {
        throw;
    } catch (const std::bad_alloc&) {
        try { what = "out of memory while decoding the response"; } catch (...) {}
    } catch (const std::exception& e) {
        try { what = std::string("decoding failed: ") + e.what(); } catch (...) {}
    } catch (...) {
        try { what = "decoding failed"; } catch (...) {}
    }
}

template <class T>
error_code decode_body(std::string_view body, T& out, std::string& what) noexcept {
    try {
        what.clear();
        bj::basic_parser<handler> p(parse_options());
        decoder& d = p.handler().d;
        start(d, out);
        d.body_size_ = body.size();
        bj::error_code ec;
        const std::size_t n = p.write_some(false, body.data(), body.size(), ec);
        if (!ec && n < body.size()) {
            ec = bj::error::extra_data;
            p.fail(ec);
        }
        if (ec) {
            what = describe_parse_error(body, n, ec);
        } else if (d.failed()) {
            what = std::move(d.what());
        } else {
            fill_raw_events(d, kinds_of(out).model, body);
            return {};
        }
    } catch (...) {
        describe_exception(what);
    }
    return make_error_code(errc::invalid_response);
}

} // namespace stream
} // namespace json_decode_impl

// -- decode() ---------------------------------------------------------------------

#define POLAR_STREAM_DECODE(T)                                                         \
    POLAR_DECL error_code decode(std::string_view body, T& out, std::string& what) {   \
        return json_decode_impl::stream::decode_body(body, out, what);                 \
    }
POLAR_STREAM_DECODE(meter)
POLAR_STREAM_DECODE(page<meter>)
POLAR_STREAM_DECODE(page<event>)
POLAR_STREAM_DECODE(page<customer_meter>)
POLAR_STREAM_DECODE(customer_meter)
POLAR_STREAM_DECODE(meter_quantities)
POLAR_STREAM_DECODE(events_ingest_response)
POLAR_STREAM_DECODE(event)
POLAR_STREAM_DECODE(customer)
POLAR_STREAM_DECODE(address)
POLAR_STREAM_DECODE(filter)
POLAR_STREAM_DECODE(aggregation)
POLAR_STREAM_DECODE(pagination)
POLAR_STREAM_DECODE(meter_create)
POLAR_STREAM_DECODE(meter_update)
POLAR_STREAM_DECODE(event_create)
POLAR_STREAM_DECODE(events_ingest)
#undef POLAR_STREAM_DECODE

// -- stream_decoder -----------------------------------------------------------------

struct stream_decoder::impl {
    boost::json::basic_parser<json_decode_impl::stream::handler> parser{json_decode_impl::stream::parse_options()};
    json_decode_impl::stream::fk model{};
    json_decode_impl::stream::kept_text text; // events: for raw_json
    std::size_t consumed = 0; // bytes the parser took
    std::size_t total = 0;    // bytes fed
    bool non_ws = false;      // anything but whitespace fed
    bool done = false;        // the document is complete
    bool failed = false;
    std::string error;        // once failed
    std::string carry;        // the last bytes of the previous piece (UTF-8 errors across pieces)

    template <class T>
    void start(T& out) {
        parser.reset();
        json_decode_impl::stream::start(parser.handler().d, out);
        const auto k = json_decode_impl::stream::kinds_of(out);
        model = k.model;
        text.start(json_decode_impl::stream::has_raw_text(k), k.model == json_decode_impl::stream::fk::event);
        consumed = total = 0;
        non_ws = done = failed = false;
        error.clear();
        carry.clear();
    }

    void expect(std::size_t n) {
        parser.handler().d.body_size_ = n;
        text.reserve(n);
    }

    POLAR_COLD error_code fail(std::string message, std::string& what) {
        failed = true;
        error = std::move(message);
        what = error;
        return make_error_code(errc::invalid_response);
    }

    // A parse failure at `at` (an offset in the document), `piece` being the
    // bytes fed last, starting at offset `piece_at`.
    POLAR_COLD std::string describe(std::string_view piece, std::size_t piece_at, std::size_t at,
                                    const boost::json::error_code& ec) {
        if (!non_ws) return total == 0 ? "empty body" : "empty body (whitespace only)";
        const std::string joined = carry + std::string(piece);
        const std::size_t bad = utf8::first_invalid(joined);
        if (bad != std::string::npos && piece_at - carry.size() + bad <= at)
            return "invalid JSON at offset " + std::to_string(piece_at - carry.size() + bad) + ": invalid UTF-8";
        return "invalid JSON at offset " + std::to_string(at) + ": " + ec.message();
    }

    error_code write_some(std::string_view bytes, std::string& what) {
        if (failed) return what = error, make_error_code(errc::invalid_response);
        try {
            const std::size_t piece_at = total;
            total += bytes.size();
            if (!non_ws) non_ws = bytes.find_first_not_of(" \t\r\n") != std::string_view::npos;
            std::size_t n = 0;
            if (!done) {
                auto& h = parser.handler();
                h.piece_ = bytes.data();
                h.piece_size_ = bytes.size();
                h.piece_at_ = piece_at;
                boost::json::error_code ec;
                n = parser.write_some(true, bytes.data(), bytes.size(), ec);
                h.piece_ = nullptr;
                h.piece_size_ = 0;
                if (ec) return fail(describe(bytes, piece_at, consumed + n, ec), what);
                consumed += n;
                done = parser.done();
            }
            text.add(parser.handler().d, bytes, piece_at);
            if (done && n < bytes.size()) {
                // After the document only whitespace may follow.
                const std::size_t extra = bytes.find_first_not_of(" \t\r\n", n);
                if (extra != std::string_view::npos) {
                    boost::json::error_code ec = boost::json::error::extra_data;
                    return fail(describe(bytes, piece_at, piece_at + extra, ec), what);
                }
            }
            const std::size_t keep = bytes.size() < 3 ? bytes.size() : 3;
            carry.assign(bytes.data() + bytes.size() - keep, keep);
            return {};
        } catch (...) {
            json_decode_impl::stream::describe_exception(what);
            return fail(what, what);
        }
    }

    error_code finish(std::string& what) {
        if (failed) return what = error, make_error_code(errc::invalid_response);
        try {
            auto& d = parser.handler().d;
            if (!done) {
                boost::json::error_code ec;
                parser.write_some(false, nullptr, 0, ec);
                if (ec) return fail(describe({}, total, consumed, ec), what);
                done = true;
            }
            if (d.failed()) return fail(std::move(d.what()), what);
            text.finish(d, model);
            what.clear();
            return {};
        } catch (...) {
            json_decode_impl::stream::describe_exception(what);
            return fail(what, what);
        }
    }
};

POLAR_DECL stream_decoder::stream_decoder() = default;
POLAR_DECL stream_decoder::~stream_decoder() = default;

POLAR_DECL stream_decoder::impl& stream_decoder::state() {
    if (!impl_) impl_ = std::make_unique<impl>();
    return *impl_;
}

POLAR_DECL void stream_decoder::start(meter& out) { state().start(out); }
POLAR_DECL void stream_decoder::start(page<meter>& out) { state().start(out); }
POLAR_DECL void stream_decoder::start(page<event>& out) { state().start(out); }
POLAR_DECL void stream_decoder::start(page<customer_meter>& out) { state().start(out); }
POLAR_DECL void stream_decoder::start(customer_meter& out) { state().start(out); }
POLAR_DECL void stream_decoder::start(meter_quantities& out) { state().start(out); }
POLAR_DECL void stream_decoder::start(events_ingest_response& out) { state().start(out); }
POLAR_DECL void stream_decoder::start(event& out) { state().start(out); }
POLAR_DECL void stream_decoder::expect(std::size_t body_size) {
    if (impl_) impl_->expect(body_size);
}
POLAR_DECL error_code stream_decoder::write_some(std::string_view bytes, std::string& what) {
    if (!impl_) return what = "no document was started", make_error_code(errc::invalid_response);
    return impl_->write_some(bytes, what);
}
POLAR_DECL std::size_t stream_decoder::kept_bytes() const noexcept { return impl_ ? impl_->text.held() : 0; }
POLAR_DECL error_code stream_decoder::finish(std::string& what) {
    if (!impl_) return what = "no document was started", make_error_code(errc::invalid_response);
    return impl_->finish(what);
}

} // namespace detail
} // namespace polar

#endif
