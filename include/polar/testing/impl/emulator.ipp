//
// polar-cpp testing: the emulator's HTTP/HTTPS server: the acceptor, the
// registry of sessions, and the public classes' definitions. Its parts:
//   emulator_http.ipp     routes, HTTP dates, the request parser
//   emulator_faults.ipp   the fault table and the request counters
//   emulator_session.ipp  one connection: read, dispatch, faults, write
//   tls_cert.ipp          self-signed certificates
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_IPP
#define POLAR_TESTING_IMPL_EMULATOR_IPP

#include <polar/testing/emulator.hpp>
#include <polar/testing/emulator_state.hpp>
#include <polar/testing/impl/tls_cert.ipp>
#include <polar/testing/impl/emulator_state_versions.ipp>
#include <polar/testing/impl/emulator_rate_limit.ipp>

#include <polar/testing/impl/emulator_http.ipp>
#include <polar/testing/impl/emulator_faults.ipp>

namespace polar::testing {
namespace detail {

// -- the state's optional members -------------------------------------------------------

// The number of tokens the state holds, if it can tell.
template <class State>
std::optional<std::size_t> state_token_count(const State& s) {
    if constexpr (requires { s.token_count(); })
        return static_cast<std::size_t>(s.token_count());
    else
        return std::nullopt;
}

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

} // namespace detail
} // namespace polar::testing

#include <polar/testing/impl/emulator_session.ipp>

namespace polar::testing {
namespace detail {

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
