//
// polar-cpp: the ingest batcher: events fed from any thread, sent in batches
// that are safe to retry.
//
#ifndef POLAR_INGEST_BATCHER_HPP
#define POLAR_INGEST_BATCHER_HPP

#include <polar/detail/call.hpp>
#include <polar/detail/config.hpp>
#include <polar/error.hpp>
#include <polar/models/event.hpp>
#include <polar/with_diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace polar {

/// What `ingest_batcher::add()` does when the queue is full.
enum class queue_full_policy {
    wait, ///< wait until sent batches make room (cancellable; try_add() never waits)
    fail, ///< complete at once with `errc::queue_full`
};

/// Why a batch was sent.
enum class batch_trigger {
    count,      ///< it reached batcher_options::max_batch_events
    bytes,      ///< the next event would have made it larger than batcher_options::max_batch_bytes
    age,        ///< its first event was added batcher_options::max_batch_age ago
    queue_full, ///< the queue was full: the events waiting are sent without waiting for their age
    flush,      ///< ingest_batcher::flush()
    close,      ///< ingest_batcher::close() or the destructor
};

/// The name of a trigger ("count", "bytes", ...).
POLAR_DECL std::string_view to_string(batch_trigger t) noexcept;

/**
 * @brief The outcome of one batch, handed to `batcher_options::on_batch`.
 *
 * @details On success `response` holds the server's counts (`inserted +
 * duplicates` is `size`: an event the server had already stored, e.g. from an
 * attempt whose response was lost, is a duplicate, not a second copy) and
 * `events` is empty. On failure `ec` and `diag` say why (after the retries the
 * retry policy allowed), and `events` holds the batch's events, each with the
 * `external_id` it was sent with: the batcher does not send them again by
 * itself. Adding them again is safe, since the server drops those it already
 * stored.
 */
struct batch_report {
    std::uint64_t batch = 0;          ///< the batch's number, from 1, in the order batches were formed
    batch_trigger trigger = batch_trigger::count; ///< why it was sent
    std::size_t size = 0;             ///< events in the batch
    std::size_t bytes = 0;            ///< bytes of the request body
    error_code ec;                    ///< empty on success
    diagnostics diag;                 ///< the ingest call's diagnostics (status, attempts, Polar error, ...)
    events_ingest_response response;  ///< the server's counts (success only)
    std::vector<event_create> events; ///< failure only: the batch's events, handed back

    bool ok() const noexcept { return !ec; }
};

/**
 * @brief Counters of an `ingest_batcher` (a snapshot).
 *
 * @details Every accepted event ends up in exactly one of `inserted`,
 * `duplicates` and `failed_events`, or is still counted in `queued`.
 */
struct batcher_stats {
    std::uint64_t accepted = 0;       ///< events taken by add() / try_add()
    std::uint64_t rejected = 0;       ///< add() / try_add() calls refused (queue full, closed, invalid event, wait cancelled)
    std::uint64_t waited = 0;         ///< add() calls that had to wait for room
    std::uint64_t inserted = 0;       ///< events the server stored (its `inserted`)
    std::uint64_t duplicates = 0;     ///< events the server had already stored (its `duplicates`)
    std::uint64_t failed_events = 0;  ///< events of failed batches (handed back in their reports)
    std::uint64_t batches = 0;        ///< batches sent successfully
    std::uint64_t failed_batches = 0; ///< batches that failed
    std::uint64_t bytes = 0;          ///< request body bytes of the successful batches
    std::uint64_t queued = 0;         ///< now: events accepted and not yet settled (buffered or being sent)
    std::uint64_t in_flight = 0;      ///< now: batches being sent

    /// Events the server confirmed: `inserted + duplicates`.
    std::uint64_t sent() const noexcept { return inserted + duplicates; }
};

/**
 * @brief Configuration of `events().batcher()`. Defaults documented; the
 * batcher validates it when created.
 */
struct batcher_options {
    /// A batch is sent once it holds this many events (at least 1).
    std::size_t max_batch_events = 1000;
    /// A batch is sent before the next event would make its request body
    /// (the encoded JSON, exactly as sent) larger than this. At most 10 MiB
    /// (10 485 760 bytes), the server's limit, and at least 1 KiB. An event
    /// that alone does not fit is rejected by add() with `errc::invalid_argument`.
    std::size_t max_batch_bytes = std::size_t(1) << 20;
    /// A batch is sent at the latest this long after its first event was
    /// added (0 = no age limit: batches wait for count, bytes, flush() or close()).
    std::chrono::milliseconds max_batch_age{1000};
    /// Events accepted and not yet settled (buffered, or in a batch being
    /// sent) at most; then add() applies `when_full` (at least 1).
    std::size_t max_queued_events = 10'000;
    /// What add() does when the queue is full.
    queue_full_policy when_full = queue_full_policy::wait;
    /// Batches being sent at once at most (at least 1). Each uses one of the
    /// client's connections while it is sent.
    std::size_t max_in_flight = 4;
    /// The start of the `external_id` given to events without one; the
    /// batcher appends a counter that starts at 1 for each batcher. Empty
    /// (the default): 32 random hex digits (128 bits) and a dash, new for
    /// each batcher, so ids of different batchers and processes never
    /// collide. A prefix of your own must be just as unique (per batcher and
    /// per run): Polar keeps external ids per organization for good, so an
    /// event whose generated id repeats one stored earlier is dropped as a
    /// duplicate, not stored.
    std::string external_id_prefix{};
    /// Options of every ingest call: timeouts, headers, the retry policy (the
    /// client's when unset) and the API version (which must be a dated one).
    /// Copied when the batcher is created; `diag` is not used (each report
    /// carries its batch's diagnostics).
    request_options request{};
    /// Called once per batch, success or failure, with its report (which it
    /// may move from, e.g. to keep the events of a failed batch). Called on a
    /// strand of the client's executor, one report at a time; it may call
    /// the batcher's functions (try_add() to re-add events; add() with a
    /// callback token) but must not block. Exceptions it throws are ignored.
    /// When not set, the reports of failed batches are kept until
    /// `ingest_batcher::take_failures()` and successful ones are dropped.
    std::function<void(batch_report&)> on_batch{};
};

namespace detail {

class batcher_impl;

/// The single argument of add(): owned, filled at initiation.
struct batcher_add_args {
    std::shared_ptr<batcher_impl> impl;
    event_create event;
    std::shared_ptr<diagnostics> diagnostics_sink;
};

/// The single argument of flush() and close().
struct batcher_flush_args {
    std::shared_ptr<batcher_impl> impl;
    bool close = false;
    std::shared_ptr<diagnostics> diagnostics_sink;
};

POLAR_DECL void async_batcher_add(batcher_add_args args,
                                  boost::asio::any_completion_handler<void(error_code, std::string)> handler);
POLAR_DECL void async_batcher_flush(batcher_flush_args args,
                                    boost::asio::any_completion_handler<void(error_code, batcher_stats)> handler);

struct batcher_add_initiation {
    using value_type = std::string;
    template <class Handler>
    void operator()(Handler&& handler, batcher_add_args args) && {
        async_batcher_add(std::move(args), boost::asio::any_completion_handler<void(error_code, std::string)>(
                                               std::forward<Handler>(handler)));
    }
};

struct batcher_flush_initiation {
    using value_type = batcher_stats;
    template <class Handler>
    void operator()(Handler&& handler, batcher_flush_args args) && {
        async_batcher_flush(std::move(args), boost::asio::any_completion_handler<void(error_code, batcher_stats)>(
                                                 std::forward<Handler>(handler)));
    }
};

} // namespace detail

/**
 * @brief Collects events from any thread and ingests them in batches, with
 * safe retries: `client.events().batcher(options)`.
 *
 * @details A batch is sent when it reaches `max_batch_events` events, when
 * the next event would make its body larger than `max_batch_bytes`, when its
 * first event is `max_batch_age` old, on flush() and on close() (or
 * destruction). At most `max_in_flight` batches are sent at once; the others
 * wait in order.
 *
 * Safe retries: every event without an `external_id` (or with an empty one)
 * gets one, `external_id_prefix` plus a counter, when it is added. The batch
 * is then idempotent on the dated API versions (the server drops an event
 * whose `external_id` it already stored and counts it in `duplicates`), so
 * the client's retry policy retries it even after a failure that may have
 * followed the store (a connection reset, a 502 from a proxy): nothing is
 * lost or counted twice. The batcher therefore requires a dated API version
 * (the client's, or `request_options::api_version`).
 *
 * Back-pressure: at most `max_queued_events` events are accepted and not yet
 * settled. When the queue is full, the events buffered so far are sent at
 * once, and add() waits for room or fails with `errc::queue_full`
 * (`when_full`); try_add() never waits.
 *
 * Failures: a batch that still fails after its retries (a 422 because one
 * event is invalid: the server rejects the whole batch; a 401; the retry
 * budget spent; ...) is reported to `on_batch` with its error and its events,
 * or kept for take_failures(). flush() and close() then complete with the
 * error of the first batch that failed among those they waited for. The
 * batcher goes on with the following batches.
 *
 * Thread safety: every member function may be called from any thread,
 * concurrently. Events added from one thread are batched in the order they
 * were added; with several batches in flight, batches may complete in any order.
 *
 * Executor: batches are sent on the client's executor; add(), flush() and
 * close() complete on their handler's associated executor, else the client's.
 *
 * Lifetimes: the destructor calls close() without waiting: the remaining
 * events are still sent (and reported) in the background, the batcher's
 * state living until the last batch completes; add() calls still waiting
 * fail with `errc::batcher_closed`. Keep the client's execution context
 * running until then (await close() to know when). A move-only handle.
 *
 * @code
 * auto batcher = client.events().batcher({.max_batch_events = 500});
 * for (auto& e : events)
 *     co_await batcher.add(std::move(e));  // waits while the queue is full
 * polar::batcher_stats s = co_await batcher.close(); // sends the rest, throws if a batch failed
 * @endcode
 */
class ingest_batcher {
public:
    /// An empty handle (every operation fails with `errc::batcher_closed`).
    ingest_batcher() = default;
    explicit ingest_batcher(std::shared_ptr<detail::batcher_impl> impl) noexcept : impl_(std::move(impl)) {}
    ingest_batcher(ingest_batcher&&) noexcept = default;
    POLAR_DECL ingest_batcher& operator=(ingest_batcher&& other) noexcept;
    ingest_batcher(const ingest_batcher&) = delete;
    ingest_batcher& operator=(const ingest_batcher&) = delete;
    /// Closes the batcher without waiting (see Lifetimes).
    POLAR_DECL ~ingest_batcher();

    /**
     * @brief Adds an event; completes with the `external_id` it is sent with
     * once the event is accepted.
     *
     * @details Completion signature `void(error_code, std::string)`. Errors:
     * `errc::queue_full` (full, `when_full` is `fail`), `errc::batcher_closed`
     * (closed before or while waiting), `errc::invalid_argument` (the event
     * cannot be encoded, e.g. NaN metadata, or is larger than
     * `max_batch_bytes` alone). On failure the event is dropped (use
     * try_add() to keep it).
     *
     * Cancellation: a wait for room honours the handler's cancellation slot
     * (every type): the event is not accepted and the operation completes
     * with `operation_aborted`.
     */
    template <class CompletionToken = default_token>
    auto add(event_create event, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::string)>(
            detail::batcher_add_initiation{}, token, detail::batcher_add_args{impl_, std::move(event), nullptr});
    }

    /**
     * @brief Adds an event if there is room, without waiting (whatever `when_full` says).
     *
     * @details On success `event` is moved from. On failure (the errors of
     * add()) it keeps its contents, except that it may have been given its
     * `external_id`, so adding it again later is safe.
     */
    POLAR_DECL error_code try_add(event_create&& event);

    /**
     * @brief Sends the events buffered now and completes once every event
     * accepted before the call is settled (sent, or its batch failed and was
     * reported).
     *
     * @details Completion signature `void(error_code, batcher_stats)`: the
     * stats when it completes, and the error of the first of those batches
     * to fail (their reports went to `on_batch` before this completes).
     * Cancellation: stops waiting (every type); the batches go on.
     */
    template <class CompletionToken = default_token>
    auto flush(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, batcher_stats)>(
            detail::batcher_flush_initiation{}, token, detail::batcher_flush_args{impl_, false, nullptr});
    }

    /**
     * @brief Stops accepting events, sends the rest and completes when every
     * accepted event is settled.
     *
     * @details Like flush(), and add() calls still waiting fail with
     * `errc::batcher_closed`, as do later add() and try_add(). Closing twice
     * is allowed (both complete when everything is settled).
     */
    template <class CompletionToken = default_token>
    auto close(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, batcher_stats)>(
            detail::batcher_flush_initiation{}, token, detail::batcher_flush_args{impl_, true, nullptr});
    }

    /// A snapshot of the counters.
    POLAR_DECL batcher_stats stats() const;
    /// The reports of failed batches kept since the last call (only without
    /// `batcher_options::on_batch`), oldest first.
    POLAR_DECL std::vector<batch_report> take_failures();
    /// The prefix of generated external ids (see batcher_options::external_id_prefix).
    POLAR_DECL const std::string& external_id_prefix() const noexcept;

private:
    std::shared_ptr<detail::batcher_impl> impl_;
};

} // namespace polar

#endif
