// Decodes arbitrary bytes as every type the client or a server decodes. The
// first byte picks the type, the rest is the body. Whatever decodes must
// encode to JSON that decodes again to the same encoding (a fixed point).
// The decoder (built from the parser's events) must agree with the DOM
// decoder it replaced (detail/codec/dom/): the same outcome, message and model,
// but for documents with duplicate keys (the DOM saw only the last one); and
// stream_decoder fed the body in two pieces, and in small ones, must agree with decode().
#include "fuzz_check.hpp"

#include <polar/detail/codec/codec.hpp>
#include <polar/detail/codec/stream_decoder.hpp>
#include <polar/detail/codec/dom/events.ipp>

#include <boost/json/basic_parser_impl.hpp>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace {

using polar::detail::decode;
using polar::detail::encode;

// Finds duplicate keys in an object of a (valid) document.
struct duplicates_handler {
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);
    using ec = boost::json::error_code;
    using sv = boost::json::string_view;
    std::vector<std::set<std::string>> objects;
    std::string key;
    bool found = false;
    bool on_document_begin(ec&) { return true; }
    bool on_document_end(ec&) { return true; }
    bool on_object_begin(ec&) { return objects.emplace_back(), true; }
    bool on_object_end(std::size_t, ec&) { return objects.pop_back(), true; }
    bool on_array_begin(ec&) { return true; }
    bool on_array_end(std::size_t, ec&) { return true; }
    bool on_key_part(sv s, std::size_t, ec&) { return key.append(s.data(), s.size()), true; }
    bool on_key(sv s, std::size_t, ec&) {
        key.append(s.data(), s.size());
        if (!objects.back().insert(key).second) found = true;
        key.clear();
        return true;
    }
    bool on_string_part(sv, std::size_t, ec&) { return true; }
    bool on_string(sv, std::size_t, ec&) { return true; }
    bool on_number_part(sv, ec&) { return true; }
    bool on_int64(std::int64_t, sv, ec&) { return true; }
    bool on_uint64(std::uint64_t, sv, ec&) { return true; }
    bool on_double(double, sv, ec&) { return true; }
    bool on_bool(bool, ec&) { return true; }
    bool on_null(ec&) { return true; }
    bool on_comment_part(sv, ec&) { return true; }
    bool on_comment(sv, ec&) { return true; }
};

bool has_duplicate_keys(std::string_view body) {
    boost::json::parse_options opt;
    opt.max_depth = polar::detail::max_json_depth;
    boost::json::basic_parser<duplicates_handler> p(opt);
    boost::json::error_code ec;
    p.write_some(false, body.data(), body.size(), ec);
    return !ec && p.handler().found;
}

template <class T>
void compare_with_dom(std::string_view body, polar::error_code ec, const std::string& what, const T& v) {
    T old{};
    std::string old_what;
    const auto old_ec = polar::detail::json_decode_impl::dom::decode_dom(body, old, old_what);
    if (old_ec == ec && old_what == what && (ec || encode(old) == encode(v))) return;
    if (has_duplicate_keys(body)) return;
    POLAR_FUZZ_CHECK(false, "the decoder and the DOM decoder disagree\n  input: %.*s\n  new: %s %s\n  old: %s %s",
                     static_cast<int>(body.size()), body.data(), ec ? "error" : "ok", what.c_str(),
                     old_ec ? "error" : "ok", old_what.c_str());
}

// Invalid JSON found in a token that began in an earlier piece is reported
// at the piece's start, not the token's: only the kind of message must agree.
bool same_message(const std::string& pieces, const std::string& whole) {
    constexpr std::string_view invalid = "invalid JSON at offset ";
    return pieces == whole || (pieces.starts_with(invalid) && whole.starts_with(invalid));
}

template <class T>
void compare_pieces(std::string_view body, polar::error_code ec, const std::string& what, const T& v) {
    if constexpr (requires(polar::detail::stream_decoder& d, T& t) { d.start(t); }) {
        static polar::detail::stream_decoder dec;
        // Fed in two pieces (cut at `cut`), then in pieces of `step` bytes
        // (places where a page's items begin, and so its kept text, move).
        const std::size_t cut = body.empty() ? 0 : static_cast<unsigned char>(body.back()) % (body.size() + 1);
        const std::size_t step = body.empty() ? 1 : 1 + static_cast<unsigned char>(body.front()) % 23;
        for (int pass = 0; pass < 2; ++pass) {
            T out{};
            std::string w;
            dec.start(out);
            polar::error_code e;
            if (pass == 0) {
                e = dec.write_some(body.substr(0, cut), w);
                if (!e) e = dec.write_some(body.substr(cut), w);
            } else {
                for (std::size_t at = 0; at < body.size() && !e; at += step) e = dec.write_some(body.substr(at, step), w);
            }
            if (!e) e = dec.finish(w);
            POLAR_FUZZ_CHECK(bool(e) == bool(ec) && same_message(w, what) && (ec || encode(out) == encode(v)),
                             "stream_decoder in pieces (%s %zu) disagrees with decode()\n  input: %.*s\n"
                             "  pieces: %s\n  whole: %s",
                             pass == 0 ? "cut at" : "of", pass == 0 ? cut : step, static_cast<int>(body.size()),
                             body.data(), w.c_str(), what.c_str());
        }
    }
}

template <class T>
void round_trip(std::string_view body) {
    T v{};
    std::string what;
    const auto ec = decode(body, v, what);
    compare_with_dom(body, ec, what, v);
    compare_pieces(body, ec, what, v);
    if (ec) {
        POLAR_FUZZ_CHECK(!what.empty(), "a failed decode says why");
        return;
    }
    POLAR_FUZZ_CHECK(what.empty(), "a successful decode leaves `what` empty: %s", what.c_str());
    const std::string once = encode(v);
    T again{};
    const auto ec2 = decode(once, again, what);
    POLAR_FUZZ_CHECK(!ec2, "re-decoding our own encoding failed: %s\n  input: %.*s\n  encoded: %s", what.c_str(),
                     static_cast<int>(body.size()), body.data(), once.c_str());
    const std::string twice = encode(again);
    POLAR_FUZZ_CHECK(once == twice, "encoding is not a fixed point\n  first:  %s\n  second: %s", once.c_str(),
                     twice.c_str());
}

// Request bodies have encoders too, but their decoders are for servers.
template <class T>
void decode_only(std::string_view body) {
    T v{};
    std::string what;
    const auto ec = decode(body, v, what);
    compare_with_dom(body, ec, what, v);
    if (ec) return;
    (void)encode(v);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view body = polar_fuzz::as_text(data + 1, size - 1);
    switch (data[0] % 16) {
    case 0: round_trip<polar::meter>(body); break;
    case 1: round_trip<polar::page<polar::meter>>(body); break;
    case 2: round_trip<polar::page<polar::event>>(body); break;
    case 3: round_trip<polar::meter_quantities>(body); break;
    case 4: round_trip<polar::events_ingest_response>(body); break;
    case 5: round_trip<polar::event>(body); break;
    case 6: round_trip<polar::customer>(body); break;
    case 7: round_trip<polar::address>(body); break;
    case 8: round_trip<polar::filter>(body); break;
    case 9: round_trip<polar::aggregation>(body); break;
    case 10: round_trip<polar::pagination>(body); break;
    case 11: decode_only<polar::meter_create>(body); break;
    case 12: decode_only<polar::meter_update>(body); break;
    case 13: decode_only<polar::event_create>(body); break;
    case 14: decode_only<polar::events_ingest>(body); break;
    default: {
        polar::diagnostics d;
        polar::detail::decode_error_body(body, d);
        for (const auto& v : d.validation_errors) (void)v.path();
        (void)d.summary();
        break;
    }
    }
    return 0;
}
