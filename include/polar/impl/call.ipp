#ifndef POLAR_IMPL_CALL_IPP
#define POLAR_IMPL_CALL_IPP

#include <polar/detail/call.hpp>

#include <cctype>

namespace polar::detail {

POLAR_DECL void apply_options(http_call& call, const request_options& o) {
    call.timeout = o.timeout;
    call.attempt_timeout = o.attempt_timeout;
    if (o.retry) call.retry = *o.retry;
    call.user_diag = o.diag;
    if (!o.access_token.empty()) {
        for (unsigned char c : o.access_token) {
            if (c < 0x20 || c == 0x7F) {
                call.precheck = make_error_code(errc::invalid_argument);
                call.precheck_message = "request_options::access_token contains control characters";
                return;
            }
        }
        call.access_token.assign(o.access_token.data(), o.access_token.size());
    }
    if (o.api_version) {
        if (!o.api_version->valid()) {
            call.precheck = make_error_code(errc::invalid_argument);
            call.precheck_message = "request_options::api_version: not a YYYY-MM version (month 01-12)";
            return;
        }
        call.version = *o.api_version;
    }
    for (const auto& h : o.headers) {
        auto bad = [](std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; };
        std::string lower;
        for (char c : h.name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (h.name.empty() || bad(h.name) || bad(h.value) || h.name.find(':') != std::string_view::npos) {
            call.precheck = make_error_code(errc::invalid_argument);
            call.precheck_message = "request_options::headers: header names must be non-empty and names and "
                                    "values must not contain CR, LF (or ':' in names)";
            return;
        }
        if (lower == "authorization" || lower == "host" || lower == "content-length" || lower == "content-type" ||
            lower == "transfer-encoding" || lower == "polar-version") {
            call.precheck = make_error_code(errc::invalid_argument);
            call.precheck_message = "request_options::headers: header '" + lower + "' is set by the client" +
                                    (lower == "polar-version" ? " (use request_options::api_version)" : "");
            return;
        }
        call.headers.emplace_back(std::string(h.name), std::string(h.value));
    }
}

} // namespace polar::detail

#endif
