#ifndef POLAR_IMPL_INTERNAL_COMPLETION_HPP
#define POLAR_IMPL_INTERNAL_COMPLETION_HPP

// A type-erased completion handler waiting to be called, for the hand-written
// operations (generators, fan-out) that complete from their own strand.

#include <polar/error.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <cstdint>
#include <memory>
#include <utility>

namespace polar::detail {

template <class T>
struct pending_completion {
    boost::asio::any_completion_handler<void(error_code, T)> handler;
    std::shared_ptr<diagnostics> sink;   // with_diagnostics' sink: filled on failure
    boost::asio::cancellation_slot slot; // the handler's slot, cleared before the call
    boost::asio::any_io_executor fallback; // the client's executor
    boost::asio::any_completion_executor work; // the handler's executor, with outstanding work
    std::uint64_t id = 0;
    diagnostics* user_diag = nullptr;    // request_options::diag: filled on completion

    pending_completion(boost::asio::any_completion_handler<void(error_code, T)> h, std::shared_ptr<diagnostics> s,
                       boost::asio::any_io_executor client_ex, std::uint64_t i)
        : handler(std::move(h)),
          sink(std::move(s)),
          slot(boost::asio::get_associated_cancellation_slot(handler)),
          fallback(std::move(client_ex)),
          work(boost::asio::prefer(boost::asio::get_associated_executor(handler, fallback),
                                   boost::asio::execution::outstanding_work.tracked)),
          id(i) {}

    // any_completion_handler's move assignment recurses on Boost 1.81: move-construct only.
    pending_completion(pending_completion&&) noexcept = default;
    pending_completion& operator=(pending_completion&&) = delete;

    /**
     * Completes the handler on its associated executor (else the client's),
     * by way of a post to the client's executor: never inline, and never on
     * the caller's strand. `*this` is left empty.
     */
    void complete(error_code ec, T value, std::shared_ptr<diagnostics> diag = nullptr) {
        auto ex = fallback;
        boost::asio::post(ex, [self = std::move(*this), ec, value = std::move(value),
                               diag = std::move(diag)]() mutable {
            auto target = self.work;
            boost::asio::dispatch(target, [self = std::move(self), ec, value = std::move(value),
                                           diag = std::move(diag)]() mutable {
                self.invoke(ec, std::move(value), diag.get());
            });
        });
    }

private:
    void invoke(error_code ec, T value, const diagnostics* diag) {
        if (slot.is_connected()) slot.clear();
        if (diag) {
            if (ec && sink) *sink = *diag;
            if (user_diag) *user_diag = *diag;
        }
        auto h = std::move(handler);
        auto w = std::move(work); // released after the call
        std::move(h)(ec, std::move(value));
    }
};

} // namespace polar::detail

#endif
