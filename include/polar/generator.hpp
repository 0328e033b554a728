//
// polar-cpp: generator<T>, a lazy asynchronous sequence (pages or items of a list).
//
#ifndef POLAR_GENERATOR_HPP
#define POLAR_GENERATOR_HPP

#include <polar/detail/config.hpp>
#include <polar/error.hpp>
#include <polar/with_diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <optional>
#include <utility>

namespace polar {

/**
 * @brief Options of the streaming operations (`list_pages`, `list_items`,
 * `events_pages`, `events_items`).
 *
 * @details Scalars only, so it can be written inline:
 * `client.meters().list_items({.limit = 100}, {}, {.prefetch = true})`.
 */
struct generator_options {
    /// Fetch the following page while the consumer works on the current one
    /// (at most one page ahead). Off by default: a page is requested only when
    /// the consumer asks for an item the fetched pages do not hold.
    bool prefetch = false;
};

namespace detail {

/// What a generator forwards to: the type-erased state machine behind it.
template <class T>
class generator_source {
public:
    using handler_type = boost::asio::any_completion_handler<void(error_code, std::optional<T>)>;

    virtual ~generator_source() = default;
    /// Starts one `next()`; completes `handler` later (never inline). Fills
    /// `sink` (if any) with the diagnostics of a failure before completing.
    virtual void next(handler_type handler, std::shared_ptr<diagnostics> sink) = 0;
    /// The generator is gone: cancel the request in flight and complete a pending next().
    virtual void close() noexcept = 0;
};

/// The single initiation argument of `generator::next()` (with_diagnostics fills the sink).
struct generator_next_args {
    std::shared_ptr<diagnostics> diagnostics_sink;
};

template <class T>
struct generator_next_initiation {
    using value_type = std::optional<T>;
    std::shared_ptr<generator_source<T>> source;

    template <class Handler>
    void operator()(Handler&& handler, generator_next_args args) && {
        if (!source) {
            // An empty (default-constructed or moved-from) generator is done.
            auto ex = boost::asio::get_associated_executor(handler);
            boost::asio::post(ex, [h = std::forward<Handler>(handler)]() mutable {
                std::move(h)(error_code{}, std::optional<T>{});
            });
            return;
        }
        source->next(typename generator_source<T>::handler_type(std::forward<Handler>(handler)),
                     std::move(args.diagnostics_sink));
    }
};

} // namespace detail

/**
 * @brief A lazy asynchronous sequence of `T`, produced on demand.
 *
 * @details Returned by `meters().list_pages()`, `list_items()`,
 * `events_pages()` and `events_items()`. It does no I/O until the first
 * `next()`; then it requests a page only when the consumer asks for an item
 * that the pages fetched so far do not hold (or, with
 * `generator_options::prefetch`, one page ahead). Iteration stops on the
 * server's `max_page`: an empty page does not end it early, and the page past
 * the end (which reports `max_page` 0) ends it. Every page request carries the
 * request options (timeouts, headers, retry policy) given when the generator
 * was made; no pooled connection is held between pages.
 *
 * @code
 * auto meters = client.meters().list_items({.limit = 100});
 * while (auto m = co_await meters.next())
 *     use(*m);
 * @endcode
 *
 * Errors: a failed page request completes `next()` with its error (the
 * default token throws `api_error` with the request's diagnostics). The
 * generator keeps its position: calling `next()` again retries that page.
 * `request_options::diag`, if given, is filled when a page request's outcome
 * is delivered (by the `next()` that delivers it); it must stay valid while
 * the generator is in use.
 *
 * Cancellation: `next()` honours its handler's cancellation slot (terminal,
 * partial and total): the page request in flight is cancelled and `next()`
 * completes with `operation_aborted`; the generator stays usable. Destroying
 * the generator cancels the request in flight (a prefetch included) and
 * completes a pending `next()` with `operation_aborted`.
 *
 * Executor: `next()` completes on its handler's associated executor, else on
 * the client's, never inside the call to `next()`.
 *
 * Thread safety: one `next()` at a time per generator (a second concurrent
 * call fails with `errc::invalid_argument`). The generator may be used and
 * destroyed from any thread, also while the client's io_context runs on
 * several threads.
 *
 * Lifetimes: move-only; owns copies of the parameters and options it was made
 * with, and keeps the client's shared state alive.
 */
template <class T>
class generator {
public:
    using value_type = T;

    /// An empty generator: `next()` completes with `std::nullopt`.
    generator() noexcept = default;
    explicit generator(std::shared_ptr<detail::generator_source<T>> source) noexcept : source_(std::move(source)) {}

    generator(generator&& other) noexcept = default;
    generator& operator=(generator&& other) noexcept {
        if (this != &other) {
            reset();
            source_ = std::move(other.source_);
        }
        return *this;
    }
    generator(const generator&) = delete;
    generator& operator=(const generator&) = delete;
    ~generator() { reset(); }

    /**
     * @brief The next value: completes with `std::optional<T>`, empty when
     * the sequence is exhausted.
     *
     * @details Completion signature `void(error_code, std::optional<T>)`.
     */
    template <class CompletionToken = default_token>
    auto next(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::optional<T>)>(
            detail::generator_next_initiation<T>{source_}, token, detail::generator_next_args{});
    }

    /// False for an empty (default-constructed or moved-from) generator.
    explicit operator bool() const noexcept { return source_ != nullptr; }

    /// Cancels the request in flight and empties the generator.
    void reset() noexcept {
        if (source_) {
            source_->close();
            source_.reset();
        }
    }

private:
    std::shared_ptr<detail::generator_source<T>> source_;
};

} // namespace polar

#endif
