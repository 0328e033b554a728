//
// polar-cpp: the client, its options and per-call options.
//
#ifndef POLAR_CLIENT_HPP
#define POLAR_CLIENT_HPP

#include <polar/api_version.hpp>
#include <polar/detail/config.hpp>
#include <polar/detail/call.hpp>
#include <polar/customer_meters.hpp>
#include <polar/error.hpp>
#include <polar/events.hpp>
#include <polar/meters.hpp>
#include <polar/pool_stats.hpp>
#include <polar/retry.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace boost::asio::ssl {
class context;
}

namespace polar {

/// The Polar environments. `client_options::server_url` overrides them.
enum class server {
    production, ///< https://api.polar.sh
    sandbox,    ///< https://sandbox-api.polar.sh (separate accounts and tokens)
};

/// What the `client_options::on_attempt` hook receives after every attempt.
struct attempt_info {
    std::string_view method;            ///< "GET", "POST", "PATCH"
    std::string_view target;            ///< path and query (never contains the token)
    int attempt = 1;                    ///< 1 for the first attempt
    int status = 0;                     ///< HTTP status, 0 when no response arrived
    error_code ec;                      ///< the attempt's outcome (empty on 2xx)
    std::chrono::microseconds latency{};///< from acquiring a connection to the end of the response
    bool reused_connection = false;     ///< the attempt ran on a pooled keep-alive connection
    bool will_retry = false;            ///< another attempt follows
    std::chrono::milliseconds retry_delay{}; ///< the wait before it
};

/**
 * @brief What the `client_options::on_trace` hook receives: the head of one
 * request as written or of one response as read, for debugging.
 *
 * @details The head is the start line and the header fields, CRLF-separated,
 * as on the wire, except that the Authorization field reads `Bearer ***` and
 * the access token is masked as `***` wherever else it would appear. Bodies are
 * not included (their size is). The views are valid during the call only.
 */
struct trace_record {
    enum class direction { request, response };
    direction dir = direction::request;
    std::string_view method;  ///< "GET", "POST", "PATCH"
    std::string_view target;  ///< path and query
    int attempt = 1;          ///< 1 for the first attempt
    std::string_view head;    ///< start line and fields, token masked
    std::size_t body_size = 0; ///< bytes of body sent or received
};

/**
 * @brief The access token of a client: a fixed string, or a function that
 * returns the current token (for tokens that rotate).
 *
 * @details Converts implicitly from a string (`.access_token = "polar_oat_..."`)
 * and from any callable returning `std::string`:
 * @code
 * opts.access_token = [&vault] { return vault.current_token(); };
 * @endcode
 * A function is called before every attempt (retries and pages included),
 * on the operation's executor, so a rotated token is picked up without
 * rebuilding the client. It must be cheap, must not block, and must be safe
 * to call from several threads at once (read a variable another thread
 * refreshes). Either way the token is sent as `Authorization: Bearer <token>`
 * (one that already starts with "Bearer " as is) and masked in traces.
 *
 * Errors: a function that throws, or returns an empty token or one with
 * control characters, fails the call before anything is sent with
 * `errc::invalid_argument` (the message says why; the token is not shown).
 */
class token_source {
public:
    token_source() = default;
    /// A fixed token.
    token_source(std::string token) : token_(std::move(token)) {}
    token_source(std::string_view token) : token_(token) {}
    token_source(const char* token) : token_(token ? token : "") {}
    /// A function returning the current token.
    template <class F>
        requires(std::is_invocable_r_v<std::string, F&> && !std::is_convertible_v<F, std::string_view> &&
                 !std::is_same_v<std::decay_t<F>, token_source>)
    token_source(F f) : provider_(std::move(f)) {}

    /// No token and no function.
    bool empty() const noexcept { return token_.empty() && !provider_; }
    void clear() noexcept {
        token_.clear();
        provider_ = nullptr;
    }
    /// Whether the token comes from a function.
    bool is_function() const noexcept { return static_cast<bool>(provider_); }
    /// The fixed token (empty when it comes from a function).
    const std::string& value() const noexcept { return token_; }
    operator std::string_view() const noexcept { return token_; }
    /// The function (empty for a fixed token).
    const std::function<std::string()>& function() const noexcept { return provider_; }

private:
    std::string token_;
    std::function<std::string()> provider_;
};

/**
 * @brief Client configuration, validated once by the `client` constructor.
 *
 * @details Durations of zero mean "no limit". Invalid values make the
 * constructor throw `api_error` with `errc::invalid_argument` and a message
 * naming the field.
 */
struct client_options {
    /// Organization Access Token (or any Polar token), or a function returning
    /// it (see token_source). Sent as `Authorization: Bearer <token>`; a token
    /// that already starts with "Bearer " is sent as is. Override it per call
    /// with `request_options::access_token`.
    token_source access_token{};
    /// The environment when `server_url` is empty.
    polar::server server = polar::server::production;
    /// Base URL overriding `server`, e.g. an emulator's `http://127.0.0.1:8080`.
    /// A path prefix is kept; a trailing slash is removed.
    std::string server_url{};
    /**
     * The API version every request speaks (override per call with
     * `request_options::api_version`). Dated versions send `Polar-Version`;
     * `api_version::v2025_03` sends none and speaks the March 2025
     * contract. A server that does not serve the version answers 404 without
     * a `Polar-Version` header: `errc::unsupported_api_version`. An invalid
     * value makes the constructor throw (`errc::invalid_argument`).
     */
    polar::api_version api_version = polar::api_version::v2026_10;

    /// Connections kept to the server at most (in use, idle and connecting).
    std::size_t max_connections = 16;
    /// Limit for resolving, connecting and the TLS handshake of one connection.
    std::chrono::milliseconds connect_timeout{10'000};
    /// Limit for one attempt: writing the request and reading the response.
    std::chrono::milliseconds attempt_timeout{30'000};
    /// Limit for a whole operation, retries and waits included (0 = none).
    std::chrono::milliseconds total_timeout{0};
    /// Limit for waiting for a free connection when all are busy (0 = none;
    /// the operation's total deadline still applies).
    std::chrono::milliseconds pool_wait_timeout{0};
    /// Idle keep-alive connections older than this are closed, not reused.
    std::chrono::milliseconds idle_timeout{50'000};
    /// Responses with a larger body fail with `errc::body_too_large`.
    std::size_t max_body_size = 16 * 1024 * 1024;
    /**
     * Capacity of a connection's read buffer while a request is in flight
     * (at least 512 bytes; an idle pooled connection frees it). A read from
     * the socket takes up to this much (Beast reads at most 64 KiB at once),
     * so a larger buffer means fewer system calls for large bodies: a page of 100 events (about 78 KB)
     * takes two reads with the default, 153 with 512 bytes. A 2xx JSON body
     * longer than this, or of unknown length (chunked), is decoded as it
     * arrives, piece by piece, and never held whole; a shorter one is read
     * whole, then decoded. Memory: this much per request in flight.
     */
    std::size_t read_buffer_size = 64 * 1024;

    /// Retry policy for every call (override per call in request_options).
    retry_policy retry{};
    /// Token bucket shared by all calls of this client, limiting retries.
    retry_budget budget{};

    /**
     * Requests this client sends at most, shared by every operation (pages,
     * generators and `quantities_many` included): at most
     * `rate_limit->requests` requests start in any interval of
     * `rate_limit->window` (counted with a margin of window/32 for the way to
     * the server). Unset: Polar's documented limit for `server`, 500 per
     * minute in production and 100 in the sandbox; no limit when `server_url`
     * is set. `polar::rate_limit::unlimited()` turns it off.
     *
     * A request that finds no token waits for one, in FIFO order, before its
     * attempt starts: the wait is not an attempt, the operation's deadline
     * bounds it (`errc::timeout`) and cancellation ends it
     * (`operation_aborted`). Whatever this setting, a 429 with `Retry-After`
     * pauses every request of the client until then (at most
     * `retry.max_retry_after()`), and the call that got it retries per its
     * policy. `client::stats()` counts the waits and the 429s.
     */
    std::optional<polar::rate_limit> rate_limit{};

    /// Verify the server's certificate chain and host name (keep it on).
    bool verify_peer = true;
    /// Extra trusted CA certificates, as a PEM file path and/or PEM text
    /// (added to the system trust store).
    std::string ca_file{};
    std::string ca_pem{};
    /// A TLS context to use as is (its verification settings win).
    std::shared_ptr<boost::asio::ssl::context> ssl_context{};
    /// Allow sending the token over plain HTTP to a host that is not loopback.
    bool allow_insecure_http = false;

    /// Called after every attempt, on the operation's executor. Must not block.
    std::function<void(const attempt_info&)> on_attempt{};
    /// Called with each request head before it is sent and each response
    /// head once the response is read (see trace_record: the token is
    /// masked), on the operation's executor. Must not block; exceptions are
    /// ignored. Costs a copy of the head per call when set, nothing otherwise.
    std::function<void(const trace_record&)> on_trace{};
    /// Appended to the User-Agent header.
    std::string user_agent{};
};

/**
 * @brief A handle to a Polar API client: configuration, a connection pool and
 * a retry budget, shared by every copy of the handle.
 *
 * @details Cheap to copy; every copy refers to the same pool.
 *
 * Thread safety: all member functions, and the operations of the services it
 * returns, may be called concurrently from any thread.
 *
 * Executor: connections and operations run on the executor given to the
 * constructor (an io_context may be run by several threads); completion
 * handlers run on their associated executor, else on this one.
 *
 * Lifetimes: destroying the last handle (or calling shutdown()) closes idle
 * connections and fails operations waiting for a connection with
 * `errc::client_shut_down`; operations in flight keep the shared state alive
 * until they complete.
 */
class client {
public:
    using executor_type = boost::asio::any_io_executor;

    /// Validates `opts` and prepares the pool; connects lazily. Throws `api_error`.
    POLAR_DECL client(executor_type ex, client_options opts);

    /// Operations on meters.
    meters_service meters() const noexcept { return meters_service(state_); }
    /// Events: ingestion, listing and reading.
    events_service events() const noexcept { return events_service(state_); }
    /// Customer meters (consumed, credited, balance per customer and meter).
    customer_meters_service customer_meters() const noexcept { return customer_meters_service(state_); }

    POLAR_DECL executor_type get_executor() const noexcept;
    /// The resolved base URL, e.g. "https://api.polar.sh".
    POLAR_DECL std::string base_url() const;
    POLAR_DECL pool_stats stats() const;
    /// Closes idle connections and fails pending waits; in-flight requests finish.
    POLAR_DECL void shutdown();

private:
    std::shared_ptr<detail::client_state> state_;
};

} // namespace polar

#ifdef POLAR_HEADER_ONLY
#include <polar/impl/client.ipp>
// Generators, fan-out and the ingest batcher run on the client's transport: after client.ipp.
#include <polar/impl/generator.ipp>
#include <polar/impl/fan_out.ipp>
#include <polar/impl/ingest_batcher.ipp>
#endif

#endif
