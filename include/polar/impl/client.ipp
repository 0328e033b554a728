//
// polar-cpp: the client class's members (the operations it runs are in
// detail/operations/).
//
#ifndef POLAR_IMPL_CLIENT_IPP
#define POLAR_IMPL_CLIENT_IPP

#include <polar/client.hpp>
#include <polar/detail/http_util.hpp>
#include <polar/detail/operations/operations.hpp>
#include <polar/detail/rate_limiter.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cctype>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <utility>

namespace polar {

namespace detail {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

inline void fail_option(const std::string& what) {
    diagnostics d;
    d.message = what;
    throw api_error(make_error_code(errc::invalid_argument), std::move(d));
}

} // namespace detail

POLAR_DECL client::client(executor_type ex, client_options opts) {
    using namespace detail;
    if (opts.access_token.empty()) fail_option("client_options::access_token is required");
    for (unsigned char c : opts.access_token.value())
        if (c < 0x20 || c == 0x7F) fail_option("client_options::access_token contains control characters");
    if (opts.rate_limit && opts.rate_limit->requests > 0 &&
        (opts.rate_limit->window.count() <= 0 || opts.rate_limit->window > rate_limiter::max_window))
        fail_option("client_options::rate_limit: the window must be positive and at most 366 days");
    if (opts.max_connections == 0) fail_option("client_options::max_connections must be at least 1");
    if (!opts.api_version.valid())
        fail_option("client_options::api_version: not a YYYY-MM version (month 01-12); "
                    "use e.g. polar::api_version::v2026_10");
    if (opts.max_body_size == 0) fail_option("client_options::max_body_size must be positive");
    if (opts.read_buffer_size < 512) fail_option("client_options::read_buffer_size must be at least 512 bytes");
    for (auto d : {opts.connect_timeout, opts.attempt_timeout, opts.total_timeout, opts.pool_wait_timeout,
                   opts.idle_timeout})
        if (d.count() < 0) fail_option("client_options: timeouts must not be negative");
    for (unsigned char c : opts.user_agent)
        if (c < 0x20 || c == 0x7F) fail_option("client_options::user_agent contains control characters");

    std::string url = opts.server_url;
    if (url.empty()) url = opts.server == server::sandbox ? "https://sandbox-api.polar.sh" : "https://api.polar.sh";
    endpoint ep;
    std::string err;
    if (!parse_base_url(url, ep, err)) fail_option("client_options::server_url: " + err);
    if (!ep.tls && !ep.loopback && !opts.allow_insecure_http)
        fail_option("refusing to send the access token over plain HTTP to " + ep.host +
                    "; use https or set client_options::allow_insecure_http");

    auto st = std::make_shared<client_state>(std::move(ex), std::move(opts));
    auto& o = st->opts;
    st->ep = std::move(ep);
    constexpr std::string_view bearer = "bearer ";
    const std::string& fixed = o.access_token.value(); // empty for a token function
    bool has_prefix = fixed.size() > bearer.size();
    for (std::size_t i = 0; has_prefix && i < bearer.size(); ++i)
        has_prefix = std::tolower(static_cast<unsigned char>(fixed[i])) == bearer[i];
    st->host_field = "Host: " + st->ep.host_header + "\r\n";
    if (!o.access_token.is_function())
        st->fixed_fields = st->host_field + "Authorization: " + (has_prefix ? fixed : "Bearer " + fixed) + "\r\n";
    st->fixed_fields_masked = st->host_field + "Authorization: Bearer ***\r\n";
    st->token = has_prefix ? fixed.substr(bearer.size()) : fixed;
    // Polar's documented limits (API 2026-10); none for another server.
    polar::rate_limit limit = polar::rate_limit::unlimited();
    if (o.rate_limit)
        limit = *o.rate_limit;
    else if (o.server_url.empty())
        limit = polar::rate_limit::per_minute(o.server == server::sandbox ? 100 : 500);
    st->limiter = std::make_shared<rate_limiter>(st->ex_, limit, o.retry.max_retry_after());
    st->user_agent_field = "User-Agent: polar-cpp/" POLAR_VERSION_STRING;
    if (!o.user_agent.empty()) st->user_agent_field += " " + o.user_agent;
    st->user_agent_field += "\r\n";
    st->budget_tokens = o.budget.capacity;
    st->seed = std::random_device{}();

    if (st->ep.tls) {
        if (o.ssl_context) {
            st->ssl_ctx = o.ssl_context;
        } else {
            auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
            error_code ec;
            ctx->set_default_verify_paths(ec);
            if (!o.ca_file.empty()) {
                ctx->load_verify_file(o.ca_file, ec);
                if (ec) fail_option("client_options::ca_file: cannot load '" + o.ca_file + "': " + ec.message());
            }
            if (!o.ca_pem.empty()) {
                ctx->add_certificate_authority(asio::buffer(o.ca_pem), ec);
                if (ec) fail_option("client_options::ca_pem: invalid PEM certificate: " + ec.message());
            }
            ctx->set_verify_mode(o.verify_peer ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                                               : ssl::verify_none);
            st->ssl_ctx = std::move(ctx);
        }
    }
    state_ = std::move(st);
}

namespace detail {
POLAR_DECL polar::api_version effective_api_version(const client_state* st, const request_options& opts) noexcept {
    if (opts.api_version) return *opts.api_version;
    return st ? st->opts.api_version : polar::api_version{};
}
} // namespace detail

POLAR_DECL client::executor_type client::get_executor() const noexcept { return state_->ex_; }

POLAR_DECL std::string client::base_url() const {
    return (state_->ep.tls ? "https://" : "http://") + state_->ep.host_header + state_->ep.prefix;
}

POLAR_DECL pool_stats client::stats() const {
    const auto r = state_->limiter->stats();
    std::lock_guard lk(state_->mtx);
    pool_stats s = state_->counters;
    s.open = state_->total;
    s.idle = state_->idle.size();
    s.waiting = state_->waiters.size();
    s.rate_limit_delayed = r.delayed;
    s.rate_limit_waited = r.waited;
    s.responses_429 = r.throttled;
    s.rate_limit_pauses = r.pauses;
    return s;
}

POLAR_DECL void client::shutdown() { state_->shutdown(); }

} // namespace polar

#endif
