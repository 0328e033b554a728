#ifndef POLAR_DETAIL_HTTP_UTIL_HPP
#define POLAR_DETAIL_HTTP_UTIL_HPP

#include <polar/detail/config.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace polar::detail {

/// A parsed base URL.
struct endpoint {
    bool tls = true;
    std::string host;         ///< without brackets for IPv6
    std::string port;
    std::string host_header;  ///< Host header value
    std::string prefix;       ///< path prefix without trailing slash ("" for none)
    bool host_is_ip = false;
    bool loopback = false;
};

/// Parses `http[s]://host[:port][/prefix]`. On failure returns false and sets `err`.
POLAR_DECL bool parse_base_url(std::string_view url, endpoint& out, std::string& err);

/// Parses a Retry-After value (delta-seconds or an HTTP-date) relative to `now`.
/// Dates in the past give 0 s; anything malformed gives nullopt.
POLAR_DECL std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                                 std::chrono::system_clock::time_point now);

} // namespace polar::detail

#ifdef POLAR_HEADER_ONLY
#include <polar/impl/http_util.ipp>
#endif

#endif
