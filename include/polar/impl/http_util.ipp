#ifndef POLAR_IMPL_HTTP_UTIL_IPP
#define POLAR_IMPL_HTTP_UTIL_IPP

#include <polar/detail/http_util.hpp>

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace polar::detail {

namespace {
inline bool iequals_prefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    return true;
}
} // namespace

POLAR_DECL bool parse_base_url(std::string_view url, endpoint& out, std::string& err) {
    out = endpoint{};
    if (iequals_prefix(url, "https://")) {
        out.tls = true;
        url.remove_prefix(8);
    } else if (iequals_prefix(url, "http://")) {
        out.tls = false;
        url.remove_prefix(7);
    } else {
        err = "server_url must start with https:// or http://";
        return false;
    }
    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
    if (authority.empty()) {
        err = "server_url has no host";
        return false;
    }
    // They would end up in the Host header, the request target, the TLS
    // server name (a NUL would cut it short) and the resolver.
    for (unsigned char c : url)
        if (c < 0x20 || c == 0x7F) {
            err = "server_url contains control characters";
            return false;
        }
    if (authority.find_first_of("@?# \t\r\n") != std::string_view::npos ||
        path.find_first_of("?# \t\r\n") != std::string_view::npos) {
        err = "server_url must be scheme://host[:port][/path] without credentials, query or fragment";
        return false;
    }
    std::string_view host = authority, port;
    if (authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            err = "server_url has an unterminated IPv6 address";
            return false;
        }
        host = authority.substr(1, close - 1);
        auto rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                err = "server_url has garbage after the IPv6 address";
                return false;
            }
            port = rest.substr(1);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) {
        err = "server_url has no host";
        return false;
    }
    if (!port.empty()) {
        unsigned value = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) {
            err = "server_url has an invalid port";
            return false;
        }
    }
    out.host = std::string(host);
    out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
    boost::system::error_code aec;
    auto addr = boost::asio::ip::make_address(out.host, aec);
    out.host_is_ip = !aec;
    out.loopback = (!aec && addr.is_loopback()) || out.host == "localhost";
    out.host_header = addr.is_v6() && !aec ? "[" + out.host + "]" : out.host;
    if (!port.empty() && port != (out.tls ? "443" : "80")) {
        out.host_header += ':';
        out.host_header += port;
    }
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    out.prefix = std::string(path);
    return true;
}

POLAR_DECL std::optional<std::chrono::seconds> parse_retry_after(std::string_view v,
                                                                 std::chrono::system_clock::time_point now) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (v.empty()) return std::nullopt;
    if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (v.size() > 9) return std::chrono::seconds(999'999'999);
        long long s = 0;
        std::from_chars(v.data(), v.data() + v.size(), s);
        return std::chrono::seconds(s);
    }
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    if (v.size() != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
        v[19] != ':' || v[22] != ':' || v.substr(25) != " GMT")
        return std::nullopt;
    auto num = [&](std::size_t pos, std::size_t len, int& out) {
        auto [p, ec] = std::from_chars(v.data() + pos, v.data() + pos + len, out);
        return ec == std::errc() && p == v.data() + pos + len;
    };
    static constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
    if (!num(5, 2, day) || !num(12, 4, year) || !num(17, 2, hh) || !num(20, 2, mm) || !num(23, 2, ss))
        return std::nullopt;
    const auto mit = std::find(months.begin(), months.end(), v.substr(8, 3));
    if (mit == months.end() || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
    using namespace std::chrono;
    const year_month_day ymd{std::chrono::year(year), month(static_cast<unsigned>(mit - months.begin() + 1)),
                             std::chrono::day(static_cast<unsigned>(day))};
    if (!ymd.ok()) return std::nullopt;
    const auto when = sys_days(ymd) + hours(hh) + minutes(mm) + seconds(ss);
    // In seconds: system_clock's nanoseconds overflow past year 2262.
    const auto diff = when - time_point_cast<seconds>(now);
    return diff.count() < 0 ? seconds(0) : diff;
}

} // namespace polar::detail

#endif
