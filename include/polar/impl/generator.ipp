#ifndef POLAR_IMPL_GENERATOR_IPP
#define POLAR_IMPL_GENERATOR_IPP

// The generators behind meters().list_pages() / list_items() / events_pages()
// / events_items(): a small state machine over pages, one per generator.
//
// Everything that touches a generator's state runs on its own strand. The page
// requests run their steps on that strand too (it is their handler's
// executor), so a request's completion and any cancellation we emit for it are
// serialized: a cancellation is only emitted while the request is known to be
// in flight, and it reaches the request inline instead of being posted.

#include <polar/client.hpp>
#include <polar/generator.hpp>
#include <polar/impl/internal/completion.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace polar {
namespace detail {
namespace stream_impl {

namespace asio = boost::asio;
using strand_type = asio::strand<asio::any_io_executor>;

// One page request's outcome, kept until the consumer needs it.
template <class Item>
struct fetched {
    error_code ec;
    page<Item> value;
    std::shared_ptr<diagnostics> diag;
};

template <class Item, bool Items>
class stream final : public generator_source<std::conditional_t<Items, Item, page<Item>>>,
                     public std::enable_shared_from_this<stream<Item, Items>> {
public:
    using value_type = std::conditional_t<Items, Item, page<Item>>;
    using handler_type = typename generator_source<value_type>::handler_type;
    using waiter_type = pending_completion<std::optional<value_type>>;

    stream(std::shared_ptr<client_state> st, http_call first, bool prefetch)
        : st_(std::move(st)), ex_(st_->ex_), strand_(asio::make_strand(ex_)), prefetch_(prefetch) {
        // The user's diagnostics pointer is filled on the consumer's side when
        // an outcome is delivered, never by a request running in the background.
        user_diag_ = first.user_diag;
        first.user_diag = nullptr;
        pending_.emplace(std::move(first));
    }

    void next(handler_type handler, std::shared_ptr<diagnostics> sink) override {
        // In the consumer's context: the only place its cancellation slot may be touched.
        const auto id = ids_.fetch_add(1, std::memory_order_relaxed) + 1;
        waiter_type w(std::move(handler), std::move(sink), ex_, id);
        if (w.slot.is_connected()) w.slot.template emplace<cancel_forwarder>(this->weak_from_this(), id);
        asio::post(strand_, [self = this->shared_from_this(), w = std::move(w)]() mutable {
            self->on_next(std::move(w));
        });
    }

    void close() noexcept override {
        try {
            asio::post(strand_, [self = this->shared_from_this()] { self->on_close(); });
        } catch (...) {
            // Out of memory: the request in flight finishes on its own.
        }
    }

private:
    // Forwards the consumer's cancellation to the strand (any thread).
    struct cancel_forwarder {
        std::weak_ptr<stream> self;
        std::uint64_t id;
        void operator()(asio::cancellation_type_t type) {
            if (auto s = self.lock())
                asio::post(s->strand_, [s, id = id, type] { s->on_cancel(id, type); });
        }
    };

    // The completion handler of a page request. If the io_context is destroyed
    // with the request pending, the handler is destroyed without being called:
    // then drop the consumer's pending next() too, which may own the frame
    // that owns this generator (a cycle nothing else would break).
    struct fetch_handler {
        std::shared_ptr<stream> self;
        std::shared_ptr<diagnostics> diag;

        using executor_type = strand_type;
        executor_type get_executor() const noexcept { return self->strand_; }
        using cancellation_slot_type = asio::cancellation_slot;
        cancellation_slot_type get_cancellation_slot() const noexcept { return self->fetch_signal_.slot(); }

        fetch_handler(std::shared_ptr<stream> s, std::shared_ptr<diagnostics> d)
            : self(std::move(s)), diag(std::move(d)) {}
        fetch_handler(fetch_handler&& o) noexcept : self(std::move(o.self)), diag(std::move(o.diag)) {}
        fetch_handler(const fetch_handler&) = delete;
        fetch_handler& operator=(const fetch_handler&) = delete;
        fetch_handler& operator=(fetch_handler&&) = delete;
        ~fetch_handler() {
            if (self) self->on_fetch_dropped();
        }

        void operator()(error_code ec, page<Item> value) {
            auto s = std::move(self);
            s->on_fetched(ec, std::move(value), std::move(diag));
        }
    };

    // -- everything below runs on strand_ -------------------------------------

    void on_next(waiter_type w) {
        if (closed_) {
            w.complete(asio::error::operation_aborted, std::nullopt);
            return;
        }
        if (waiter_) {
            auto d = std::make_shared<diagnostics>();
            d->message = "generator::next() called while another next() is pending";
            w.complete(make_error_code(errc::invalid_argument), std::nullopt, d);
            return;
        }
        started_ = true;
        waiter_.emplace(std::move(w));
        advance();
    }

    void on_cancel(std::uint64_t id, asio::cancellation_type_t type) {
        if (!waiter_ || waiter_->id != id) return; // that next() already completed
        if (fetching_)
            fetch_signal_.emit(type); // completes the request with operation_aborted
        else
            deliver(asio::error::operation_aborted, std::nullopt, nullptr);
    }

    void on_close() {
        closed_ = true;
        ready_.reset();
        pending_.reset();
        if constexpr (Items) current_.reset();
        if (fetching_) fetch_signal_.emit(asio::cancellation_type::terminal);
        if (waiter_) deliver(asio::error::operation_aborted, std::nullopt, nullptr);
    }

    void on_fetched(error_code ec, page<Item> value, std::shared_ptr<diagnostics> diag) {
        fetching_ = false;
        if (closed_) return;
        if (!ec) {
            // Continue from this page's own request context, like page::next():
            // stop on max_page (the page past the end reports 0), never on an
            // empty page.
            if (value.has_next())
                pending_.emplace(make_next_page_call(value.request_.get(), value.number + 1,
                                                     value.pagination.max_page));
            else
                pending_.reset();
        }
        // On failure pending_ is unchanged: the next next() retries the page.
        ready_.emplace(fetched<Item>{ec, std::move(value), std::move(diag)});
        advance();
    }

    void on_fetch_dropped() noexcept {
        fetching_ = false;
        auto w = std::move(waiter_);
        waiter_.reset();
        ready_.reset();
        // `w` dies here, after the state above is consistent.
    }

    void advance() {
        while (waiter_) {
            if constexpr (Items) {
                if (current_ && index_ < current_->items.size()) {
                    std::optional<Item> item(std::move(current_->items[index_++]));
                    if (index_ == current_->items.size()) current_.reset();
                    deliver({}, std::move(item), std::exchange(page_diag_, nullptr));
                    break;
                }
            }
            if (ready_) {
                fetched<Item> r = std::move(*ready_);
                ready_.reset();
                if (r.ec) {
                    failed_ = true;
                    deliver(r.ec, std::nullopt, std::move(r.diag));
                    break;
                }
                failed_ = false;
                if constexpr (Items) {
                    // An empty page (before max_page) just means: go on.
                    current_.emplace(std::move(r.value));
                    index_ = 0;
                    page_diag_ = std::move(r.diag);
                    continue;
                } else {
                    deliver({}, std::optional<page<Item>>(std::move(r.value)), std::move(r.diag));
                    break;
                }
            }
            if (fetching_) return; // the consumer waits for the request in flight
            if (!pending_) {
                deliver({}, std::nullopt, std::exchange(page_diag_, nullptr));
                break;
            }
            start_fetch();
            return;
        }
        maybe_prefetch();
    }

    // At most one page ahead: only when nothing is fetched and unconsumed.
    void maybe_prefetch() {
        if (prefetch_ && started_ && !closed_ && !fetching_ && !ready_ && !failed_ && pending_) start_fetch();
    }

    void start_fetch() {
        fetching_ = true;
        http_call call = *pending_;
        auto diag = std::make_shared<diagnostics>();
        call.diagnostics_sink = diag;
        start_operation<page<Item>>(st_, std::move(call), fetch_handler(this->shared_from_this(), std::move(diag)));
    }

    void deliver(error_code ec, std::optional<value_type> value, std::shared_ptr<diagnostics> diag) {
        waiter_type w = std::move(*waiter_);
        waiter_.reset();
        w.user_diag = user_diag_;
        w.complete(ec, std::move(value), std::move(diag));
    }

    std::shared_ptr<client_state> st_;
    asio::any_io_executor ex_;
    strand_type strand_;
    bool prefetch_;
    diagnostics* user_diag_ = nullptr;
    std::atomic<std::uint64_t> ids_{0};

    // Strand-only state.
    std::optional<http_call> pending_;     // the request of the next page; empty: no more pages
    std::optional<fetched<Item>> ready_;   // a page fetched and not yet consumed (or its error)
    bool fetching_ = false;
    asio::cancellation_signal fetch_signal_; // cancels the request in flight
    std::optional<waiter_type> waiter_;
    bool started_ = false;
    bool closed_ = false;
    bool failed_ = false;                  // the last outcome delivered was an error: no prefetch
    std::optional<page<Item>> current_;    // items mode: the page being handed out
    std::size_t index_ = 0;
    std::shared_ptr<diagnostics> page_diag_; // items mode: diagnostics of current_'s request
};

} // namespace stream_impl
} // namespace detail

POLAR_DECL generator<page<meter>> meters_service::list_pages(const list_meters_params& params,
                                                             const request_options& opts,
                                                             const generator_options& gen) const {
    return generator<page<meter>>(std::make_shared<detail::stream_impl::stream<meter, false>>(
        state_, detail::make_list_meters_call(params, opts), gen.prefetch));
}

POLAR_DECL generator<meter> meters_service::list_items(const list_meters_params& params, const request_options& opts,
                                                       const generator_options& gen) const {
    return generator<meter>(std::make_shared<detail::stream_impl::stream<meter, true>>(
        state_, detail::make_list_meters_call(params, opts), gen.prefetch));
}

POLAR_DECL generator<page<event>> meters_service::events_pages(std::string_view id, const meter_events_params& params,
                                                               const request_options& opts,
                                                               const generator_options& gen) const {
    return generator<page<event>>(std::make_shared<detail::stream_impl::stream<event, false>>(
        state_, detail::make_meter_events_call(id, params, opts, detail::effective_api_version(state_.get(), opts)), gen.prefetch));
}

POLAR_DECL generator<event> meters_service::events_items(std::string_view id, const meter_events_params& params,
                                                         const request_options& opts,
                                                         const generator_options& gen) const {
    return generator<event>(std::make_shared<detail::stream_impl::stream<event, true>>(
        state_, detail::make_meter_events_call(id, params, opts, detail::effective_api_version(state_.get(), opts)), gen.prefetch));
}

POLAR_DECL generator<page<event>> events_service::list_pages(const list_events_params& params,
                                                             const request_options& opts,
                                                             const generator_options& gen) const {
    return generator<page<event>>(std::make_shared<detail::stream_impl::stream<event, false>>(
        state_, detail::make_list_events_call(params, opts), gen.prefetch));
}

POLAR_DECL generator<event> events_service::list_items(const list_events_params& params, const request_options& opts,
                                                       const generator_options& gen) const {
    return generator<event>(std::make_shared<detail::stream_impl::stream<event, true>>(
        state_, detail::make_list_events_call(params, opts), gen.prefetch));
}

POLAR_DECL generator<page<customer_meter>> customer_meters_service::list_pages(
    const list_customer_meters_params& params, const request_options& opts, const generator_options& gen) const {
    return generator<page<customer_meter>>(std::make_shared<detail::stream_impl::stream<customer_meter, false>>(
        state_, detail::make_list_customer_meters_call(params, opts), gen.prefetch));
}

POLAR_DECL generator<customer_meter> customer_meters_service::list_items(const list_customer_meters_params& params,
                                                                         const request_options& opts,
                                                                         const generator_options& gen) const {
    return generator<customer_meter>(std::make_shared<detail::stream_impl::stream<customer_meter, true>>(
        state_, detail::make_list_customer_meters_call(params, opts), gen.prefetch));
}

} // namespace polar

#endif
