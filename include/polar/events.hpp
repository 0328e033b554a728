//
// polar-cpp: event ingestion.
//
#ifndef POLAR_EVENTS_HPP
#define POLAR_EVENTS_HPP

#include <polar/detail/call.hpp>
#include <polar/detail/config.hpp>
#include <polar/models.hpp>
#include <polar/with_diagnostics.hpp>

#include <boost/asio/async_result.hpp>

#include <memory>
#include <type_traits>

namespace polar {

namespace detail {
POLAR_DECL http_call make_ingest_call(const events_ingest& body, const request_options& o);
}

/**
 * @brief Event ingestion: `client.events()`.
 *
 * @details Same conventions as `meters_service` (completion signature
 * `void(polar::error_code, events_ingest_response)`, default token throws).
 * Needs the `events:write` scope.
 */
class events_service {
public:
    explicit events_service(std::shared_ptr<detail::client_state> state) noexcept : state_(std::move(state)) {}

    /**
     * @brief Ingest a batch of events (`POST /v1/events/ingest`).
     *
     * @details Not idempotent: a connection failure after sending fails with
     * `errc::outcome_unknown` instead of risking duplicates (unless the retry
     * policy opts in with `retry_non_idempotent(true)`). Timestamps in the
     * future are rejected by the server (422).
     */
    template <class CompletionToken = default_token>
    auto ingest(const events_ingest& body, const request_options& opts = {}, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, events_ingest_response)>(
            detail::op_initiation<events_ingest_response>{state_}, token, detail::make_ingest_call(body, opts));
    }
    template <detail::not_options CompletionToken>
    auto ingest(const events_ingest& body, CompletionToken&& token) {
        return ingest(body, request_options{}, std::forward<CompletionToken>(token));
    }

private:
    std::shared_ptr<detail::client_state> state_;
};

} // namespace polar

#ifdef POLAR_HEADER_ONLY
#include <polar/impl/events.ipp>
#endif

#endif
