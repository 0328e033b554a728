#ifndef POLAR_DETAIL_URL_HPP
#define POLAR_DETAIL_URL_HPP

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace polar::detail {

// Appends `s` percent-encoded: everything but RFC 3986 unreserved characters
// is escaped, so user input can neither change the path ('/', '..', '?',
// '#') nor the query ('&', '=', '+') nor inject header lines (CR, LF).
inline void append_encoded(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    static constexpr auto unreserved = [] {
        std::array<bool, 256> t{};
        for (int c = 0; c < 256; ++c)
            t[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                   c == '.' || c == '_' || c == '~';
        return t;
    }();
    // Runs of unreserved characters are appended whole.
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (unreserved[c]) continue;
        const char escaped[3] = {'%', hex[c >> 4], hex[c & 0xF]};
        out.append(s.data() + run, i - run).append(escaped, 3);
        run = i + 1;
    }
    out.append(s.data() + run, s.size() - run);
}

// A query string under construction: `?a=1&b=2`.
class query_builder {
public:
    explicit query_builder(std::string& out) : out_(out) {}

    void add(std::string_view key, std::string_view value) {
        out_ += first_ ? '?' : '&';
        first_ = false;
        append_encoded(out_, key);
        out_ += '=';
        append_encoded(out_, value);
    }
    void add(std::string_view key, std::int64_t value) { add(key, std::string_view(std::to_string(value))); }
    // deepObject style: metadata[key]=value (brackets literal, key encoded).
    void add_deep(std::string_view name, std::string_view key, std::string_view value) {
        out_ += first_ ? '?' : '&';
        first_ = false;
        out_ += name;
        out_ += '[';
        append_encoded(out_, key);
        out_ += ']';
        out_ += '=';
        append_encoded(out_, value);
    }
    bool empty() const { return first_; }

private:
    std::string& out_;
    bool first_ = true;
};

// `base` with `page=N` appended as its last query parameter.
inline std::string with_page(std::string_view base, std::int64_t page) {
    std::string t(base);
    t += base.find('?') == std::string_view::npos ? '?' : '&';
    t += "page=";
    t += std::to_string(page);
    return t;
}

} // namespace polar::detail

#endif
