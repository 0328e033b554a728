//
// polar-cpp: one pooled connection to the server, plain TCP or TLS (internal).
//
#ifndef POLAR_DETAIL_TRANSPORT_CONNECTION_HPP
#define POLAR_DETAIL_TRANSPORT_CONNECTION_HPP

#include <polar/detail/transport/tls_stream.hpp>
#include <polar/detail/transport/watchdog.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace polar::detail {

namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;

/**
 * A socket (TLS or plain) with its watchdog, the buffer responses are read
 * into and the request being sent. Owned by one operation at a time, or
 * idle in the pool; closing it is destroying it.
 */
struct connection {
    connection(const asio::any_io_executor& ex, ssl::context* ctx) : dog(std::make_shared<watchdog>(ex)) {
        if (ctx)
            tls.emplace(ex, *ctx);
        else
            plain.emplace(ex);
    }
    ~connection() { dog->release(); }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    tcp_socket& lowest() { return tls ? tls->next_layer() : *plain; }

    std::optional<tls_stream> tls; // OpenSSL on the socket itself: about 19 KiB when idle
    std::optional<tcp_socket> plain;
    std::shared_ptr<watchdog> dog;
    beast::flat_buffer buffer;
    std::string wire; // the request being sent; keeps its capacity between requests
    steady::time_point last_used{};
    std::size_t requests = 0;
};

} // namespace polar::detail

#endif
