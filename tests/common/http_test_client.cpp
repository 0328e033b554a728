#include "http_test_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace polar_test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

} // namespace

std::string http_response::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (iequal(n, name))
            return v;
    return {};
}

bool http_response::has_header(std::string_view name) const {
    for (const auto& h : headers)
        if (iequal(h.first, name))
            return true;
    return false;
}

bool http_response::body_is_json() const {
    error_code ec;
    boost::json::parse(body, ec);
    return !ec;
}

std::string http_response::json(std::string_view pointer) const {
    error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec)
        return {};
    const boost::json::value* p = v.find_pointer(pointer, ec);
    return p ? boost::json::serialize(*p) : std::string();
}

std::string http_response::json_string(std::string_view pointer) const {
    error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec)
        return {};
    const boost::json::value* p = v.find_pointer(pointer, ec);
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
}

// -- http_test_client ------------------------------------------------------------------

struct http_test_client::impl {
    asio::io_context ioc{1};
    std::string host;
    std::string port;
    bool tls = false;
    std::string ca_pem;
    std::chrono::milliseconds timeout;
    std::optional<asio::ssl::context> ctx;
    std::optional<tcp::socket> sock;
    std::optional<asio::ssl::stream<tcp::socket>> tls_stream;
    boost::beast::flat_buffer buf;
    std::size_t connects = 0;
    bool open = false;

    tcp::socket& lowest() { return tls ? tls_stream->next_layer() : *sock; }

    void close() {
        if (sock || tls_stream) {
            error_code ec;
            lowest().close(ec);
        }
        open = false;
    }

    // Starts an operation and runs the private io_context until it completes
    // or the timeout expires (then the connection is closed).
    template <class Start>
    error_code run(Start&& start, std::chrono::milliseconds limit) {
        error_code result;
        bool done = false;
        start([&](error_code ec) {
            result = ec;
            done = true;
        });
        ioc.restart();
        ioc.run_for(limit);
        if (!done) {
            close();
            ioc.restart();
            ioc.run(); // the aborted operation completes now
            return asio::error::timed_out;
        }
        return result;
    }
    template <class Start>
    error_code run(Start&& start) {
        return run(std::forward<Start>(start), timeout);
    }

    template <class F>
    void with_stream(F&& f) {
        if (tls)
            f(*tls_stream);
        else
            f(*sock);
    }

    error_code connect() {
        if (open)
            return {};
        close();
        buf.clear();
        sock.reset();
        tls_stream.reset();
        if (tls)
            tls_stream.emplace(ioc, *ctx);
        else
            sock.emplace(ioc);

        tcp::resolver resolver(ioc);
        error_code ec;
        auto endpoints = resolver.resolve(host, port, ec);
        if (ec)
            return ec;
        ec = run([&](auto done) {
            asio::async_connect(lowest(), endpoints, [done](error_code ec, const tcp::endpoint&) { done(ec); });
        });
        if (ec)
            return ec;
        ++connects;
        lowest().set_option(tcp::no_delay(true), ec);
        if (tls) {
            SSL* ssl = tls_stream->native_handle();
            error_code addr_ec;
            asio::ip::make_address(host, addr_ec);
            if (addr_ec) {
                SSL_set_tlsext_host_name(ssl, host.c_str());
                SSL_set1_host(ssl, host.c_str());
            } else {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
            }
            ec = run([&](auto done) {
                tls_stream->async_handshake(asio::ssl::stream_base::client, [done](error_code ec) { done(ec); });
            });
            if (ec) {
                close();
                return ec;
            }
        }
        open = true;
        return {};
    }

    error_code write(std::string_view bytes) {
        if (!open)
            return asio::error::not_connected;
        error_code ec = run([&](auto done) {
            with_stream([&](auto& s) {
                asio::async_write(s, asio::buffer(bytes.data(), bytes.size()),
                                  [done](error_code ec, std::size_t) { done(ec); });
            });
        });
        if (ec)
            close();
        return ec;
    }

    error_code read_response(http_response& out, std::size_t max_body) {
        if (!open)
            return asio::error::not_connected;
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_body);
        error_code ec = run([&](auto done) {
            with_stream([&](auto& s) {
                http::async_read(s, buf, parser, [done](error_code ec, std::size_t) { done(ec); });
            });
        });
        if (ec) {
            close();
            return ec;
        }
        auto& msg = parser.get();
        out = http_response{};
        out.status = static_cast<int>(msg.result_int());
        for (const auto& f : msg)
            out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        out.body = std::move(msg.body());
        out.keep_alive = msg.keep_alive();
        if (!out.keep_alive)
            close();
        return {};
    }
};

http_test_client::http_test_client(std::string base_url, std::string ca_pem, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
    impl_->timeout = timeout;
    impl_->ca_pem = std::move(ca_pem);
    std::string_view url = base_url;
    if (url.substr(0, 8) == "https://") {
        impl_->tls = true;
        url.remove_prefix(8);
    } else if (url.substr(0, 7) == "http://") {
        url.remove_prefix(7);
    } else {
        throw std::invalid_argument("http_test_client: bad base url " + base_url);
    }
    while (!url.empty() && url.back() == '/')
        url.remove_suffix(1);
    auto colon = url.rfind(':');
    if (colon == std::string_view::npos || (url.front() == '[' && url.find(']') > colon))
        throw std::invalid_argument("http_test_client: base url needs a port: " + base_url);
    std::string_view host = url.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[')
        host = host.substr(1, host.size() - 2);
    impl_->host = std::string(host);
    impl_->port = std::string(url.substr(colon + 1));
    if (impl_->tls) {
        impl_->ctx.emplace(asio::ssl::context::tls_client);
        impl_->ctx->set_verify_mode(asio::ssl::verify_peer);
        if (!impl_->ca_pem.empty())
            impl_->ctx->add_certificate_authority(asio::buffer(impl_->ca_pem));
    }
}

http_test_client::~http_test_client() { impl_->close(); }

error_code http_test_client::connect() { return impl_->connect(); }

error_code http_test_client::request(const http_request& req, http_response& out) {
    if (auto ec = impl_->connect())
        return ec;
    std::string msg;
    msg.reserve(256 + req.body.size());
    msg += req.method;
    msg += ' ';
    msg += req.target;
    msg += " HTTP/1.1\r\nHost: ";
    msg += impl_->host.find(':') != std::string::npos ? "[" + impl_->host + "]" : impl_->host;
    msg += ':';
    msg += impl_->port;
    msg += "\r\n";
    if (!req.bearer.empty())
        msg += "Authorization: Bearer " + req.bearer + "\r\n";
    bool has_body = !req.body.empty() || req.method == "POST" || req.method == "PATCH" || req.method == "PUT";
    if (has_body) {
        if (!req.body.empty() && !req.content_type.empty())
            msg += "Content-Type: " + req.content_type + "\r\n";
        msg += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
    }
    for (const auto& [n, v] : req.headers)
        msg += n + ": " + v + "\r\n";
    msg += "\r\n";
    msg += req.body;
    if (auto ec = impl_->write(msg))
        return ec;
    return impl_->read_response(out, std::size_t(64) << 20);
}

http_response http_test_client::get(std::string_view target, std::string_view bearer) {
    return send("GET", target, {}, bearer);
}

http_response http_test_client::send(std::string_view method, std::string_view target, std::string_view body,
                                     std::string_view bearer) {
    http_request req;
    req.method = std::string(method);
    req.target = std::string(target);
    req.body = std::string(body);
    req.bearer = std::string(bearer);
    http_response out;
    if (auto ec = request(req, out))
        throw boost::system::system_error(ec, std::string(method) + " " + std::string(target));
    return out;
}

error_code http_test_client::write_raw(std::string_view bytes) {
    if (auto ec = impl_->connect())
        return ec;
    return impl_->write(bytes);
}

error_code http_test_client::read_raw(std::string& out, std::chrono::milliseconds timeout) {
    if (!impl_->open)
        return asio::error::not_connected;
    auto& buf = impl_->buf;
    auto data = buf.data();
    out.append(static_cast<const char*>(data.data()), data.size());
    buf.consume(buf.size());
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            impl_->close();
            return asio::error::timed_out;
        }
        char chunk[16 * 1024];
        std::size_t got = 0;
        error_code ec = impl_->run(
            [&](auto done) {
                impl_->with_stream([&](auto& s) {
                    s.async_read_some(asio::buffer(chunk), [done, &got](error_code ec, std::size_t n) {
                        got = n;
                        done(ec);
                    });
                });
            },
            left);
        out.append(chunk, got);
        if (ec) {
            impl_->close();
            return ec;
        }
    }
}

error_code http_test_client::read_response(http_response& out, std::size_t max_body) {
    return impl_->read_response(out, max_body);
}

bool http_test_client::is_open() const { return impl_->open; }
void http_test_client::close() { impl_->close(); }
std::size_t http_test_client::connects() const { return impl_->connects; }
void http_test_client::set_timeout(std::chrono::milliseconds t) { impl_->timeout = t; }

// -- running_emulator ---------------------------------------------------------------------

struct running_emulator::impl {
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
    std::optional<polar::testing::emulator> srv;
    std::vector<std::thread> threads;
};

running_emulator::running_emulator(polar::testing::emulator_options opts, int threads)
    : impl_(std::make_unique<impl>()) {
    impl_->srv.emplace(impl_->ioc.get_executor(), std::move(opts));
    impl_->srv->start();
    for (int i = 0; i < threads; ++i)
        impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

running_emulator::~running_emulator() {
    impl_->srv->stop();
    impl_->guard.reset();
    auto srv = &*impl_->srv;
    wait_until([srv] { return srv->counters().open_connections() == 0; }, std::chrono::seconds(3));
    impl_->ioc.stop();
    for (auto& t : impl_->threads)
        t.join();
    impl_->srv.reset();
}

polar::testing::emulator& running_emulator::server() { return *impl_->srv; }

std::unique_ptr<http_test_client> running_emulator::client(std::chrono::milliseconds timeout) {
    return std::make_unique<http_test_client>(impl_->srv->base_url(), impl_->srv->certificate_pem(), timeout);
}

void running_emulator::run_on_context(std::function<void()> f) {
    std::promise<void> p;
    auto fut = p.get_future();
    asio::post(impl_->ioc, [&] {
        f();
        p.set_value();
    });
    fut.get();
}

bool running_emulator::wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (pred())
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return pred();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// -- child_process ------------------------------------------------------------------------------

child_process::child_process(std::vector<std::string> argv) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    std::vector<char*> args;
    for (auto& a : argv)
        args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    pid_ = pid;
    out_fd_ = fds[0];
}

child_process::~child_process() {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
    }
    if (out_fd_ >= 0)
        ::close(out_fd_);
}

std::string child_process::wait_for_line(std::string_view needle, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        // Complete lines not scanned yet.
        for (;;) {
            auto nl = output_.find('\n', scanned_);
            if (nl == std::string::npos)
                break;
            std::string line = output_.substr(scanned_, nl - scanned_);
            scanned_ = nl + 1;
            if (line.find(needle) != std::string::npos)
                return line;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || out_fd_ < 0)
            return {};
        pollfd p{out_fd_, POLLIN, 0};
        int rc = ::poll(&p, 1, static_cast<int>(left.count()));
        if (rc <= 0)
            continue;
        char buf[4096];
        ssize_t n = ::read(out_fd_, buf, sizeof buf);
        if (n <= 0) {
            ::close(out_fd_);
            out_fd_ = -1;
            return {};
        }
        output_.append(buf, static_cast<std::size_t>(n));
    }
}

void child_process::signal(int sig) {
    if (pid_ > 0 && !reaped_)
        ::kill(pid_, sig);
}

int child_process::wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int st = 0;
        pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            if (out_fd_ >= 0) { // collect the remaining output
                char buf[4096];
                ssize_t n;
                while ((n = ::read(out_fd_, buf, sizeof buf)) > 0)
                    output_.append(buf, static_cast<std::size_t>(n));
            }
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (std::chrono::steady_clock::now() >= deadline)
            return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

bool is_eof(const error_code& ec) {
    return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}
bool is_timeout(const error_code& ec) { return ec == asio::error::timed_out; }
bool is_partial_message(const error_code& ec) { return ec == http::error::partial_message; }
bool is_body_limit(const error_code& ec) { return ec == http::error::body_limit; }

std::string emulator_binary_path() {
    if (const char* env = std::getenv("POLAR_EMULATOR_BIN"))
        return env;
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return {};
    self[n] = '\0';
    std::string dir(self);
    dir.erase(dir.rfind('/'));
    for (const char* rel : {"/../polar-emulator", "/polar-emulator", "/../../polar-emulator"}) {
        std::string p = dir + rel;
        if (::access(p.c_str(), X_OK) == 0)
            return p;
    }
    return {};
}

} // namespace polar_test
