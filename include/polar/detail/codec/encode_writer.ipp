#ifndef POLAR_DETAIL_CODEC_ENCODE_WRITER_IPP
#define POLAR_DETAIL_CODEC_ENCODE_WRITER_IPP

// Encoding, part 1: the writer, which appends compact JSON to a std::string
// (no DOM) and remembers the first value that cannot be encoded, with its path.

#include <polar/detail/codec/codec.hpp>
#include <polar/detail/codec/utf8.ipp>

#include <polar/error.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace polar {
namespace detail {
namespace json_encode_impl {

class writer {
public:
    explicit writer(std::string& out) noexcept : out_(out) {}

    void raw(std::string_view s) { out_.append(s.data(), s.size()); }
    void raw(char c) { out_.push_back(c); }

    // A JSON string. Bytes that are not valid UTF-8 become U+FFFD.
    void str(std::string_view s) {
        out_.push_back('"');
        std::size_t run = 0; // start of the pending run of bytes copied verbatim
        std::size_t i = 0;
        while (i < s.size()) {
            const auto c = static_cast<unsigned char>(s[i]);
            if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
                ++i;
                continue;
            }
            if (c >= 0x80) {
                const std::size_t n = utf8::sequence_length(s, i);
                if (n != 0) {
                    i += n;
                    continue;
                }
            }
            out_.append(s.data() + run, i - run);
            switch (c) {
            case '"': out_.append("\\\"", 2); break;
            case '\\': out_.append("\\\\", 2); break;
            case '\b': out_.append("\\b", 2); break;
            case '\f': out_.append("\\f", 2); break;
            case '\n': out_.append("\\n", 2); break;
            case '\r': out_.append("\\r", 2); break;
            case '\t': out_.append("\\t", 2); break;
            default:
                if (c < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                    out_.append(esc, 6);
                } else {
                    out_.append("\\ufffd", 6); // invalid UTF-8 byte
                }
            }
            run = ++i;
        }
        out_.append(s.data() + run, s.size() - run);
        out_.push_back('"');
    }

    // `"key":` for keys known to need no escaping.
    void key(std::string_view k) {
        out_.push_back('"');
        out_.append(k.data(), k.size());
        out_.append("\":", 2);
    }
    // `,"key":` unless first.
    void member(bool& first, std::string_view k) {
        if (!first) out_.push_back(',');
        first = false;
        key(k);
    }

    void i64(std::int64_t v) {
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        out_.append(buf, static_cast<std::size_t>(r.ptr - buf));
    }
    // Shortest round-trip form, with ".0" on integral values like the server
    // writes them; JSON has no NaN or infinity, so those become null.
    void number(double v) {
        if (!std::isfinite(v)) {
            out_.append("null", 4);
            return;
        }
        char buf[40];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        const std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
        out_.append(s.data(), s.size());
        if (s.find_first_of(".e") == std::string_view::npos) out_.append(".0", 2);
    }
    void boolean(bool v) {
        if (v) out_.append("true", 4);
        else out_.append("false", 5);
    }
    void null() { out_.append("null", 4); }
    void time(timestamp t) {
        char buf[timestamp_buffer_size + 2];
        buf[0] = '"';
        const std::size_t n = detail::format_timestamp(t, buf + 1);
        buf[n + 1] = '"';
        out_.append(buf, n + 2);
    }
    void opt_time(const std::optional<timestamp>& t) {
        if (t) time(*t);
        else null();
    }
    void opt_str(const std::optional<std::string>& s) {
        if (s) str(*s);
        else null();
    }
    // A metadata double: like number(), but NaN and infinities are an error
    // (null is written in their place so that the text stays JSON).
    void metadata_double(double v, std::string_view key) {
        if (!std::isfinite(v)) {
            fail_metadata(key);
            null();
            return;
        }
        number(v);
    }
    void scalar(const metadata_value& v, std::string_view key) {
        switch (v.index()) {
        case 0: str(*std::get_if<0>(&v)); break;
        case 1: i64(*std::get_if<1>(&v)); break;
        case 2: boolean(*std::get_if<2>(&v)); break;
        case 3: metadata_double(*std::get_if<3>(&v), key); break;
        default: null(); break; // valueless_by_exception
        }
    }
    void scalar(const filter_value& v) {
        switch (v.index()) {
        case 0: str(*std::get_if<0>(&v)); break;
        case 1: i64(*std::get_if<1>(&v)); break;
        case 2: boolean(*std::get_if<2>(&v)); break;
        default: null(); break; // valueless_by_exception
        }
    }
    // The entries of a metadata map, without braces; `skip_llm` / `skip_cost`
    // leave out the keys `_llm` / `_cost` (written from the structures).
    void meta_entries(const metadata& m, bool& first, bool skip_llm = false, bool skip_cost = false) {
        for (const auto& [k, v] : m) {
            if ((skip_llm && k == "_llm") || (skip_cost && k == "_cost")) continue;
            if (!first) out_.push_back(',');
            first = false;
            str(k);
            out_.push_back(':');
            scalar(v, k);
        }
    }
    void meta(const metadata& m) {
        out_.push_back('{');
        bool first = true;
        meta_entries(m, first);
        out_.push_back('}');
    }

    // -- errors ---------------------------------------------------------------
    bool failed() const noexcept { return !error_.empty(); }
    const std::string& error() const noexcept { return error_; }
    POLAR_COLD void fail_metadata(std::string_view key) {
        if (failed()) return;
        error_ = "metadata.";
        error_.append(key.data(), key.size());
        error_ += ": NaN or infinity cannot be encoded as JSON";
    }
    // Runs f(); prefixes a failure it caused with the path `prefix`.
    template <class F>
    void nested(std::string_view prefix, F&& f) {
        const bool had = failed();
        f();
        if (!had && failed()) prefix_error(prefix, std::string_view());
    }
    template <class F>
    void nested(std::string_view array, std::size_t i, F&& f) {
        const bool had = failed();
        f();
        if (!had && failed()) prefix_error(array, std::to_string(i));
    }

private:
    POLAR_COLD void prefix_error(std::string_view key, std::string_view index) {
        std::string p(key);
        if (!index.empty()) {
            p += '[';
            p.append(index.data(), index.size());
            p += ']';
        }
        p += '.';
        error_.insert(0, p);
    }

    std::string& out_;
    std::string error_;
};

} // namespace json_encode_impl
} // namespace detail
} // namespace polar

#endif
