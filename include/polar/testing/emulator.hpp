//
// polar-cpp testing: the emulator, a local HTTP/HTTPS server that behaves like
// Polar's Meters API, with fault injection and request counters for tests.
//
// The testing folder is a component of its own, apart from the SDK: nothing
// in <polar/polar.hpp> or <polar/src.hpp> includes it. Header-only, this
// header includes the implementation; with POLAR_SEPARATE_COMPILATION it is
// compiled once by <polar/testing/src.hpp> (CMake target polar::testing).
//
//   emulator.hpp         the server: emulator, emulator_options, fault,
//                        certificates (this header)
//   emulator_state.hpp   the in-memory Polar and its HTTP semantics, no sockets
//   src.hpp              the compilation entry for separate compilation
//   impl/emulator*.ipp   the server: emulator.ipp (acceptor, public classes),
//                        _http (routes, dates, request parser), _faults (fault
//                        table, counters), _session (one connection)
//   impl/tls_cert.ipp    self-signed certificates
//   impl/emulator_state*.ipp  the state, one concern a file: .ipp (dispatch),
//                        _routes, _endpoints (2025-03), _meters, _events,
//                        _ingest, _quantities(_dated), _customer_meters (dated
//                        versions), _versions (the Polar-Version middleware),
//                        _auth, _body, _query, _validation(_inputs), _filters,
//                        _dated_filters, _model, _dated_json, _datetime, _tz,
//                        _storage, _seed, _members, _common
//
#ifndef POLAR_TESTING_EMULATOR_HPP
#define POLAR_TESTING_EMULATOR_HPP

#include <polar/detail/config.hpp>
#include <polar/retry.hpp>
#include <polar/testing/emulator_state.hpp>
#include <polar/testing/rate_limit.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace polar::testing {

namespace detail {
class emulator_impl;
} // namespace detail

/// The token the emulator creates when its state has no token (see emulator_options::default_setup).
inline constexpr std::string_view default_token = "polar_test_token";

/// The organization the emulator creates with default_token.
inline constexpr std::string_view default_organization_name = "Emulated Org";

/// Key algorithm of a generated certificate.
enum class certificate_key_type {
    ec_p256,  ///< ECDSA on P-256 (fast to generate and to handshake)
    rsa_2048, ///< RSA with a 2048-bit modulus
};

/// A PEM certificate and its PEM private key.
struct certificate_pair {
    std::string cert_pem;
    std::string key_pem;
};

/**
 * @brief Generates a self-signed server certificate for local tests.
 *
 * @details Subject and issuer `CN=localhost`, subjectAltName
 * `IP:127.0.0.1, IP:::1, DNS:localhost`, extendedKeyUsage serverAuth,
 * valid from one hour ago for one year, SHA-256 signature. A client trusts it
 * by adding `cert_pem` as a certificate authority (e.g.
 * `ssl::context::add_certificate_authority`, `curl --cacert`).
 *
 * Errors: throws `std::runtime_error` if OpenSSL fails.
 */
POLAR_DECL certificate_pair make_self_signed_certificate(
    certificate_key_type type = certificate_key_type::ec_p256);

/**
 * @brief The same with other subject alternative names (OpenSSL syntax, e.g.
 * `"DNS:example.com,IP:10.0.0.1"`) and validity window, relative to now
 * (e.g. `-48h`, `-24h` for a certificate that has expired). For tests of
 * certificate verification.
 */
POLAR_DECL certificate_pair make_self_signed_certificate(certificate_key_type type,
                                                         std::string_view subject_alt_names,
                                                         std::chrono::seconds not_before,
                                                         std::chrono::seconds not_after);

/**
 * @brief Scripted misbehaviour for one or more requests (a value type).
 *
 * @details Build one with a factory, refine it with the modifiers and hand it to
 * `emulator::faults().add(...)`:
 * @code
 * srv.faults().add(fault::status(503).times(2).on("GET /v1/meters/{id}"));
 * srv.faults().add(fault::rate_limited(std::chrono::seconds(1)));       // next request, any route
 * srv.faults().add(fault::delay(std::chrono::milliseconds(300)).always().on("POST /v1/meters/"));
 * @endcode
 *
 * Matching: each request takes the first added fault, in insertion order,
 * whose route matches and that has uses left; that use is consumed. Several
 * faults on one route therefore play in sequence (503, then 429, then normal).
 * An `always()` fault never runs out and hides the faults added after it for
 * its route.
 *
 * Routes: `"METHOD /path"`, where a `{name}` segment matches any one
 * non-empty path segment and the query string is ignored: `"GET /v1/meters/{id}"`,
 * `"POST /v1/meters/"` (mind the trailing slash), `"GET /v1/meters/{id}/quantities"`,
 * `"POST /v1/events/ingest"`. `"*"` matches every request, `"GET *"` every
 * GET, `"* /v1/meters/{id}"` every method on that path. Request counters use
 * the same names.
 *
 * Processing: "processed" faults pass the request to the emulated API first
 * (so a create really creates the meter) and then misbehave; the others drop
 * the request. Each factory documents its default; `processed(bool)` changes it.
 *
 * Failures after the store: `fault::status(502).processed(true)` and
 * `fault::close_before_response().processed(true)` let the request take
 * effect (an ingest stores its events, a create creates) and then fail it with
 * that status, or close the connection without an answer, as when a proxy or
 * the network loses the response. With them a test proves that a retried
 * ingest loses nothing and counts nothing twice:
 * @code
 * srv.faults().add(fault::status(502).processed(true).on("POST /v1/events/ingest"));
 * // the events are stored; the client sees 502 and retries; with external ids
 * // the retry reports them in `duplicates`, and nothing is stored twice
 * @endcode
 */
class fault {
public:
    /// What the server does instead of (or on top of) answering normally.
    enum class kind {
        status,                ///< answer with a given status and body
        delay,                 ///< answer normally, late
        close_before_response, ///< close the connection without answering
        close_mid_body,        ///< send the header and half of the body, then close
        truncated_body,        ///< declare a longer Content-Length than the body sent, then close
        malformed_json,        ///< 200 with a body that is not valid JSON
        wrong_content_type,    ///< answer with a non-JSON content type (text/html by default)
        oversized_body,        ///< 200 with a huge (valid JSON) body, streamed
        stall,                 ///< read the request and never answer
        close_after_response,  ///< answer normally, then close without `Connection: close`
    };

    /// Answers `code` with `body` (default: a small JSON error body
    /// `{"error":"InjectedFault","detail":"..."}`) as application/json. Not processed.
    static fault status(int code, std::string body = {}) {
        fault f(kind::status);
        f.status_ = code;
        f.body_ = std::move(body);
        f.body_set_ = !f.body_.empty();
        return f;
    }
    /// 429 with an empty body and `Retry-After: <seconds>`. Not processed.
    static fault rate_limited(std::chrono::seconds retry_after) {
        fault f(kind::status);
        f.status_ = 429;
        f.body_set_ = true;
        f.content_type_.clear();
        f.headers_.emplace_back("Retry-After", std::to_string(retry_after.count()));
        return f;
    }
    /// 429 with an empty body and `Retry-After: <HTTP-date>` (IMF-fixdate of
    /// now + `retry_after`, computed when the fault fires). Not processed.
    static fault rate_limited_until(std::chrono::seconds retry_after) {
        fault f = rate_limited(retry_after);
        f.retry_after_date_ = true;
        return f;
    }
    /// Answers normally (processed), after waiting `d` on a timer.
    static fault delay(std::chrono::milliseconds d) {
        fault f(kind::delay);
        f.delay_ = d;
        f.processed_ = true;
        return f;
    }
    /// Closes the connection after reading the request, without answering. Not processed.
    static fault close_before_response() { return fault(kind::close_before_response); }
    /// Sends the status line, the headers (correct Content-Length) and half of
    /// the body of the normal response, then closes. Processed.
    static fault close_mid_body() {
        fault f(kind::close_mid_body);
        f.processed_ = true;
        return f;
    }
    /// Sends the whole normal response but with a Content-Length `extra` bytes
    /// larger, then closes. Processed.
    static fault truncated_body(std::size_t extra = 100) {
        fault f(kind::truncated_body);
        f.size_ = extra;
        f.processed_ = true;
        return f;
    }
    /// 200, application/json, body `body` (default: a cut-off JSON object). Not processed.
    static fault malformed_json(std::string body = {}) {
        fault f(kind::malformed_json);
        f.status_ = 200;
        f.body_ = std::move(body);
        f.body_set_ = !f.body_.empty();
        if (!f.body_set_)
            f.body_ = R"({"id":"8c3c8f3e-0b5a-4c1e-9a51-2b7e6c9d0f11","name":"trunc)";
        return f;
    }
    /// Answers `code` with content type `content_type` and `body` (default: a
    /// small HTML error page, as a proxy would send). Not processed.
    static fault wrong_content_type(int code = 200, std::string content_type = "text/html",
                                    std::string body = {}) {
        fault f(kind::wrong_content_type);
        f.status_ = code;
        f.content_type_ = std::move(content_type);
        f.body_ = std::move(body);
        if (f.body_.empty())
            f.body_ = "<html><head><title>Bad Gateway</title></head>"
                      "<body><h1>502 Bad Gateway</h1></body></html>";
        f.body_set_ = true;
        return f;
    }
    /// 200, application/json, `Content-Length: bytes`, a valid JSON object of
    /// that size streamed in 64 KiB writes (nothing of that size is allocated).
    /// Not processed.
    static fault oversized_body(std::size_t bytes = std::size_t(20) << 20) {
        fault f(kind::oversized_body);
        f.status_ = 200;
        f.size_ = bytes < 16 ? 16 : bytes;
        return f;
    }
    /// Reads the request and never answers; the connection stays open (no
    /// timeouts apply) until the client closes it or the emulator stops. Not processed.
    static fault stall() { return fault(kind::stall); }
    /// Answers normally (processed) without `Connection: close`, then closes
    /// the connection: the client's next request on it finds it dead.
    static fault close_after_response() {
        fault f(kind::close_after_response);
        f.processed_ = true;
        return f;
    }

    // -- modifiers (each returns the modified fault) ---------------------------------
    /// Restricts the fault to a route (default `"*"`).
    fault on(std::string route) && { route_ = std::move(route); return std::move(*this); }
    fault on(std::string route) const& { fault f(*this); f.route_ = std::move(route); return f; }
    /// `uses()` of an `always()` fault.
    static constexpr std::uint64_t always_uses = ~std::uint64_t(0);

    /// Applies to the next `n` matching requests (default 1; 0 disables the fault).
    fault times(std::uint64_t n) && { times_ = n; return std::move(*this); }
    fault times(std::uint64_t n) const& { fault f(*this); f.times_ = n; return f; }
    /// Applies to every matching request until removed by `fault_injector::clear()`.
    fault always() && { times_ = always_uses; return std::move(*this); }
    fault always() const& { fault f(*this); f.times_ = always_uses; return f; }
    /// Waits `d` on a timer before misbehaving (adds to the wait of `delay`).
    fault after(std::chrono::milliseconds d) && { delay_ += d; return std::move(*this); }
    fault after(std::chrono::milliseconds d) const& { fault f(*this); f.delay_ += d; return f; }
    /// Whether the emulated API sees the request before the fault acts.
    fault processed(bool p) && { processed_ = p; return std::move(*this); }
    fault processed(bool p) const& { fault f(*this); f.processed_ = p; return f; }
    /// Adds a response header (for the kinds that send a header).
    fault header(std::string name, std::string value) && {
        headers_.emplace_back(std::move(name), std::move(value));
        return std::move(*this);
    }
    fault header(std::string name, std::string value) const& {
        fault f(*this);
        f.headers_.emplace_back(std::move(name), std::move(value));
        return f;
    }

    // -- observers -------------------------------------------------------------------
    kind type() const noexcept { return kind_; }
    const std::string& route() const noexcept { return route_; }
    /// Uses left (`always_uses` for an `always()` fault).
    std::uint64_t uses() const noexcept { return times_; }
    int status_code() const noexcept { return status_; }
    const std::string& body() const noexcept { return body_; }
    bool has_body() const noexcept { return body_set_; }
    const std::string& content_type() const noexcept { return content_type_; }
    const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }
    std::chrono::milliseconds wait() const noexcept { return delay_; }
    std::size_t size() const noexcept { return size_; }
    bool is_processed() const noexcept { return processed_; }
    bool retry_after_is_date() const noexcept { return retry_after_date_; }

private:
    explicit fault(kind k) : kind_(k) {}

    kind kind_;
    std::string route_ = "*";
    std::uint64_t times_ = 1;
    int status_ = 0;
    std::string body_;
    bool body_set_ = false;
    std::string content_type_ = "application/json";
    std::vector<std::pair<std::string, std::string>> headers_;
    std::chrono::milliseconds delay_{0};
    std::size_t size_ = 0;
    bool processed_ = false;
    bool retry_after_date_ = false;
};

/**
 * @brief The emulator's list of pending faults (a handle; copies share it).
 *
 * Thread safety: every function may be called from any thread while the
 * emulator serves requests. Lifetimes: the handle keeps the emulator's
 * internals alive, not its sockets.
 */
class fault_injector {
public:
    /// Appends a fault (see `fault` for matching rules).
    POLAR_DECL void add(fault f);
    /// Removes every pending fault (faults already firing finish).
    POLAR_DECL void clear();
    /// Number of faults with uses left (an `always()` fault counts as one).
    POLAR_DECL std::size_t pending() const;
    /// Number of times a fault fired since the emulator started or `reset_fired()`.
    POLAR_DECL std::uint64_t fired() const;
    /// Zeroes `fired()`.
    POLAR_DECL void reset_fired();

    explicit fault_injector(std::shared_ptr<detail::emulator_impl> impl) : impl_(std::move(impl)) {}

private:
    std::shared_ptr<detail::emulator_impl> impl_;
};

/**
 * @brief Counters of what the emulator received (a handle; copies share them).
 *
 * @details A request is counted once it is completely read, before any fault
 * acts, under its route name: the endpoints of the Meters API use the names of
 * `fault` routes (`"GET /v1/meters/{id}"`, `"POST /v1/meters/"`, ...); any
 * other request counts as `"METHOD /raw/path"` (without the query).
 * Malformed requests that get a 400/413/431 count under `"* <invalid>"`.
 *
 * Thread safety: every function may be called from any thread.
 */
class emulator_counters {
public:
    /// Requests whose route matches `route`, a route pattern as in `fault`
    /// (`"*"` = all, `"GET *"` = all GETs, `"GET /v1/meters/{id}"`).
    POLAR_DECL std::uint64_t requests(std::string_view route = "*") const;
    /// Every route seen and its count.
    POLAR_DECL std::map<std::string, std::uint64_t, std::less<>> by_route() const;
    /// All requests (same as `requests("*")`).
    POLAR_DECL std::uint64_t total_requests() const;
    /// Connections accepted (TCP level; TLS handshakes may still fail).
    POLAR_DECL std::uint64_t connections_accepted() const;
    /// Connections currently open (a gauge; `reset()` leaves it alone).
    POLAR_DECL std::uint64_t open_connections() const;
    /// Requests refused with 429 by `emulator_options::rate_limit` (`reset()` leaves it alone).
    POLAR_DECL std::uint64_t rate_limited() const;
    /// Zeroes the request counters and `connections_accepted()`.
    POLAR_DECL void reset();

    explicit emulator_counters(std::shared_ptr<detail::emulator_impl> impl) : impl_(std::move(impl)) {}

private:
    std::shared_ptr<detail::emulator_impl> impl_;
};

/**
 * @brief Configuration of an `emulator` (an aggregate; defaults documented).
 *
 * TLS: with `tls` set, the certificate is, in order of preference,
 * `cert_pem`/`key_pem`, then `cert_file`/`key_file` (PEM files), else a
 * self-signed certificate generated at `start()` (see
 * `make_self_signed_certificate`). `emulator::certificate_pem()` returns it.
 *
 * With g++ 12, build the options in a named local, not as a braced temporary
 * in an expression that also contains `co_await` (such temporaries are
 * destroyed twice by that compiler).
 */
struct emulator_options {
    /// Address to bind (IPv4 or IPv6 literal, or "localhost").
    std::string host = "127.0.0.1";
    /// Port to bind; 0 picks a free one (see `emulator::port()`).
    std::uint16_t port = 0;
    /// Serve HTTPS instead of HTTP.
    bool tls = false;
    std::string cert_pem;  ///< server certificate chain, PEM
    std::string key_pem;   ///< its private key, PEM
    std::string cert_file; ///< or: a PEM file with the certificate chain
    std::string key_file;  ///< and: a PEM file with the private key
    /// Key type of a generated certificate.
    certificate_key_type generated_key = certificate_key_type::ec_p256;

    /// The emulated Polar; a fresh empty one is created when null. Several
    /// emulators may share one.
    std::shared_ptr<emulator_state> state;
    /// When the state has no access token at `start()`, create organization
    /// "Emulated Org" and the organization token "polar_test_token"
    /// (`default_token`) with scopes `meters:read meters:write events:read
    /// events:write customer_meters:read`.
    bool default_setup = true;

    /// Close a keep-alive connection after this long without a new request.
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
    /// Time allowed for the TLS handshake, and to receive a whole request once
    /// its first byte arrived.
    std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};
    /// Time allowed for writing one response.
    std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
    /// Largest request body; larger ones get 413 and the connection is closed.
    std::size_t body_limit = std::size_t(1) << 20;
    /// Largest request header (request line and fields); larger get 431.
    std::uint32_t header_limit = 16 * 1024;

    /// Polar's rate limit, off by default (as Polar outside production and
    /// the sandbox): e.g. `polar::rate_limit::per_minute(100)` for the
    /// sandbox's. Counted per organization (per token subject; see
    /// `server_rate_limiter` and `emulator_state::rate_limit_identity`) in
    /// fixed windows, on every `/v1` path, after the version middleware and
    /// before anything else (faults included): a request over the limit gets
    /// 429 with `Retry-After: <seconds>`, an empty body and `Polar-Version`.
    /// Not applied with a custom `handler`.
    polar::rate_limit rate_limit{};

    /// The API version served to requests without a `Polar-Version` header:
    /// `"2026-10"` (like the real server), `"2026-04"` (the same contract) or
    /// `"2025-03"` (the seed-era contract of `MeterAPI.md`; requests without
    /// the header then get no `Polar-Version` response header, exactly as
    /// before versioning). A request's own header always wins. See
    /// `emulator_state` for what each version serves.
    /// The emulator constructor throws `std::invalid_argument` for any other value.
    std::string default_api_version = std::string(api_version_2026_10);

    /// Replaces the emulated API (the state is then used only for setup):
    /// every request that no fault drops goes here, without the version
    /// middleware (the handler sees `polar_version` and
    /// `default_api_version` and may do its own). For tests of the transport
    /// and for custom endpoints; must be thread-safe.
    std::function<emulator_response(const emulator_request&)> handler;
};

/**
 * @brief A local server that behaves like Polar's Meters API.
 *
 * @details Serves HTTP/1.1 with keep-alive, over plain TCP or TLS, on the
 * given executor: each connection runs on its own strand, so the executor may
 * belong to an `io_context` run by several threads. Requests are answered by
 * `emulator_state::handle` (or `emulator_options::handler`); every response
 * carries `Content-Type` (application/json unless a fault says otherwise),
 * `Content-Length`, `Date` and a unique `x-request-id`.
 *
 * Versions: without `emulator_options::handler`, the version middleware runs
 * first, before any fault: a request whose `Polar-Version` is not served gets
 * 404 `{"detail":"Not Found"}` without a version header (no fault is
 * consumed), and on the dated versions a POST/PUT/PATCH without
 * `Content-Length` gets 411 and one declaring more than 10 MiB gets 413.
 * Faults then answer inside the middleware: their responses carry the
 * `Polar-Version` header too (unless the fault sets one itself).
 *
 * @code
 * asio::io_context ioc;
 * polar::testing::emulator srv(ioc.get_executor(), {.tls = true});
 * srv.start();
 * // client: base_url = srv.base_url(), trust srv.certificate_pem(),
 * //         token polar::testing::default_token
 * @endcode
 *
 * Errors: the constructor throws `std::invalid_argument` when
 * `emulator_options::default_api_version` is not a served version;
 * `start()` throws `boost::system::system_error` (bind/listen failure) or
 * `std::runtime_error` (certificate problems).
 *
 * Thread safety: `stop()`, `close_idle_connections()`, `faults()`,
 * `counters()` and `state()` may be used from any thread at any time;
 * `start()` once, before the executor runs other work of this emulator.
 *
 * Lifetimes: the executor's execution context must outlive the emulator.
 * Connections still open when the emulator is destroyed are closed; their
 * handlers keep the internals alive until they finish.
 */
class emulator {
public:
    POLAR_DECL explicit emulator(boost::asio::any_io_executor ex, emulator_options opts = {});
    POLAR_DECL ~emulator();
    emulator(emulator&&) noexcept = default;
    emulator& operator=(emulator&&) = delete;
    emulator(const emulator&) = delete;
    emulator& operator=(const emulator&) = delete;

    /// Loads or generates the certificate, performs the default setup, binds,
    /// listens and starts accepting. Throws on failure.
    POLAR_DECL void start();
    /// Closes the listening socket and every connection (posted to their
    /// strands: they close as soon as the executor runs them). Idempotent; the
    /// destructor calls it. The emulator cannot be restarted.
    POLAR_DECL void stop();
    /// Closes every connection that is waiting for its next request.
    POLAR_DECL void close_idle_connections();

    /// `http://HOST:PORT` or `https://HOST:PORT` (IPv6 hosts in brackets); valid after `start()`.
    POLAR_DECL std::string base_url() const;
    /// The bound port; valid after `start()`.
    POLAR_DECL std::uint16_t port() const;
    /// The server certificate (PEM) to trust; empty without TLS. Valid after `start()`.
    POLAR_DECL const std::string& certificate_pem() const;

    /// The emulated Polar (organizations, tokens, meters, events).
    POLAR_DECL emulator_state& state() const;
    POLAR_DECL std::shared_ptr<emulator_state> state_ptr() const;
    /// Fault injection (see `fault`).
    POLAR_DECL fault_injector faults() const;
    /// Request and connection counters.
    POLAR_DECL emulator_counters counters() const;

private:
    std::shared_ptr<detail::emulator_impl> impl_;
};

} // namespace polar::testing

#ifdef POLAR_HEADER_ONLY
#include <polar/testing/impl/emulator.ipp>
#endif

#endif
