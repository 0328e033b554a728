//
// polar-cpp: a TLS stream in which OpenSSL reads and writes the socket itself.
//
// Internal: the transport of pooled HTTPS connections. Not part of any public
// header.
//
// Why not boost::asio::ssl::stream
// --------------------------------
// asio::ssl::stream runs OpenSSL over a memory BIO pair and moves the bytes
// between that pair and the socket itself. That costs, per connection and
// for as long as the connection lives, two 17 KiB zero-filled staging
// vectors in the stream core and two 17 KiB ring buffers in the BIO pair:
// about 80 KiB of resident memory for a connection that sits idle in the
// pool. Here OpenSSL does its own socket I/O, so with SSL_MODE_RELEASE_BUFFERS
// an idle connection holds only the SSL object and its session; OpenSSL's
// record buffers exist only while a record is being read or written.
//
// Design
// ------
// The socket is non-blocking and attached to the SSL object through a
// minimal socket BIO (below) on the first handshake. Each operation is an
// async_compose state machine: call SSL_do_handshake / SSL_read_ex /
// SSL_write_ex; on SSL_ERROR_WANT_READ or WANT_WRITE wait for the socket to
// become readable or writable (socket::async_wait) and call it again. The
// wait carries the operation's cancellation slot, so per-operation
// cancellation cancels the wait. An operation that finishes on its first
// try (e.g. a read served from a record OpenSSL already holds) is posted
// before completing: no operation completes inside its initiating function.
//
// The BIO does what OpenSSL's own socket BIO (SSL_set_fd) does, with two
// differences: it sends with MSG_NOSIGNAL, because OpenSSL's socket BIO uses
// write(2) on POSIX, which raises SIGPIPE (killing the process by default)
// when the peer has gone, e.g. after the client's watchdog shut the socket
// down; and it records the errno of a failed recv/send, so that errors are
// reported reliably even if OpenSSL touches errno on its way out.
//
// Errors are those of asio::ssl::stream: a close_notify from the peer gives
// asio::error::eof; the transport closing without one gives
// asio::ssl::error::stream_truncated; a socket error gives that system
// error; a TLS failure gives the OpenSSL error in asio's SSL category (the
// certificate verification result stays in SSL_get_verify_result).
//
// Only the first non-empty buffer of a buffer sequence is used per
// read_some/write_some (as asio::ssl::stream does); an empty one completes
// with 0 bytes.
//
#ifndef POLAR_DETAIL_TRANSPORT_TLS_STREAM_HPP
#define POLAR_DETAIL_TRANSPORT_TLS_STREAM_HPP

#include <polar/detail/config.hpp>
#include <polar/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/ssl/verify_mode.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstddef>
#include <type_traits>

#ifndef _WIN32
#include <sys/socket.h>
#include <sys/types.h>
#endif

namespace polar::detail {

/// What the socket BIO of one tls_stream knows about its socket.
struct tls_socket_state {
    boost::asio::ip::tcp::socket::native_handle_type fd{};
    /// Error of the last failed recv/send that cannot be retried (0: none).
    int last_error = 0;
    /// recv returned 0: the peer closed its side of the connection.
    bool eof = false;
};

// The socket BIO. OpenSSL calls these for every record it reads or writes;
// the BIO's data is the owning stream's tls_socket_state.

inline int tls_socket_error() noexcept {
#ifdef _WIN32
    return ::WSAGetLastError();
#else
    return errno;
#endif
}

inline bool tls_socket_would_block(int e) noexcept {
#ifdef _WIN32
    return e == WSAEWOULDBLOCK || e == WSAEINTR;
#else
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
#endif
}

inline int tls_bio_read(BIO* b, char* out, int len) {
    auto& st = *static_cast<tls_socket_state*>(::BIO_get_data(b));
    ::BIO_clear_retry_flags(b);
    if (out == nullptr || len <= 0) return 0;
#ifdef _WIN32
    const int n = ::recv(st.fd, out, len, 0);
#else
    const auto n = ::recv(st.fd, out, static_cast<std::size_t>(len), MSG_DONTWAIT);
#endif
    if (n > 0) return static_cast<int>(n);
    if (n == 0) {
        st.eof = true;
        return 0;
    }
    const int e = tls_socket_error();
    if (tls_socket_would_block(e))
        ::BIO_set_retry_read(b);
    else
        st.last_error = e;
    return -1;
}

inline int tls_bio_write(BIO* b, const char* in, int len) {
    auto& st = *static_cast<tls_socket_state*>(::BIO_get_data(b));
    ::BIO_clear_retry_flags(b);
    if (in == nullptr || len <= 0) return 0;
#ifdef _WIN32
    const int n = ::send(st.fd, in, len, 0);
#else
#ifdef MSG_NOSIGNAL
    constexpr int flags = MSG_DONTWAIT | MSG_NOSIGNAL;
#else
    constexpr int flags = MSG_DONTWAIT;  // SO_NOSIGPIPE is set on the socket instead
#endif
    const auto n = ::send(st.fd, in, static_cast<std::size_t>(len), flags);
#endif
    if (n >= 0) return static_cast<int>(n);
    const int e = tls_socket_error();
    if (tls_socket_would_block(e))
        ::BIO_set_retry_write(b);
    else
        st.last_error = e;
    return -1;
}

inline long tls_bio_ctrl(BIO* b, int cmd, long num, void* ptr) {
    auto* st = static_cast<tls_socket_state*>(::BIO_get_data(b));
    switch (cmd) {
    case BIO_C_GET_FD:  // SSL_get_fd
        if (st == nullptr) return -1;
        if (ptr != nullptr) *static_cast<int*>(ptr) = static_cast<int>(st->fd);
        return static_cast<long>(st->fd);
    case BIO_CTRL_EOF:  // lets OpenSSL tell a truncated stream from other errors
        return st != nullptr && st->eof ? 1 : 0;
    case BIO_CTRL_GET_CLOSE:
        return ::BIO_get_shutdown(b);
    case BIO_CTRL_SET_CLOSE:
        ::BIO_set_shutdown(b, static_cast<int>(num));
        return 1;
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DUP:
        return 1;
    default:
        return 0;
    }
}

inline int tls_bio_create(BIO* b) {
    ::BIO_set_shutdown(b, BIO_NOCLOSE);  // the socket belongs to the stream
    return 1;
}

inline int tls_bio_destroy(BIO*) { return 1; }

/// The BIO method, created once per program and never freed (SSL objects
/// still alive during static destruction may use it).
inline BIO_METHOD* tls_bio_method() {
    static BIO_METHOD* const method = [] {
        const int index = ::BIO_get_new_index();
        if (index == -1) return static_cast<BIO_METHOD*>(nullptr);
        BIO_METHOD* m = ::BIO_meth_new(index | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "polar tls socket");
        if (m == nullptr) return m;
        if (::BIO_meth_set_read(m, &tls_bio_read) != 1 || ::BIO_meth_set_write(m, &tls_bio_write) != 1 ||
            ::BIO_meth_set_ctrl(m, &tls_bio_ctrl) != 1 || ::BIO_meth_set_create(m, &tls_bio_create) != 1 ||
            ::BIO_meth_set_destroy(m, &tls_bio_destroy) != 1) {
            ::BIO_meth_free(m);
            return static_cast<BIO_METHOD*>(nullptr);
        }
        return m;
    }();
    return method;
}

/**
 * @brief A client (or server) TLS stream over a TCP socket, with OpenSSL
 * doing the socket I/O (see the top of this file).
 *
 * @details Usage: open and connect `next_layer()`, configure
 * `native_handle()` (SNI, host name to verify), then `async_handshake`. The
 * stream is an AsyncReadStream and AsyncWriteStream: Beast's http::async_read,
 * asio::async_write and every Asio completion token work with it.
 *
 * Errors: as asio::ssl::stream (see the top of this file).
 *
 * Cancellation: every operation honours its handler's cancellation slot.
 * async_read_some accepts terminal, partial and total cancellation and
 * leaves the stream usable: nothing has been taken from the connection that
 * a later read will not return. async_write_some and async_handshake accept
 * terminal cancellation only: a record may have been partly sent, so after a
 * cancelled write or handshake the connection must be closed. A cancelled
 * operation completes with asio::error::operation_aborted.
 *
 * Executor: intermediate waits run on the socket's executor unless the
 * handler has its own; completions are delivered as Asio does (the handler's
 * associated executor). No operation completes inside its initiating
 * function.
 *
 * Thread safety: distinct objects, safe; a shared object, unsafe. At most
 * one operation (handshake, read or write) may be outstanding at a time,
 * and operations must be started from the socket's executor (or strand).
 *
 * Lifetimes: the stream must outlive its operations; buffers must stay
 * valid until the operation completes. The SSL object keeps the SSL_CTX
 * alive, but callbacks set through asio::ssl::context (verify, password)
 * belong to the context object: keep it alive as long as the stream.
 */
class tls_stream {
public:
    using executor_type = boost::asio::any_io_executor;
    using next_layer_type = boost::asio::ip::tcp::socket;
    using lowest_layer_type = next_layer_type::lowest_layer_type;
    using native_handle_type = SSL*;

    /// Creates the SSL object (SSL_new) with SSL_MODE_RELEASE_BUFFERS,
    /// SSL_MODE_ENABLE_PARTIAL_WRITE and SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER.
    /// Throws boost::system::system_error if OpenSSL fails.
    tls_stream(const executor_type& ex, boost::asio::ssl::context& ctx) : socket_(ex) {
        ::ERR_clear_error();
        ssl_ = ::SSL_new(ctx.native_handle());
        if (ssl_ == nullptr) throw_openssl_error("SSL_new");
        ::SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        // Read whole socket buffers rather than a record header and then its
        // body: half the recv calls. It costs no memory: the read buffer
        // has the same size either way and is released once empty.
        ::SSL_set_read_ahead(ssl_, 1);
    }

    ~tls_stream() { ::SSL_free(ssl_); }

    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;

    executor_type get_executor() noexcept { return socket_.get_executor(); }
    next_layer_type& next_layer() noexcept { return socket_; }
    const next_layer_type& next_layer() const noexcept { return socket_; }
    lowest_layer_type& lowest_layer() noexcept { return socket_.lowest_layer(); }
    SSL* native_handle() noexcept { return ssl_; }

    /// SSL_set_verify on this connection, keeping the verify callback.
    void set_verify_mode(boost::asio::ssl::verify_mode v) noexcept {
        ::SSL_set_verify(ssl_, static_cast<int>(v), ::SSL_get_verify_callback(ssl_));
    }

    /**
     * @brief Performs the client side of the TLS handshake.
     *
     * @details Signature `void(error_code)`. The socket must be connected;
     * it is made non-blocking and attached to the SSL object on first use.
     * Set SNI and the name to verify on `native_handle()` first.
     */
    template <class Token>
        requires(!std::is_convertible_v<Token, boost::asio::ssl::stream_base::handshake_type>)
    auto async_handshake(Token&& token) {
        return async_handshake(boost::asio::ssl::stream_base::client, static_cast<Token&&>(token));
    }

    /// The same as a client or, with `stream_base::server`, as a server (the
    /// context then needs a certificate and key).
    template <class Token>
    auto async_handshake(boost::asio::ssl::stream_base::handshake_type type, Token&& token) {
        return boost::asio::async_compose<Token, void(error_code)>(
            io_op<handshake_action>(*this, handshake_action{type == boost::asio::ssl::stream_base::server}),
            token, socket_);
    }

    /// Reads at least one byte into the first non-empty buffer. Signature
    /// `void(error_code, std::size_t)`.
    template <class MutableBufferSequence,
              class Token = boost::asio::default_completion_token_t<executor_type>>
    auto async_read_some(const MutableBufferSequence& buffers,
                         Token&& token = boost::asio::default_completion_token_t<executor_type>()) {
        const auto b = first_non_empty<boost::asio::mutable_buffer>(buffers);
        return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
            io_op<read_action>(*this, read_action{b.data(), b.size()}), token, socket_);
    }

    /// Writes at least one byte of the first non-empty buffer. Signature
    /// `void(error_code, std::size_t)`.
    template <class ConstBufferSequence,
              class Token = boost::asio::default_completion_token_t<executor_type>>
    auto async_write_some(const ConstBufferSequence& buffers,
                          Token&& token = boost::asio::default_completion_token_t<executor_type>()) {
        const auto b = first_non_empty<boost::asio::const_buffer>(buffers);
        return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
            io_op<write_action>(*this, write_action{b.data(), b.size()}), token, socket_);
    }

private:
    enum class want { nothing, read, write };

    // The first buffer of `buffers` that is not empty (an empty one if none is).
    template <class Buffer, class BufferSequence>
    static Buffer first_non_empty(const BufferSequence& buffers) {
        Buffer b;
        const auto end = boost::asio::buffer_sequence_end(buffers);
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != end; ++it) {
            b = Buffer(*it);
            if (b.size() != 0) break;
        }
        return b;
    }

    // One attempt of each operation; `n` receives the bytes transferred.
    struct handshake_action {
        static constexpr bool has_size = false;
        bool server = false;
        bool empty() const noexcept { return false; }
        int operator()(SSL* ssl, std::size_t&) const { return ::SSL_do_handshake(ssl); }
    };
    struct read_action {
        static constexpr bool has_size = true;
        void* data;
        std::size_t size;
        bool empty() const noexcept { return size == 0; }
        int operator()(SSL* ssl, std::size_t& n) const { return ::SSL_read_ex(ssl, data, size, &n); }
    };
    struct write_action {
        static constexpr bool has_size = true;
        const void* data;
        std::size_t size;
        bool empty() const noexcept { return size == 0; }
        int operator()(SSL* ssl, std::size_t& n) const { return ::SSL_write_ex(ssl, data, size, &n); }
    };

    template <class Action>
    class io_op {
    public:
        io_op(tls_stream& s, Action a) : s_(&s), action_(a) {}

        template <class Self>
        void operator()(Self& self, error_code ec = {}) {
            switch (state_) {
            case state::start:
                if constexpr (std::is_same_v<Action, read_action>)
                    self.reset_cancellation_state(boost::asio::enable_total_cancellation());
                if (self.cancelled() != boost::asio::cancellation_type::none) {
                    ec_ = boost::asio::error::operation_aborted;
                    return post_completion(self);
                }
                if constexpr (std::is_same_v<Action, handshake_action>) {
                    s_->attach(ec_);
                    if (ec_) return post_completion(self);
                    if (action_.server)
                        ::SSL_set_accept_state(s_->ssl_);
                    else
                        ::SSL_set_connect_state(s_->ssl_);
                }
                if (action_.empty()) return post_completion(self);
                break;
            case state::waiting:
                if (ec) return complete(self, ec);
                break;
            case state::posted:
                if (action_.empty() && !ec_ && self.cancelled() != boost::asio::cancellation_type::none)
                    ec_ = boost::asio::error::operation_aborted;
                return complete(self, ec_);
            }

            const want w = s_->perform(action_, ec_, n_);
            if constexpr (std::is_same_v<Action, read_action>) {
                if (w == want::nothing && !ec_) s_->release_idle_buffers();
            }
            if (w == want::nothing) {
                if (state_ == state::start) return post_completion(self);
                return complete(self, ec_);
            }
            if (self.cancelled() != boost::asio::cancellation_type::none)
                return complete(self, boost::asio::error::operation_aborted);
            state_ = state::waiting;
            s_->socket_.async_wait(w == want::read ? next_layer_type::wait_read : next_layer_type::wait_write,
                                   std::move(self));
        }

    private:
        enum class state : unsigned char { start, waiting, posted };

        template <class Self>
        void post_completion(Self& self) {
            state_ = state::posted;
            boost::asio::post(s_->socket_.get_executor(), std::move(self));
        }

        template <class Self>
        void complete(Self& self, error_code ec) {
            if constexpr (Action::has_size)
                self.complete(ec, ec ? std::size_t(0) : n_);
            else
                self.complete(ec);
        }

        tls_stream* s_;
        Action action_;
        error_code ec_;
        std::size_t n_ = 0;
        state state_ = state::start;
    };

    // Attaches the socket to the SSL object (once per socket).
    void attach(error_code& ec) {
        if (!socket_.is_open()) {
            ec = boost::asio::error::bad_descriptor;
            return;
        }
        socket_.non_blocking(true, ec);
        if (ec) return;
#if !defined(_WIN32) && !defined(MSG_NOSIGNAL) && defined(SO_NOSIGPIPE)
        const int one = 1;
        if (::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) != 0) {
            ec = error_code(errno, boost::asio::error::get_system_category());
            return;
        }
#endif
        sock_.fd = socket_.native_handle();
        sock_.last_error = 0;
        sock_.eof = false;
        if (::SSL_get_rbio(ssl_) != nullptr) return;
        ::ERR_clear_error();
        BIO_METHOD* method = tls_bio_method();
        BIO* bio = method != nullptr ? ::BIO_new(method) : nullptr;
        if (bio == nullptr) {
            ec = openssl_error();
            return;
        }
        ::BIO_set_data(bio, &sock_);
        ::BIO_set_init(bio, 1);
        ::SSL_set_bio(ssl_, bio, bio);  // one reference, owned by the SSL object
    }

    // SSL_MODE_RELEASE_BUFFERS frees the read buffer once it is empty and
    // the write buffer after a write. But a TLS 1.3 NewSessionTicket, which
    // arrives with the first response, makes SSL_read set up both buffers,
    // and the write buffer then stays until the next write: 16 KiB for as
    // long as the connection sits idle. Nothing is freed while OpenSSL still
    // holds unread or unsent bytes.
    void release_idle_buffers() noexcept {
        if (::SSL_has_pending(ssl_) == 0) ::SSL_free_buffers(ssl_);
    }

    template <class Action>
    want perform(const Action& action, error_code& ec, std::size_t& n) {
        sock_.last_error = 0;
        n = 0;
        ::ERR_clear_error();
        const int ret = action(ssl_, n);
        return result(ret, ec);
    }

    // Classifies the outcome of an SSL call that returned `ret`, mapping
    // errors as asio::ssl::stream does, and leaves the error queue empty.
    want result(int ret, error_code& ec) {
        namespace ssl_error = boost::asio::ssl::error;
        ec = {};
        switch (::SSL_get_error(ssl_, ret)) {
        case SSL_ERROR_NONE:
            return want::nothing;
        case SSL_ERROR_WANT_READ:
            return want::read;
        case SSL_ERROR_WANT_WRITE:
            return want::write;
        case SSL_ERROR_ZERO_RETURN:
            ec = boost::asio::error::eof;
            break;
        case SSL_ERROR_SYSCALL:
            if (sock_.last_error != 0) {
                ec = error_code(sock_.last_error, boost::asio::error::get_system_category());
            } else if (const unsigned long e = ::ERR_peek_error(); e != 0) {
                ec = error_code(static_cast<int>(e), boost::asio::error::get_ssl_category());
            } else {
                ec = ssl_error::stream_truncated;
            }
            break;
        case SSL_ERROR_SSL:
            ec = openssl_error();
            break;
        default:
            ec = ssl_error::unexpected_result;
            break;
        }
        ::ERR_clear_error();
        return want::nothing;
    }

    // The first error in the queue; an unexpected EOF (OpenSSL 3 reports it
    // as a protocol error) is a truncated stream.
    static error_code openssl_error() {
        const unsigned long e = ::ERR_get_error();
        ::ERR_clear_error();
        if (e == 0) return boost::asio::ssl::error::unexpected_result;
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
        if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return boost::asio::ssl::error::stream_truncated;
#endif
        return error_code(static_cast<int>(e), boost::asio::error::get_ssl_category());
    }

    [[noreturn]] static void throw_openssl_error(const char* what) {
        const unsigned long e = ::ERR_get_error();
        ::ERR_clear_error();
        boost::throw_exception(boost::system::system_error(
            error_code(static_cast<int>(e), boost::asio::error::get_ssl_category()), what));
    }

    next_layer_type socket_;
    tls_socket_state sock_;
    SSL* ssl_ = nullptr;
};

} // namespace polar::detail

#endif
