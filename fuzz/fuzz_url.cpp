// Query and URL handling: append_encoded lets only unreserved characters and
// %XX through and decodes back to its input; query_builder output is a
// well-formed query; parse_base_url and parse_retry_after take any text.
// Input: two strings separated by the first NUL byte (key and value).
#include "fuzz_check.hpp"

#include <polar/detail/http_util.hpp>
#include <polar/detail/url.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace {

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Checks the encoding character by character and returns it decoded.
std::string check_and_decode(std::string_view enc) {
    std::string out;
    for (std::size_t i = 0; i < enc.size(); ++i) {
        const auto c = static_cast<unsigned char>(enc[i]);
        if (c == '%') {
            POLAR_FUZZ_CHECK(i + 2 < enc.size(), "truncated escape at %zu", i);
            const int hi = hex_value(enc[i + 1]), lo = hex_value(enc[i + 2]);
            POLAR_FUZZ_CHECK(hi >= 0 && lo >= 0, "bad escape at %zu", i);
            const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
            POLAR_FUZZ_CHECK(!unreserved(decoded), "unreserved character %c escaped", decoded);
            out += static_cast<char>(decoded);
            i += 2;
        } else {
            POLAR_FUZZ_CHECK(unreserved(c), "reserved character 0x%02x not escaped", c);
            out += static_cast<char>(c);
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in = polar_fuzz::as_text(data, size);
    const auto nul = in.find('\0');
    const std::string_view key = in.substr(0, nul);
    const std::string_view value = nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);

    std::string enc;
    polar::detail::append_encoded(enc, in);
    POLAR_FUZZ_CHECK(check_and_decode(enc) == in, "append_encoded does not decode back to its input");

    std::string query;
    polar::detail::query_builder q(query);
    POLAR_FUZZ_CHECK(q.empty(), "a new query is empty");
    q.add(key, value);
    q.add("limit", static_cast<std::int64_t>(size) - 50);
    POLAR_FUZZ_CHECK(!q.empty(), "a query with parameters is not empty");
    POLAR_FUZZ_CHECK(query.size() > 1 && query[0] == '?', "a query starts with '?'");
    // Exactly two parameters, each key=value with both sides well encoded.
    std::size_t params = 0;
    std::string_view rest = std::string_view(query).substr(1);
    while (true) {
        const auto amp = rest.find('&');
        const std::string_view param = rest.substr(0, amp);
        const auto eq = param.find('=');
        POLAR_FUZZ_CHECK(eq != std::string_view::npos, "parameter without '='");
        check_and_decode(param.substr(0, eq));
        check_and_decode(param.substr(eq + 1));
        ++params;
        if (amp == std::string_view::npos) break;
        rest = rest.substr(amp + 1);
    }
    POLAR_FUZZ_CHECK(params == 2, "%zu parameters instead of 2", params);
    const std::string paged = polar::detail::with_page(query, 7);
    POLAR_FUZZ_CHECK(paged.size() > query.size() && paged.ends_with("&page=7"), "page is the last parameter");

    polar::detail::endpoint ep;
    std::string err;
    if (polar::detail::parse_base_url(in, ep, err)) {
        POLAR_FUZZ_CHECK(!ep.host.empty() && !ep.port.empty() && !ep.host_header.empty(), "empty host or port");
        POLAR_FUZZ_CHECK(ep.prefix.empty() || (ep.prefix[0] == '/' && ep.prefix.back() != '/'),
                         "prefix '%s' is not a path without trailing slash", ep.prefix.c_str());
        for (unsigned char c : ep.host_header + ep.prefix)
            POLAR_FUZZ_CHECK(c > 0x20 && c != 0x7F, "control character or space 0x%02x in host or prefix", c);
    } else {
        POLAR_FUZZ_CHECK(!err.empty(), "a failed parse says why");
    }

    const auto now = std::chrono::system_clock::now();
    if (auto ra = polar::detail::parse_retry_after(in, now))
        POLAR_FUZZ_CHECK(ra->count() >= 0, "negative Retry-After %lld", static_cast<long long>(ra->count()));
    return 0;
}
