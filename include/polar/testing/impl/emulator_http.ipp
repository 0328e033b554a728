//
// polar-cpp testing: the HTTP pieces of the emulator's server: route patterns
// and counter names, HTTP dates and numbers, and the request parser.
// Included by emulator.ipp.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_HTTP_IPP
#define POLAR_TESTING_IMPL_EMULATOR_HTTP_IPP

#include <polar/testing/emulator.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <charconv>
#include <atomic>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

namespace polar::testing {
namespace detail {

namespace em_asio = boost::asio;
namespace em_http = boost::beast::http;
using em_tcp = boost::asio::ip::tcp;
using em_error_code = boost::system::error_code;
using em_clock = std::chrono::steady_clock;

// -- routes -------------------------------------------------------------------------

// The path of an origin-form target (without the query).
inline std::string_view target_path(std::string_view target) noexcept {
    auto q = target.find_first_of("?#");
    return q == std::string_view::npos ? target : target.substr(0, q);
}

// Matches "METHOD /a/{x}/b" (or "*", "METHOD *", "* /path", a trailing "/*")
// against a method and a path, segment by segment.
inline bool route_matches(std::string_view pattern, std::string_view method, std::string_view path) noexcept {
    if (pattern == "*")
        return true;
    auto sp = pattern.find(' ');
    std::string_view pm = sp == std::string_view::npos ? pattern : pattern.substr(0, sp);
    std::string_view pp = sp == std::string_view::npos ? std::string_view("*") : pattern.substr(sp + 1);
    if (pm != "*" && pm != method)
        return false;
    if (pp == "*")
        return true;
    for (;;) {
        auto ps = pp.find('/');
        auto xs = path.find('/');
        std::string_view pseg = pp.substr(0, ps);
        std::string_view xseg = path.substr(0, xs);
        if (pseg == "*" && ps == std::string_view::npos)
            return true;
        bool wildcard = pseg.size() >= 2 && pseg.front() == '{' && pseg.back() == '}';
        if (wildcard ? xseg.empty() : pseg != xseg)
            return false;
        if (ps == std::string_view::npos || xs == std::string_view::npos)
            return ps == xs;
        pp.remove_prefix(ps + 1);
        path.remove_prefix(xs + 1);
    }
}

// Writes the counter name of a request into `out` ("GET /v1/meters/{id}" for
// the API's endpoints, "METHOD /raw/path" for anything else).
inline void canonical_route(std::string_view method, std::string_view path, std::string& out) {
    out.assign(method);
    out += ' ';
    constexpr std::string_view meters = "/v1/meters/";
    if (path.substr(0, meters.size()) == meters && path.size() > meters.size()) {
        std::string_view rest = path.substr(meters.size());
        auto slash = rest.find('/');
        std::string_view tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
        if (slash != 0 && (tail.empty() || tail == "/events" || tail == "/quantities")) {
            out += "/v1/meters/{id}";
            out += tail;
            return;
        }
    }
    // The dated versions' GET /v1/events/{id} and /v1/customer-meters/{id}.
    for (std::string_view prefix : {std::string_view("/v1/events/"), std::string_view("/v1/customer-meters/")}) {
        if (path.substr(0, prefix.size()) != prefix || path.size() == prefix.size()) continue;
        const std::string_view rest = path.substr(prefix.size());
        if (rest.find('/') != std::string_view::npos || rest == "ingest") continue;
        out += prefix;
        out += "{id}";
        return;
    }
    out += path;
}

// -- dates --------------------------------------------------------------------------

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), locale independent.
inline void format_http_date(std::time_t t, char (&out)[40]) noexcept {
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

inline std::string http_date(std::chrono::system_clock::time_point tp) {
    char buf[40];
    format_http_date(std::chrono::system_clock::to_time_t(tp), buf);
    return buf;
}

// Appends `v` as 16 lowercase hex digits.
inline void append_hex16(std::string& out, std::uint64_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    char buf[16];
    for (int i = 15; i >= 0; --i, v >>= 4)
        buf[i] = digits[v & 0xf];
    out.append(buf, 16);
}

inline void append_decimal(std::string& out, std::uint64_t v) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

// -- request parsing ----------------------------------------------------------------------

struct request_data {
    std::string method;
    std::string target;
    std::string authorization;
    std::string content_type;
    std::string host;
    std::string body;
    std::string polar_version;
    std::uint64_t content_length = 0;
    bool have_content_length = false;
    bool expect_continue = false;
    bool have_authorization = false;
    bool have_polar_version = false;

    void clear() noexcept {
        method.clear();
        target.clear();
        authorization.clear();
        content_type.clear();
        host.clear();
        body.clear();
        polar_version.clear();
        content_length = 0;
        have_content_length = false;
        expect_continue = false;
        have_authorization = false;
        have_polar_version = false;
    }
};

inline bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = static_cast<char>(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

// Copies what the emulator needs into session-owned buffers (their capacity
// is kept across requests; the parser itself is rebuilt per request and does
// not allocate when the input is contiguous).
class request_parser final : public em_http::basic_parser<true> {
public:
    explicit request_parser(request_data& r) : r_(r) {}

private:
    void on_request_impl(em_http::verb, boost::beast::string_view method, boost::beast::string_view target,
                         int, em_error_code&) override {
        r_.method.assign(method.data(), method.size());
        r_.target.assign(target.data(), target.size());
    }
    void on_response_impl(int, boost::beast::string_view, int, em_error_code& ec) override {
        ec = em_http::error::bad_version;
    }
    void on_field_impl(em_http::field name, boost::beast::string_view name_string, boost::beast::string_view value,
                       em_error_code&) override {
        if (name == em_http::field::unknown) {
            // Polar-Version (case-insensitive; the first one counts, as
            // Starlette's Headers.get returns the first).
            if (!r_.have_polar_version &&
                iequals_ascii(std::string_view(name_string.data(), name_string.size()), "polar-version")) {
                r_.polar_version.assign(value.data(), value.size());
                r_.have_polar_version = true;
            }
            return;
        }
        switch (name) {
        case em_http::field::authorization:
            if (!r_.have_authorization) {
                r_.authorization.assign(value.data(), value.size());
                r_.have_authorization = true;
            }
            break;
        case em_http::field::content_type:
            r_.content_type.assign(value.data(), value.size());
            break;
        case em_http::field::host:
            r_.host.assign(value.data(), value.size());
            break;
        case em_http::field::content_length: {
            // The parser has validated it (digits, repeats agree) by now.
            std::uint64_t n = 0;
            auto res = std::from_chars(value.data(), value.data() + value.size(), n);
            r_.content_length = res.ec == std::errc() ? n : ~std::uint64_t(0);
            r_.have_content_length = true;
            break;
        }
        case em_http::field::expect:
            if (iequals_ascii(std::string_view(value.data(), value.size()), "100-continue"))
                r_.expect_continue = true;
            break;
        default:
            break;
        }
    }
    void on_header_impl(em_error_code&) override {}
    void on_body_init_impl(boost::optional<std::uint64_t> const& length, em_error_code&) override {
        if (length && *length <= (std::uint64_t(64) << 20))
            r_.body.reserve(static_cast<std::size_t>(*length));
    }
    std::size_t on_body_impl(boost::beast::string_view body, em_error_code&) override {
        r_.body.append(body.data(), body.size());
        return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, em_error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body, em_error_code&) override {
        r_.body.append(body.data(), body.size());
        return body.size();
    }
    void on_finish_impl(em_error_code&) override {}

    request_data& r_;
};

} // namespace detail
} // namespace polar::testing

#endif
