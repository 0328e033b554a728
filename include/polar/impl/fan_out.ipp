#ifndef POLAR_IMPL_FAN_OUT_IPP
#define POLAR_IMPL_FAN_OUT_IPP

// meters().quantities_many(): a fixed number of lanes, each running one query
// at a time, all on one strand. Queries run their steps on that strand as
// well, so completions and the cancellations we emit are serialized (see the
// note in generator.ipp).

#include <polar/client.hpp>
#include <polar/fan_out.hpp>
#include <polar/impl/internal/completion.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace polar::detail {

POLAR_DECL fan_out_call make_quantities_many_call(std::span<const quantities_request> requests,
                                                  const fan_out_options& opts) {
    fan_out_call out;
    out.max_concurrency = opts.max_concurrency;
    out.fail_fast = opts.fail_fast;
    if (opts.max_concurrency == 0) {
        out.precheck = make_error_code(errc::invalid_argument);
        out.precheck_message = "fan_out_options::max_concurrency must be at least 1";
        return out;
    }
    request_options ro = opts.request;
    ro.diag = nullptr; // each result carries its own diagnostics
    out.calls.reserve(requests.size());
    for (const auto& r : requests) out.calls.push_back(make_meter_quantities_call(r.meter_id, r.params, ro));
    return out;
}

namespace fan_out_impl {

namespace asio = boost::asio;
using strand_type = asio::strand<asio::any_io_executor>;
using results_type = std::vector<quantities_result>;

class fan_out_op : public std::enable_shared_from_this<fan_out_op> {
public:
    using handler_type = asio::any_completion_handler<void(error_code, results_type)>;

    fan_out_op(std::shared_ptr<client_state> st, fan_out_call call, handler_type handler)
        : st_(std::move(st)),
          ex_(st_->ex_),
          strand_(asio::make_strand(ex_)),
          calls_(std::move(call.calls)),
          fail_fast_(call.fail_fast),
          waiter_(std::in_place, std::move(handler), std::move(call.diagnostics_sink), ex_, 0) {
        results_.resize(calls_.size());
        lanes_.resize(std::min(call.max_concurrency, calls_.size()));
        for (auto& l : lanes_) l = std::make_unique<lane>();
    }

    // In the initiating thread: connect the handler's slot, then start on the strand.
    void start() {
        if (waiter_->slot.is_connected()) waiter_->slot.emplace<cancel_forwarder>(weak_from_this());
        asio::post(strand_, [self = shared_from_this()] { self->launch(); });
    }

private:
    struct lane {
        asio::cancellation_signal signal;
        bool busy = false;
    };

    struct cancel_forwarder {
        std::weak_ptr<fan_out_op> self;
        void operator()(asio::cancellation_type_t type) {
            if (auto s = self.lock()) asio::post(s->strand_, [s, type] { s->stop(asio::error::operation_aborted, nullptr, type); });
        }
    };

    struct query_handler {
        std::shared_ptr<fan_out_op> self;
        std::size_t lane_index;
        std::size_t index;
        std::shared_ptr<diagnostics> diag;

        using executor_type = strand_type;
        executor_type get_executor() const noexcept { return self->strand_; }
        using cancellation_slot_type = asio::cancellation_slot;
        cancellation_slot_type get_cancellation_slot() const noexcept {
            return self->lanes_[lane_index]->signal.slot();
        }

        void operator()(error_code ec, meter_quantities value) {
            self->on_done(lane_index, index, ec, std::move(value), std::move(diag));
        }
    };

    // -- everything below runs on strand_ -------------------------------------

    void launch() {
        for (std::size_t i = 0; i < lanes_.size(); ++i) start_next(i);
        maybe_finish();
    }

    void start_next(std::size_t lane_index) {
        if (stopped_ || next_ == calls_.size()) return;
        const std::size_t index = next_++;
        auto& l = *lanes_[lane_index];
        l.busy = true;
        ++running_;
        auto diag = std::make_shared<diagnostics>();
        http_call call = std::move(calls_[index]);
        call.diagnostics_sink = diag;
        start_operation<meter_quantities>(st_, std::move(call),
                                          query_handler{shared_from_this(), lane_index, index, std::move(diag)});
    }

    void on_done(std::size_t lane_index, std::size_t index, error_code ec, meter_quantities value,
                 std::shared_ptr<diagnostics> diag) {
        lanes_[lane_index]->busy = false;
        --running_;
        auto& r = results_[index];
        r.ec = ec;
        if (!ec) r.value = std::move(value);
        if (diag) r.diag = *diag;
        if (ec && fail_fast_ && !stopped_) stop(ec, diag.get(), asio::cancellation_type::terminal);
        start_next(lane_index);
        maybe_finish();
    }

    // Stops the whole operation with `ec`: cancel what runs, start nothing more.
    void stop(error_code ec, const diagnostics* diag, asio::cancellation_type_t type) {
        if (stopped_ || !waiter_) return;
        stopped_ = true;
        overall_ = ec;
        if (diag) overall_diag_ = std::make_shared<diagnostics>(*diag);
        for (auto& l : lanes_)
            if (l->busy) l->signal.emit(type);
        maybe_finish();
    }

    void maybe_finish() {
        if (!waiter_ || running_ > 0) return;
        if (!stopped_ && next_ < calls_.size()) return;
        for (std::size_t i = next_; i < calls_.size(); ++i) {
            results_[i].ec = asio::error::operation_aborted;
            results_[i].diag.message = "not started: the operation stopped before this query";
        }
        auto w = std::move(*waiter_);
        waiter_.reset();
        w.complete(overall_, std::move(results_), std::move(overall_diag_));
    }

    std::shared_ptr<client_state> st_;
    asio::any_io_executor ex_;
    strand_type strand_;
    std::vector<http_call> calls_;
    bool fail_fast_;
    std::optional<pending_completion<results_type>> waiter_;

    // Strand-only state.
    results_type results_;
    std::vector<std::unique_ptr<lane>> lanes_;
    std::size_t next_ = 0;    // the first query not started
    std::size_t running_ = 0; // queries in flight
    bool stopped_ = false;
    error_code overall_;
    std::shared_ptr<diagnostics> overall_diag_;
};

} // namespace fan_out_impl

POLAR_DECL void async_quantities_many(
    std::shared_ptr<client_state> state, fan_out_call call,
    boost::asio::any_completion_handler<void(error_code, std::vector<quantities_result>)> handler) {
    if (call.precheck) {
        auto diag = std::make_shared<diagnostics>();
        diag->message = std::move(call.precheck_message);
        auto ex = state->ex_;
        pending_completion<std::vector<quantities_result>> w(std::move(handler), std::move(call.diagnostics_sink),
                                                             ex, 0);
        w.complete(call.precheck, {}, std::move(diag));
        return;
    }
    auto op = std::make_shared<fan_out_impl::fan_out_op>(std::move(state), std::move(call), std::move(handler));
    op->start();
}

} // namespace polar::detail

#endif
