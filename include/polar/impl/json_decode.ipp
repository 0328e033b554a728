#ifndef POLAR_IMPL_JSON_DECODE_IPP
#define POLAR_IMPL_JSON_DECODE_IPP

// Decoding: parse into a Boost.JSON DOM allocated from a monotonic resource
// (a stack buffer for small bodies, one block sized from the body for large
// ones), then walk the DOM once, moving straight into the models. Errors
// carry their path, built only on the failure path: each level appends its
// segment while the failure propagates up.

#include <polar/detail/dom_arena.hpp>
#include <polar/detail/json_codec.hpp>
#include <polar/detail/json_source.hpp>
#include <polar/impl/json_utf8.ipp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <vector>

namespace polar {
namespace detail {
namespace json_decode_impl {

namespace bj = boost::json;

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

// Appends `s` to `out` quoted, shortened and with control characters
// escaped: it goes into an error message, not into JSON.
inline void append_quoted_excerpt(std::string& out, std::string_view s) {
    constexpr std::size_t max_len = 64;
    out += '"';
    std::size_t n = 0;
    for (char c : s) {
        if (n++ == max_len) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    out += '"';
}

// -- locating values in the text ----------------------------------------------
// Events of a source other than `user` keep their text (event::raw_json).
// The DOM does not know where a value came from, so a small scanner finds
// it in the body, which the parser has accepted already; values it cannot
// place are serialized from the DOM instead.
namespace text {

constexpr std::size_t npos = std::string_view::npos;

inline std::size_t skip_ws(std::string_view s, std::size_t i) noexcept {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    return i;
}

// s[i] is the opening quote; returns the offset after the closing one.
// Most of a document's bytes are in strings: memchr jumps through them.
inline std::size_t skip_string(std::string_view s, std::size_t i) noexcept {
    const char* const start = s.data() + i + 1;
    const char* const end = s.data() + s.size();
    for (const char* p = start; p < end;) {
        const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
        if (!q) return npos;
        const char* b = q; // the quote is escaped when an odd number of backslashes precede it
        while (b > start && b[-1] == '\\') --b;
        if (((q - b) & 1) == 0) return static_cast<std::size_t>(q - s.data()) + 1;
        p = q + 1;
    }
    return npos;
}

// The offset after the container (object or array) that starts at s[i],
// or npos. Tracks strings (brackets inside them do not count) and escapes.
inline std::size_t skip_container(std::string_view s, std::size_t i) noexcept {
    const char* p = s.data() + i;
    const char* const end = s.data() + s.size();
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false; // the previous byte was a backslash inside a string
    // One byte; returns true when the container closes.
    const auto step = [&](char c) noexcept {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            return false;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') ++depth;
        else if ((c == '}' || c == ']') && --depth == 0) return true;
        return false;
    };
#if defined(__SSE2__)
    // 16 bytes at a time: only quotes, backslashes and brackets (a small
    // part of a document) are looked at one by one.
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), lbrace = _mm_set1_epi8('{'),
                  rbrace = _mm_set1_epi8('}'), lbracket = _mm_set1_epi8('['), rbracket = _mm_set1_epi8(']');
    while (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        __m128i any = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
        any = _mm_or_si128(any, _mm_or_si128(_mm_cmpeq_epi8(v, lbrace), _mm_cmpeq_epi8(v, rbrace)));
        any = _mm_or_si128(any, _mm_or_si128(_mm_cmpeq_epi8(v, lbracket), _mm_cmpeq_epi8(v, rbracket)));
        unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(any));
        if (escaped) { // the escaped byte is the first of this block
            escaped = false;
            mask &= ~1u;
        }
        while (mask) {
            const int k = __builtin_ctz(mask);
            mask &= mask - 1;
            if (step(p[k])) return static_cast<std::size_t>(p + k + 1 - s.data());
            if (escaped) { // skip the escaped byte
                if (k == 15) break; // first byte of the next block; `escaped` stays set
                escaped = false;
                mask &= ~(1u << (k + 1));
            }
        }
        p += 16;
    }
#endif
    for (; p < end; ++p)
        if (step(*p)) return static_cast<std::size_t>(p + 1 - s.data());
    return npos;
}

// The offset after the value that starts at s[i].
inline std::size_t skip_value(std::string_view s, std::size_t i) noexcept {
    if (i >= s.size()) return npos;
    if (s[i] == '"') return skip_string(s, i);
    if (s[i] == '{' || s[i] == '[') return skip_container(s, i);
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
           s[i] != '\n' && s[i] != '\r')
        ++i;
    return i;
}

// The spans of the items of the root object's `items` array (the last
// `items` key wins, as in the DOM), in one pass over the text; false when
// the text has another shape.
inline bool page_item_spans(std::string_view s, std::vector<std::string_view>& out) {
    std::size_t i = skip_ws(s, 0);
    if (i >= s.size() || s[i] != '{') return false;
    bool found = false;
    for (i = skip_ws(s, i + 1); i < s.size() && s[i] != '}';) {
        if (s[i] != '"') return false;
        const std::size_t key_end = skip_string(s, i);
        if (key_end == npos) return false;
        const std::string_view key = s.substr(i + 1, key_end - i - 2);
        i = skip_ws(s, key_end);
        if (i >= s.size() || s[i] != ':') return false;
        i = skip_ws(s, i + 1);
        if (key == "items" && i < s.size() && s[i] == '[') {
            found = true;
            out.clear();
            for (i = skip_ws(s, i + 1); i < s.size() && s[i] != ']';) {
                const std::size_t end = skip_value(s, i);
                if (end == npos) return false;
                out.push_back(s.substr(i, end - i));
                i = skip_ws(s, end);
                if (i < s.size() && s[i] == ',') i = skip_ws(s, i + 1);
            }
            if (i >= s.size()) return false;
            ++i; // ']'
        } else {
            if (key == "items") found = false;
            i = skip_value(s, i);
            if (i == npos) return false;
        }
        i = skip_ws(s, i);
        if (i < s.size() && s[i] == ',') i = skip_ws(s, i + 1);
    }
    return found;
}

} // namespace text

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

// -- filters ----------------------------------------------------------------

inline bool read_clause(reader& r, const bj::object& o, filter_clause& out) {
    static constexpr std::string_view required[] = {"property", "operator", "value"};
    unsigned seen = 0;
    for (const auto& kv : o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "property") {
            if (!r.str(x, out.property)) return r.at_key(k);
            seen |= 1u;
        } else if (k == "operator") {
            if (!r.enumeration(x, out.op)) return r.at_key(k);
            seen |= 2u;
        } else if (k == "value") {
            if (!r.filter_scalar(x, out.value)) return r.at_key(k);
            seen |= 4u;
        }
    }
    return check_required(r, seen, required);
}

POLAR_COLD inline std::string filter_too_deep_message() {
    return "filter nested too deeply (more than " + std::to_string(max_filter_depth) + " levels)";
}

// A Filter object; recursion is bounded by max_filter_depth (and the parser's
// max_json_depth), so hostile input cannot exhaust the stack.
inline bool read_filter(reader& r, const bj::value& v, filter& out, std::size_t depth) {
    if (depth > max_filter_depth) return r.fail(filter_too_deep_message());
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"conjunction", "clauses"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "conjunction") {
            if (!r.enumeration(x, out.conjunction)) return r.at_key(k);
            seen |= 1u;
        } else if (k == "clauses") {
            const bj::array* a = r.array(x);
            if (!a) return r.at_key(k);
            out.clauses.clear();
            out.clauses.reserve(a->size());
            for (std::size_t i = 0; i < a->size(); ++i) {
                const bj::value& item = (*a)[i];
                const bj::object* io = r.object(item);
                if (!io) return r.at_index(i), r.at_key(k);
                // FilterClause | Filter: a nested filter is recognised by its keys.
                bool nested = false;
                for (const auto& ikv : *io) {
                    const std::string_view ik = ikv.key();
                    if (ik == "clauses" || ik == "conjunction") {
                        nested = true;
                        break;
                    }
                }
                filter_node& node = out.clauses.emplace_back(); // an empty clause
                if (nested) {
                    if (!read_filter(r, item, node.value.emplace<1>(), depth + 1)) return r.at_index(i), r.at_key(k);
                } else {
                    if (!read_clause(r, *io, *std::get_if<0>(&node.value))) return r.at_index(i), r.at_key(k);
                }
            }
            seen |= 2u;
        }
    }
    return check_required(r, seen, required);
}

// -- aggregation -------------------------------------------------------------

inline bool read_aggregation(reader& r, const bj::value& v, aggregation& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    const bj::value* func = o->if_contains("func");
    if (!func) return r.missing("func");
    open_enum<aggregation_function> f;
    if (!r.enumeration(*func, f)) return r.at_key("func");
    const bj::value* prop = o->if_contains("property");
    std::string property;
    if (f == aggregation_function::count) {
        // The API ignores extra keys of CountAggregation.
    } else if (f.is_unknown()) {
        // Keep what we can of a function from a newer API version.
        if (prop && prop->is_string()) property.assign(prop->get_string().data(), prop->get_string().size());
    } else {
        if (!prop) return r.missing("property");
        if (!r.str(*prop, property)) return r.at_key("property");
    }
    out = aggregation(std::move(f), std::move(property));
    return true;
}

// -- meters --------------------------------------------------------------------

inline bool read_meter(reader& r, const bj::value& v, meter& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"id", "created_at", "metadata", "name",
                                                    "filter", "aggregation", "organization_id"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "id") {
            if (!r.str(x, out.id)) return r.at_key(k);
            seen |= 1u << 0;
        } else if (k == "created_at") {
            if (!r.time(x, out.created_at)) return r.at_key(k);
            seen |= 1u << 1;
        } else if (k == "modified_at") {
            if (!r.opt_time(x, out.modified_at)) return r.at_key(k);
        } else if (k == "metadata") {
            if (!r.meta(x, out.metadata)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "name") {
            if (!r.str(x, out.name)) return r.at_key(k);
            seen |= 1u << 3;
        } else if (k == "filter") {
            if (!read_filter(r, x, out.filter, 1)) return r.at_key(k);
            seen |= 1u << 4;
        } else if (k == "aggregation") {
            if (!read_aggregation(r, x, out.aggregation)) return r.at_key(k);
            seen |= 1u << 5;
        } else if (k == "organization_id") {
            if (!r.str(x, out.organization_id)) return r.at_key(k);
            seen |= 1u << 6;
        } else if (k == "unit") {
            // Absent (2025-03) or null: the default, `scalar`.
            if (x.is_null()) out.unit = meter_unit::scalar;
            else if (!r.enumeration(x, out.unit)) return r.at_key(k);
        } else if (k == "custom_label") {
            if (!r.opt_str(x, out.custom_label)) return r.at_key(k);
        } else if (k == "custom_multiplier") {
            if (!r.opt_i64(x, out.custom_multiplier)) return r.at_key(k);
        } else if (k == "archived_at") {
            if (!r.opt_time(x, out.archived_at)) return r.at_key(k);
        }
    }
    return check_required(r, seen, required);
}

inline bool read_meter_create(reader& r, const bj::value& v, meter_create& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"name", "filter", "aggregation"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "name") {
            if (!r.str(x, out.name)) return r.at_key(k);
            seen |= 1u << 0;
        } else if (k == "filter") {
            if (!read_filter(r, x, out.filter, 1)) return r.at_key(k);
            seen |= 1u << 1;
        } else if (k == "aggregation") {
            if (!read_aggregation(r, x, out.aggregation)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "metadata") {
            if (!r.meta(x, out.metadata.emplace())) return r.at_key(k);
        } else if (k == "organization_id") {
            if (!r.opt_str(x, out.organization_id)) return r.at_key(k);
        } else if (k == "unit") {
            if (x.is_null()) out.unit.reset();
            else if (!r.enumeration(x, out.unit.emplace())) return r.at_key(k);
        } else if (k == "custom_label") {
            if (!r.opt_str(x, out.custom_label)) return r.at_key(k);
        } else if (k == "custom_multiplier") {
            if (!r.opt_i64(x, out.custom_multiplier)) return r.at_key(k);
        }
    }
    return check_required(r, seen, required);
}

inline bool read_meter_update(reader& r, const bj::value& v, meter_update& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "name") {
            if (!r.str(x, out.name.emplace())) return r.at_key(k);
        } else if (k == "filter") {
            if (x.is_null()) {
                out.filter.set_null();
            } else {
                filter f;
                if (!read_filter(r, x, f, 1)) return r.at_key(k);
                out.filter.set(std::move(f));
            }
        } else if (k == "aggregation") {
            if (x.is_null()) {
                out.aggregation.set_null();
            } else {
                aggregation a;
                if (!read_aggregation(r, x, a)) return r.at_key(k);
                out.aggregation.set(std::move(a));
            }
        } else if (k == "metadata") {
            if (!r.meta(x, out.metadata.emplace())) return r.at_key(k);
        } else if (k == "unit") {
            if (x.is_null()) {
                out.unit.set_null();
            } else {
                open_enum<meter_unit> u;
                if (!r.enumeration(x, u)) return r.at_key(k);
                out.unit.set(std::move(u));
            }
        } else if (k == "custom_label") {
            if (x.is_null()) {
                out.custom_label.set_null();
            } else {
                std::string label;
                if (!r.str(x, label)) return r.at_key(k);
                out.custom_label.set(std::move(label));
            }
        } else if (k == "custom_multiplier") {
            if (x.is_null()) {
                out.custom_multiplier.set_null();
            } else {
                std::int64_t m = 0;
                if (!r.i64(x, m)) return r.at_key(k);
                out.custom_multiplier.set(m);
            }
        } else if (k == "is_archived") {
            // null means "unchanged", like absent.
            if (x.is_null()) out.is_archived.reset();
            else if (!r.boolean(x, out.is_archived.emplace())) return r.at_key(k);
        }
    }
    return true;
}

// -- customers and events ------------------------------------------------------

inline bool read_address(reader& r, const bj::value& v, address& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"country"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "country") {
            if (!r.str(x, out.country)) return r.at_key(k);
            seen |= 1u;
        } else if (k == "line1") {
            if (!r.opt_str(x, out.line1)) return r.at_key(k);
        } else if (k == "line2") {
            if (!r.opt_str(x, out.line2)) return r.at_key(k);
        } else if (k == "postal_code") {
            if (!r.opt_str(x, out.postal_code)) return r.at_key(k);
        } else if (k == "city") {
            if (!r.opt_str(x, out.city)) return r.at_key(k);
        } else if (k == "state") {
            if (!r.opt_str(x, out.state)) return r.at_key(k);
        }
    }
    return check_required(r, seen, required);
}

// `[value, format]` or null.
inline bool read_tax_id(reader& r, const bj::value& v, std::optional<tax_id>& out) {
    if (v.is_null()) {
        out.reset();
        return true;
    }
    const bj::array* a = v.if_array();
    if (!a) return r.type_error("[value, format] array or null", v);
    if (a->size() != 2) return r.fail("expected a [value, format] array of 2 items, got " + std::to_string(a->size()));
    tax_id& t = out.emplace();
    if (!r.str((*a)[0], t.value)) return r.at_index(0);
    if (!r.enumeration((*a)[1], t.format)) return r.at_index(1);
    return true;
}

inline bool read_customer(reader& r, const bj::value& v, customer& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    // `email` is checked after the loop: whether it may be null or absent
    // depends on `type`, which may come later.
    static constexpr std::string_view required[] = {"id", "created_at", "metadata",
                                                    "email_verified", "organization_id", "avatar_url"};
    unsigned seen = 0;
    const bj::value* email = nullptr;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "id") {
            if (!r.str(x, out.id)) return r.at_key(k);
            seen |= 1u << 0;
        } else if (k == "created_at") {
            if (!r.time(x, out.created_at)) return r.at_key(k);
            seen |= 1u << 1;
        } else if (k == "modified_at") {
            if (!r.opt_time(x, out.modified_at)) return r.at_key(k);
        } else if (k == "metadata") {
            if (!r.meta(x, out.metadata)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "external_id") {
            if (!r.opt_str(x, out.external_id)) return r.at_key(k);
        } else if (k == "email") {
            email = &x;
        } else if (k == "email_verified") {
            if (!r.boolean(x, out.email_verified)) return r.at_key(k);
            seen |= 1u << 3;
        } else if (k == "name") {
            if (!r.opt_str(x, out.name)) return r.at_key(k);
        } else if (k == "billing_address") {
            if (x.is_null()) out.billing_address.reset();
            else if (!read_address(r, x, out.billing_address.emplace())) return r.at_key(k);
        } else if (k == "tax_id") {
            if (!read_tax_id(r, x, out.tax_id)) return r.at_key(k);
        } else if (k == "organization_id") {
            if (!r.str(x, out.organization_id)) return r.at_key(k);
            seen |= 1u << 4;
        } else if (k == "deleted_at") {
            if (!r.opt_time(x, out.deleted_at)) return r.at_key(k);
        } else if (k == "avatar_url") {
            // The dated API sends null for customers without an avatar.
            if (x.is_null()) out.avatar_url.clear();
            else if (!x.is_string()) return r.type_error("string or null", x), r.at_key(k);
            else if (!r.str(x, out.avatar_url)) return r.at_key(k);
            seen |= 1u << 5;
        } else if (k == "type") {
            if (!r.enumeration(x, out.type)) return r.at_key(k);
        } else if (k == "billing_name") {
            if (!r.opt_str(x, out.billing_name)) return r.at_key(k);
        } else if (k == "locale") {
            if (!r.opt_str(x, out.locale)) return r.at_key(k);
        } else if (k == "default_payment_method_id") {
            if (!r.opt_str(x, out.default_payment_method_id)) return r.at_key(k);
        } else if (k == "first_user_event_at") {
            if (!r.opt_time(x, out.first_user_event_at)) return r.at_key(k);
        }
    }
    if (!check_required(r, seen, required)) return false;
    // Individuals (also 2025-03 customers, which have no type) must have an
    // email; teams and unknown types may have none.
    if (out.type == customer_type::individual) {
        if (!email) return r.missing("email");
        if (!r.str(*email, out.email)) return r.at_key("email");
    } else if (email && !email->is_null()) {
        if (!email->is_string()) return r.type_error("string or null", *email), r.at_key("email");
        if (!r.str(*email, out.email)) return r.at_key("email");
    } else {
        out.email.clear();
    }
    return true;
}

// LLMMetadata (`_llm`).
inline bool read_llm(reader& r, const bj::value& v, llm_metadata& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"vendor", "model", "input_tokens", "output_tokens",
                                                    "total_tokens"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "vendor") {
            if (!r.str(x, out.vendor)) return r.at_key(k);
            seen |= 1u << 0;
        } else if (k == "model") {
            if (!r.str(x, out.model)) return r.at_key(k);
            seen |= 1u << 1;
        } else if (k == "input_tokens") {
            if (!r.i64(x, out.input_tokens)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "output_tokens") {
            if (!r.i64(x, out.output_tokens)) return r.at_key(k);
            seen |= 1u << 3;
        } else if (k == "total_tokens") {
            if (!r.i64(x, out.total_tokens)) return r.at_key(k);
            seen |= 1u << 4;
        } else if (k == "prompt") {
            if (!r.opt_str(x, out.prompt)) return r.at_key(k);
        } else if (k == "response") {
            if (!r.opt_str(x, out.response)) return r.at_key(k);
        } else if (k == "cached_input_tokens") {
            if (!r.opt_i64(x, out.cached_input_tokens)) return r.at_key(k);
        }
    }
    return check_required(r, seen, required);
}

// A decimal sent as a number: its shortest text in fixed notation.
POLAR_COLD inline void decimal_text(const bj::value& v, std::string& out) {
    char buf[400];
    std::to_chars_result res{};
    if (v.is_int64()) res = std::to_chars(buf, buf + sizeof buf, v.get_int64());
    else if (v.is_uint64()) res = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
    else res = std::to_chars(buf, buf + sizeof buf, v.get_double(), std::chars_format::fixed);
    out.assign(buf, res.ec == std::errc() ? static_cast<std::size_t>(res.ptr - buf) : 0);
}

// CostMetadata (`_cost`): `amount` as a string or a number.
inline bool read_cost(reader& r, const bj::value& v, cost_metadata& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"amount", "currency"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "amount") {
            if (x.is_string()) {
                r.str(x, out.amount);
            } else if (x.is_int64() || x.is_uint64() || x.is_double()) {
                if (x.is_double() && !std::isfinite(x.get_double())) return r.not_finite(), r.at_key(k);
                decimal_text(x, out.amount);
            } else {
                return r.type_error("decimal string or number", x), r.at_key(k);
            }
            seen |= 1u << 0;
        } else if (k == "currency") {
            if (!r.str(x, out.currency)) return r.at_key(k);
            seen |= 1u << 1;
        }
    }
    return check_required(r, seen, required);
}

// EventMetadataOutput of a user event: scalars, plus `_llm` and `_cost`
// objects. A 2025-03 event may hold scalars under those keys: kept as
// metadata. Other non-scalar values under `_` keys (reserved for Polar's
// structured metadata) are skipped, so a structure added later does not
// break decoding.
inline bool read_user_event_metadata(reader& r, const bj::value& v, event& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    out.metadata.clear();
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (!k.empty() && k[0] == '_' && !x.is_string() && !x.is_number() && !x.is_bool()) {
            if (k == "_llm" && x.is_object()) {
                if (!read_llm(r, x, out.llm.emplace())) return r.at_key(k);
            } else if (k == "_cost" && x.is_object()) {
                if (!read_cost(r, x, out.cost.emplace())) return r.at_key(k);
            }
            continue;
        }
        auto it = out.metadata.try_emplace(out.metadata.end(), std::string(k));
        if (!r.scalar(x, it->second)) return r.at_key(k);
    }
    return true;
}

// The metadata of a system event (or of an unknown source): its typed
// object is kept whole in raw_json; `metadata` gets the top-level scalars.
inline bool read_other_event_metadata(reader& r, const bj::value& v, event& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    out.metadata.clear();
    for (const auto& kv : *o) {
        const bj::value& x = kv.value();
        if (x.is_string() || x.is_int64() || x.is_bool() || x.is_uint64() ||
            (x.is_double() && std::isfinite(x.get_double()))) {
            auto it = out.metadata.try_emplace(out.metadata.end(), std::string(kv.key()));
            r.scalar(x, it->second);
        }
    }
    return true;
}

// Event = SystemEvent | UserEvent, discriminated by `source`, then (system)
// by `name`. The common fields are read for every event; `metadata` once
// `source` is known (keys come in any order).
inline bool read_event(reader& r, const bj::value& v, event& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"id", "timestamp", "name", "source",
                                                    "organization_id", "metadata"};
    unsigned seen = 0;
    const bj::value* metadata = nullptr;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "id") {
            if (!r.str(x, out.id)) return r.at_key(k);
            seen |= 1u << 0;
        } else if (k == "timestamp") {
            if (!r.time(x, out.timestamp)) return r.at_key(k);
            seen |= 1u << 1;
        } else if (k == "name") {
            if (!r.str(x, out.name)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "source") {
            if (!r.enumeration(x, out.source)) return r.at_key(k);
            seen |= 1u << 3;
        } else if (k == "organization_id") {
            if (!r.str(x, out.organization_id)) return r.at_key(k);
            seen |= 1u << 4;
        } else if (k == "metadata") {
            metadata = &x;
            seen |= 1u << 5;
        } else if (k == "customer_id") {
            if (!r.opt_str(x, out.customer_id)) return r.at_key(k);
        } else if (k == "external_customer_id") {
            if (!r.opt_str(x, out.external_customer_id)) return r.at_key(k);
        } else if (k == "customer") {
            if (x.is_null()) out.customer.reset();
            else if (!read_customer(r, x, out.customer.emplace())) return r.at_key(k);
        } else if (k == "label") {
            if (!r.str(x, out.label)) return r.at_key(k);
        } else if (k == "child_count") {
            if (!r.i64(x, out.child_count)) return r.at_key(k);
        } else if (k == "parent_id") {
            if (!r.opt_str(x, out.parent_id)) return r.at_key(k);
        } else if (k == "member_id") {
            if (!r.opt_str(x, out.member_id)) return r.at_key(k);
        } else if (k == "external_member_id") {
            if (!r.opt_str(x, out.external_member_id)) return r.at_key(k);
        }
    }
    if (!check_required(r, seen, required)) return false;
    if (out.source == event_source::user) {
        if (!read_user_event_metadata(r, *metadata, out)) return r.at_key("metadata");
    } else {
        if (!read_other_event_metadata(r, *metadata, out)) return r.at_key("metadata");
        out.raw_json = r.raw_text(v);
    }
    return true;
}

// EventMetadataInput: scalars, plus `_llm` and `_cost` objects, which go to
// event_create::llm and ::cost (the map is left unset when they were all it
// held, as the encoder writes them for an unset map).
inline bool read_event_create_metadata(reader& r, const bj::value& v, event_create& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    metadata& md = out.metadata.emplace();
    bool structured = false;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "_llm" && x.is_object()) {
            if (!read_llm(r, x, out.llm.emplace())) return r.at_key(k);
            structured = true;
        } else if (k == "_cost" && x.is_object()) {
            if (!read_cost(r, x, out.cost.emplace())) return r.at_key(k);
            structured = true;
        } else {
            auto it = md.try_emplace(md.end(), std::string(k));
            if (!r.scalar(x, it->second)) return r.at_key(k);
        }
    }
    if (structured && md.empty()) out.metadata.reset();
    return true;
}

inline bool read_event_create(reader& r, const bj::value& v, event_create& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"name"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "name") {
            if (!r.str(x, out.name)) return r.at_key(k);
            seen |= 1u;
        } else if (k == "customer_id") {
            if (!r.str(x, out.customer_id.emplace())) return r.at_key(k);
        } else if (k == "external_customer_id") {
            if (!r.str(x, out.external_customer_id.emplace())) return r.at_key(k);
        } else if (k == "timestamp") {
            if (!r.time(x, out.timestamp.emplace())) return r.at_key(k);
        } else if (k == "metadata") {
            if (!read_event_create_metadata(r, x, out)) return r.at_key(k);
        } else if (k == "organization_id") {
            if (!r.opt_str(x, out.organization_id)) return r.at_key(k);
        } else if (k == "external_id") {
            if (!r.opt_str(x, out.external_id)) return r.at_key(k);
        } else if (k == "parent_id") {
            if (!r.opt_str(x, out.parent_id)) return r.at_key(k);
        } else if (k == "member_id") {
            if (!r.opt_str(x, out.member_id)) return r.at_key(k);
        } else if (k == "external_member_id") {
            if (!r.opt_str(x, out.external_member_id)) return r.at_key(k);
        }
    }
    if (!check_required(r, seen, required)) return false;
    if (!out.customer_id && !out.external_customer_id)
        return r.fail("missing required field: customer_id or external_customer_id");
    return true;
}

inline bool read_events_ingest(reader& r, const bj::value& v, events_ingest& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    const bj::value* events = o->if_contains("events");
    if (!events) return r.missing("events");
    const bj::array* a = r.array(*events);
    if (!a) return r.at_key("events");
    out.events.clear();
    out.events.reserve(a->size());
    for (std::size_t i = 0; i < a->size(); ++i)
        if (!read_event_create(r, (*a)[i], out.events.emplace_back())) return r.at_index(i), r.at_key("events");
    return true;
}

inline bool read_ingest_response(reader& r, const bj::value& v, events_ingest_response& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    const bj::value* n = o->if_contains("inserted");
    if (!n) return r.missing("inserted");
    if (!r.i64(*n, out.inserted)) return r.at_key("inserted");
    // Dated API only; 0 when absent.
    if (const bj::value* d = o->if_contains("duplicates"))
        if (!r.i64(*d, out.duplicates)) return r.at_key("duplicates");
    return true;
}

// -- quantities and pages ------------------------------------------------------------

inline bool read_quantities(reader& r, const bj::value& v, meter_quantities& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    // Dated API only.
    if (const bj::value* t = o->if_contains("total"))
        if (!r.number(*t, out.total.emplace())) return r.at_key("total");
    const bj::value* q = o->if_contains("quantities");
    if (!q) return r.missing("quantities");
    const bj::array* a = r.array(*q);
    if (!a) return r.at_key("quantities");
    out.quantities.clear();
    out.quantities.reserve(a->size());
    static constexpr std::string_view required[] = {"timestamp", "quantity"};
    for (std::size_t i = 0; i < a->size(); ++i) {
        const bj::object* io = r.object((*a)[i]);
        if (!io) return r.at_index(i), r.at_key("quantities");
        meter_quantity& mq = out.quantities.emplace_back();
        unsigned seen = 0;
        for (const auto& kv : *io) {
            const std::string_view k = kv.key();
            if (k == "timestamp") {
                if (!r.time(kv.value(), mq.timestamp)) return r.at_key(k), r.at_index(i), r.at_key("quantities");
                seen |= 1u;
            } else if (k == "quantity") {
                if (!r.number(kv.value(), mq.quantity)) return r.at_key(k), r.at_index(i), r.at_key("quantities");
                seen |= 2u;
            }
        }
        if (!check_required(r, seen, required)) return r.at_index(i), r.at_key("quantities");
    }
    return true;
}

inline bool read_pagination(reader& r, const bj::value& v, pagination& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"total_count", "max_page"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        if (k == "total_count") {
            if (!r.i64(kv.value(), out.total_count)) return r.at_key(k);
            seen |= 1u;
        } else if (k == "max_page") {
            if (!r.i64(kv.value(), out.max_page)) return r.at_key(k);
            seen |= 2u;
        }
    }
    return check_required(r, seen, required);
}

template <class T, class ReadItem>
bool read_page(reader& r, const bj::value& v, page<T>& out, ReadItem read_item) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"items", "pagination"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        if (k == "items") {
            const bj::array* a = r.array(kv.value());
            if (!a) return r.at_key(k);
            out.items.clear();
            out.items.reserve(a->size());
            for (std::size_t i = 0; i < a->size(); ++i) {
                r.set_item(static_cast<std::ptrdiff_t>(i));
                if (!read_item(r, (*a)[i], out.items.emplace_back())) return r.at_index(i), r.at_key(k);
            }
            r.set_item(-1);
            seen |= 1u;
        } else if (k == "pagination") {
            if (!read_pagination(r, kv.value(), out.pagination)) return r.at_key(k);
            seen |= 2u;
        }
    }
    return check_required(r, seen, required);
}

// -- customer meters ----------------------------------------------------------------

inline bool read_customer_meter(reader& r, const bj::value& v, customer_meter& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"id",          "created_at",     "customer_id",
                                                    "meter_id",    "consumed_units", "credited_units",
                                                    "balance",     "customer",       "meter"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "id") {
            if (!r.str(x, out.id)) return r.at_key(k);
            seen |= 1u << 0;
        } else if (k == "created_at") {
            if (!r.time(x, out.created_at)) return r.at_key(k);
            seen |= 1u << 1;
        } else if (k == "modified_at") {
            if (!r.opt_time(x, out.modified_at)) return r.at_key(k);
        } else if (k == "customer_id") {
            if (!r.str(x, out.customer_id)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "meter_id") {
            if (!r.str(x, out.meter_id)) return r.at_key(k);
            seen |= 1u << 3;
        } else if (k == "consumed_units") {
            if (!r.number(x, out.consumed_units)) return r.at_key(k);
            seen |= 1u << 4;
        } else if (k == "credited_units") {
            if (!r.i64(x, out.credited_units)) return r.at_key(k);
            seen |= 1u << 5;
        } else if (k == "balance") {
            if (!r.number(x, out.balance)) return r.at_key(k);
            seen |= 1u << 6;
        } else if (k == "customer") {
            if (!read_customer(r, x, out.customer)) return r.at_key(k);
            seen |= 1u << 7;
        } else if (k == "meter") {
            if (!read_meter(r, x, out.meter)) return r.at_key(k);
            seen |= 1u << 8;
        }
    }
    return check_required(r, seen, required);
}

// -- the document ----------------------------------------------------------------

// Describes a parse failure: the offset and Boost.JSON's reason, or the
// offset of invalid UTF-8 (Boost.JSON reports that as a plain syntax error).
POLAR_COLD inline std::string describe_parse_error(std::string_view body, std::size_t consumed, const bj::error_code& ec) {
    std::string out;
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
        return body.empty() ? "empty body" : "empty body (whitespace only)";
    const std::size_t bad = utf8::first_invalid(body);
    if (bad != std::string_view::npos && bad <= consumed) {
        out = "invalid JSON at offset " + std::to_string(bad) + ": invalid UTF-8";
        return out;
    }
    out = "invalid JSON at offset " + std::to_string(consumed) + ": " + ec.message();
    return out;
}

// Exactness of doubles: Boost.JSON 1.81 computes a double as mantissa times
// or divided by a power of ten, which is exact (correctly rounded) only when
// the mantissa has at most 15 digits and the exponent is small (Clinger's
// fast path); longer numbers can be off by one unit in the last place, so
// that 0.30000000000000004 would not decode to the double it was written
// from. Those few numbers are converted again from their text.
inline double exact_double(double d, std::string_view text) noexcept {
    std::size_t digits = 0;
    for (char c : text) {
        if (c >= '0' && c <= '9') ++digits;
        else if (c == 'e' || c == 'E') digits = 99;
    }
    if (digits <= 15) return d;
    double exact;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), exact);
    return r.ec == std::errc() && r.ptr == text.data() + text.size() ? exact : d;
}

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

template <class T, class Read>
error_code decode_root(std::string_view body, T& out, std::string& what, Read read) noexcept {
    try {
        what.clear();
        bool ok = with_document(body, what, [&](const bj::value& root) {
            reader r;
            r.set_body(body);
            if (read(r, root, out)) return true;
            what = r.what();
            return false;
        });
        if (ok) return {};
    } catch (const std::bad_alloc&) {
        try { what = "out of memory while decoding the response"; } catch (...) {}
    } catch (const std::exception& e) {
        try { what = std::string("decoding failed: ") + e.what(); } catch (...) {}
    } catch (...) {
        try { what = "decoding failed"; } catch (...) {}
    }
    return make_error_code(errc::invalid_response);
}

} // namespace json_decode_impl

POLAR_DECL error_code decode(std::string_view body, meter& out, std::string& what) {
    out = meter();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_meter);
}

POLAR_DECL error_code decode(std::string_view body, page<meter>& out, std::string& what) {
    out.items.clear();
    out.pagination = {};
    return json_decode_impl::decode_root(body, out, what, [](auto& r, const auto& v, page<meter>& p) {
        return json_decode_impl::read_page(r, v, p, json_decode_impl::read_meter);
    });
}

POLAR_DECL error_code decode(std::string_view body, page<event>& out, std::string& what) {
    out.items.clear();
    out.pagination = {};
    return json_decode_impl::decode_root(body, out, what, [](auto& r, const auto& v, page<event>& p) {
        return json_decode_impl::read_page(r, v, p, json_decode_impl::read_event);
    });
}

POLAR_DECL error_code decode(std::string_view body, page<customer_meter>& out, std::string& what) {
    out.items.clear();
    out.pagination = {};
    return json_decode_impl::decode_root(body, out, what, [](auto& r, const auto& v, page<customer_meter>& p) {
        return json_decode_impl::read_page(r, v, p, json_decode_impl::read_customer_meter);
    });
}

POLAR_DECL error_code decode(std::string_view body, customer_meter& out, std::string& what) {
    out = customer_meter();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_customer_meter);
}

POLAR_DECL error_code decode(std::string_view body, meter_quantities& out, std::string& what) {
    out = meter_quantities();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_quantities);
}

POLAR_DECL error_code decode(std::string_view body, events_ingest_response& out, std::string& what) {
    out = events_ingest_response();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_ingest_response);
}

POLAR_DECL error_code decode(std::string_view body, event& out, std::string& what) {
    out = event();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_event);
}

POLAR_DECL error_code decode(std::string_view body, customer& out, std::string& what) {
    out = customer();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_customer);
}

POLAR_DECL error_code decode(std::string_view body, address& out, std::string& what) {
    out = address();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_address);
}

POLAR_DECL error_code decode(std::string_view body, filter& out, std::string& what) {
    out = filter();
    return json_decode_impl::decode_root(body, out, what, [](auto& r, const auto& v, filter& f) {
        return json_decode_impl::read_filter(r, v, f, 1);
    });
}

POLAR_DECL error_code decode(std::string_view body, aggregation& out, std::string& what) {
    out = aggregation();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_aggregation);
}

POLAR_DECL error_code decode(std::string_view body, pagination& out, std::string& what) {
    out = pagination();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_pagination);
}

POLAR_DECL error_code decode(std::string_view body, meter_create& out, std::string& what) {
    out = meter_create();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_meter_create);
}

POLAR_DECL error_code decode(std::string_view body, meter_update& out, std::string& what) {
    out = meter_update();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_meter_update);
}

POLAR_DECL error_code decode(std::string_view body, event_create& out, std::string& what) {
    out = event_create();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_event_create);
}

POLAR_DECL error_code decode(std::string_view body, events_ingest& out, std::string& what) {
    out = events_ingest();
    return json_decode_impl::decode_root(body, out, what, json_decode_impl::read_events_ingest);
}

// -- error bodies --------------------------------------------------------------------

namespace json_decode_impl {

inline void read_validation_error(const bj::object& o, validation_error& out) {
    if (const bj::value* loc = o.if_contains("loc")) {
        if (const bj::array* a = loc->if_array()) {
            out.loc.reserve(a->size());
            for (const bj::value& item : *a) {
                if (const bj::string* s = item.if_string())
                    out.loc.emplace_back(std::in_place_index<0>, s->data(), s->size());
                else if (item.is_int64())
                    out.loc.emplace_back(std::in_place_index<1>, item.get_int64());
                else if (item.is_uint64())
                    out.loc.emplace_back(std::in_place_index<1>, static_cast<std::int64_t>(item.get_uint64()));
                else
                    out.loc.emplace_back(std::in_place_index<0>, bj::serialize(item));
            }
        }
    }
    if (const bj::value* msg = o.if_contains("msg"))
        if (const bj::string* s = msg->if_string()) out.msg.assign(s->data(), s->size());
    if (const bj::value* type = o.if_contains("type"))
        if (const bj::string* s = type->if_string()) out.type.assign(s->data(), s->size());
    if (const bj::value* input = o.if_contains("input")) out.input = bj::serialize(*input);
    if (const bj::value* ctx = o.if_contains("ctx")) out.ctx = bj::serialize(*ctx);
}

} // namespace json_decode_impl

POLAR_DECL void decode_error_body(std::string_view body, diagnostics& out) noexcept {
    namespace bj = boost::json;
    try {
        std::string ignored;
        json_decode_impl::with_document(body, ignored, [&](const bj::value& root) {
            const bj::object* o = root.if_object();
            if (!o) return false;
            if (const bj::value* e = o->if_contains("error"))
                if (const bj::string* s = e->if_string()) out.error.assign(s->data(), s->size());
            const bj::value* detail = o->if_contains("detail");
            if (detail && detail->is_string()) {
                out.detail.assign(detail->get_string().data(), detail->get_string().size());
            } else if (const bj::value* d = o->if_contains("error_description")) {
                if (const bj::string* s = d->if_string()) out.detail.assign(s->data(), s->size());
            }
            if (detail && detail->is_array()) {
                const bj::array& a = detail->get_array();
                out.validation_errors.reserve(out.validation_errors.size() + a.size());
                for (const bj::value& item : a) {
                    if (const bj::object* io = item.if_object())
                        json_decode_impl::read_validation_error(*io, out.validation_errors.emplace_back());
                }
            }
            return true;
        });
    } catch (...) {
        // Best effort: keep whatever was filled before the failure.
    }
}

} // namespace detail
} // namespace polar

#endif
