#ifndef POLAR_IMPL_INGEST_BATCHER_IPP
#define POLAR_IMPL_INGEST_BATCHER_IPP

// The ingest batcher. Its state is guarded by one mutex, because producers
// call in from any thread; the age timer, the ingest completions and the
// report callbacks run on one strand of the client's executor, so reports are
// delivered one at a time. Nothing is started or completed while the mutex is
// held: operations are started and handlers posted after unlocking.
//
// ingest_batcher_queue.ipp holds the state and the queue, ingest_batcher_send.ipp
// the sending, the age timer, the reports and cancellation; this file the
// handle (ingest_batcher) and the entry points.

#include <polar/impl/ingest_batcher_send.ipp>

#include <polar/client.hpp>
#include <polar/events.hpp>
#include <polar/impl/internal/completion.hpp>
#include <polar/ingest_batcher.hpp>

#include <boost/asio/any_completion_handler.hpp>

#include <memory>
#include <string>
#include <string_view>
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
