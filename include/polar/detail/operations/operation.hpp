//
// polar-cpp: the operation (internal): one call, attempt after attempt, from
// its initiation to the socket and back to the handler.
//
#ifndef POLAR_DETAIL_OPERATIONS_OPERATION_HPP
#define POLAR_DETAIL_OPERATIONS_OPERATION_HPP

#include <polar/client.hpp>
#include <polar/detail/call.hpp>
#include <polar/detail/operations/client_state.hpp>
#include <polar/detail/operations/request.hpp>
#include <polar/detail/operations/result.hpp>
#include <polar/detail/rate_limiter.hpp>
#include <polar/detail/response.hpp>
#include <polar/detail/transport/transport.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include <cctype>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace polar::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using steady = std::chrono::steady_clock;

namespace client_impl {

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

// ec, message, status, body, content_type, request_id, retry_after, keep_alive
struct attempt_outcome : received_response {
    bool maybe_sent = false;     // request bytes may have reached the server
    bool stale = false;          // a reused connection failed before any response byte
    bool reused = false;
    bool deadline_hit = false;   // the operation's own deadline expired
};

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
 * (whose requests may be abandoned at any point) and for any call while
 * nothing of it has been sent (waiting for a rate limit token, or for its
 * first connection).
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
        // Waiting for a rate limit token, or for the first connection: nothing
        // was sent, so any type ends it.
        if (call_.idempotent || phase_ == phase::rate_waiting || (phase_ == phase::acquiring && !sent_))
            allowed |= asio::cancellation_type::total;
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
        sent_ = true;
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

    // The attempt is over: interpret it, then finish or retry (retry.hpp).
    inline void end_attempt();
    POLAR_COLD inline bool transport_failure(error_code& ec, bool& retryable);
    POLAR_COLD inline void conclude(error_code ec, bool retryable);
    inline void on_backoff(error_code ec);

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
    bool sent_ = false; // an attempt has written (or begun to write) its request
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

} // namespace polar::detail

// The members that end an attempt, defined out of the class.
#include <polar/detail/operations/retry.hpp>

#endif
