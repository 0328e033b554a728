//
// polar-cpp: error codes, diagnostics and the exception type.
//
#ifndef POLAR_ERROR_HPP
#define POLAR_ERROR_HPP

#include <polar/detail/config.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace polar {

/// The error code type used by every operation (an alias of Boost's).
using error_code = boost::system::error_code;

/**
 * @brief Errors reported by the SDK itself (category `polar`).
 *
 * @details Transport failures (connection refused, reset, TLS handshake
 * failures, ...) are reported with their own Asio/SSL codes. Everything the
 * SDK decides on its own uses one of these. HTTP error statuses map to the
 * first group; `diagnostics` carries the details the server sent.
 */
enum class errc : int {
    // -- the server answered with an error status --------------------------
    bad_request = 1,       ///< a 4xx status without a more specific code below
    unauthorized,          ///< 401: missing, unknown, expired or revoked token
    forbidden,             ///< 403: the token lacks a scope, or the account is blocked
    not_found,             ///< 404: the resource does not exist or is not visible
    validation_failed,     ///< 422: the server rejected parameters or body
    rate_limited,          ///< 429: slow down; see diagnostics::retry_after
    server_error,          ///< 5xx
    unexpected_response,   ///< a status or content type the API does not use
    // -- the response could not be used ------------------------------------
    invalid_response,      ///< malformed JSON or a body that does not match the schema
    body_too_large,        ///< the response exceeds client_options::max_body_size
    // -- the SDK stopped the operation --------------------------------------
    timeout,               ///< an attempt, connect, pool wait or total deadline expired
    outcome_unknown,       ///< a non-idempotent request failed after it may have reached the server
    invalid_argument,      ///< an argument or option was rejected before sending
    insecure_transport,    ///< a token would be sent in clear text to a non-loopback host
    redirect_refused,      ///< the server answered with a redirect, which the SDK never follows
    retry_budget_exhausted,///< retries were skipped because the client's retry budget is spent
    client_shut_down,      ///< the client's shared state was destroyed
    // -- the server does not speak the requested API version ---------------
    unsupported_api_version, ///< 404 without a `Polar-Version` header: the version sent is unknown or removed
    // -- the ingest batcher ---------------------------------------------------
    queue_full,            ///< the ingest batcher's queue is full (batcher_options::max_queued_events)
    batcher_closed,        ///< the ingest batcher is closed and accepts no more events
};

/// The `polar` error category.
POLAR_DECL const boost::system::error_category& error_category() noexcept;

/// Makes an error_code of the `polar` category.
inline error_code make_error_code(errc e) noexcept {
    return error_code(static_cast<int>(e), error_category());
}

/// One entry of a 422 response's `detail` list (FastAPI / Pydantic shape).
struct validation_error {
    /// One element of `loc`: a field name or a list index.
    using loc_item = std::variant<std::string, std::int64_t>;

    std::vector<loc_item> loc;  ///< where, e.g. {"body", "filter", "clauses", 0}
    std::string msg;            ///< human-readable message
    std::string type;           ///< machine-readable type, e.g. "string_too_short"
    std::string input;          ///< the offending input as JSON text (empty if absent)
    std::string ctx;            ///< the `ctx` object as JSON text (empty if absent)

    /// `loc` joined with dots, e.g. `body.filter.clauses.0`.
    POLAR_DECL std::string path() const;
};

/**
 * @brief Everything known about a failed operation.
 *
 * @details Filled by every operation. On the throwing path it travels inside
 * `api_error`; on the non-throwing path pass a pointer in
 * `request_options::diagnostics`. Never contains the access token.
 */
struct diagnostics {
    int status = 0;               ///< HTTP status of the last response, 0 if none arrived
    std::string method;           ///< HTTP method of the request
    std::string path;             ///< request target (path and query)
    std::string error;            ///< Polar's `error` field ("ResourceNotFound", ...)
    std::string detail;           ///< `detail` (when a string) or `error_description`
    std::vector<validation_error> validation_errors; ///< 422 details
    std::optional<std::chrono::seconds> retry_after; ///< parsed `Retry-After`
    std::string request_id;       ///< `x-request-id` response header, if any
    std::string content_type;     ///< content type of the last response
    std::string body;             ///< raw body of an unusable response (capped at 4 KiB)
    std::string message;          ///< the SDK's own explanation (decode path, ...)
    int attempts = 0;             ///< attempts made, including the first
    std::string retry_stop_reason;///< why no further attempt was made, if any failed
    /// The `Polar-Version` the request sent (empty for api_version::v2025_03).
    std::string api_version;
    /// The `Polar-Version` the server answered with (empty when the response had none).
    std::string server_api_version;

    /// A one-paragraph summary suitable for logs and exception messages.
    POLAR_DECL std::string summary() const;
    /// Resets every field.
    void clear() { *this = diagnostics{}; }
};

/**
 * @brief The exception thrown on the `co_await` path.
 *
 * @details `code()` is the error code the non-throwing path would report;
 * `diag()` has the details. `what()` is a full sentence built from both.
 */
class api_error : public boost::system::system_error {
public:
    POLAR_DECL api_error(error_code ec, diagnostics diag);
    const diagnostics& diag() const noexcept { return diag_; }
    /// HTTP status, or 0 when the failure happened before a response.
    int status() const noexcept { return diag_.status; }

private:
    diagnostics diag_;
};

/// Thrown for 404 (`errc::not_found`).
class not_found_error : public api_error { public: using api_error::api_error; };
/// Thrown for 422 (`errc::validation_failed`).
class validation_failed_error : public api_error { public: using api_error::api_error; };
/// Thrown for 401 and 403.
class auth_error : public api_error { public: using api_error::api_error; };
/// Thrown for 429.
class rate_limited_error : public api_error { public: using api_error::api_error; };
/// Thrown for 5xx.
class server_error : public api_error { public: using api_error::api_error; };
/// Thrown for `errc::timeout`.
class timeout_error : public api_error { public: using api_error::api_error; };
/**
 * @brief Thrown for `errc::unsupported_api_version`: the server does not
 * serve the API version the request named (a 404 without a `Polar-Version`
 * response header, which is how Polar answers an unknown or removed
 * version, whatever the path).
 *
 * @details `diag().api_version` is the version sent. Change
 * `client_options::api_version` (or `request_options::api_version`) to a
 * version the server serves, e.g. `polar::api_version::v2026_10`.
 */
class unsupported_api_version_error : public api_error { public: using api_error::api_error; };

/// Builds the exception matching `ec` (one of the subclasses above, or api_error).
POLAR_DECL std::exception_ptr make_api_exception(error_code ec, diagnostics diag);

} // namespace polar

namespace boost::system {
template <> struct is_error_code_enum<polar::errc> : std::true_type {};
} // namespace boost::system

#ifdef POLAR_HEADER_ONLY
#include <polar/impl/error.ipp>
#endif

#endif
