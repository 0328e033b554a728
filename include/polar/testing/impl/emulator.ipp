//
// polar-cpp testing: the emulator's HTTP/HTTPS server.
//
// One session object per connection, driven by plain asynchronous operations
// on the connection's strand. The request parser is a basic_parser that copies
// the few fields the emulator needs into buffers owned by the session, and
// responses are serialized by hand into a reused string, so that a keep-alive
// connection in steady state does not allocate in the server (faults, which
// write deliberately broken responses, need the hand-written serializer anyway).
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_IPP
#define POLAR_TESTING_IMPL_EMULATOR_IPP

#include <polar/testing/emulator.hpp>
#include <polar/testing/emulator_state.hpp>
#include <polar/testing/impl/tls_cert.ipp>
#include <polar/testing/impl/emulator_state_versions.ipp>
#include <polar/testing/impl/emulator_rate_limit.ipp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <charconv>
#include <atomic>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

namespace polar::testing {
namespace detail {

namespace em_asio = boost::asio;
namespace em_http = boost::beast::http;
using em_tcp = boost::asio::ip::tcp;
using em_error_code = boost::system::error_code;
using em_clock = std::chrono::steady_clock;

// -- routes -------------------------------------------------------------------------

// The path of an origin-form target (without the query).
inline std::string_view target_path(std::string_view target) noexcept {
    auto q = target.find_first_of("?#");
    return q == std::string_view::npos ? target : target.substr(0, q);
}

// Matches "METHOD /a/{x}/b" (or "*", "METHOD *", "* /path", a trailing "/*")
// against a method and a path, segment by segment.
inline bool route_matches(std::string_view pattern, std::string_view method, std::string_view path) noexcept {
    if (pattern == "*")
        return true;
    auto sp = pattern.find(' ');
    std::string_view pm = sp == std::string_view::npos ? pattern : pattern.substr(0, sp);
    std::string_view pp = sp == std::string_view::npos ? std::string_view("*") : pattern.substr(sp + 1);
    if (pm != "*" && pm != method)
        return false;
    if (pp == "*")
        return true;
    for (;;) {
        auto ps = pp.find('/');
        auto xs = path.find('/');
        std::string_view pseg = pp.substr(0, ps);
        std::string_view xseg = path.substr(0, xs);
        if (pseg == "*" && ps == std::string_view::npos)
            return true;
        bool wildcard = pseg.size() >= 2 && pseg.front() == '{' && pseg.back() == '}';
        if (wildcard ? xseg.empty() : pseg != xseg)
            return false;
        if (ps == std::string_view::npos || xs == std::string_view::npos)
            return ps == xs;
        pp.remove_prefix(ps + 1);
        path.remove_prefix(xs + 1);
    }
}

// Writes the counter name of a request into `out` ("GET /v1/meters/{id}" for
// the API's endpoints, "METHOD /raw/path" for anything else).
inline void canonical_route(std::string_view method, std::string_view path, std::string& out) {
    out.assign(method);
    out += ' ';
    constexpr std::string_view meters = "/v1/meters/";
    if (path.substr(0, meters.size()) == meters && path.size() > meters.size()) {
        std::string_view rest = path.substr(meters.size());
        auto slash = rest.find('/');
        std::string_view tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
        if (slash != 0 && (tail.empty() || tail == "/events" || tail == "/quantities")) {
            out += "/v1/meters/{id}";
            out += tail;
            return;
        }
    }
    // The dated versions' GET /v1/events/{id} and /v1/customer-meters/{id}.
    for (std::string_view prefix : {std::string_view("/v1/events/"), std::string_view("/v1/customer-meters/")}) {
        if (path.substr(0, prefix.size()) != prefix || path.size() == prefix.size()) continue;
        const std::string_view rest = path.substr(prefix.size());
        if (rest.find('/') != std::string_view::npos || rest == "ingest") continue;
        out += prefix;
        out += "{id}";
        return;
    }
    out += path;
}

// -- dates --------------------------------------------------------------------------

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), locale independent.
inline void format_http_date(std::time_t t, char (&out)[40]) noexcept {
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

inline std::string http_date(std::chrono::system_clock::time_point tp) {
    char buf[40];
    format_http_date(std::chrono::system_clock::to_time_t(tp), buf);
    return buf;
}

// Appends `v` as 16 lowercase hex digits.
inline void append_hex16(std::string& out, std::uint64_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    char buf[16];
    for (int i = 15; i >= 0; --i, v >>= 4)
        buf[i] = digits[v & 0xf];
    out.append(buf, 16);
}

inline void append_decimal(std::string& out, std::uint64_t v) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

// -- the state's optional members -------------------------------------------------------

// The number of tokens the state holds, if it can tell.
template <class State>
std::optional<std::size_t> state_token_count(const State& s) {
    if constexpr (requires { s.token_count(); })
        return static_cast<std::size_t>(s.token_count());
    else
        return std::nullopt;
}

// -- faults ---------------------------------------------------------------------------

class fault_table {
public:
    void add(fault f) {
        std::lock_guard<std::mutex> lk(mu_);
        if (f.uses() == 0)
            return;
        faults_.push_back(std::move(f));
        count_.store(faults_.size(), std::memory_order_relaxed);
    }
    void clear() {
        std::lock_guard<std::mutex> lk(mu_);
        faults_.clear();
        count_.store(0, std::memory_order_relaxed);
    }
    std::size_t pending() const {
        std::lock_guard<std::mutex> lk(mu_);
        return faults_.size();
    }
    std::uint64_t fired() const { return fired_.load(std::memory_order_relaxed); }
    void reset_fired() { fired_.store(0, std::memory_order_relaxed); }

    // Consumes one use of the first matching fault.
    std::optional<fault> take(std::string_view method, std::string_view path) {
        if (count_.load(std::memory_order_relaxed) == 0)
            return std::nullopt;
        std::lock_guard<std::mutex> lk(mu_);
        for (auto it = faults_.begin(); it != faults_.end(); ++it) {
            if (!route_matches(it->route(), method, path))
                continue;
            fault f = *it;
            if (it->uses() != fault::always_uses) {
                std::uint64_t left = it->uses() - 1;
                if (left == 0)
                    faults_.erase(it);
                else
                    *it = std::move(*it).times(left);
                count_.store(faults_.size(), std::memory_order_relaxed);
            }
            fired_.fetch_add(1, std::memory_order_relaxed);
            return f;
        }
        return std::nullopt;
    }

private:
    mutable std::mutex mu_;
    std::vector<fault> faults_;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::uint64_t> fired_{0};
};

// -- counters ---------------------------------------------------------------------------

class counter_table {
public:
    void count(std::string_view route) {
        total_.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard<std::mutex> lk(mu_);
        auto it = routes_.find(route);
        if (it != routes_.end()) {
            ++it->second;
            return;
        }
        // Bound the table when a client sprays random paths at the server.
        if (routes_.size() >= 4096)
            ++routes_["* <other>"];
        else
            routes_.emplace(std::string(route), 1);
    }
    std::uint64_t requests(std::string_view pattern) const {
        if (pattern == "*")
            return total_.load(std::memory_order_relaxed);
        std::lock_guard<std::mutex> lk(mu_);
        std::uint64_t n = 0;
        for (const auto& [route, c] : routes_) {
            auto sp = route.find(' ');
            if (route_matches(pattern, std::string_view(route).substr(0, sp), std::string_view(route).substr(sp + 1)))
                n += c;
        }
        return n;
    }
    std::map<std::string, std::uint64_t, std::less<>> by_route() const {
        std::lock_guard<std::mutex> lk(mu_);
        return routes_;
    }
    std::uint64_t total() const { return total_.load(std::memory_order_relaxed); }
    void reset() {
        std::lock_guard<std::mutex> lk(mu_);
        routes_.clear();
        total_.store(0, std::memory_order_relaxed);
        accepted.store(0, std::memory_order_relaxed);
    }

    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> open{0};

private:
    mutable std::mutex mu_;
    std::map<std::string, std::uint64_t, std::less<>> routes_;
    std::atomic<std::uint64_t> total_{0};
};

// -- request parsing ----------------------------------------------------------------------

struct request_data {
    std::string method;
    std::string target;
    std::string authorization;
    std::string content_type;
    std::string host;
    std::string body;
    std::string polar_version;
    std::uint64_t content_length = 0;
    bool have_content_length = false;
    bool expect_continue = false;
    bool have_authorization = false;
    bool have_polar_version = false;

    void clear() noexcept {
        method.clear();
        target.clear();
        authorization.clear();
        content_type.clear();
        host.clear();
        body.clear();
        polar_version.clear();
        content_length = 0;
        have_content_length = false;
        expect_continue = false;
        have_authorization = false;
        have_polar_version = false;
    }
};

inline bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = static_cast<char>(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

// Copies what the emulator needs into session-owned buffers (their capacity
// is kept across requests; the parser itself is rebuilt per request and does
// not allocate when the input is contiguous).
class request_parser final : public em_http::basic_parser<true> {
public:
    explicit request_parser(request_data& r) : r_(r) {}

private:
    void on_request_impl(em_http::verb, boost::beast::string_view method, boost::beast::string_view target,
                         int, em_error_code&) override {
        r_.method.assign(method.data(), method.size());
        r_.target.assign(target.data(), target.size());
    }
    void on_response_impl(int, boost::beast::string_view, int, em_error_code& ec) override {
        ec = em_http::error::bad_version;
    }
    void on_field_impl(em_http::field name, boost::beast::string_view name_string, boost::beast::string_view value,
                       em_error_code&) override {
        if (name == em_http::field::unknown) {
            // Polar-Version (case-insensitive; the first one counts, as
            // Starlette's Headers.get returns the first).
            if (!r_.have_polar_version &&
                iequals_ascii(std::string_view(name_string.data(), name_string.size()), "polar-version")) {
                r_.polar_version.assign(value.data(), value.size());
                r_.have_polar_version = true;
            }
            return;
        }
        switch (name) {
        case em_http::field::authorization:
            if (!r_.have_authorization) {
                r_.authorization.assign(value.data(), value.size());
                r_.have_authorization = true;
            }
            break;
        case em_http::field::content_type:
            r_.content_type.assign(value.data(), value.size());
            break;
        case em_http::field::host:
            r_.host.assign(value.data(), value.size());
            break;
        case em_http::field::content_length: {
            // The parser has validated it (digits, repeats agree) by now.
            std::uint64_t n = 0;
            auto res = std::from_chars(value.data(), value.data() + value.size(), n);
            r_.content_length = res.ec == std::errc() ? n : ~std::uint64_t(0);
            r_.have_content_length = true;
            break;
        }
        case em_http::field::expect:
            if (iequals_ascii(std::string_view(value.data(), value.size()), "100-continue"))
                r_.expect_continue = true;
            break;
        default:
            break;
        }
    }
    void on_header_impl(em_error_code&) override {}
    void on_body_init_impl(boost::optional<std::uint64_t> const& length, em_error_code&) override {
        if (length && *length <= (std::uint64_t(64) << 20))
            r_.body.reserve(static_cast<std::size_t>(*length));
    }
    std::size_t on_body_impl(boost::beast::string_view body, em_error_code&) override {
        r_.body.append(body.data(), body.size());
        return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, em_error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body, em_error_code&) override {
        r_.body.append(body.data(), body.size());
        return body.size();
    }
    void on_finish_impl(em_error_code&) override {}

    request_data& r_;
};

// -- the server -------------------------------------------------------------------------

class session_base {
public:
    virtual ~session_base() = default;
    virtual void post_close() = 0;
    virtual void post_close_if_idle() = 0;
};

using em_ssl_stream = em_asio::ssl::stream<em_tcp::socket>;

class emulator_impl : public std::enable_shared_from_this<emulator_impl> {
public:
    emulator_impl(em_asio::any_io_executor ex, emulator_options opts)
        : io_ex_(std::move(ex)), opts_(std::move(opts)), acceptor_(make_strand()), retry_timer_(acceptor_.get_executor()) {
        if (!is_supported_api_version(opts_.default_api_version))
            throw std::invalid_argument("polar emulator: emulator_options::default_api_version \"" +
                                        opts_.default_api_version + "\" is not one of 2025-03, 2026-04, 2026-10");
        state_ = opts_.state ? opts_.state : std::make_shared<emulator_state>();
        created_state_ = !opts_.state;
        if (opts_.rate_limit.enabled())
            rate_limiter_ = std::make_unique<server_rate_limiter>(opts_.rate_limit);
        std::random_device rd;
        std::uint64_t r = (std::uint64_t(rd()) << 32) ^ rd();
        std::string prefix;
        append_hex16(prefix, r);
        std::memcpy(request_id_prefix_, prefix.data(), 16);
    }

    // A new strand on the underlying io_context when there is one (avoids a
    // strand over a type-erased executor).
    em_asio::any_io_executor make_strand() const {
        if (auto* io = io_ex_.target<em_asio::io_context::executor_type>())
            return em_asio::make_strand(*io);
        return em_asio::make_strand(io_ex_);
    }

    void start() {
        if (started_.exchange(true))
            throw std::logic_error("polar emulator: start() called twice");
        if (opts_.tls)
            setup_tls();
        if (opts_.default_setup)
            default_setup();

        em_tcp::endpoint ep;
        em_error_code ec;
        auto addr = em_asio::ip::make_address(opts_.host, ec);
        if (!ec) {
            ep = em_tcp::endpoint(addr, opts_.port);
        } else {
            em_tcp::resolver resolver(io_ex_);
            auto results = resolver.resolve(opts_.host, std::to_string(opts_.port));
            ep = results.begin()->endpoint();
        }
        acceptor_.open(ep.protocol());
        acceptor_.set_option(em_asio::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen(em_asio::socket_base::max_listen_connections);
        port_ = acceptor_.local_endpoint().port();

        std::string host = opts_.host;
        if (host.find(':') != std::string::npos)
            host = "[" + host + "]";
        base_url_ = std::string(opts_.tls ? "https://" : "http://") + host + ":" + std::to_string(port_);
        do_accept();
    }

    void stop() {
        if (stopped_.exchange(true))
            return;
        em_asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
            em_error_code ec;
            self->acceptor_.close(ec);
            self->retry_timer_.cancel();
        });
        for (auto& s : live_sessions())
            s->post_close();
    }

    void close_idle_connections() {
        for (auto& s : live_sessions())
            s->post_close_if_idle();
    }

    std::uint64_t register_session(std::weak_ptr<session_base> s) {
        std::lock_guard<std::mutex> lk(sessions_mu_);
        auto id = next_session_id_++;
        sessions_.emplace(id, std::move(s));
        return id;
    }
    void unregister_session(std::uint64_t id) {
        std::lock_guard<std::mutex> lk(sessions_mu_);
        sessions_.erase(id);
    }

    emulator_response dispatch(const emulator_request& req) {
        try {
            if (opts_.handler)
                return opts_.handler(req);
            return state_->handle(req);
        } catch (const std::exception& e) {
            emulator_response r;
            r.status = 500;
            r.body = R"({"error":"InternalServerError","detail":"The emulator failed to handle the request"})";
            return r;
        }
    }

    // "<prefix><counter>": unique within a process run and, thanks to the
    // random prefix, across runs.
    void append_request_id(std::string& out) {
        std::uint64_t n = request_seq_.fetch_add(1, std::memory_order_relaxed);
        out.append(request_id_prefix_, 16);
        append_hex16(out, n);
    }

    const emulator_options& options() const noexcept { return opts_; }
    bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }
    em_asio::ssl::context* ssl_context() noexcept { return ssl_ctx_ ? &*ssl_ctx_ : nullptr; }

    em_asio::any_io_executor io_ex_;
    emulator_options opts_;
    std::shared_ptr<emulator_state> state_;
    bool created_state_ = false;
    fault_table faults_;
    counter_table counters_;
    std::unique_ptr<server_rate_limiter> rate_limiter_; // emulator_options::rate_limit
    std::string base_url_;
    std::string cert_pem_;
    std::uint16_t port_ = 0;

private:
    std::vector<std::shared_ptr<session_base>> live_sessions() {
        std::vector<std::shared_ptr<session_base>> out;
        std::lock_guard<std::mutex> lk(sessions_mu_);
        out.reserve(sessions_.size());
        for (auto& [id, w] : sessions_)
            if (auto s = w.lock())
                out.push_back(std::move(s));
        return out;
    }

    static std::string read_file(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in)
            throw std::runtime_error("polar emulator: cannot read " + path);
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

    void setup_tls() {
        std::string key_pem;
        if (!opts_.cert_pem.empty() || !opts_.key_pem.empty()) {
            if (opts_.cert_pem.empty() || opts_.key_pem.empty())
                throw std::invalid_argument("polar emulator: cert_pem and key_pem go together");
            cert_pem_ = opts_.cert_pem;
            key_pem = opts_.key_pem;
        } else if (!opts_.cert_file.empty() || !opts_.key_file.empty()) {
            if (opts_.cert_file.empty() || opts_.key_file.empty())
                throw std::invalid_argument("polar emulator: cert_file and key_file go together");
            cert_pem_ = read_file(opts_.cert_file);
            key_pem = read_file(opts_.key_file);
        } else {
            auto pair = make_self_signed_certificate(opts_.generated_key);
            cert_pem_ = std::move(pair.cert_pem);
            key_pem = std::move(pair.key_pem);
        }
        ssl_ctx_.emplace(em_asio::ssl::context::tls_server);
        ssl_ctx_->set_options(em_asio::ssl::context::default_workarounds | em_asio::ssl::context::no_sslv2 |
                              em_asio::ssl::context::no_sslv3 | em_asio::ssl::context::no_tlsv1 |
                              em_asio::ssl::context::no_tlsv1_1 | em_asio::ssl::context::single_dh_use);
        try {
            ssl_ctx_->use_certificate_chain(em_asio::buffer(cert_pem_));
            ssl_ctx_->use_private_key(em_asio::buffer(key_pem), em_asio::ssl::context::pem);
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error(std::string("polar emulator: unusable certificate or key: ") + e.what());
        }
    }

    void default_setup() {
        if (opts_.handler)
            return;
        auto tokens = state_token_count(*state_);
        // Without a way to count the state's tokens, only a state the emulator
        // created itself is known to be empty.
        if (tokens ? *tokens != 0 : !created_state_)
            return;
        auto org = state_->add_organization(std::string(default_organization_name));
        state_->add_organization_token(
            std::string(default_token), org,
            {"meters:read", "meters:write", "events:read", "events:write", "customer_meters:read"});
    }

    void do_accept();
    void on_accept(em_error_code ec, em_tcp::socket sock);

    em_tcp::acceptor acceptor_;
    em_asio::steady_timer retry_timer_;
    std::optional<em_asio::ssl::context> ssl_ctx_;
    std::atomic<bool> started_{false};
    std::atomic<bool> stopped_{false};
    std::mutex sessions_mu_;
    std::unordered_map<std::uint64_t, std::weak_ptr<session_base>> sessions_;
    std::uint64_t next_session_id_ = 1;
    std::atomic<std::uint64_t> request_seq_{1};
    char request_id_prefix_[17] = {};
};

// A chunk of the oversized body, shared by all sessions.
inline const std::string& padding_chunk() {
    static const std::string chunk(64 * 1024, 'x');
    return chunk;
}

template <class Stream>
class session final : public session_base, public std::enable_shared_from_this<session<Stream>> {
    static constexpr bool is_tls = std::is_same_v<Stream, em_ssl_stream>;
    static constexpr auto no_deadline = em_clock::time_point::max();

public:
    template <class... Args>
    session(std::shared_ptr<emulator_impl> srv, Args&&... args)
        : srv_(std::move(srv)), stream_(std::forward<Args>(args)...), watchdog_(stream_.get_executor()),
          fault_timer_(stream_.get_executor()) {
        srv_->counters_.open.fetch_add(1, std::memory_order_relaxed);
    }
    ~session() override {
        srv_->unregister_session(id_);
        srv_->counters_.open.fetch_sub(1, std::memory_order_relaxed);
    }

    void start() {
        id_ = srv_->register_session(this->weak_from_this());
        // Registered first, then checked: stop() either sees this session or
        // this session sees stopped().
        if (srv_->stopped()) {
            close_now();
            return;
        }
        em_error_code ec;
        stream_.lowest_layer().set_option(em_tcp::no_delay(true), ec);
        out_.reserve(4096);
        if constexpr (is_tls) {
            set_deadline(srv_->options().read_timeout);
            stream_.async_handshake(em_asio::ssl::stream_base::server,
                                    [self = this->shared_from_this()](em_error_code ec) {
                                        if (self->closed_)
                                            return;
                                        if (ec)
                                            return self->close_now();
                                        self->read_request();
                                    });
        } else {
            read_request();
        }
    }

    void post_close() override {
        em_asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close_now(); });
    }
    void post_close_if_idle() override {
        em_asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
            if (self->idle_)
                self->close_now();
        });
    }

private:
    // -- deadlines: one timer per connection, re-armed lazily ---------------------------
    // The timer never waits longer than the shortest configured timeout, so a
    // deadline that moves earlier (idle -> read) needs no re-arming: the
    // timer fires, finds the deadline still ahead, and waits again. That
    // keeps timer operations out of the per-request path.
    void set_deadline(std::chrono::milliseconds d) {
        deadline_ = em_clock::now() + d;
        if (!watchdog_armed_)
            arm_watchdog();
        else if (deadline_ < watchdog_.expiry())
            watchdog_.expires_at(deadline_); // cancels the wait; its handler re-arms
    }
    void clear_deadline() { deadline_ = no_deadline; }
    void arm_watchdog() {
        watchdog_armed_ = true;
        const auto& o = srv_->options();
        auto tick = std::min({o.idle_timeout, o.read_timeout, o.write_timeout});
        watchdog_.expires_at(std::min(deadline_, em_clock::now() + tick));
        watchdog_.async_wait([self = this->shared_from_this()](em_error_code) { self->on_watchdog(); });
    }
    void on_watchdog() {
        watchdog_armed_ = false;
        if (closed_ || deadline_ == no_deadline)
            return;
        if (em_clock::now() >= deadline_)
            return close_now();
        arm_watchdog();
    }

    void close_now() {
        if (closed_)
            return;
        closed_ = true;
        idle_ = false;
        em_error_code ec;
        stream_.lowest_layer().shutdown(em_tcp::socket::shutdown_both, ec);
        stream_.lowest_layer().close(ec);
        watchdog_.cancel();
        fault_timer_.cancel();
    }

    // Sends FIN (or close_notify) and waits a little for the peer to close,
    // so that a response followed by unread request bytes is not lost to a RST.
    void graceful_close() {
        if (closed_)
            return;
        idle_ = false;
        set_deadline(std::chrono::milliseconds(2000));
        if constexpr (is_tls) {
            stream_.async_shutdown([self = this->shared_from_this()](em_error_code) { self->close_now(); });
        } else {
            em_error_code ec;
            stream_.shutdown(em_tcp::socket::shutdown_send, ec);
            drain();
        }
    }
    void drain() {
        buf_.clear();
        stream_.async_read_some(buf_.prepare(16 * 1024),
                                [self = this->shared_from_this()](em_error_code ec, std::size_t) {
                                    if (ec || self->closed_)
                                        return self->close_now();
                                    self->drain();
                                });
    }

    // -- reading -------------------------------------------------------------------------
    void read_request() {
        if (closed_)
            return;
        req_.clear();
        parser_.emplace(req_);
        parser_->eager(true);
        parser_->body_limit(srv_->options().body_limit);
        parser_->header_limit(srv_->options().header_limit);
        sent_continue_ = false;
        if (buf_.size() == 0) {
            idle_ = true;
            set_deadline(srv_->options().idle_timeout);
            do_read();
        } else {
            idle_ = false;
            set_deadline(srv_->options().read_timeout);
            parse();
        }
    }

    void do_read() {
        stream_.async_read_some(buf_.prepare(64 * 1024),
                                [self = this->shared_from_this()](em_error_code ec, std::size_t n) {
                                    self->on_read(ec, n);
                                });
    }

    void on_read(em_error_code ec, std::size_t n) {
        if (closed_)
            return;
        if (ec)
            return close_now(); // peer closed or reset (mid-request or idle), or timeout
        buf_.commit(n);
        if (idle_) {
            idle_ = false;
            set_deadline(srv_->options().read_timeout);
        }
        parse();
    }

    void parse() {
        em_error_code ec;
        for (;;) {
            std::size_t used = parser_->put(buf_.data(), ec);
            buf_.consume(used);
            if (ec || parser_->is_done() || used == 0 || buf_.size() == 0)
                break;
        }
        if (ec == em_http::error::need_more)
            ec = {};
        if (ec)
            return reject(ec);
        if (parser_->is_done())
            return on_request();
        if (req_.expect_continue && !sent_continue_ && parser_->is_header_done()) {
            sent_continue_ = true;
            out_.assign("HTTP/1.1 100 Continue\r\n\r\n");
            em_asio::async_write(stream_, em_asio::buffer(out_),
                                 [self = this->shared_from_this()](em_error_code ec, std::size_t) {
                                     if (self->closed_)
                                         return;
                                     if (ec)
                                         return self->close_now();
                                     self->do_read();
                                 });
            return;
        }
        do_read();
    }

    // 400 / 413 / 431 for requests that cannot be read, then close.
    void reject(em_error_code ec) {
        if (!req_.method.empty()) {
            canonical_route(req_.method, target_path(req_.target), route_);
            srv_->counters_.count(route_);
        } else {
            srv_->counters_.count("* <invalid>");
        }
        keep_alive_ = false;
        clear_deadline();
        response_.headers.clear();
        response_.content_type = "application/json";
        if (ec == em_http::error::body_limit) {
            response_.status = 413;
            response_.body = R"({"error":"RequestEntityTooLarge","detail":"The request body is too large"})";
            // The header was read: the version middleware and the dated
            // body-size checks come first (a declared length over 10 MiB is
            // the API's own 413, a chunked body is its 411); a body over the
            // emulator's smaller `body_limit` keeps the emulator's 413.
            if (!srv_->options().handler && !req_.method.empty()) {
                emulator_request r;
                fill_request(r);
                const auto v = emu::resolve_api_version(r.polar_version, srv_->options().default_api_version);
                if (!v.ok)
                    response_ = emu::version_not_found();
                else if (auto pre = emu::body_size_check(r, v.contract))
                    response_ = std::move(*pre);
                emu::stamp_version(response_, v);
            }
        } else if (ec == em_http::error::header_limit) {
            response_.status = 431;
            response_.body = R"({"error":"RequestHeaderFieldsTooLarge","detail":"The request header is too large"})";
        } else {
            response_.status = 400;
            response_.body = R"({"error":"BadRequest","detail":"Malformed HTTP request"})";
        }
        write_response(response_, after_write::close_gracefully);
    }

    // -- answering ---------------------------------------------------------------------------
    enum class after_write { keep_alive, close_gracefully, close_abruptly };

    void on_request() {
        keep_alive_ = parser_->keep_alive();
        clear_deadline();
        std::string_view path = target_path(req_.target);
        canonical_route(req_.method, path, route_);
        srv_->counters_.count(route_);

        // The version middleware and the body-size checks run before the
        // faults (which stand for what happens further in, e.g. the rate
        // limiter's 429).
        version_ = emu::version_resolution{};
        if (!srv_->options().handler) {
            emulator_request r;
            fill_request(r);
            version_ = emu::resolve_api_version(r.polar_version, srv_->options().default_api_version);
            if (!version_.ok) {
                response_ = emu::version_not_found();
                return write_response(response_, normal_ending());
            }
            if (auto limited = emu::check_rate_limit(srv_->rate_limiter_.get(), *srv_->state_, r)) {
                response_ = std::move(*limited);
                emu::stamp_version(response_, version_);
                return write_response(response_, normal_ending());
            }
            if (auto pre = emu::body_size_check(r, version_.contract)) {
                response_ = std::move(*pre);
                emu::stamp_version(response_, version_);
                return write_response(response_, normal_ending());
            }
        }

        fault_ = srv_->faults_.take(req_.method, path);
        if (!fault_) {
            produce();
            return write_response(response_, normal_ending());
        }
        if (fault_->is_processed())
            produce();
        if (fault_->wait().count() > 0) {
            fault_timer_.expires_after(fault_->wait());
            fault_timer_.async_wait([self = this->shared_from_this()](em_error_code) {
                if (!self->closed_)
                    self->run_fault();
            });
            return;
        }
        run_fault();
    }

    after_write normal_ending() const noexcept {
        return keep_alive_ ? after_write::keep_alive : after_write::close_gracefully;
    }

    // The request as the emulated API sees it (views into req_).
    void fill_request(emulator_request& r) const {
        r.method = req_.method;
        r.target = req_.target;
        r.authorization = req_.authorization;
        r.content_type = req_.content_type;
        r.body = req_.body;
        r.host = req_.host;
        r.scheme = is_tls ? "https" : "http";
        if (req_.have_polar_version)
            r.polar_version = std::string_view(req_.polar_version);
        r.default_api_version = srv_->options().default_api_version;
        if (req_.have_content_length)
            r.content_length = req_.content_length;
        else
            r.content_length_missing = true;
    }

    void produce() {
        emulator_request r;
        fill_request(r);
        response_ = srv_->dispatch(r);
    }

    void run_fault() {
        const fault& f = *fault_;
        switch (f.type()) {
        case fault::kind::status: {
            response_.status = f.status_code();
            response_.headers = f.headers();
            if (f.retry_after_is_date()) {
                for (auto& [name, value] : response_.headers)
                    if (iequals_ascii(name, "Retry-After"))
                        value = http_date(std::chrono::system_clock::now() +
                                          std::chrono::seconds(std::stoll(value)));
            }
            response_.content_type = f.content_type();
            if (f.has_body())
                response_.body = f.body();
            else
                response_.body = "{\"error\":\"InjectedFault\",\"detail\":\"Status " +
                                 std::to_string(f.status_code()) + " injected by the emulator\"}";
            emu::stamp_version(response_, version_);
            return write_response(response_, normal_ending());
        }
        case fault::kind::delay:
            if (!f.is_processed())
                produce();
            add_fault_headers(f);
            return write_response(response_, normal_ending());
        case fault::kind::close_before_response:
            return close_now();
        case fault::kind::close_mid_body:
        case fault::kind::truncated_body: {
            if (!f.is_processed())
                produce();
            add_fault_headers(f);
            bool mid = f.type() == fault::kind::close_mid_body;
            std::size_t declared = response_.body.size() + (mid ? 0 : std::max<std::size_t>(f.size(), 1));
            serialize(response_, declared);
            if (mid && req_.method != "HEAD")
                out_.resize(out_.size() - (response_.body.size() - response_.body.size() / 2));
            return send(after_write::close_abruptly);
        }
        case fault::kind::malformed_json:
        case fault::kind::wrong_content_type:
            response_.status = f.status_code();
            response_.headers = f.headers();
            response_.content_type = f.content_type();
            response_.body = f.body();
            emu::stamp_version(response_, version_);
            return write_response(response_, normal_ending());
        case fault::kind::oversized_body:
            return start_oversized(f);
        case fault::kind::stall:
            return stall();
        case fault::kind::close_after_response:
            if (!f.is_processed())
                produce();
            add_fault_headers(f);
            keep_alive_ = true; // no Connection: close
            return write_response(response_, after_write::close_abruptly);
        }
    }

    void add_fault_headers(const fault& f) {
        for (const auto& h : f.headers())
            response_.headers.push_back(h);
    }

    // Serializes the status line, headers and body into out_.
    void serialize(const emulator_response& r, std::size_t content_length) {
        out_.clear();
        out_ += "HTTP/1.1 ";
        int code = (r.status >= 100 && r.status <= 999) ? r.status : 500;
        append_decimal(out_, static_cast<std::uint64_t>(code));
        out_ += ' ';
        auto reason = em_http::obsolete_reason(em_http::int_to_status(static_cast<unsigned>(code)));
        if (reason == "<unknown-status>")
            out_ += "Status";
        else
            out_.append(reason.data(), reason.size());
        out_ += "\r\n";
        if (!r.content_type.empty()) {
            out_ += "Content-Type: ";
            out_ += r.content_type;
            out_ += "\r\n";
        }
        out_ += "Content-Length: ";
        append_decimal(out_, content_length);
        out_ += "\r\nDate: ";
        append_date();
        out_ += "\r\nx-request-id: ";
        srv_->append_request_id(out_);
        out_ += "\r\n";
        for (const auto& [name, value] : r.headers) {
            out_ += name;
            out_ += ": ";
            out_ += value;
            out_ += "\r\n";
        }
        if (!keep_alive_)
            out_ += "Connection: close\r\n";
        out_ += "\r\n";
        if (req_.method != "HEAD") // a HEAD response announces the length without the body
            out_ += r.body;
    }

    void append_date() {
        std::time_t now = std::time(nullptr);
        if (now != date_time_) {
            date_time_ = now;
            format_http_date(now, date_);
        }
        out_.append(date_, 29);
    }

    void write_response(const emulator_response& r, after_write then) {
        serialize(r, r.body.size());
        send(then);
    }

    void send(after_write then) {
        set_deadline(srv_->options().write_timeout);
        em_asio::async_write(stream_, em_asio::buffer(out_),
                             [self = this->shared_from_this(), then](em_error_code ec, std::size_t) {
                                 self->on_written(ec, then);
                             });
    }

    void on_written(em_error_code ec, after_write then) {
        if (closed_)
            return;
        if (ec)
            return close_now();
        switch (then) {
        case after_write::keep_alive:
            return read_request();
        case after_write::close_gracefully:
            return graceful_close();
        case after_write::close_abruptly:
            return close_now();
        }
    }

    // -- oversized body: header, then 64 KiB writes of padding ------------------------------
    void start_oversized(const fault& f) {
        static constexpr std::string_view prefix = "{\"pad\":\"";
        static constexpr std::string_view suffix = "\"}";
        response_.status = f.status_code();
        response_.headers = f.headers();
        response_.content_type = f.content_type();
        response_.body.clear();
        emu::stamp_version(response_, version_);
        serialize(response_, f.size());
        out_ += prefix;
        stream_left_ = f.size() - prefix.size() - suffix.size();
        set_deadline(srv_->options().write_timeout);
        em_asio::async_write(stream_, em_asio::buffer(out_),
                             [self = this->shared_from_this()](em_error_code ec, std::size_t) {
                                 self->continue_oversized(ec);
                             });
    }

    void continue_oversized(em_error_code ec) {
        if (closed_)
            return;
        if (ec)
            return close_now();
        if (stream_left_ == 0) {
            out_.assign("\"}");
            return send(normal_ending());
        }
        std::size_t n = std::min(stream_left_, padding_chunk().size());
        stream_left_ -= n;
        set_deadline(srv_->options().write_timeout);
        em_asio::async_write(stream_, em_asio::buffer(padding_chunk().data(), n),
                             [self = this->shared_from_this()](em_error_code ec, std::size_t) {
                                 self->continue_oversized(ec);
                             });
    }

    // -- stall: keep reading (and discarding) until the peer goes away ----------------------
    void stall() {
        clear_deadline();
        buf_.clear();
        stream_.async_read_some(buf_.prepare(16 * 1024),
                                [self = this->shared_from_this()](em_error_code ec, std::size_t) {
                                    if (ec || self->closed_)
                                        return self->close_now();
                                    self->stall();
                                });
    }

    std::shared_ptr<emulator_impl> srv_;
    Stream stream_;
    em_asio::steady_timer watchdog_;
    em_asio::steady_timer fault_timer_;
    em_clock::time_point deadline_ = no_deadline;
    bool watchdog_armed_ = false;
    bool closed_ = false;
    bool idle_ = false;
    bool keep_alive_ = true;
    bool sent_continue_ = false;
    std::uint64_t id_ = 0;

    boost::beast::flat_buffer buf_;
    request_data req_;
    std::optional<request_parser> parser_;
    std::string route_;
    emulator_response response_;
    emu::version_resolution version_; // of the current request (not ok: no version handling)
    std::optional<fault> fault_;
    std::string out_;
    std::size_t stream_left_ = 0;
    std::time_t date_time_ = 0;
    char date_[40] = {};
};

inline void emulator_impl::do_accept() {
    acceptor_.async_accept(make_strand(), [self = shared_from_this()](em_error_code ec, em_tcp::socket sock) {
        self->on_accept(ec, std::move(sock));
    });
}

inline void emulator_impl::on_accept(em_error_code ec, em_tcp::socket sock) {
    if (stopped())
        return;
    if (ec) {
        if (ec == em_asio::error::operation_aborted)
            return;
        // Out of descriptors and the like: try again shortly instead of spinning.
        retry_timer_.expires_after(std::chrono::milliseconds(50));
        retry_timer_.async_wait([self = shared_from_this()](em_error_code ec) {
            if (!ec && !self->stopped())
                self->do_accept();
        });
        return;
    }
    counters_.accepted.fetch_add(1, std::memory_order_relaxed);
    if (ssl_ctx_)
        std::make_shared<session<em_ssl_stream>>(shared_from_this(), std::move(sock), *ssl_ctx_)->start();
    else
        std::make_shared<session<em_tcp::socket>>(shared_from_this(), std::move(sock))->start();
    do_accept();
}

} // namespace detail

// -- public classes ---------------------------------------------------------------------

POLAR_DECL void fault_injector::add(fault f) { impl_->faults_.add(std::move(f)); }
POLAR_DECL void fault_injector::clear() { impl_->faults_.clear(); }
POLAR_DECL std::size_t fault_injector::pending() const { return impl_->faults_.pending(); }
POLAR_DECL std::uint64_t fault_injector::fired() const { return impl_->faults_.fired(); }
POLAR_DECL void fault_injector::reset_fired() { impl_->faults_.reset_fired(); }

POLAR_DECL std::uint64_t emulator_counters::requests(std::string_view route) const {
    return impl_->counters_.requests(route);
}
POLAR_DECL std::map<std::string, std::uint64_t, std::less<>> emulator_counters::by_route() const {
    return impl_->counters_.by_route();
}
POLAR_DECL std::uint64_t emulator_counters::total_requests() const { return impl_->counters_.total(); }
POLAR_DECL std::uint64_t emulator_counters::connections_accepted() const {
    return impl_->counters_.accepted.load(std::memory_order_relaxed);
}
POLAR_DECL std::uint64_t emulator_counters::open_connections() const {
    return impl_->counters_.open.load(std::memory_order_relaxed);
}
POLAR_DECL void emulator_counters::reset() { impl_->counters_.reset(); }
POLAR_DECL std::uint64_t emulator_counters::rate_limited() const {
    return impl_->rate_limiter_ ? impl_->rate_limiter_->refused() : 0;
}

POLAR_DECL emulator::emulator(boost::asio::any_io_executor ex, emulator_options opts)
    : impl_(std::make_shared<detail::emulator_impl>(std::move(ex), std::move(opts))) {}

POLAR_DECL emulator::~emulator() {
    if (impl_)
        impl_->stop();
}

POLAR_DECL void emulator::start() { impl_->start(); }
POLAR_DECL void emulator::stop() { impl_->stop(); }
POLAR_DECL void emulator::close_idle_connections() { impl_->close_idle_connections(); }
POLAR_DECL std::string emulator::base_url() const { return impl_->base_url_; }
POLAR_DECL std::uint16_t emulator::port() const { return impl_->port_; }
POLAR_DECL const std::string& emulator::certificate_pem() const { return impl_->cert_pem_; }
POLAR_DECL emulator_state& emulator::state() const { return *impl_->state_; }
POLAR_DECL std::shared_ptr<emulator_state> emulator::state_ptr() const { return impl_->state_; }
POLAR_DECL fault_injector emulator::faults() const { return fault_injector(impl_); }
POLAR_DECL emulator_counters emulator::counters() const { return emulator_counters(impl_); }

} // namespace polar::testing

#endif
