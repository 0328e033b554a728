//
// polar-cpp: the end of an attempt (internal): the response interpreted,
// then the retry decision (policy, retry budget, Retry-After, deadline),
// the backoff, or the end of the operation. Members of operation_base
// (operation.hpp), which includes this file after the class; they are
// declared there inline (and the failure paths POLAR_COLD).
//
#ifndef POLAR_DETAIL_OPERATIONS_RETRY_HPP
#define POLAR_DETAIL_OPERATIONS_RETRY_HPP

#include <polar/detail/operations/operation.hpp>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>

namespace polar::detail::client_impl {

// The attempt is over (conn_ is set only after a complete response):
// interpret it, give the connection back, and finish or retry. The
// common case, a success with no on_attempt hook, stays on this short
// path; failures and the hook take the out-of-line ones below.
void operation_base::end_attempt() {
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
bool operation_base::transport_failure(error_code& ec, bool& retryable) {
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
void operation_base::conclude(error_code ec, bool retryable) {
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

void operation_base::on_backoff(error_code ec) {
    if (ec || cancelled_) return finish(asio::error::operation_aborted);
    begin_attempt();
}

} // namespace polar::detail::client_impl

#endif
