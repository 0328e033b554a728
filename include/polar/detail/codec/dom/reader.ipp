#ifndef POLAR_DETAIL_CODEC_DOM_READER_IPP
#define POLAR_DETAIL_CODEC_DOM_READER_IPP

// The DOM reference decoder, part 1: the reader over a Boost.JSON DOM.
// This is the decoder polar used before the streaming one (detail/codec/stream/);
// the library no longer includes it. Tests and fuzzers compare the two
// (dom::decode_dom() against detail::decode()).
#include <polar/detail/codec/dom/document.ipp>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace dom {

inline const char* kind_name(const bj::value& v) noexcept {
    switch (v.kind()) {
    case bj::kind::null: return "null";
    case bj::kind::bool_: return "boolean";
    case bj::kind::int64:
    case bj::kind::uint64:
    case bj::kind::double_: return "number";
    case bj::kind::string: return "string";
    case bj::kind::array: return "array";
    case bj::kind::object: return "object";
    }
    return "value";
}

inline std::string_view sv(const bj::string& s) noexcept { return {s.data(), s.size()}; }

class reader {
public:
    // -- failure reporting --------------------------------------------------
    // Out of line: the walk over a valid document touches none of this code.
    POLAR_COLD bool fail(const char* message) {
        msg_ = message;
        return false;
    }
    POLAR_COLD bool fail(std::string&& message) {
        msg_ = std::move(message);
        return false;
    }
    POLAR_COLD bool type_error(const char* expected, const bj::value& v) {
        std::string m = "expected ";
        m += expected;
        m += ", got ";
        m += kind_name(v);
        return fail(std::move(m));
    }
    POLAR_COLD bool at_key(std::string_view key) {
        path_.push_back({false, 0, std::string(key)});
        return false;
    }
    POLAR_COLD bool at_index(std::size_t i) {
        path_.push_back({true, i, {}});
        return false;
    }
    POLAR_COLD bool missing(std::string_view key) {
        at_key(key);
        return fail("missing required field");
    }
    POLAR_COLD std::string what() const {
        std::string out;
        for (auto it = path_.rbegin(); it != path_.rend(); ++it) {
            if (it->index) {
                out += '[';
                out += std::to_string(it->i);
                out += ']';
            } else {
                if (!out.empty()) out += '.';
                out += it->key;
            }
        }
        if (!out.empty()) out += ": ";
        out += msg_;
        return out;
    }

    // -- primitives -----------------------------------------------------------
    const bj::object* object(const bj::value& v) {
        const bj::object* o = v.if_object();
        if (!o) type_error("object", v);
        return o;
    }
    const bj::array* array(const bj::value& v) {
        const bj::array* a = v.if_array();
        if (!a) type_error("array", v);
        return a;
    }
    bool str(const bj::value& v, std::string& out) {
        const bj::string* s = v.if_string();
        if (!s) return type_error("string", v);
        out.assign(s->data(), s->size());
        return true;
    }
    bool opt_str(const bj::value& v, std::optional<std::string>& out) {
        if (v.is_null()) {
            out.reset();
            return true;
        }
        const bj::string* s = v.if_string();
        if (!s) return type_error("string or null", v);
        out.emplace(s->data(), s->size());
        return true;
    }
    bool i64(const bj::value& v, std::int64_t& out) {
        switch (v.kind()) {
        case bj::kind::int64: out = v.get_int64(); return true;
        case bj::kind::uint64: return fail("integer out of range (exceeds int64)");
        case bj::kind::double_:
            return fail("expected integer, got non-integral number (or an integer out of the int64 range)");
        default: return type_error("integer", v);
        }
    }
    bool number(const bj::value& v, double& out) {
        switch (v.kind()) {
        case bj::kind::int64: out = static_cast<double>(v.get_int64()); return true;
        case bj::kind::uint64: out = static_cast<double>(v.get_uint64()); return true;
        case bj::kind::double_:
            out = v.get_double();
            if (!std::isfinite(out)) return not_finite();
            return true;
        default: return type_error("number", v);
        }
    }
    bool boolean(const bj::value& v, bool& out) {
        if (!v.is_bool()) return type_error("boolean", v);
        out = v.get_bool();
        return true;
    }
    bool time(const bj::value& v, timestamp& out) {
        const bj::string* s = v.if_string();
        if (!s) return type_error("date-time string", v);
        if (!detail::parse_timestamp(sv(*s), out)) return invalid_time(sv(*s));
        return true;
    }
    POLAR_COLD bool invalid_time(std::string_view s) {
        std::string m = "invalid date-time ";
        append_quoted_excerpt(m, s);
        return fail(std::move(m));
    }
    bool opt_time(const bj::value& v, std::optional<timestamp>& out) {
        if (v.is_null()) {
            out.reset();
            return true;
        }
        if (!v.is_string()) return type_error("date-time string or null", v);
        timestamp t;
        if (!time(v, t)) return false;
        out = t;
        return true;
    }
    template <class E>
    bool enumeration(const bj::value& v, open_enum<E>& out) {
        const bj::string* s = v.if_string();
        if (!s) return type_error("string", v);
        E e;
        if (enum_from_wire(sv(*s), e)) out = e;
        else out = open_enum<E>::from_wire(sv(*s));
        return true;
    }
    // A metadata value: string | integer | boolean | double. Integers beyond
    // int64 become doubles; numbers beyond the double range are rejected.
    bool scalar(const bj::value& v, metadata_value& out) {
        switch (v.kind()) {
        case bj::kind::string: {
            const bj::string& s = v.get_string();
            out.emplace<0>(s.data(), s.size());
            return true;
        }
        case bj::kind::int64: out.emplace<1>(v.get_int64()); return true;
        case bj::kind::bool_: out.emplace<2>(v.get_bool()); return true;
        case bj::kind::uint64: out.emplace<3>(static_cast<double>(v.get_uint64())); return true;
        case bj::kind::double_:
            if (!std::isfinite(v.get_double())) return not_finite();
            out.emplace<3>(v.get_double());
            return true;
        default: return type_error("string, integer or boolean", v);
        }
    }
    POLAR_COLD bool not_finite() { return fail("number out of range (beyond the range of a double)"); }
    // A filter clause value: string | integer | boolean (never a float).
    bool filter_scalar(const bj::value& v, filter_value& out) {
        switch (v.kind()) {
        case bj::kind::string: {
            const bj::string& s = v.get_string();
            out.emplace<0>(s.data(), s.size());
            return true;
        }
        case bj::kind::int64: out.emplace<1>(v.get_int64()); return true;
        case bj::kind::bool_: out.emplace<2>(v.get_bool()); return true;
        case bj::kind::uint64: return fail("integer out of range (exceeds int64)");
        case bj::kind::double_:
            return fail("expected string, integer or boolean, got non-integral number "
                        "(or an integer out of the int64 range)");
        default: return type_error("string, integer or boolean", v);
        }
    }
    bool meta(const bj::value& v, metadata& out) {
        const bj::object* o = object(v);
        if (!o) return false;
        out.clear();
        for (const auto& kv : *o) {
            auto it = out.try_emplace(out.end(), std::string(kv.key()));
            if (!scalar(kv.value(), it->second)) return at_key(kv.key());
        }
        return true;
    }
    bool opt_i64(const bj::value& v, std::optional<std::int64_t>& out) {
        if (v.is_null()) {
            out.reset();
            return true;
        }
        if (!v.is_int64() && !v.is_uint64() && !v.is_double()) return type_error("integer or null", v);
        return i64(v, out.emplace());
    }

    // -- raw text of events (system and unknown-source events only) -----------
    void set_body(std::string_view body) noexcept { body_ = body; }
    // Set by read_page before each item; -1 outside pages.
    void set_item(std::ptrdiff_t i) noexcept { item_ = i; }
    // The text of `v`, the value being read: the item of a page or the root.
    POLAR_COLD std::string raw_text(const bj::value& v) {
        if (item_ < 0) {
            // The root: the body without surrounding whitespace.
            const std::size_t b = text::skip_ws(body_, 0);
            std::size_t e = body_.size();
            while (e > b && (body_[e - 1] == ' ' || body_[e - 1] == '\t' || body_[e - 1] == '\n' || body_[e - 1] == '\r'))
                --e;
            if (b < e && body_[b] == '{') return std::string(body_.substr(b, e - b));
        } else {
            if (!spans_scanned_) {
                spans_scanned_ = true;
                if (!text::page_item_spans(body_, item_spans_)) item_spans_.clear();
            }
            const auto i = static_cast<std::size_t>(item_);
            if (i < item_spans_.size() && !item_spans_[i].empty() && item_spans_[i][0] == '{')
                return std::string(item_spans_[i]);
        }
        return bj::serialize(v);
    }

private:
    struct segment {
        bool index;
        std::size_t i;
        std::string key;
    };
    std::string msg_;
    std::vector<segment> path_; // innermost first
    std::string_view body_;
    std::ptrdiff_t item_ = -1;
    bool spans_scanned_ = false;
    std::vector<std::string_view> item_spans_; // the text of each item of a page
};

// Bit i set in `seen` for each required field names[i] found.
template <std::size_t N>
bool check_required(reader& r, unsigned seen, const std::string_view (&names)[N]) {
    static_assert(N <= 32);
    for (std::size_t i = 0; i < N; ++i)
        if (!(seen & (1u << i))) return r.missing(names[i]);
    return true;
}


} // namespace dom
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
