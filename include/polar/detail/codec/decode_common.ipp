#ifndef POLAR_DETAIL_CODEC_DECODE_COMMON_IPP
#define POLAR_DETAIL_CODEC_DECODE_COMMON_IPP

// What every decoding path shares: quoting values in error messages,
// locating a value's text in the body (the raw text of system events), the
// description of a parse failure and the exact conversion of long doubles.

#include <polar/detail/codec/codec.hpp>
#include <polar/detail/codec/utf8.ipp>

#include <boost/json/error.hpp>

#include <charconv>
#include <cstddef>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace polar {
namespace detail {
namespace json_decode_impl {

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

// True when the raw text of a key (between its quotes) says `want`, an
// ASCII name: escapes (`\u0069tems`) are decoded as the parser does.
inline bool key_is(std::string_view raw, std::string_view want) noexcept {
    std::size_t j = 0;
    for (std::size_t i = 0; i < raw.size(); ++i, ++j) {
        unsigned c = static_cast<unsigned char>(raw[i]);
        if (c == '\\' && i + 1 < raw.size()) {
            const char e = raw[++i];
            if (e == 'u') {
                if (i + 4 >= raw.size()) return false;
                unsigned u = 0;
                for (int k = 1; k <= 4; ++k) {
                    const char h = raw[i + k];
                    u <<= 4;
                    if (h >= '0' && h <= '9') u |= static_cast<unsigned>(h - '0');
                    else if (h >= 'a' && h <= 'f') u |= static_cast<unsigned>(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') u |= static_cast<unsigned>(h - 'A' + 10);
                    else return false;
                }
                i += 4;
                c = u; // beyond ASCII never matches an ASCII name
            } else {
                switch (e) {
                case 'b': c = '\b'; break;
                case 'f': c = '\f'; break;
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case 't': c = '\t'; break;
                default: c = static_cast<unsigned char>(e); break; // " \\ /
                }
            }
        }
        if (j >= want.size() || c != static_cast<unsigned char>(want[j])) return false;
    }
    return j == want.size();
}

// The spans of the items of the root object's `items` array (the last
// `items` key wins, as in the DOM), in one pass over the text; false when
// the text has another shape. With `in_items` the text starts at an item of
// an `items` array instead (the rest of a page whose start was dropped):
// that array's items are skipped, the members after it read as above.
inline bool page_item_spans(std::string_view s, std::vector<std::string_view>& out, bool in_items = false) {
    std::size_t i = skip_ws(s, 0);
    bool found = false;
    if (in_items) {
        while (i < s.size() && s[i] != ']') {
            i = skip_value(s, i);
            if (i == npos) return false;
            i = skip_ws(s, i);
            if (i < s.size() && s[i] == ',') i = skip_ws(s, i + 1);
        }
        if (i >= s.size()) return false;
        i = skip_ws(s, i + 1);
        if (i < s.size() && s[i] == ',') i = skip_ws(s, i + 1);
    } else {
        if (i >= s.size() || s[i] != '{') return false;
        i = skip_ws(s, i + 1);
    }
    while (i < s.size() && s[i] != '}') {
        if (s[i] != '"') return false;
        const std::size_t key_end = skip_string(s, i);
        if (key_end == npos) return false;
        const bool is_items = key_is(s.substr(i + 1, key_end - i - 2), "items");
        i = skip_ws(s, key_end);
        if (i >= s.size() || s[i] != ':') return false;
        i = skip_ws(s, i + 1);
        if (is_items && i < s.size() && s[i] == '[') {
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
            if (is_items) found = false;
            i = skip_value(s, i);
            if (i == npos) return false;
        }
        i = skip_ws(s, i);
        if (i < s.size() && s[i] == ',') i = skip_ws(s, i + 1);
    }
    return found;
}

} // namespace text

POLAR_COLD inline std::string filter_too_deep_message() {
    return "filter nested too deeply (more than " + std::to_string(max_filter_depth) + " levels)";
}

// Describes a parse failure: the offset and Boost.JSON's reason, or the
// offset of invalid UTF-8 (Boost.JSON reports that as a plain syntax error).
POLAR_COLD inline std::string describe_parse_error(std::string_view body, std::size_t consumed, const boost::json::error_code& ec) {
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
    if (text.size() <= 15) return d; // at most 15 digits
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


} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
