//
// polar-cpp testing: emulator internals shared by every concern: JSON output
// in FastAPI's style (compact, UTF-8, Python float spelling), validation
// error lists, UUID parsing with Pydantic's messages, canned responses.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_COMMON_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_COMMON_IPP

#include <polar/testing/emulator_state.hpp>
#include <polar/detail/datetime.hpp>
#include <polar/detail/codec/json_source.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace polar::testing::emu {

namespace json = boost::json;

// Thrown where the real server fails with an unhandled error (HTTP 500),
// e.g. a database error. handle() turns it into a generic 500.
struct server_failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------
// JSON output. FastAPI writes json.dumps(..., ensure_ascii=False,
// separators=(",", ":")): compact, raw UTF-8, floats as Python's repr.

inline void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default:
            out.append("\\u00");
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

// Python's repr(float): the shortest round-tripping digits, positional
// notation for exponents in [-4, 16) (always with a fraction: 40.0),
// scientific otherwise with at least two exponent digits (1e+16, 1.5e-07).
inline void append_py_float(std::string& out, double d) {
    if (std::isnan(d)) {
        out.append("NaN");
        return;
    }
    if (std::isinf(d)) {
        out.append(d < 0 ? "-Infinity" : "Infinity");
        return;
    }
    if (d == 0) {
        out.append(std::signbit(d) ? "-0.0" : "0.0");
        return;
    }
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
    bool negative = false;
    if (sci.front() == '-') {
        negative = true;
        sci.remove_prefix(1);
    }
    const auto epos = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, epos))
        if (c != '.') digits.push_back(c);
    int exp = 0;
    std::from_chars(sci.data() + epos + 1 + (sci[epos + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp);
    if (negative) out.push_back('-');
    const int n = static_cast<int>(digits.size());
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            out.append("0.");
            out.append(static_cast<std::size_t>(-exp - 1), '0');
            out.append(digits);
        } else if (exp + 1 >= n) {
            out.append(digits);
            out.append(static_cast<std::size_t>(exp + 1 - n), '0');
            out.append(".0");
        } else {
            out.append(digits, 0, static_cast<std::size_t>(exp + 1));
            out.push_back('.');
            out.append(digits, static_cast<std::size_t>(exp + 1));
        }
    } else {
        out.push_back(digits[0]);
        if (n > 1) {
            out.push_back('.');
            out.append(digits, 1);
        }
        out.push_back('e');
        out.push_back(exp < 0 ? '-' : '+');
        const int a = exp < 0 ? -exp : exp;
        if (a < 10) out.push_back('0');
        out.append(std::to_string(a));
    }
}

inline void write_json(std::string& out, const json::value& v) {
    switch (v.kind()) {
    case json::kind::null: out.append("null"); break;
    case json::kind::bool_: out.append(v.get_bool() ? "true" : "false"); break;
    case json::kind::int64: out.append(std::to_string(v.get_int64())); break;
    case json::kind::uint64: out.append(std::to_string(v.get_uint64())); break;
    case json::kind::double_: append_py_float(out, v.get_double()); break;
    case json::kind::string: append_json_string(out, v.get_string()); break;
    case json::kind::array: {
        out.push_back('[');
        bool first = true;
        for (const auto& e : v.get_array()) {
            if (!first) out.push_back(',');
            first = false;
            write_json(out, e);
        }
        out.push_back(']');
        break;
    }
    case json::kind::object: {
        out.push_back('{');
        bool first = true;
        for (const auto& kv : v.get_object()) {
            if (!first) out.push_back(',');
            first = false;
            append_json_string(out, kv.key());
            out.push_back(':');
            write_json(out, kv.value());
        }
        out.push_back('}');
        break;
    }
    }
}

inline std::string to_json_text(const json::value& v) {
    std::string s;
    write_json(s, v);
    return s;
}

// Python's str() of a JSON scalar as used by the server: str(True) == "True".
inline std::string python_str(const json::value& v) {
    switch (v.kind()) {
    case json::kind::bool_: return v.get_bool() ? "True" : "False";
    case json::kind::int64: return std::to_string(v.get_int64());
    case json::kind::uint64: return std::to_string(v.get_uint64());
    case json::kind::string: return std::string(v.get_string());
    default: return to_json_text(v);
    }
}

// PostgreSQL's `jsonb ->> key` text of a stored metadata value: true -> "true".
inline std::string jsonb_text(const json::value& v) {
    switch (v.kind()) {
    case json::kind::string: return std::string(v.get_string());
    case json::kind::null: return std::string();
    default: return to_json_text(v);
    }
}

// ---------------------------------------------------------------------------
// Timestamps: microseconds since the Unix epoch, UTC.

using micros = std::int64_t;
constexpr micros us_per_second = 1000000;
constexpr micros us_per_day = 86400 * us_per_second;

inline std::string format_utc(micros us) {
    char buf[polar::detail::timestamp_buffer_size];
    const auto n = polar::detail::format_timestamp(polar::timestamp(std::chrono::microseconds(us)), buf);
    return std::string(buf, n);
}

inline void append_utc(std::string& out, micros us) {
    char buf[polar::detail::timestamp_buffer_size];
    const auto n = polar::detail::format_timestamp(polar::timestamp(std::chrono::microseconds(us)), buf);
    out.append(buf, n);
}

inline micros to_micros(std::chrono::system_clock::time_point tp) {
    return std::chrono::floor<std::chrono::microseconds>(tp).time_since_epoch().count();
}

// ---------------------------------------------------------------------------
// Validation errors (FastAPI / Pydantic v2 shape).

struct verror {
    std::string type;
    json::array loc;
    std::string msg;
    json::value input;  // the offending input (null when absent)
    json::value ctx;    // an object, or null for none
};

using verrors = std::vector<verror>;

// A location: a list of path segments (strings or indices).
using loc_t = json::array;

inline loc_t loc_plus(const loc_t& base, json::value seg) {
    loc_t l = base;
    l.push_back(std::move(seg));
    return l;
}

inline verror make_error(std::string type, loc_t loc, std::string msg, json::value input,
                         json::value ctx = nullptr) {
    return verror{std::move(type), std::move(loc), std::move(msg), std::move(input), std::move(ctx)};
}

inline std::string pluralize_chars(std::int64_t n) {
    return std::to_string(n) + (n == 1 ? " character" : " characters");
}

inline verror missing_error(loc_t loc, json::value input) {
    return make_error("missing", std::move(loc), "Field required", std::move(input));
}

inline verror string_type_error(loc_t loc, json::value input) {
    return make_error("string_type", std::move(loc), "Input should be a valid string", std::move(input));
}

inline verror string_too_short(loc_t loc, json::value input, std::int64_t min) {
    return make_error("string_too_short", std::move(loc), "String should have at least " + pluralize_chars(min),
                      std::move(input), json::object{{"min_length", min}});
}

inline verror string_too_long(loc_t loc, json::value input, std::int64_t max) {
    return make_error("string_too_long", std::move(loc), "String should have at most " + pluralize_chars(max),
                      std::move(input), json::object{{"max_length", max}});
}

// Pydantic's enum message: "Input should be 'a', 'b' or 'c'".
inline std::string enum_expected(std::initializer_list<std::string_view> values) {
    std::string s;
    std::size_t i = 0;
    for (auto v : values) {
        if (i > 0) s.append(i + 1 == values.size() ? " or " : ", ");
        s.push_back('\'');
        s.append(v);
        s.push_back('\'');
        ++i;
    }
    return s;
}

inline verror enum_error(loc_t loc, json::value input, std::initializer_list<std::string_view> values) {
    auto expected = enum_expected(values);
    return make_error("enum", std::move(loc), "Input should be " + expected, std::move(input),
                      json::object{{"expected", expected}});
}

inline verror model_attributes_error(loc_t loc, json::value input) {
    return make_error("model_attributes_type", std::move(loc),
                      "Input should be a valid dictionary or object to extract fields from", std::move(input));
}

inline void serialize_verror(std::string& out, const verror& e) {
    out.append("{\"type\":");
    append_json_string(out, e.type);
    out.append(",\"loc\":");
    write_json(out, e.loc);
    out.append(",\"msg\":");
    append_json_string(out, e.msg);
    out.append(",\"input\":");
    write_json(out, e.input);
    if (!e.ctx.is_null()) {
        out.append(",\"ctx\":");
        write_json(out, e.ctx);
    }
    out.push_back('}');
}

// ---------------------------------------------------------------------------
// Responses.

inline emulator_response json_response(int status, std::string body) {
    emulator_response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

// 422. FastAPI's own validation uses "RequestValidationError"; errors raised
// by Polar's services (organization_id rules, the update lock, the
// quantities range) use "PolarRequestValidationError".
inline emulator_response validation_response(const verrors& errors,
                                             std::string_view error_name = "RequestValidationError") {
    std::string body = "{\"error\":";
    append_json_string(body, error_name);
    body.append(",\"detail\":[");
    for (std::size_t i = 0; i < errors.size(); ++i) {
        if (i > 0) body.push_back(',');
        serialize_verror(body, errors[i]);
    }
    body.append("]}");
    return json_response(422, std::move(body));
}

inline emulator_response resource_not_found() {
    return json_response(404, R"({"error":"ResourceNotFound","detail":"Not found"})");
}

inline emulator_response server_error_response() {
    emulator_response r;
    r.status = 500;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "Internal Server Error";
    return r;
}

// ---------------------------------------------------------------------------
// UUIDs, parsed like Pydantic (the Rust `uuid` crate's formats and messages).

struct uuid_parse_result {
    bool ok = false;
    std::string canonical;  // lowercase, hyphenated
    int version = 0;
    std::string error;      // the crate's message when !ok
};

inline int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

inline uuid_parse_result parse_uuid(std::string_view input) {
    uuid_parse_result r;
    std::string_view body;
    bool hyphenated = false;
    bool fast = false;
    if (input.size() == 32) {
        body = input;
        fast = true;
    } else if (input.size() == 36) {
        body = input;
        hyphenated = fast = true;
    } else if (input.size() == 38 && input.front() == '{' && input.back() == '}') {
        body = input.substr(1, 36);
        hyphenated = fast = true;
    } else if (input.size() == 45 && input.substr(0, 9) == "urn:uuid:") {
        body = input.substr(9);
        hyphenated = fast = true;
    }
    if (fast) {
        std::string hex;
        bool good = true;
        for (std::size_t i = 0; i < body.size() && good; ++i) {
            const char c = body[i];
            if (hyphenated && (i == 8 || i == 13 || i == 18 || i == 23)) {
                good = c == '-';
            } else if (hex_value(c) < 0) {
                good = false;
            } else {
                hex.push_back(static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c));
            }
        }
        if (good && hex.size() == 32) {
            r.ok = true;
            r.canonical = hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' +
                          hex.substr(16, 4) + '-' + hex.substr(20);
            r.version = hex_value(hex[12]);
            return r;
        }
    }
    // The error, as the crate explains it.
    std::string_view s = input;
    std::size_t offset = 0;
    bool simple = true;
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
        s = s.substr(1, s.size() - 2);
        offset = 1;
        simple = false;
    } else if (s.substr(0, 9) == "urn:uuid:") {
        s = s.substr(9);
        offset = 9;
        simple = false;
    }
    std::size_t hyphens = 0;
    std::size_t bounds[4] = {0, 0, 0, 0};
    std::size_t char_index = 0;  // in characters (UTF-8 aware)
    for (std::size_t i = 0; i < s.size(); ++char_index) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 1;
        if (c >= 0x80) {
            len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            r.error = "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `" +
                      std::string(s.substr(i, len)) + "` at " + std::to_string(i + offset + 1);
            return r;
        }
        if (c == '-') {
            if (hyphens < 4) bounds[hyphens] = i;
            ++hyphens;
        } else if (hex_value(static_cast<char>(c)) < 0) {
            r.error = "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `" +
                      std::string(1, static_cast<char>(c)) + "` at " + std::to_string(i + offset + 1);
            return r;
        }
        i += len;
    }
    if (hyphens == 0 && simple) {
        r.error = "invalid length: expected length 32 for simple format, found " + std::to_string(input.size());
    } else if (hyphens != 4) {
        r.error = "invalid group count: expected 5, found " + std::to_string(hyphens + 1);
    } else {
        constexpr std::size_t starts[5] = {0, 9, 14, 19, 24};
        constexpr std::size_t expected[5] = {8, 4, 4, 4, 12};
        for (int g = 0; g < 4; ++g) {
            if (bounds[g] != starts[g + 1] - 1) {
                const std::size_t begin = g == 0 ? 0 : bounds[g - 1] + 1;
                r.error = "invalid group length in group " + std::to_string(g) + ": expected " +
                          std::to_string(expected[g]) + ", found " + std::to_string(bounds[g] - begin);
                return r;
            }
        }
        r.error = "invalid group length in group 4: expected 12, found " + std::to_string(s.size() - starts[4]);
    }
    return r;
}

// Validates a UUID4 input like Pydantic's UUID4. On success returns the
// canonical text; otherwise appends an error at `loc`.
inline std::optional<std::string> validate_uuid4(const json::value& input, const loc_t& loc, verrors& errors) {
    if (!input.is_string()) {
        errors.push_back(make_error("uuid_type", loc, "UUID input should be a string, bytes or UUID object", input));
        return std::nullopt;
    }
    auto r = parse_uuid(input.get_string());
    if (!r.ok) {
        errors.push_back(make_error("uuid_parsing", loc, "Input should be a valid UUID, " + r.error, input,
                                    json::object{{"error", r.error}}));
        return std::nullopt;
    }
    if (r.version != 4) {
        errors.push_back(make_error("uuid_version", loc, "UUID version 4 expected", input,
                                    json::object{{"expected_version", 4}}));
        return std::nullopt;
    }
    return std::move(r.canonical);
}

inline std::string random_uuid4(std::mt19937_64& rng) {
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t a = rng(), b = rng();
    a = (a & ~std::uint64_t(0xF000)) | 0x4000;                           // version 4
    b = (b & ~(std::uint64_t(0xC) << 60)) | (std::uint64_t(0x8) << 60);  // RFC 4122 variant
    std::string s;
    s.reserve(36);
    for (int i = 15; i >= 0; --i) {
        s.push_back(hex[(a >> (i * 4)) & 15]);
        if (i == 8 || i == 4) s.push_back('-');
    }
    s.push_back('-');
    for (int i = 15; i >= 0; --i) {
        s.push_back(hex[(b >> (i * 4)) & 15]);
        if (i == 12) s.push_back('-');
    }
    return s;
}

// ---------------------------------------------------------------------------
// SQL LIKE: `%` any run, `_` one character (UTF-8 aware), `\` escapes.

inline std::size_t utf8_len(unsigned char c) {
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

inline bool sql_like(std::string_view text, std::string_view pattern, bool case_insensitive) {
    auto fold = [&](unsigned char c) -> unsigned char {
        return case_insensitive && c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c - 'A' + 'a') : c;
    };
    // Iterative matcher with backtracking to the last '%'.
    std::size_t t = 0, p = 0;
    std::size_t star_p = std::string_view::npos, star_t = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '%') {
            star_p = ++p;
            star_t = t;
            continue;
        }
        if (p < pattern.size() && pattern[p] == '_') {
            t += utf8_len(static_cast<unsigned char>(text[t]));
            ++p;
            continue;
        }
        if (p < pattern.size()) {
            std::size_t pp = p;
            if (pattern[pp] == '\\' && pp + 1 < pattern.size()) ++pp;
            if (fold(static_cast<unsigned char>(pattern[pp])) == fold(static_cast<unsigned char>(text[t]))) {
                p = pp + 1;
                ++t;
                continue;
            }
        }
        if (star_p == std::string_view::npos) return false;
        p = star_p;
        star_t += utf8_len(static_cast<unsigned char>(text[star_t]));
        t = star_t;
    }
    while (p < pattern.size() && pattern[p] == '%') ++p;
    return p == pattern.size();
}

// `LIKE '%v%'`: a substring test where `%`/`_` in v act as wildcards.
inline bool like_contains(std::string_view text, std::string_view value, bool case_insensitive) {
    std::string pattern;
    pattern.reserve(value.size() + 2);
    pattern.push_back('%');
    pattern.append(value);
    pattern.push_back('%');
    return sql_like(text, pattern, case_insensitive);
}

} // namespace polar::testing::emu

#endif
