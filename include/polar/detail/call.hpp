#ifndef POLAR_DETAIL_CALL_HPP
#define POLAR_DETAIL_CALL_HPP

#include <polar/api_version.hpp>
#include <polar/detail/config.hpp>
#include <polar/detail/url.hpp>
#include <polar/error.hpp>
#include <polar/retry.hpp>

#include <boost/asio/any_completion_handler.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace polar {

/// An extra request header, for `request_options::headers`.
struct http_header {
    std::string_view name;
    std::string_view value;
};

/// One `metadata[key]=value` condition of a list or quantities query.
/// Conditions with the same key are ORed, different keys are ANDed; the
/// server compares the stored top-level value as text.
struct metadata_filter {
    std::string_view key;
    std::string_view value;
};

/**
 * @brief Per-call options. Every member is a view or a scalar, so the struct
 * can be written inline in a `co_await` expression; it is copied when the
 * operation starts.
 */
struct request_options {
    /// Deadline for the whole operation, retries included (overrides client_options::total_timeout).
    std::optional<std::chrono::milliseconds> timeout{};
    /// Limit for each attempt (overrides client_options::attempt_timeout).
    std::optional<std::chrono::milliseconds> attempt_timeout{};
    /// Extra headers. Authorization, Host, Content-Length, Content-Type,
    /// Transfer-Encoding and Polar-Version (see `api_version`) cannot be set;
    /// names and values must not contain CR or LF.
    std::span<const http_header> headers{};
    /// The API version of this call (overrides client_options::api_version;
    /// an invalid one fails the call with errc::invalid_argument). A page's
    /// next() keeps the version of the page.
    std::optional<polar::api_version> api_version{};
    /// Retry policy for this call (copied at initiation).
    const retry_policy* retry = nullptr;
    /// The token of this call instead of the client's (copied at
    /// initiation; masked in traces like the client's; a page's next() keeps
    /// it). Empty: the client's. Control characters fail the call with
    /// errc::invalid_argument.
    std::string_view access_token{};
    /// Filled with the operation's diagnostics when it completes (success or
    /// failure). Must stay valid until then.
    diagnostics* diag = nullptr;
};

namespace detail {

class client_state;

enum class http_verb { get, post, patch };

/// A request ready to run: everything owned, nothing borrowed from the caller.
struct http_call {
    http_verb verb = http_verb::get;
    std::string target;  ///< path and query, percent-encoded
    std::string body;    ///< JSON body ("" for GET)
    bool idempotent = true;
    /// The version sent; empty until the operation starts: then the client's.
    std::optional<polar::api_version> version;

    // Per-call options (owned copies).
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<std::chrono::milliseconds> attempt_timeout;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<retry_policy> retry;
    std::string access_token; // request_options::access_token ("" = the client's)
    diagnostics* user_diag = nullptr;
    std::shared_ptr<diagnostics> diagnostics_sink;

    // Set when the arguments were rejected before sending.
    error_code precheck;
    std::string precheck_message;

    // Pagination: the target without `page`, and the requested page and limit.
    bool paged = false;
    std::string page_base;
    std::int64_t page = 1;
    std::int64_t limit = 10;

    // Complete at once with a default-constructed result, without I/O.
    bool skip = false;

    // meters().events() on the dated versions: the events list's 422 for an
    // unknown `meter_id` is reported as the 404 the meter's own route gave.
    bool unknown_meter_is_not_found = false;
};

/// What a page keeps to fetch the following one.
struct page_request {
    std::shared_ptr<client_state> state;
    http_call call;
};

/// A completion token passed where request_options may stand (overload selection).
template <class Token>
concept not_options = !std::is_convertible_v<Token, const request_options&>;

/// Fails `call` before anything is sent: it completes with `ec` and `what`
/// in diagnostics::message.
inline void fail_precheck(http_call& call, error_code ec, std::string what) {
    call.precheck = ec;
    call.precheck_message = std::move(what);
}

/// Rejects an id that cannot name a `kind` without sending anything: an
/// empty id would turn `/v1/{resource}/{id}` into the list route.
inline bool check_id(http_call& call, std::string_view id, std::string_view kind) {
    if (!id.empty()) return true;
    fail_precheck(call, make_error_code(errc::invalid_argument), std::string(kind) + " id must not be empty");
    return false;
}

/// Adds repeated `sorting` parameters; an `unknown` key fails the call.
template <class SortProperty>
void add_sorting(http_call& call, query_builder& q, std::span<const SortProperty> keys) {
    for (SortProperty s : keys) {
        if (s == SortProperty::unknown)
            fail_precheck(call, make_error_code(errc::invalid_argument), "sorting: unknown sort property");
        q.add("sorting", to_string(s));
    }
}

/// Makes `call` a list request: `target` (path and query, without `page`),
/// the page to start from and the page size, as a page's next() needs them.
inline void set_paged(http_call& call, std::string target, std::optional<std::int64_t> page,
                      std::optional<std::int64_t> limit) {
    call.paged = true;
    call.page = page.value_or(1);
    call.limit = limit.value_or(10);
    call.target = page ? with_page(target, *page) : target;
    call.page_base = std::move(target);
}

/// Copies `opts` into `call`, validating extra headers and the version.
POLAR_DECL void apply_options(http_call& call, const request_options& opts);

/// The version a call with `opts` speaks on the client `st`: the per-call
/// override, else the client's (for calls whose endpoint depends on it).
POLAR_DECL polar::api_version effective_api_version(const client_state* st, const request_options& opts) noexcept;

/// Runs `call` on the client's pool and completes with the decoded T.
template <class T>
void async_execute(std::shared_ptr<client_state> state, http_call&& call,
                   boost::asio::any_completion_handler<void(error_code, T)> handler);

/// The initiation object of every operation.
template <class T>
struct op_initiation {
    using value_type = T;
    std::shared_ptr<client_state> state;

    template <class Handler>
    void operator()(Handler&& handler, http_call&& call) && {
        async_execute<T>(std::move(state), std::move(call),
                         boost::asio::any_completion_handler<void(error_code, T)>(std::forward<Handler>(handler)));
    }
};

} // namespace detail
} // namespace polar

#ifdef POLAR_HEADER_ONLY
#include <polar/impl/call.ipp>
#endif

#endif
