#ifndef POLAR_IMPL_INGEST_BATCHER_QUEUE_IPP
#define POLAR_IMPL_INGEST_BATCHER_QUEUE_IPP

// The ingest batcher, part 1: its state and the queue. Producers (any
// thread) prepare events and add them under the mutex; the building batch is
// sealed by count, bytes, age, flush, close or a full queue, and sealed
// batches wait in `ready_` until a send slot is free. The sending, the age
// timer, the reports and cancellation are in ingest_batcher_send.ipp.

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

    // -- after unlocking, on strand_, any thread: ingest_batcher_send.ipp ---------

    void run(actions& act);

    template <class T>
    static void fail(pending_completion<T> done, error_code ec, std::string what) {
        auto d = std::make_shared<diagnostics>();
        d->message = std::move(what);
        done.complete(ec, T{}, std::move(d));
    }

    void start_send(batch b);
    void arm_timer();
    void on_timer(error_code);
    void on_sent(std::shared_ptr<batch> b, error_code ec, events_ingest_response r, std::shared_ptr<diagnostics> diag);
    void cancel_waiter(std::uint64_t id);

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

} // namespace detail
} // namespace polar

#endif
