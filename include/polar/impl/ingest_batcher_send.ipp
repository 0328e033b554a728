#ifndef POLAR_IMPL_INGEST_BATCHER_SEND_IPP
#define POLAR_IMPL_INGEST_BATCHER_SEND_IPP

// The ingest batcher, part 2: what runs after unlocking (sending the sealed
// batches, completing waiters), on the strand (the age timer, a batch's
// outcome and its report) and on any thread (cancelling a waiter).

#include <polar/impl/ingest_batcher_queue.ipp>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace polar {
namespace detail {

// -- after unlocking -----------------------------------------------------------

inline void batcher_impl::run(actions& act) {
    for (auto& b : act.send) start_send(std::move(b));
    for (auto& [done, id] : act.added) done.complete(error_code{}, std::move(id));
    for (auto& [w, s] : act.flushed) {
        if (w.ec)
            w.done.complete(w.ec, s, std::move(w.diag));
        else
            w.done.complete(error_code{}, s);
    }
    if (act.arm_timer)
        boost::asio::post(strand_, [self = shared_from_this()] { self->arm_timer(); });
    if (act.cancel_timer)
        boost::asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
}

inline void batcher_impl::start_send(batch b) {
    http_call call = proto_;
    call.verb = http_verb::post;
    call.target = "/v1/events/ingest";
    call.idempotent = true; // every event has an external_id, the version is dated
    call.body = std::move(b.body);
    b.body = {};
    auto diag = std::make_shared<diagnostics>();
    call.diagnostics_sink = diag;
    auto pb = std::make_shared<batch>(std::move(b));
    start_operation<events_ingest_response>(st_, std::move(call),
                                            send_handler{shared_from_this(), std::move(pb), std::move(diag)});
}

// -- on strand_ ------------------------------------------------------------------

inline void batcher_impl::arm_timer() {
    clock::time_point deadline;
    {
        std::lock_guard lk(mu_);
        if (building_.events.empty()) {
            timer_armed_ = false;
            return;
        }
        deadline = building_deadline_;
    }
    timer_.expires_at(deadline);
    timer_.async_wait([self = shared_from_this()](error_code ec) { self->on_timer(ec); });
}

inline void batcher_impl::on_timer(error_code) {
    actions act;
    bool again = false;
    {
        std::lock_guard lk(mu_);
        if (building_.events.empty()) {
            timer_armed_ = false;
        } else if (clock::now() >= building_deadline_) {
            seal_locked(batch_trigger::age);
            timer_armed_ = false;
        } else {
            again = true; // a newer batch: wait for its own deadline
        }
        dispatch_locked(act);
    }
    run(act);
    if (again) arm_timer();
}

inline void batcher_impl::on_sent(std::shared_ptr<batch> b, error_code ec, events_ingest_response r, std::shared_ptr<diagnostics> diag) {
    batch_report rep;
    rep.batch = b->number;
    rep.trigger = b->trigger;
    rep.size = b->events.size();
    rep.bytes = b->bytes;
    rep.ec = ec;
    if (diag) rep.diag = *diag;
    rep.response = r;
    actions act;
    {
        std::lock_guard lk(mu_);
        --in_flight_;
        queued_ -= rep.size;
        if (ec) {
            ++stats_.failed_batches;
            stats_.failed_events += rep.size;
            for (auto& w : flush_waiters_) {
                if (!w.ec && w.target > b->first_seq) {
                    w.ec = ec;
                    w.diag = std::make_shared<diagnostics>(rep.diag);
                }
            }
        } else {
            ++stats_.batches;
            stats_.inserted += static_cast<std::uint64_t>(std::max<std::int64_t>(r.inserted, 0));
            stats_.duplicates += static_cast<std::uint64_t>(std::max<std::int64_t>(r.duplicates, 0));
            stats_.bytes += rep.bytes;
        }
        admit_locked(act);
        dispatch_locked(act);
        if (closed_ && queued_ == 0) act.cancel_timer = true;
    }
    if (ec) rep.events = std::move(b->events);
    // The report first, so that a flush() completing below has seen it;
    // the queue was updated first, so the callback may re-add events.
    if (opts_.on_batch) {
        try {
            opts_.on_batch(rep);
        } catch (...) {
        }
    } else if (ec) {
        std::lock_guard lk(mu_);
        failures_.push_back(std::move(rep));
    }
    {
        // Settled only now: a flush() called meanwhile still waits for
        // this batch, so it completes after its report.
        std::lock_guard lk(mu_);
        in_flight_firsts_.erase(in_flight_firsts_.find(b->first_seq));
        settle_flushes_locked(act);
    }
    run(act);
}

// -- any thread ---------------------------------------------------------------------

inline void batcher_impl::cancel_waiter(std::uint64_t id) {
    std::optional<pending_completion<std::string>> add;
    std::optional<pending_completion<batcher_stats>> fl;
    {
        std::lock_guard lk(mu_);
        for (auto it = add_waiters_.begin(); it != add_waiters_.end(); ++it) {
            if (it->id == id) {
                add.emplace(std::move(it->done));
                add_waiters_.erase(it);
                ++stats_.rejected;
                break;
            }
        }
        if (!add) {
            for (auto it = flush_waiters_.begin(); it != flush_waiters_.end(); ++it) {
                if (it->id == id) {
                    fl.emplace(std::move(it->done));
                    flush_waiters_.erase(it);
                    break;
                }
            }
        }
    }
    if (add) fail(std::move(*add), boost::asio::error::operation_aborted, "cancelled while waiting for room");
    if (fl) fail(std::move(*fl), boost::asio::error::operation_aborted, "cancelled while waiting for the flush");
}

} // namespace detail
} // namespace polar

#endif
