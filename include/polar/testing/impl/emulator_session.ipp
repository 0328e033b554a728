//
// polar-cpp testing: one connection of the emulator's server.
//
// One session object per connection, driven by plain asynchronous operations
// on the connection's strand. The request parser is a basic_parser that copies
// the few fields the emulator needs into buffers owned by the session, and
// responses are serialized by hand into a reused string, so that a keep-alive
// connection in steady state does not allocate in the server (faults, which
// write deliberately broken responses, need the hand-written serializer anyway).
// Included by emulator.ipp after emulator_impl, which a session reports to.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_SESSION_IPP
#define POLAR_TESTING_IMPL_EMULATOR_SESSION_IPP

namespace polar::testing {
namespace detail {

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

} // namespace detail
} // namespace polar::testing

#endif
