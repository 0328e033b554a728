#ifndef POLAR_IMPL_ERROR_IPP
#define POLAR_IMPL_ERROR_IPP

#include <polar/error.hpp>

#include <exception>

namespace polar {
namespace detail {

class polar_category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "polar"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::bad_request: return "the server rejected the request (4xx)";
        case errc::unauthorized: return "unauthorized (401): the access token is missing, unknown, expired or revoked";
        case errc::forbidden: return "forbidden (403): the access token lacks the required scope or the account is blocked";
        case errc::not_found: return "not found (404): the resource does not exist or is not visible to this token";
        case errc::validation_failed: return "validation failed (422): the server rejected the parameters or body";
        case errc::rate_limited: return "rate limited (429): too many requests";
        case errc::server_error: return "server error (5xx)";
        case errc::unexpected_response: return "unexpected response: a status or content type the API does not use";
        case errc::invalid_response: return "invalid response: the body is not valid JSON or does not match the schema";
        case errc::body_too_large: return "the response body exceeds client_options::max_body_size";
        case errc::timeout: return "the operation timed out";
        case errc::outcome_unknown: return "the request may have reached the server but no response arrived; its outcome is unknown";
        case errc::invalid_argument: return "invalid argument";
        case errc::insecure_transport: return "refusing to send the access token over plain HTTP to a non-loopback host (set client_options::allow_insecure_http to override)";
        case errc::redirect_refused: return "the server answered with a redirect, which the client does not follow";
        case errc::retry_budget_exhausted: return "the client's retry budget is exhausted";
        case errc::client_shut_down: return "the client was shut down";
        case errc::unsupported_api_version:
            return "the server does not serve the requested API version (404 without a Polar-Version header); "
                   "set client_options::api_version or request_options::api_version to a version it serves";
        case errc::queue_full:
            return "the ingest batcher's queue is full (batcher_options::max_queued_events events are waiting to be sent)";
        case errc::batcher_closed: return "the ingest batcher is closed and accepts no more events";
        }
        return "unknown polar error";
    }
};

} // namespace detail

POLAR_DECL const boost::system::error_category& error_category() noexcept {
    static const detail::polar_category cat;
    return cat;
}

POLAR_DECL std::string validation_error::path() const {
    std::string out;
    for (const auto& item : loc) {
        if (!out.empty()) out += '.';
        if (const auto* s = std::get_if<std::string>(&item)) out += *s;
        else out += std::to_string(std::get<std::int64_t>(item));
    }
    return out;
}

POLAR_DECL std::string diagnostics::summary() const {
    std::string out;
    if (!method.empty()) {
        out += method;
        out += ' ';
        out += path;
    }
    if (status != 0) {
        out += out.empty() ? "" : ": ";
        out += "HTTP ";
        out += std::to_string(status);
    }
    if (!error.empty()) {
        out += out.empty() ? "" : " ";
        out += error;
    }
    if (!detail.empty()) {
        out += out.empty() ? "" : ": ";
        out += detail;
    }
    for (const auto& v : validation_errors) {
        out += out.empty() ? "" : "; ";
        out += v.path();
        out += ": ";
        out += v.msg;
        if (!v.type.empty()) {
            out += " [";
            out += v.type;
            out += ']';
        }
    }
    if (!message.empty()) {
        out += out.empty() ? "" : "; ";
        out += message;
    }
    if (attempts > 1) {
        out += out.empty() ? "" : "; ";
        out += "after " + std::to_string(attempts) + " attempts";
    }
    if (!retry_stop_reason.empty()) {
        out += out.empty() ? "" : "; ";
        out += "retrying stopped: " + retry_stop_reason;
    }
    if (!request_id.empty()) {
        out += " (request id " + request_id + ")";
    }
    return out;
}

POLAR_DECL api_error::api_error(error_code ec, diagnostics diag)
    : boost::system::system_error(ec, diag.summary()), diag_(std::move(diag)) {}

POLAR_DECL std::exception_ptr make_api_exception(error_code ec, diagnostics diag) {
    if (ec.category() == error_category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::not_found: return std::make_exception_ptr(not_found_error(ec, std::move(diag)));
        case errc::validation_failed: return std::make_exception_ptr(validation_failed_error(ec, std::move(diag)));
        case errc::unauthorized:
        case errc::forbidden: return std::make_exception_ptr(auth_error(ec, std::move(diag)));
        case errc::rate_limited: return std::make_exception_ptr(rate_limited_error(ec, std::move(diag)));
        case errc::server_error: return std::make_exception_ptr(server_error(ec, std::move(diag)));
        case errc::timeout: return std::make_exception_ptr(timeout_error(ec, std::move(diag)));
        case errc::unsupported_api_version:
            return std::make_exception_ptr(unsupported_api_version_error(ec, std::move(diag)));
        default: break;
        }
    }
    return std::make_exception_ptr(api_error(ec, std::move(diag)));
}

} // namespace polar

#endif
