//
// polar-cpp: opening a pooled connection: resolve, connect, TLS handshake
// (internal).
//
#ifndef POLAR_DETAIL_TRANSPORT_OPEN_CONNECTION_HPP
#define POLAR_DETAIL_TRANSPORT_OPEN_CONNECTION_HPP

#include <polar/detail/transport/connection.hpp>
#include <polar/detail/transport/pool.hpp>
#include <polar/detail/transport/watchdog.hpp>
#include <polar/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/verify_mode.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <string>

namespace polar::detail {

/// Whether the coroutine's cancellation state has seen a cancellation.
inline bool cancelled(const asio::cancellation_state& cs) { return cs.cancelled() != asio::cancellation_type::none; }

// Opens a connection: resolve, connect, TLS handshake with SNI and host name
// verification. Bounded by connect_timeout and the operation's deadline
// (resolving is bounded by the system resolver's own timeouts).
inline asio::awaitable<error_code> open_connection(connection_pool& st, connection& c, steady::time_point deadline,
                                                   std::string& message) {
    const auto limit = earliest(deadline, after(st.settings.connect_timeout));
    auto ex = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(ex);
    auto flags = st.ep.host_is_ip ? asio::ip::resolver_base::numeric_host : asio::ip::resolver_base::flags();
    auto [rec, results] =
        co_await resolver.async_resolve(st.ep.host, st.ep.port, flags, asio::as_tuple(asio::use_awaitable));
    if (rec) {
        message = "cannot resolve " + st.ep.host + ": " + rec.message();
        co_return rec;
    }
    // Name resolution cannot be abandoned: a cancellation that came while it
    // ran is seen here, before anything else starts.
    if (cancelled(co_await asio::this_coro::cancellation_state)) co_return asio::error::operation_aborted;
    auto& sock = c.lowest();
    c.dog->arm(limit);
    // Each address in turn, the socket opened here so that the watchdog
    // knows its descriptor before the connect starts.
    error_code cec = asio::error::host_not_found;
    for (const auto& entry : results) {
        error_code ignored;
        if (sock.is_open()) {
            c.dog->watch(static_cast<tcp_socket::native_handle_type>(-1));
            sock.close(ignored);
        }
        sock.open(entry.endpoint().protocol(), cec);
        if (cec) continue;
        c.dog->watch(sock.native_handle());
        auto [ec] = co_await sock.async_connect(entry.endpoint(), asio::as_tuple(asio::use_awaitable));
        cec = ec;
        if (!cec || c.dog->expired() || cec == asio::error::operation_aborted) break;
    }
    auto timed_out = [&] {
        if (!c.dog->expired()) return false;
        message = "timed out connecting to " + st.ep.host_header;
        return true;
    };
    if (cec) {
        c.dog->disarm();
        if (timed_out()) co_return make_error_code(errc::timeout);
        message = "cannot connect to " + st.ep.host_header + ": " + cec.message();
        co_return cec;
    }
    error_code ignored;
    sock.set_option(asio::ip::tcp::no_delay(true), ignored);
    if (cancelled(co_await asio::this_coro::cancellation_state)) {
        c.dog->disarm();
        co_return asio::error::operation_aborted;
    }
    if (c.tls) {
        if (!st.ep.host_is_ip && !SSL_set_tlsext_host_name(c.tls->native_handle(), st.ep.host.c_str())) {
            c.dog->disarm();
            message = "cannot set TLS server name";
            co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
        }
        if (st.settings.verify_peer) {
            // OpenSSL checks the name itself (RFC 6125), so a mismatch is
            // reported as such ("hostname mismatch") in the verify result.
            c.tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
            ::SSL* native = c.tls->native_handle();
            const int ok = st.ep.host_is_ip ? ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(native), st.ep.host.c_str())
                                            : ::SSL_set1_host(native, st.ep.host.c_str());
            if (ok != 1) {
                c.dog->disarm();
                message = "cannot set the TLS host name to verify";
                co_return make_error_code(errc::invalid_argument);
            }
        }
        auto [hec] = co_await c.tls->async_handshake(asio::as_tuple(asio::use_awaitable));
        c.dog->disarm();
        if (hec) {
            if (timed_out()) {
                message += " (during the TLS handshake)";
                co_return make_error_code(errc::timeout);
            }
            message = "TLS handshake with " + st.ep.host_header + " failed: " + hec.message();
            const long verify = ::SSL_get_verify_result(c.tls->native_handle());
            if (verify != X509_V_OK) {
                message += " (certificate verification: ";
                message += ::X509_verify_cert_error_string(verify);
                message += ')';
            }
            co_return hec;
        }
        co_return error_code{};
    }
    c.dog->disarm();
    co_return error_code{};
}

} // namespace polar::detail

#endif
