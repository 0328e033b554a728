#ifndef POLAR_DETAIL_CODEC_DOM_DOCUMENT_IPP
#define POLAR_DETAIL_CODEC_DOM_DOCUMENT_IPP

// A JSON document as a Boost.JSON DOM allocated from a monotonic resource
// (a stack buffer for small bodies, the thread's dom_arena for larger ones),
// with exact doubles. Used for error bodies and by the DOM reference decoder
// (dom/events.ipp) that tests compare the streaming decoder with.

#include <polar/detail/codec/dom_arena.hpp>
#include <polar/detail/codec/codec.hpp>
#include <polar/detail/codec/json_source.hpp>
#include <polar/detail/codec/decode_common.ipp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace polar {
namespace detail {
namespace json_decode_impl {

namespace bj = boost::json;

// What boost::json::parser does (basic_parser + value_stack), with exact
// doubles (above).
struct dom_handler {
    static constexpr std::size_t max_object_size = bj::object::max_size();
    static constexpr std::size_t max_array_size = bj::array::max_size();
    static constexpr std::size_t max_key_size = bj::string::max_size();
    static constexpr std::size_t max_string_size = bj::string::max_size();

    bj::value_stack st;
    std::string number; // the start of a number split across writes (never with one write)

    dom_handler(unsigned char* buffer, std::size_t size) noexcept : st(bj::storage_ptr(), buffer, size) {}

    bool on_document_begin(bj::error_code&) { return true; }
    bool on_document_end(bj::error_code&) { return true; }
    bool on_object_begin(bj::error_code&) { return true; }
    bool on_object_end(std::size_t n, bj::error_code&) {
        st.push_object(n);
        return true;
    }
    bool on_array_begin(bj::error_code&) { return true; }
    bool on_array_end(std::size_t n, bj::error_code&) {
        st.push_array(n);
        return true;
    }
    bool on_key_part(bj::string_view s, std::size_t, bj::error_code&) {
        st.push_chars(s);
        return true;
    }
    bool on_key(bj::string_view s, std::size_t, bj::error_code&) {
        st.push_key(s);
        return true;
    }
    bool on_string_part(bj::string_view s, std::size_t, bj::error_code&) {
        st.push_chars(s);
        return true;
    }
    bool on_string(bj::string_view s, std::size_t, bj::error_code&) {
        st.push_string(s);
        return true;
    }
    bool on_number_part(bj::string_view s, bj::error_code&) {
        number.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, bj::string_view, bj::error_code&) {
        number.clear();
        st.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, bj::string_view, bj::error_code&) {
        number.clear();
        st.push_uint64(u);
        return true;
    }
    bool on_double(double d, bj::string_view s, bj::error_code&) {
        if (number.empty()) {
            d = exact_double(d, std::string_view(s.data(), s.size()));
        } else {
            number.append(s.data(), s.size());
            d = exact_double(d, number);
            number.clear();
        }
        st.push_double(d);
        return true;
    }
    bool on_bool(bool b, bj::error_code&) {
        st.push_bool(b);
        return true;
    }
    bool on_null(bj::error_code&) {
        st.push_null();
        return true;
    }
    bool on_comment_part(bj::string_view, bj::error_code&) { return true; }
    bool on_comment(bj::string_view, bj::error_code&) { return true; }
};

// Parses `body` and calls `fn(const bj::value&)` with the root; the DOM lives
// in a monotonic resource: a stack buffer for small bodies, the thread's
// dom_arena for larger ones, blocks of its own beyond that.
template <class Fn>
bool with_document(std::string_view body, std::string& what, Fn&& fn) {
    // The API's bodies make DOMs of up to about 3.5 times their text (an
    // hourly quantities page; an events page 2.5), so one block of
    // dom_factor times the body holds them. What does not fit takes further
    // blocks from the heap.
    constexpr std::size_t dom_factor = 4;
    constexpr std::size_t small_body = 2048;
    alignas(std::max_align_t) unsigned char dom_buffer[small_body * dom_factor];
    unsigned char parser_buffer[2048];

    const std::size_t dom_size = body.size() * dom_factor;
    struct arena_guard {
        dom_arena* a;
        ~arena_guard() {
            if (a) a->release();
        }
    } arena{nullptr};
    std::optional<bj::monotonic_resource> mr; // destroyed before `arena` releases the block
    if (body.size() <= small_body) {
        mr.emplace(dom_buffer, sizeof dom_buffer);
    } else if ((arena.a = dom_arena::acquire(dom_size))) {
        mr.emplace(arena.a->data(), arena.a->size());
    } else {
        mr.emplace(dom_size);
    }

    bj::parse_options opt;
    opt.max_depth = max_json_depth;
    bj::basic_parser<dom_handler> p(opt, parser_buffer, sizeof parser_buffer);
    p.reset();
    p.handler().st.reset(bj::storage_ptr(&*mr));
    bj::error_code ec;
    const std::size_t n = p.write_some(false, body.data(), body.size(), ec);
    if (!ec && n < body.size()) {
        ec = bj::error::extra_data;
        p.fail(ec);
    }
    if (ec) {
        what = describe_parse_error(body, n, ec);
        return false;
    }
    const bj::value root = p.handler().st.release();
    return fn(root);
}


} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
