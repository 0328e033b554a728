#ifndef POLAR_DETAIL_CODEC_STREAM_HANDLER_IPP
#define POLAR_DETAIL_CODEC_STREAM_HANDLER_IPP

// The boost::json::basic_parser handler of the streaming decoder: turns the
// parser's events into values, keys and ends for the decoder (fields_*.ipp).
// Keys and strings split across writes (or by escapes) are gathered in
// scratch strings; most arrive whole and are used in place. Numbers get the
// exactness fix of the DOM path (exact_double). Inside a skipped container
// (and after a failure) every event only counts depth.

#include <polar/detail/codec/stream/fields_list.ipp>

#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include <functional>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace stream {

namespace bj = boost::json;

struct handler {
    // The limits of the DOM (same errors as before).
    static constexpr std::size_t max_object_size = bj::object::max_size();
    static constexpr std::size_t max_array_size = bj::array::max_size();
    static constexpr std::size_t max_key_size = bj::string::max_size();
    static constexpr std::size_t max_string_size = bj::string::max_size();

    decoder d;

    // User-provided: basic_parser value-initializes its handler, which
    // would otherwise zero the decoder's frames (15 KB) on every decode.
    handler() noexcept {}

    bool on_document_begin(bj::error_code&) { return true; }
    bool on_document_end(bj::error_code&) { return true; }

    bool on_object_begin(bj::error_code&) { return begin_container(vk::object); }
    bool on_array_begin(bj::error_code&) { return begin_container(vk::array); }
    bool on_object_end(std::size_t, bj::error_code&) { return end_container(); }
    bool on_array_end(std::size_t, bj::error_code&) { return end_container(); }

    bool on_key_part(bj::string_view s, std::size_t, bj::error_code&) {
        if (d.skip_) return true;
        if (d.item_pending_ && !s.empty()) note_item(s);
        if (!d.key_parts_) {
            d.key_parts_ = true;
            kpart_.clear();
        }
        kpart_.append(s.data(), s.size());
        return true;
    }
    bool on_key(bj::string_view s, std::size_t, bj::error_code&) {
        if (d.skip_ || d.key_parts_) [[unlikely]] return key_in_parts(s);
        if (d.item_pending_) [[unlikely]] note_item(s);
        d.on_key(std::string_view(s.data(), s.size()));
        return true;
    }
    bool on_string_part(bj::string_view s, std::size_t, bj::error_code&) {
        if (d.skip_) return true;
        if (!d.str_parts_) {
            d.str_parts_ = true;
            d.str_.clear();
        }
        d.str_.append(s.data(), s.size());
        return true;
    }
    bool on_string(bj::string_view s, std::size_t, bj::error_code&) {
        if (d.skip_ || d.str_parts_) [[unlikely]] return string_in_parts(s);
        val v{vk::string};
        v.s = std::string_view(s.data(), s.size());
        d.on_value(v);
        return true;
    }
    bool on_number_part(bj::string_view s, bj::error_code&) {
        d.num_.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, bj::string_view, bj::error_code&) {
        if (!d.num_.empty()) d.num_.clear();
        if (d.skip_) return true;
        val v{vk::int64};
        v.i = i;
        d.on_value(v);
        return true;
    }
    bool on_uint64(std::uint64_t u, bj::string_view, bj::error_code&) {
        if (!d.num_.empty()) d.num_.clear();
        if (d.skip_) return true;
        val v{vk::uint64};
        v.u = u;
        d.on_value(v);
        return true;
    }
    bool on_double(double x, bj::string_view s, bj::error_code&) {
        // At most 15 characters, whole: exact already (see exact_double).
        if (d.skip_ || !d.num_.empty() || s.size() > 15) [[unlikely]] return other_double(x, s);
        val v{vk::dbl};
        v.d = x;
        d.on_value(v);
        return true;
    }
    bool on_bool(bool b, bj::error_code&) {
        if (d.skip_) return true;
        val v{vk::boolean};
        v.b = b;
        d.on_value(v);
        return true;
    }
    bool on_null(bj::error_code&) {
        if (d.skip_) return true;
        d.on_value(val{vk::null});
        return true;
    }
    bool on_comment_part(bj::string_view, bj::error_code&) { return true; }
    bool on_comment(bj::string_view, bj::error_code&) { return true; }

    // The piece being parsed and its offset in the body (stream_decoder).
    const char* piece_ = nullptr;
    std::size_t piece_size_ = 0;
    std::size_t piece_at_ = 0;

private:
    // The first bytes of an events page item's first key: where they lie in
    // the piece tells where the item begins. Bytes that are not in the piece
    // (an escape, a character split between pieces, or a whole body decoded
    // at once) leave the item's place unknown.
    void note_item(bj::string_view s) noexcept {
        const std::size_t item = d.item_pending_ - 1;
        d.item_pending_ = 0;
        const std::less<const char*> before;
        if (s.empty() || before(s.data(), piece_) || !before(s.data(), piece_ + piece_size_)) return;
        d.last_placed_ = {item, piece_at_ + static_cast<std::size_t>(s.data() - piece_)};
        if (d.first_placed_.item == decoder::no_item) d.first_placed_ = d.last_placed_;
    }

    [[gnu::noinline]] bool string_in_parts(bj::string_view s) {
        if (d.skip_) return true;
        d.str_parts_ = false;
        d.str_.append(s.data(), s.size());
        val v{vk::string};
        v.s = d.str_;
        d.on_value(v);
        return true;
    }
    [[gnu::noinline]] bool other_double(double x, bj::string_view s) {
        if (d.skip_) {
            d.num_.clear();
            return true;
        }
        val v{vk::dbl};
        if (d.num_.empty()) {
            v.d = exact_double(x, std::string_view(s.data(), s.size()));
        } else {
            d.num_.append(s.data(), s.size());
            v.d = exact_double(x, d.num_);
            d.num_.clear();
        }
        d.on_value(v);
        return true;
    }
    [[gnu::noinline]] bool key_in_parts(bj::string_view s) {
        if (d.skip_) return true;
        if (d.item_pending_) note_item(s);
        d.key_parts_ = false;
        kpart_.append(s.data(), s.size());
        d.on_key(kpart_);
        return true;
    }
    bool begin_container(vk kind) {
        if (d.skip_) {
            ++d.skip_;
            return true;
        }
        d.pushed_ = false;
        d.on_value(val{kind});
        if (!d.pushed_) ++d.skip_; // nobody wants it (or it was the wrong type)
        return true;
    }
    bool end_container() {
        if (d.skip_) {
            --d.skip_;
            return true;
        }
        d.on_end();
        return true;
    }

    std::string kpart_;
};

// Fills the raw text of the system (and unknown-source) events of a
// complete document, as the DOM path did: the event's bytes as received.
// `in_items`: a page's text starts at an item of an `items` array other than
// the last (see text::page_item_spans).
POLAR_COLD inline void fill_raw_events(decoder& d, fk model, std::string_view body, bool in_items = false) {
    if (d.raw_events().empty()) return;
    if (model == fk::event) {
        const std::size_t b = text::skip_ws(body, 0);
        std::size_t e = body.size();
        while (e > b && (body[e - 1] == ' ' || body[e - 1] == '\t' || body[e - 1] == '\n' || body[e - 1] == '\r'))
            --e;
        static_cast<event*>(d.root_target())->raw_json.assign(body.substr(b, e - b));
        return;
    }
    std::vector<std::string_view> spans;
    if (!text::page_item_spans(body, spans, in_items)) return; // not reached: the parser accepted the body
    auto& items = static_cast<page<event>*>(d.root_target())->items;
    for (std::ptrdiff_t i : d.raw_events()) {
        const auto k = static_cast<std::size_t>(i);
        if (k < spans.size() && k < items.size()) items[k].raw_json.assign(spans[k]);
    }
}

} // namespace stream
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
