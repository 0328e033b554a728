#ifndef POLAR_IMPL_RESPONSE_IPP
#define POLAR_IMPL_RESPONSE_IPP

#include <polar/detail/http_util.hpp>
#include <polar/detail/codec/codec.hpp>
#include <polar/detail/response.hpp>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include <cctype>
#include <chrono>

namespace polar::detail {


POLAR_DECL void limit_response_parser(response_parser& parser, std::size_t max_body_size) {
    parser.body_limit(max_body_size);
    parser.header_limit(response_header_limit);
}

POLAR_DECL void take_response(error_code read_ec, response_parser& parser, std::size_t max_body_size,
                              received_response& out) {
    namespace http = boost::beast::http;
    out.ec = read_ec;
    if (out.ec) {
        if (out.ec == boost::beast::error::timeout) {
            // The caller knows which deadline expired.
        } else if (out.ec == http::error::body_limit) {
            out.ec = make_error_code(errc::body_too_large);
            out.message = "response body exceeds " + std::to_string(max_body_size) + " bytes";
        } else if (out.ec == http::error::header_limit) {
            out.ec = make_error_code(errc::unexpected_response);
            out.message = "response headers exceed 64 KiB";
        } else if (out.ec == http::error::end_of_stream || out.ec == http::error::partial_message) {
            out.message = parser.got_some() ? "the connection closed in the middle of the response"
                                            : "the connection closed before the response";
        } else if (out.ec.category() == make_error_code(http::error::bad_version).category()) {
            out.message = "malformed HTTP response: " + out.ec.message();
            out.ec = make_error_code(errc::unexpected_response);
        }
        return;
    }
    auto& res = parser.get();
    out.status = res.result_int();
    // One pass over the fields (the first of a repeated name counts), not a
    // lookup per name.
    bool content_type = false, request_id = false, retry_after = false;
    out.has_polar_version = false;
    for (const auto& f : res) {
        const auto name = f.name();
        if (name == http::field::content_type && !content_type) {
            content_type = true;
            out.content_type.assign(f.value());
        } else if (name == http::field::retry_after && !retry_after) {
            retry_after = true;
            out.retry_after.assign(f.value());
        } else if (name == http::field::unknown) {
            if (!request_id && boost::beast::iequals(f.name_string(), "x-request-id")) {
                request_id = true;
                out.request_id.assign(f.value());
            } else if (!out.has_polar_version && boost::beast::iequals(f.name_string(), "polar-version")) {
                out.has_polar_version = true;
                out.polar_version.assign(f.value());
            }
        }
    }
    out.keep_alive = parser.keep_alive();
    auto& body = res.body();
    out.streamed = body.streamed;
    out.decode_ec = {};
    out.decode_what.clear();
    if (body.streamed) out.decode_ec = body.sink->result(out.decode_what);
    out.body = std::move(static_cast<std::string&>(body));
}

POLAR_DECL void check_api_version(const received_response& r, api_version sent, error_code& ec, diagnostics& diag) {
    // The version 404 is the framework's plain `{"detail":"Not Found"}`; a 404
    // of another shape without the header (a proxy's, a wrong path prefix's)
    // stays not_found.
    if (ec != errc::not_found || !sent.is_dated() || r.has_polar_version) return;
    if (diag.detail != "Not Found" || !diag.error.empty() || !diag.validation_errors.empty()) return;
    ec = make_error_code(errc::unsupported_api_version);
    diag.message = "the server does not serve API version " + std::string(sent.str()) +
                   "; set client_options::api_version (or request_options::api_version) to one it serves";
}

POLAR_DECL void unknown_meter(error_code& ec, diagnostics& diag) {
    if (diag.validation_errors.size() != 1 || diag.validation_errors.front().type != "meter_id") return;
    ec = make_error_code(errc::not_found);
    diag.message = "no meter with this id is visible to the token (the events list answered 422 meter_id)";
}

POLAR_DECL bool is_json_content_type(std::string_view ct) noexcept {
    constexpr std::string_view json = "application/json";
    if (ct.size() < json.size()) return false;
    for (std::size_t i = 0; i < json.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(ct[i])) != json[i]) return false;
    return ct.size() == json.size() || ct[json.size()] == ';' || ct[json.size()] == ' ';
}

POLAR_DECL error_code map_http_status(int status) noexcept {
    if (status == 401) return make_error_code(errc::unauthorized);
    if (status == 403) return make_error_code(errc::forbidden);
    if (status == 404) return make_error_code(errc::not_found);
    if (status == 422) return make_error_code(errc::validation_failed);
    if (status == 429) return make_error_code(errc::rate_limited);
    if (status >= 500 && status <= 599) return make_error_code(errc::server_error);
    if (status >= 300 && status <= 399) return make_error_code(errc::redirect_refused);
    if (status >= 400 && status <= 499) return make_error_code(errc::bad_request);
    return make_error_code(errc::unexpected_response);
}

POLAR_DECL error_code interpret_response(const received_response& r, diagnostics& diag, body_decoder decode,
                                         void* out) {
    error_code ec;
    if (r.status >= 200 && r.status <= 299) {
        if (!is_json_content_type(r.content_type)) {
            ec = make_error_code(errc::unexpected_response);
            diag.message = "expected application/json, got '" + r.content_type + "'";
            diag.body = r.body.substr(0, max_kept_body);
        } else {
            std::string what;
            if (r.streamed) {
                ec = r.decode_ec;
                what = r.decode_what;
            } else {
                ec = decode(r.body, out, what);
            }
            if (ec) {
                diag.message = std::move(what);
                diag.body = r.body.substr(0, max_kept_body);
            }
        }
        return ec;
    }
    ec = map_http_status(r.status);
    if (is_json_content_type(r.content_type) && !r.body.empty()) decode_error_body(r.body, diag);
    if (diag.error.empty() && diag.detail.empty() && diag.validation_errors.empty())
        diag.body = r.body.substr(0, max_kept_body);
    if (!r.retry_after.empty()) diag.retry_after = parse_retry_after(r.retry_after, std::chrono::system_clock::now());
    return ec;
}

} // namespace polar::detail

#endif
