#ifndef POLAR_IMPL_INGEST_BATCHER_IPP
#define POLAR_IMPL_INGEST_BATCHER_IPP

// The ingest batcher. Its state is guarded by one mutex, because producers
// call in from any thread; the age timer, the ingest completions and the
// report callbacks run on one strand of the client's executor, so reports are
// delivered one at a time. Nothing is started or completed while the mutex is
// held: operations are started and handlers posted after unlocking.

#include <polar/client.hpp>
#include <polar/detail/codec/codec.hpp>
#include <polar/events.hpp>
#include <polar/impl/internal/completion.hpp>
#include <polar/ingest_batcher.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <list>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace polar {

POLAR_DECL std::string_view to_string(batch_trigger t) noexcept {
    switch (t) {
    case batch_trigger::count: return "count";
    case batch_trigger::bytes: return "bytes";
    case batch_trigger::age: return "age";
    case batch_trigger::queue_full: return "queue_full";
    case batch_trigger::flush: return "flush";
    case batch_trigger::close: return "close";
    }
    return "unknown";
}

namespace detail {
namespace batcher_impl_ns {

namespace asio = boost::asio;
using strand_type = asio::strand<asio::any_io_executor>;
using clock = std::chrono::steady_clock;

// The server's request body limit (MeterAPI-2026-10 §6).
inline constexpr std::size_t server_body_limit = std::size_t(10) << 20;
inline constexpr std::string_view body_head = "{\"events\":[";
inline constexpr std::string_view body_tail = "]}";

inline std::string random_prefix() {
    std::random_device rd;
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(33);
    for (int i = 0; i < 4; ++i) {
        std::uint32_t v = rd();
        for (int k = 0; k < 8; ++k) {
            out += hex[v & 0xf];
            v >>= 4;
        }
    }
    out += '-';
    return out;
}

[[noreturn]] inline void throw_invalid(std::string message) {
    diagnostics d;
    d.message = std::move(message);
    throw api_error(make_error_code(errc::invalid_argument), std::move(d));
}

} // namespace batcher_impl_ns

class batcher_impl : public std::enable_shared_from_this<batcher_impl> {
public:
    using strand_type = batcher_impl_ns::strand_type;
    using clock = batcher_impl_ns::clock;

    batcher_impl(std::shared_ptr<client_state> st, batcher_options opts, http_call proto)
        : st_(std::move(st)),
          ex_(st_->ex_),
          strand_(boost::asio::make_strand(ex_)),
          timer_(strand_),
          opts_(std::move(opts)),
          proto_(std::move(proto)),
          prefix_(opts_.external_id_prefix.empty() ? batcher_impl_ns::random_prefix() : opts_.external_id_prefix) {
        building_.body.assign(batcher_impl_ns::body_head);
    }

    const std::string& prefix() const noexcept { return prefix_; }
    const boost::asio::any_io_executor& executor() const noexcept { return ex_; }

    // -- producers (any thread) ------------------------------------------------

    // Gives `e` its external_id if it has none and encodes it; the error is
    // the reason it cannot be sent at all.
    error_code prepare(event_create& e, std::string& json, std::string& what) {
        if (!e.external_id || e.external_id->empty())
            e.external_id = prefix_ + std::to_string(id_counter_.fetch_add(1, std::memory_order_relaxed) + 1);
        if (auto ec = encode(e, json, what)) return ec;
        if (batcher_impl_ns::body_head.size() + json.size() + batcher_impl_ns::body_tail.size() > opts_.max_batch_bytes) {
            what = "the event alone (" + std::to_string(json.size()) +
                   " bytes encoded) does not fit in batcher_options::max_batch_bytes (" +
                   std::to_string(opts_.max_batch_bytes) + ")";
            return make_error_code(errc::invalid_argument);
        }
        return {};
    }

    error_code try_add(event_create&& e) {
        std::string json, what;
        if (auto ec = prepare(e, json, what)) {
            std::lock_guard lk(mu_);
            ++stats_.rejected;
            return ec;
        }
        actions act;
        error_code result;
        {
            std::lock_guard lk(mu_);
            if (closed_) {
                ++stats_.rejected;
                result = make_error_code(errc::batcher_closed);
            } else if (full_locked()) {
                ++stats_.rejected;
                seal_locked(batch_trigger::queue_full);
                result = make_error_code(errc::queue_full);
            } else {
                accept_locked(std::move(e), std::move(json), act);
            }
            dispatch_locked(act);
        }
        run(act);
        return result;
    }

    void add(event_create e, pending_completion<std::string> done) {
        std::string json, what;
        if (auto ec = prepare(e, json, what)) {
            {
                std::lock_guard lk(mu_);
                ++stats_.rejected;
            }
            return fail(std::move(done), ec, std::move(what));
        }
        actions act;
        std::optional<pending_completion<std::string>> failed;
        error_code fail_ec;
        std::string fail_what;
        {
            std::lock_guard lk(mu_);
            if (closed_) {
                ++stats_.rejected;
                fail_ec = make_error_code(errc::batcher_closed);
                fail_what = "the batcher was closed";
                failed.emplace(std::move(done));
            } else if (!full_locked()) {
                std::string id = *e.external_id;
                accept_locked(std::move(e), std::move(json), act);
                act.added.emplace_back(std::move(done), std::move(id));
            } else if (opts_.when_full == queue_full_policy::fail) {
                ++stats_.rejected;
                seal_locked(batch_trigger::queue_full);
                fail_ec = make_error_code(errc::queue_full);
                fail_what = "the queue holds batcher_options::max_queued_events (" +
                            std::to_string(opts_.max_queued_events) + ") events";
                failed.emplace(std::move(done));
            } else {
                ++stats_.waited;
                seal_locked(batch_trigger::queue_full);
                const std::uint64_t id = ++waiter_ids_;
                auto slot = done.slot;
                add_waiters_.push_back(add_waiter{id, std::move(e), std::move(json), std::move(done)});
                if (slot.is_connected()) slot.assign(canceller{weak_from_this(), id});
            }
            dispatch_locked(act);
        }
        run(act);
        if (failed) fail(std::move(*failed), fail_ec, std::move(fail_what));
    }

    void flush(bool close, pending_completion<batcher_stats> done) {
        actions act;
        std::vector<add_waiter> refused;
        std::optional<pending_completion<batcher_stats>> now;
        batcher_stats snapshot;
        {
            std::lock_guard lk(mu_);
            if (close && !closed_) {
                closed_ = true;
                for (auto& w : add_waiters_) refused.push_back(std::move(w));
                stats_.rejected += add_waiters_.size();
                add_waiters_.clear();
            }
            seal_locked(close ? batch_trigger::close : batch_trigger::flush);
            dispatch_locked(act);
            const std::uint64_t target = next_seq_;
            if (low_watermark_locked() >= target) {
                snapshot = stats_locked();
                now.emplace(std::move(done));
            } else {
                const std::uint64_t id = ++waiter_ids_;
                auto slot = done.slot;
                flush_waiters_.push_back(flush_waiter{id, target, {}, nullptr, std::move(done)});
                if (slot.is_connected()) slot.assign(canceller{weak_from_this(), id});
            }
            if (closed_ && queued_ == 0) act.cancel_timer = true;
        }
        run(act);
        for (auto& w : refused) fail(std::move(w.done), make_error_code(errc::batcher_closed), "the batcher was closed");
        if (now) now->complete(error_code{}, snapshot);
    }

    // The destructor of the handle: close without waiting.
    void close_detached() {
        actions act;
        std::vector<add_waiter> refused;
        {
            std::lock_guard lk(mu_);
            if (!closed_) {
                closed_ = true;
                for (auto& w : add_waiters_) refused.push_back(std::move(w));
                stats_.rejected += add_waiters_.size();
                add_waiters_.clear();
            }
            seal_locked(batch_trigger::close);
            dispatch_locked(act);
            if (queued_ == 0) act.cancel_timer = true;
        }
        run(act);
        for (auto& w : refused) fail(std::move(w.done), make_error_code(errc::batcher_closed), "the batcher was closed");
    }

    batcher_stats stats() const {
        std::lock_guard lk(mu_);
        return stats_locked();
    }

    std::vector<batch_report> take_failures() {
        std::lock_guard lk(mu_);
        std::vector<batch_report> out;
        out.swap(failures_);
        return out;
    }

private:
    struct batch {
        std::uint64_t number = 0;
        std::uint64_t first_seq = 0; // sequence number of its first event
        batch_trigger trigger = batch_trigger::count;
        std::vector<event_create> events;
        std::string body;
        std::size_t bytes = 0; // of the body, once sealed
    };

    struct add_waiter {
        std::uint64_t id;
        event_create event;
        std::string json;
        pending_completion<std::string> done;
    };

    struct flush_waiter {
        std::uint64_t id;
        std::uint64_t target; // complete once every event below this sequence number is settled
        error_code ec;        // of the first failed batch it waited for
        std::shared_ptr<diagnostics> diag;
        pending_completion<batcher_stats> done;
    };

    // What to do once the mutex is released.
    struct actions {
        std::vector<batch> send;
        std::vector<std::pair<pending_completion<std::string>, std::string>> added;
        std::vector<std::pair<flush_waiter, batcher_stats>> flushed;
        bool arm_timer = false;
        bool cancel_timer = false;
    };

    // Cancellation of a waiting add() or flush(): the waiter is removed and
    // completes with operation_aborted; nothing else changes.
    struct canceller {
        std::weak_ptr<batcher_impl> self;
        std::uint64_t id;
        void operator()(boost::asio::cancellation_type_t) const {
            if (auto s = self.lock()) s->cancel_waiter(id);
        }
    };

    struct send_handler {
        std::shared_ptr<batcher_impl> self;
        std::shared_ptr<batch> b;
        std::shared_ptr<diagnostics> diag;

        using executor_type = strand_type;
        executor_type get_executor() const noexcept { return self->strand_; }

        void operator()(error_code ec, events_ingest_response r) {
            self->on_sent(std::move(b), ec, r, std::move(diag));
        }
    };

    // -- under mu_ -------------------------------------------------------------

    bool full_locked() const noexcept { return queued_ >= opts_.max_queued_events || !add_waiters_.empty(); }

    std::uint64_t low_watermark_locked() const noexcept {
        std::uint64_t low = building_.events.empty() ? next_seq_ : building_.first_seq;
        if (!ready_.empty()) low = std::min(low, ready_.front().first_seq);
        if (!in_flight_firsts_.empty()) low = std::min(low, *in_flight_firsts_.begin());
        return low;
    }

    batcher_stats stats_locked() const {
        batcher_stats s = stats_;
        s.queued = queued_;
        s.in_flight = in_flight_;
        return s;
    }

    void accept_locked(event_create&& e, std::string&& json, actions& act) {
        namespace n = batcher_impl_ns;
        if (!building_.events.empty() &&
            building_.body.size() + 1 + json.size() + n::body_tail.size() > opts_.max_batch_bytes)
            seal_locked(batch_trigger::bytes);
        if (building_.events.empty()) {
            building_.first_seq = next_seq_;
            if (opts_.max_batch_age.count() > 0) {
                building_deadline_ = clock::now() + opts_.max_batch_age;
                if (!timer_armed_) {
                    timer_armed_ = true;
                    act.arm_timer = true;
                }
            }
        } else {
            building_.body += ',';
        }
        building_.body += json;
        building_.events.push_back(std::move(e));
        ++next_seq_;
        ++queued_;
        ++stats_.accepted;
        if (building_.events.size() >= opts_.max_batch_events) seal_locked(batch_trigger::count);
    }

    void seal_locked(batch_trigger why) {
        if (building_.events.empty()) return;
        building_.body += batcher_impl_ns::body_tail;
        building_.bytes = building_.body.size();
        building_.trigger = why;
        building_.number = ++batch_numbers_;
        ready_.push_back(std::move(building_));
        building_ = batch{};
        building_.body.assign(batcher_impl_ns::body_head);
    }

    void dispatch_locked(actions& act) {
        while (in_flight_ < opts_.max_in_flight && !ready_.empty()) {
            ++in_flight_;
            in_flight_firsts_.insert(ready_.front().first_seq);
            act.send.push_back(std::move(ready_.front()));
            ready_.pop_front();
        }
    }

    // Room was made: accept waiting add() calls in order.
    void admit_locked(actions& act) {
        while (!add_waiters_.empty() && queued_ < opts_.max_queued_events && !closed_) {
            add_waiter w = std::move(add_waiters_.front());
            add_waiters_.pop_front();
            std::string id = *w.event.external_id;
            accept_locked(std::move(w.event), std::move(w.json), act);
            act.added.emplace_back(std::move(w.done), std::move(id));
        }
        // Full again with add() calls still waiting: the events just admitted
        // may sit in an unsealed batch that nothing else would send (no age
        // limit, fewer than a batch), so send them now, as add() does when it
        // finds the queue full.
        if (!add_waiters_.empty()) seal_locked(batch_trigger::queue_full);
    }

    void settle_flushes_locked(actions& act) {
        const std::uint64_t low = low_watermark_locked();
        for (auto it = flush_waiters_.begin(); it != flush_waiters_.end();) {
            if (low >= it->target) {
                act.flushed.emplace_back(std::move(*it), stats_locked());
                it = flush_waiters_.erase(it);
            } else {
                ++it;
            }
        }
    }

    // -- after unlocking -----------------------------------------------------------

    void run(actions& act) {
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

    template <class T>
    static void fail(pending_completion<T> done, error_code ec, std::string what) {
        auto d = std::make_shared<diagnostics>();
        d->message = std::move(what);
        done.complete(ec, T{}, std::move(d));
    }

    void start_send(batch b) {
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

    void arm_timer() {
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

    void on_timer(error_code) {
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

    void on_sent(std::shared_ptr<batch> b, error_code ec, events_ingest_response r, std::shared_ptr<diagnostics> diag) {
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

    void cancel_waiter(std::uint64_t id) {
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

    std::shared_ptr<client_state> st_;
    boost::asio::any_io_executor ex_;
    strand_type strand_;
    boost::asio::steady_timer timer_; // on strand_ only
    const batcher_options opts_;
    const http_call proto_;
    const std::string prefix_;
    std::atomic<std::uint64_t> id_counter_{0};

    mutable std::mutex mu_;
    batch building_;
    clock::time_point building_deadline_{};
    bool timer_armed_ = false;
    std::deque<batch> ready_;
    std::multiset<std::uint64_t> in_flight_firsts_;
    std::uint64_t next_seq_ = 0;
    std::uint64_t batch_numbers_ = 0;
    std::uint64_t waiter_ids_ = 0;
    std::size_t queued_ = 0;
    std::size_t in_flight_ = 0;
    bool closed_ = false;
    std::list<add_waiter> add_waiters_; // FIFO; a cancelled one leaves from the middle
    std::list<flush_waiter> flush_waiters_;
    std::vector<batch_report> failures_;
    batcher_stats stats_;
};

POLAR_DECL void async_batcher_add(batcher_add_args args,
                                  boost::asio::any_completion_handler<void(error_code, std::string)> handler) {
    if (!args.impl) {
        diagnostics d;
        d.message = "ingest_batcher: an empty (moved-from or default-constructed) handle";
        throw api_error(make_error_code(errc::batcher_closed), std::move(d));
    }
    auto ex = args.impl->executor();
    args.impl->add(std::move(args.event),
                   pending_completion<std::string>(std::move(handler), std::move(args.diagnostics_sink), ex, 0));
}

POLAR_DECL void async_batcher_flush(batcher_flush_args args,
                                    boost::asio::any_completion_handler<void(error_code, batcher_stats)> handler) {
    if (!args.impl) {
        diagnostics d;
        d.message = "ingest_batcher: an empty (moved-from or default-constructed) handle";
        throw api_error(make_error_code(errc::batcher_closed), std::move(d));
    }
    auto ex = args.impl->executor();
    args.impl->flush(args.close,
                     pending_completion<batcher_stats>(std::move(handler), std::move(args.diagnostics_sink), ex, 0));
}

} // namespace detail

POLAR_DECL ingest_batcher events_service::batcher(batcher_options options) const {
    namespace n = detail::batcher_impl_ns;
    if (options.max_batch_events == 0) n::throw_invalid("batcher_options::max_batch_events must be at least 1");
    if (options.max_batch_bytes < 1024 || options.max_batch_bytes > n::server_body_limit)
        n::throw_invalid("batcher_options::max_batch_bytes must be between 1024 and 10485760 (10 MiB, the server's limit)");
    if (options.max_queued_events == 0) n::throw_invalid("batcher_options::max_queued_events must be at least 1");
    if (options.max_in_flight == 0) n::throw_invalid("batcher_options::max_in_flight must be at least 1");
    if (options.max_batch_age.count() < 0) n::throw_invalid("batcher_options::max_batch_age must not be negative");
    request_options ro = options.request;
    ro.diag = nullptr;
    detail::http_call proto;
    detail::apply_options(proto, ro);
    if (proto.precheck) n::throw_invalid(proto.precheck_message);
    if (!detail::effective_api_version(state_.get(), ro).is_dated())
        n::throw_invalid("the ingest batcher needs a dated API version (2026-04 or later): on 2025-03 events have "
                         "no external_id, so a retried batch could be counted twice");
    options.request = request_options{}; // its views are not kept
    auto impl = std::make_shared<detail::batcher_impl>(state_, std::move(options), std::move(proto));
    return ingest_batcher(std::move(impl));
}

POLAR_DECL ingest_batcher& ingest_batcher::operator=(ingest_batcher&& other) noexcept {
    if (this != &other) {
        if (impl_) impl_->close_detached();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

POLAR_DECL ingest_batcher::~ingest_batcher() {
    if (impl_) impl_->close_detached();
}

POLAR_DECL error_code ingest_batcher::try_add(event_create&& event) {
    if (!impl_) return make_error_code(errc::batcher_closed);
    return impl_->try_add(std::move(event));
}

POLAR_DECL batcher_stats ingest_batcher::stats() const { return impl_ ? impl_->stats() : batcher_stats{}; }

POLAR_DECL std::vector<batch_report> ingest_batcher::take_failures() {
    return impl_ ? impl_->take_failures() : std::vector<batch_report>{};
}

POLAR_DECL const std::string& ingest_batcher::external_id_prefix() const noexcept {
    static const std::string empty;
    return impl_ ? impl_->prefix() : empty;
}

} // namespace polar

#endif
