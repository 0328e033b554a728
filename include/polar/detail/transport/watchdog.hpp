//
// polar-cpp: the deadline watchdog of a pooled connection, and the deadline
// arithmetic the transport and the operations share (internal).
//
#ifndef POLAR_DETAIL_TRANSPORT_WATCHDOG_HPP
#define POLAR_DETAIL_TRANSPORT_WATCHDOG_HPP

#include <polar/detail/config.hpp>
#include <polar/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#ifndef _WIN32
#include <sys/socket.h>
#endif

namespace polar::detail {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using tcp_socket = asio::ip::tcp::socket;

/// The earlier of two deadlines.
inline steady::time_point earliest(steady::time_point a, steady::time_point b) { return a < b ? a : b; }

/// The deadline `d` from now; time_point::max() (no deadline) for a zero `d`.
inline steady::time_point after(std::chrono::milliseconds d) {
    return d.count() > 0 ? steady::now() + d : steady::time_point::max();
}

/**
 * Bounds a connection's I/O by a deadline without serializing the operation
 * on a strand. When the deadline passes, the timer's handler shuts the socket
 * down: a call on the descriptor, safe from any thread, that makes the pending
 * connect, handshake, write or read fail at once. The owner then asks
 * expired() to tell a timeout from a peer's reset. Everything is under `m_`
 * because the handler may run on another thread of a multi-threaded executor.
 * One timer wait per attempt, against one per socket operation (two or three
 * per request) with beast::tcp_stream.
 */
class watchdog : public std::enable_shared_from_this<watchdog> {
public:
    explicit watchdog(const asio::any_io_executor& ex) : timer_(ex) {}

    /// The descriptor to shut down when the deadline passes.
    void watch(tcp_socket::native_handle_type fd) {
        std::lock_guard lk(m_);
        fd_ = fd;
    }

    /// Starts watching until `deadline` (time_point::max(): no limit).
    void arm(steady::time_point deadline) {
        std::lock_guard lk(m_);
        expired_ = false;
        if (deadline == steady::time_point::max()) return;
        const auto gen = ++gen_;
        timer_.expires_at(deadline);
        timer_.async_wait([self = shared_from_this(), gen](error_code ec) { self->on_timer(gen, ec); });
        armed_ = true;
    }

    /// Stops watching; a pending timer wait is cancelled so that it does not
    /// keep the executor's run() going.
    void disarm() {
        std::lock_guard lk(m_);
        stop_timer();
    }

    /// Whether the deadline passed (and the socket was shut down) since arm().
    bool expired() {
        std::lock_guard lk(m_);
        return expired_;
    }

    /// The socket is about to close: never touch its descriptor again.
    void release() {
        std::lock_guard lk(m_);
        fd_ = invalid;
        stop_timer();
    }

private:
    static constexpr tcp_socket::native_handle_type invalid = static_cast<tcp_socket::native_handle_type>(-1);

    void stop_timer() {
        if (!armed_) return;
        ++gen_;
        timer_.cancel();
        armed_ = false;
    }

    void on_timer(std::uint64_t gen, error_code ec) {
        std::lock_guard lk(m_);
        if (ec || gen != gen_) return;
        armed_ = false;
        expired_ = true;
        if (fd_ == invalid) return;
#ifdef _WIN32
        ::shutdown(fd_, SD_BOTH);
#else
        ::shutdown(fd_, SHUT_RDWR);
#endif
    }

    std::mutex m_;
    asio::steady_timer timer_;
    tcp_socket::native_handle_type fd_ = invalid;
    std::uint64_t gen_ = 0;
    bool armed_ = false;
    bool expired_ = false;
};

} // namespace polar::detail

#endif
