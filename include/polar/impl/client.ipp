#ifndef POLAR_IMPL_CLIENT_IPP
#define POLAR_IMPL_CLIENT_IPP

#include <polar/client.hpp>
#include <polar/detail/http_util.hpp>
#include <polar/detail/json_codec.hpp>
#include <polar/detail/operations/client_state.hpp>
#include <polar/detail/operations/request.hpp>
#include <polar/detail/operations/result.hpp>
#include <polar/detail/rate_limiter.hpp>
#include <polar/detail/response.hpp>
#include <polar/detail/stream_decoder.hpp>
#include <polar/detail/transport/transport.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <deque>
#include <mutex>
#include <random>

namespace polar {
namespace detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using steady = std::chrono::steady_clock;

namespace client_impl {

// ec, message, status, body, content_type, request_id, retry_after, keep_alive
struct attempt_outcome : received_response {
    bool maybe_sent = false;     // request bytes may have reached the server
    bool stale = false;          // a reused connection failed before any response byte
    bool reused = false;
    bool deadline_hit = false;   // the operation's own deadline expired
};

// The strand a handler's executor is, if it is one of the usual kinds.
template <class Executor>
std::optional<asio::any_io_executor> strand_of(const Executor& ex) {
    using any_strand = asio::strand<asio::any_io_executor>;
    using context_strand = asio::strand<asio::io_context::executor_type>;
    if constexpr (std::is_same_v<Executor, any_strand> || std::is_same_v<Executor, context_strand>) {
        return asio::any_io_executor(ex);
    } else if constexpr (std::is_same_v<Executor, asio::any_completion_executor> ||
                         std::is_same_v<Executor, asio::any_io_executor>) {
        if (auto* s = ex.template target<any_strand>()) return asio::any_io_executor(*s);
        if (auto* s = ex.template target<context_strand>()) return asio::any_io_executor(*s);
    }
    return std::nullopt;
}

/**
 * One call, attempt after attempt: take a pooled connection (or wait for one,
 * or open one), write the request, read the response, decode it, and retry
 * per the policy. A hand-written state machine: each step is the completion
 * handler of the previous one, so an operation costs one allocation and no
 * executor round trip before it starts or after it ends.
 *
 * It runs on the client's executor. When the handler has a cancellation slot
 * it runs on the handler's strand, or else on a strand of its own, and a
 * cancellation (which may be emitted from any thread) is dispatched there.
 * Without a slot nothing else touches the operation while a step runs: the
 * watchdog and the pool's wake-ups synchronize themselves.
 *
 * Cancellation: terminal and partial always, total for idempotent calls
 * (whose requests may be abandoned at any point).
 *
 * This base holds everything but decoding the result and calling the
 * handler: no template, so the I/O it starts is compiled once for every
 * result type and handler.
 */
class operation_base : public std::enable_shared_from_this<operation_base> {
public:
    operation_base(const operation_base&) = delete;
    operation_base& operator=(const operation_base&) = delete;

protected:
    operation_base(std::shared_ptr<client_state> st, http_call&& call) : st_(std::move(st)), call_(std::move(call)) {
        if (!call_.version) call_.version = st_->opts.api_version;
    }
    virtual ~operation_base() = default;

    /// Interprets a complete response (see interpret_response); a 2xx body
    /// is decoded into the result, and a page learns how to fetch the next one.
    virtual error_code interpret(const received_response& r, diagnostics& diag) = 0;
    /// Calls the handler (inline_completion_) or dispatches it to work_.
    virtual void complete(error_code ec) = 0;
    /// Where a 2xx JSON body goes as it arrives; null: read it whole.
    virtual body_sink* response_sink() { return nullptr; }

    // Where the steps run and how the handler is called. Without a slot: on
    // the client's executor. With one: on the handler's own strand if it has
    // one (as Asio's composed operations do; the caller emits its
    // cancellation there), else on a new strand. A handler whose executor
    // the steps run on is called from the last step; any other is dispatched
    // to its executor, which is kept busy until then.
    template <class HandlerExecutor>
    void choose_executor(const HandlerExecutor& handler_ex, asio::cancellation_slot slot) {
        auto& st = *st_;
        if (slot.is_connected()) {
            slot_ = slot;
            if (auto strand = strand_of(handler_ex)) {
                ex_ = std::move(*strand);
                inline_completion_ = true;
            } else {
                ex_ = asio::make_strand(st.ex_);
            }
            slot.template emplace<cancel_handler>(weak_from_this(), ex_);
        } else {
            ex_ = st.ex_;
            if constexpr (std::is_same_v<HandlerExecutor, asio::any_completion_executor>)
                inline_completion_ = handler_ex == st.completion_ex;
            else if constexpr (std::is_same_v<HandlerExecutor, asio::any_io_executor>)
                inline_completion_ = handler_ex == st.ex_;
        }
        if (!inline_completion_) work_ = asio::prefer(handler_ex, asio::execution::outstanding_work.tracked);
    }

    void run() {
        auto& st = *st_;
        if (call_.precheck || call_.skip) {
            // Never complete inside the initiating function.
            diag_.message = call_.precheck_message;
            asio::post(ex_, [self = shared_from_this()] { self->finish(self->call_.precheck); });
            return;
        }
        start_time_ = steady::now();
        deadline_ = after(call_.timeout ? *call_.timeout : st.opts.total_timeout);
        attempt_timeout_ = call_.attempt_timeout ? *call_.attempt_timeout : st.opts.attempt_timeout;
        // The first write completes later, never inside this call.
        if (slot_.is_connected())
            asio::dispatch(ex_, [self = shared_from_this()] { self->begin_attempt(); });
        else
            begin_attempt();
    }

    enum class phase { starting, rate_waiting, acquiring, exchanging, backing_off, done };

    struct cancel_handler {
        std::weak_ptr<operation_base> op;
        asio::any_io_executor strand;
        void operator()(asio::cancellation_type type) {
            if (auto self = op.lock())
                asio::dispatch(strand, [self = std::move(self), type] { self->on_cancel(type); });
        }
    };

    const retry_policy& policy() const { return call_.retry ? *call_.retry : st_->opts.retry; }

    // Binds a step to the operation's executor, keeping the operation alive.
    template <class F>
    auto step(F f) {
        return asio::bind_executor(ex_, [self = shared_from_this(), f](auto&&... args) {
            (self.get()->*f)(std::forward<decltype(args)>(args)...);
        });
    }

    void on_cancel(asio::cancellation_type type) {
        auto allowed = asio::cancellation_type::terminal | asio::cancellation_type::partial;
        // Waiting for a rate limit token, nothing was sent: any type ends it.
        if (call_.idempotent || phase_ == phase::rate_waiting) allowed |= asio::cancellation_type::total;
        if ((type & allowed) == asio::cancellation_type::none || phase_ == phase::done) return;
        cancelled_ = true;
        error_code ignored;
        switch (phase_) {
        case phase::acquiring: inner_.emit(asio::cancellation_type::terminal); break;
        case phase::exchanging:
            if (conn_) conn_->lowest().cancel(ignored);
            break;
        case phase::backing_off:
            if (backoff_) backoff_->cancel();
            break;
        case phase::rate_waiting:
            if (rate_wait_) rate_wait_->wake();
            break;
        default: break;
        }
    }

    // Every attempt first takes a token from the client's rate limiter,
    // waiting for one if needed (not an attempt: bounded by the deadline,
    // ended by cancellation).
    void begin_attempt() {
        if (cancelled_) return finish(asio::error::operation_aborted);
        if (st_->limiter->try_acquire()) return start_attempt();
        phase_ = phase::rate_waiting;
        // Without a strand the wait may complete on another thread, and
        // on_rate_token release the waiter, before wait() has returned (and
        // let go of the waiter's mutex): this copy keeps it alive until then.
        const auto waiter = st_->limiter->enqueue(ex_);
        rate_wait_ = waiter;
        waiter->wait(deadline_, step(&operation_base::on_rate_token));
    }

    POLAR_COLD void on_rate_token(error_code) {
        auto w = std::move(rate_wait_);
        switch (st_->limiter->settle(w)) {
        case rate_limiter::outcome::granted:
            if (cancelled_) return finish(asio::error::operation_aborted);
            return start_attempt();
        case rate_limiter::outcome::shut_down: return finish(make_error_code(errc::client_shut_down));
        case rate_limiter::outcome::gave_up: break;
        }
        if (cancelled_) return finish(asio::error::operation_aborted);
        diag_.message = "the operation's deadline expired while waiting for the client's rate limit";
        finish(make_error_code(errc::timeout));
    }

    // The token of this attempt when it is not the client's fixed one: a
    // per-call token or the client's token function (called per attempt).
    bool resolve_token() {
        std::string tok;
        if (!call_.access_token.empty()) {
            tok = call_.access_token;
        } else if (st_->opts.access_token.is_function()) {
            const char* what = nullptr;
            try {
                tok = st_->opts.access_token.function()();
            } catch (const std::exception& e) {
                diag_.message = std::string("client_options::access_token: the token function threw: ") + e.what();
                return false;
            } catch (...) {
                diag_.message = "client_options::access_token: the token function threw";
                return false;
            }
            if (tok.empty()) what = "an empty token";
            for (unsigned char c : tok)
                if (c < 0x20 || c == 0x7F) what = "a token with control characters";
            if (what) {
                diag_.message = std::string("client_options::access_token: the token function returned ") + what;
                return false;
            }
        } else {
            auth_field_.clear();
            return true;
        }
        constexpr std::string_view bearer = "bearer ";
        bool has_prefix = tok.size() > bearer.size();
        for (std::size_t i = 0; has_prefix && i < bearer.size(); ++i)
            has_prefix = std::tolower(static_cast<unsigned char>(tok[i])) == bearer[i];
        auth_field_.assign("Authorization: ").append(has_prefix ? "" : "Bearer ").append(tok).append("\r\n");
        secret_.assign(tok, has_prefix ? bearer.size() : 0);
        return true;
    }

    void start_attempt() {
        if (!resolve_token()) {
            // Posted: this may run inside the initiating function.
            return asio::post(ex_, [self = shared_from_this()] {
                self->finish(make_error_code(errc::invalid_argument));
            });
        }
        ++attempt_;
        diag_.attempts = attempt_;
        if (cancelled_) return finish(asio::error::operation_aborted);
        out_ = attempt_outcome{};
        attempt_start_ = steady::now();
        // A stale-connection retry verifies: another connection of the same
        // age may be dead as well.
        conn_ = st_->take_idle(!call_.idempotent || stale_retry_used_);
        if (conn_) {
            out_.reused = true;
            return send();
        }
        phase_ = phase::acquiring;
        asio::co_spawn(ex_, acquire(st_, deadline_),
                       asio::bind_cancellation_slot(inner_.slot(), step(&operation_base::on_acquired)));
    }

    void on_acquired(std::exception_ptr ep, acquired got) {
        if (ep) return finish(make_error_code(std::errc::not_enough_memory)); // acquire throws only bad_alloc
        if (got.ec) {
            out_.ec = got.ec;
            out_.message = std::move(got.message);
            out_.deadline_hit = got.ec == errc::timeout && steady::now() >= deadline_;
            return end_attempt();
        }
        conn_ = std::move(got.conn);
        out_.reused = got.reused;
        if (cancelled_) {
            st_->release(std::move(conn_), true); // nothing was sent on it
            return end_attempt();
        }
        send();
    }

    void send() {
        phase_ = phase::exchanging;
        auto& c = *conn_;
        write_request(*st_, call_, c.wire, auth_field_);
        if (st_->opts.on_trace) trace_request(*st_, call_, attempt_, c.wire, auth_field_, secret());
        parser_.emplace();
        limit_response_parser(*parser_, st_->opts.max_body_size);
        auto& body = parser_->get().body();
        body.sink = response_sink();
        body.stream_above = st_->opts.read_buffer_size;
        c.buffer.clear();
        if (c.buffer.capacity() < st_->opts.read_buffer_size) c.buffer.reserve(st_->opts.read_buffer_size);
        if (c.buffer.capacity() < std::size_t(65536)) c.buffer.reserve(std::size_t(65536));
        c.dog->arm(earliest(deadline_, after(attempt_timeout_)));
        out_.maybe_sent = true;
        auto next = step(&operation_base::on_written);
        if (c.tls)
            asio::async_write(*c.tls, asio::buffer(c.wire), std::move(next));
        else
            asio::async_write(*c.plain, asio::buffer(c.wire), std::move(next));
    }

    void on_written(error_code ec, std::size_t) {
        // A cancellation that came after the write finished found nothing to
        // cancel: do not start the read.
        if (cancelled_ && !ec) ec = asio::error::operation_aborted;
        if (ec) return on_read(ec, 0);
        auto& c = *conn_;
        auto next = step(&operation_base::on_read);
        if (c.tls)
            http::async_read(*c.tls, c.buffer, *parser_, std::move(next));
        else
            http::async_read(*c.plain, c.buffer, *parser_, std::move(next));
    }

    void on_read(error_code ec, std::size_t) {
        auto& dog = *conn_->dog;
        dog.disarm();
        if (st_->opts.on_trace && !ec) trace_response(*st_, call_, attempt_, parser_->get(), secret());
        take_response(ec, *parser_, st_->opts.max_body_size, out_);
        if (out_.ec) {
            out_.stale = out_.reused && !parser_->got_some();
            if (dog.expired()) {
                out_.deadline_hit = steady::now() >= deadline_;
                out_.stale = false;
                out_.ec = make_error_code(errc::timeout);
                out_.message = out_.deadline_hit ? "the operation's deadline expired" : "the attempt timed out";
            }
            st_->release(std::move(conn_), false);
        } else {
            ++conn_->requests;
        }
        parser_.reset();
        end_attempt();
    }

    // The attempt is over (conn_ is set only after a complete response):
    // interpret it, give the connection back, and finish or retry. The
    // common case, a success with no on_attempt hook, stays on this short
    // path; failures and the hook take the out-of-line ones below.
    void end_attempt() {
        if (st_->opts.on_attempt) attempt_end_ = steady::now();
        auto& out = out_;
        auto& diag = diag_;
        diag.status = out.status;
        diag.retry_after.reset();
        diag.error.clear();
        diag.detail.clear();
        diag.validation_errors.clear();
        diag.body.clear();
        diag.message = std::move(out.message);

        error_code ec = out.ec;
        bool retryable = false;
        if (cancelled_) {
            ec = asio::error::operation_aborted;
        } else if (!ec) {
            ec = interpret(out, diag);
            if (ec == errc::not_found) check_api_version(out, *call_.version, ec, diag);
            else if (ec == errc::validation_failed && call_.unknown_meter_is_not_found) unknown_meter(ec, diag);
            if (out.status >= 200 && out.status <= 299) {
                if (!ec) st_->refill_budget();
            } else {
                retryable = policy().retryable_status(out.status);
                // A 500, 502 or 504 may come after the server acted (or from a
                // gateway in front of it): only idempotent requests, or a
                // policy that opts in, repeat one. 408, 429 and 503 say the
                // request was not processed.
                if (retryable && !call_.idempotent && !policy().retry_non_idempotent() &&
                    (out.status == 500 || out.status == 502 || out.status == 504)) {
                    retryable = false;
                    diag.retry_stop_reason = "the request may have been processed (status " +
                                             std::to_string(out.status) +
                                             "); a request that is not idempotent is not repeated";
                }
                // Every request of the client waits out the server's limit.
                if (out.status == 429) st_->limiter->throttled(diag.retry_after);
            }
        } else if (transport_failure(ec, retryable)) {
            return begin_attempt();
        }

        diag.content_type = std::move(out.content_type);
        diag.request_id = std::move(out.request_id);
        if (out.has_polar_version) diag.server_api_version = std::move(out.polar_version);
        else diag.server_api_version.clear();

        // A connection that delivered something unusable is not trusted again.
        if (conn_)
            st_->release(std::move(conn_), out.keep_alive && !cancelled_ && ec != errc::invalid_response &&
                                               ec != errc::unexpected_response);

        if (!ec && !st_->opts.on_attempt) return finish(ec);
        conclude(ec, retryable);
    }

    // A failure before a complete response: whether it may be retried, and
    // (returns true) whether the attempt does not count because it found a
    // keep-alive connection the server had closed.
    POLAR_COLD bool transport_failure(error_code& ec, bool& retryable) {
        auto& out = out_;
        if (ec == asio::error::operation_aborted || ec == errc::client_shut_down || ec == errc::invalid_argument ||
            ec == errc::body_too_large || ec == errc::unexpected_response || out.deadline_hit) {
            retryable = false;
            return false;
        }
        // Connect error, reset, EOF, attempt timeout, TLS.
        const auto& pol = policy();
        const bool safe = call_.idempotent || !out.maybe_sent || pol.retry_non_idempotent();
        if (out.stale && call_.idempotent && !stale_retry_used_) {
            // Not a real attempt: try once more on another connection at once.
            stale_retry_used_ = true;
            --attempt_;
            return true;
        }
        retryable = pol.retry_transport_errors() && safe;
        if (!call_.idempotent && out.maybe_sent && !pol.retry_non_idempotent()) {
            diag_.message = "the request may have been processed (" + ec.message() +
                            (diag_.message.empty() ? "" : ": " + diag_.message) + "); not retried";
            ec = make_error_code(errc::outcome_unknown);
        }
        return false;
    }

    // Decides whether and when to retry, reports the attempt to on_attempt,
    // and finishes or waits for the next attempt.
    POLAR_COLD void conclude(error_code ec, bool retryable) {
        const auto& pol = policy();
        auto& diag = diag_;
        std::chrono::milliseconds delay{0};
        std::string stop;
        if (ec && retryable) {
            if (!rng_) rng_.emplace(static_cast<std::uint32_t>(st_->seed.fetch_add(0x9E3779B9u)));
            delay = pol.backoff(attempt_ - 1, std::uniform_real_distribution<double>(0.0, 1.0)(*rng_));
            if (diag.retry_after && pol.honor_retry_after()) {
                const auto ra = std::chrono::duration_cast<std::chrono::milliseconds>(*diag.retry_after);
                if (ra > pol.max_retry_after())
                    stop = "Retry-After of " + std::to_string(diag.retry_after->count()) +
                           " s exceeds the policy's max_retry_after";
                delay = std::max(delay, ra);
            }
            const auto now = steady::now();
            if (!stop.empty()) {
            } else if (pol.max_attempts() > 0 && attempt_ >= pol.max_attempts()) {
                stop = "the policy's limit of " + std::to_string(pol.max_attempts()) + " attempts was reached";
            } else if (pol.max_elapsed().count() > 0 && now + delay - start_time_ > pol.max_elapsed()) {
                stop = "the policy's max_elapsed time would be exceeded";
            } else if (deadline_ != steady::time_point::max() && now + delay >= deadline_) {
                stop = "the operation's deadline would expire before the next attempt";
            } else if (!st_->try_spend_retry()) {
                stop = "the client's retry budget is exhausted (too many failures recently)";
            }
        }
        const bool will_retry = ec && retryable && stop.empty();
        if (st_->opts.on_attempt) {
            attempt_info info;
            info.method = verb_name(call_.verb);
            info.target = call_.target;
            info.attempt = attempt_;
            info.status = out_.status;
            info.ec = ec;
            info.latency = std::chrono::duration_cast<std::chrono::microseconds>(attempt_end_ - attempt_start_);
            info.reused_connection = out_.reused;
            info.will_retry = will_retry;
            info.retry_delay = will_retry ? delay : std::chrono::milliseconds{0};
            try {
                st_->opts.on_attempt(info);
            } catch (...) {
            }
        }
        if (!will_retry) {
            if (ec && !stop.empty()) diag.retry_stop_reason = std::move(stop);
            return finish(ec);
        }
        phase_ = phase::backing_off;
        if (!backoff_) backoff_.emplace(ex_);
        backoff_->expires_after(delay);
        backoff_->async_wait(step(&operation_base::on_backoff));
    }

    void on_backoff(error_code ec) {
        if (ec || cancelled_) return finish(asio::error::operation_aborted);
        begin_attempt();
    }

    // Fills the caller's diagnostics and completes the handler.
    void finish(error_code ec) {
        phase_ = phase::done;
        if (call_.user_diag || call_.diagnostics_sink) {
            diag_.method = std::string(verb_name(call_.verb));
            diag_.path = call_.target;
            if (call_.version->is_dated()) diag_.api_version = call_.version->str();
            if (call_.user_diag) *call_.user_diag = diag_;
            if (call_.diagnostics_sink) *call_.diagnostics_sink = std::move(diag_);
        }
        complete(ec);
    }

    std::shared_ptr<client_state> st_;
    http_call call_;
    asio::any_completion_executor work_; // the handler's executor, with outstanding work
    asio::any_io_executor ex_;           // the client's executor, or a strand of it
    asio::cancellation_slot slot_;       // the handler's slot, if connected
    asio::cancellation_signal inner_;    // cancels a pool wait or a connect in progress
    phase phase_ = phase::starting;
    bool inline_completion_ = false;
    bool cancelled_ = false;
    bool stale_retry_used_ = false;
    int attempt_ = 0;
    steady::time_point start_time_{};
    steady::time_point attempt_start_{};
    steady::time_point attempt_end_{}; // when the response ended (kept only for on_attempt)
    steady::time_point deadline_ = steady::time_point::max();
    std::chrono::milliseconds attempt_timeout_{0};
    std::unique_ptr<connection> conn_;
    std::optional<response_parser> parser_;
    attempt_outcome out_;
    diagnostics diag_;
    std::optional<asio::steady_timer> backoff_;
    std::optional<std::minstd_rand> rng_;
    std::shared_ptr<rate_limiter::waiter> rate_wait_;
    std::string auth_field_; // "Authorization: ...\r\n" unless the client's fixed token is used
    std::string secret_;     // its bare token, masked in traces

    std::string_view secret() const noexcept { return auth_field_.empty() ? std::string_view(st_->token) : secret_; }
};

/**
 * One call, attempt after attempt (operation_base), with its result type and
 * handler: decodes into `T` and calls `handler(error_code, T)` once.
 */
template <class T, class Handler>
class operation final : public operation_base {
public:
    operation(std::shared_ptr<client_state> st, http_call&& call, Handler&& handler)
        : operation_base(std::move(st), std::move(call)), handler_(std::move(handler)) {}

    void start() {
        choose_executor(asio::get_associated_executor(handler_, st_->ex_),
                        asio::get_associated_cancellation_slot(handler_));
        run();
    }

private:
    error_code interpret(const received_response& r, diagnostics& diag) override {
        const auto ec = interpret_response(r, diag, &decode_erased<T>, &result_);
        if (!ec)
            set_page_context(result_, st_, call_); // only a 2xx that decoded has no error
        else if (r.status >= 200 && r.status <= 299)
            result_ = T{}; // nothing of a body that did not decode reaches the caller
        return ec;
    }

    body_sink* response_sink() override {
        if constexpr (streamable_result<typename stream_target<T>::type>) {
            if (!sink_) sink_.emplace(result_);
            return &*sink_;
        } else {
            return nullptr;
        }
    }

    void complete(error_code ec) override {
        if (inline_completion_) {
            if (slot_.is_connected()) slot_.clear();
            auto h = std::move(handler_);
            std::move(h)(ec, std::move(result_));
            return;
        }
        auto ex = work_;
        asio::dispatch(ex, [h = std::move(handler_), work = std::move(work_), slot = slot_, ec,
                            value = std::move(result_)]() mutable {
            if (slot.is_connected()) slot.clear();
            std::move(h)(ec, std::move(value));
        });
    }

    Handler handler_;
    T result_{};
    std::optional<decode_sink<T>> sink_; // the decoder of a body that streams (see read_buffer_size)
};

/// Starts `call` on the client's pool; `handler(error_code, T)` is called once.
template <class T, class Handler>
void start_operation(std::shared_ptr<client_state> st, http_call&& call, Handler&& handler) {
    std::make_shared<operation<T, std::decay_t<Handler>>>(std::move(st), std::move(call), std::forward<Handler>(handler))
        ->start();
}

} // namespace client_impl
using namespace client_impl;

template <class T>
void async_execute(std::shared_ptr<client_state> state, http_call&& call,
                   asio::any_completion_handler<void(error_code, T)> handler) {
    if (!state) {
        diagnostics d;
        d.message = "page::next(): this page did not come from a client";
        throw api_error(make_error_code(errc::invalid_argument), std::move(d));
    }
    start_operation<T>(std::move(state), std::move(call), std::move(handler));
}

#ifdef POLAR_SEPARATE_COMPILATION
template void async_execute<meter>(std::shared_ptr<client_state>, http_call&&,
                                   asio::any_completion_handler<void(error_code, meter)>);
template void async_execute<page<meter>>(std::shared_ptr<client_state>, http_call&&,
                                         asio::any_completion_handler<void(error_code, page<meter>)>);
template void async_execute<page<event>>(std::shared_ptr<client_state>, http_call&&,
                                         asio::any_completion_handler<void(error_code, page<event>)>);
template void async_execute<meter_quantities>(std::shared_ptr<client_state>, http_call&&,
                                              asio::any_completion_handler<void(error_code, meter_quantities)>);
template void async_execute<std::optional<page<meter>>>(
    std::shared_ptr<client_state>, http_call&&, asio::any_completion_handler<void(error_code, std::optional<page<meter>>)>);
template void async_execute<std::optional<page<event>>>(
    std::shared_ptr<client_state>, http_call&&, asio::any_completion_handler<void(error_code, std::optional<page<event>>)>);
template void async_execute<events_ingest_response>(
    std::shared_ptr<client_state>, http_call&&, asio::any_completion_handler<void(error_code, events_ingest_response)>);
template void async_execute<event>(std::shared_ptr<client_state>, http_call&&,
                                   asio::any_completion_handler<void(error_code, event)>);
template void async_execute<customer_meter>(std::shared_ptr<client_state>, http_call&&,
                                            asio::any_completion_handler<void(error_code, customer_meter)>);
template void async_execute<page<customer_meter>>(
    std::shared_ptr<client_state>, http_call&&, asio::any_completion_handler<void(error_code, page<customer_meter>)>);
template void async_execute<std::optional<page<customer_meter>>>(
    std::shared_ptr<client_state>, http_call&&,
    asio::any_completion_handler<void(error_code, std::optional<page<customer_meter>>)>);
#endif

} // namespace detail

// -- client ---------------------------------------------------------------------

namespace detail {
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
