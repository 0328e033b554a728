//
// polar-cpp: event ingestion.
//
#ifndef POLAR_EVENTS_HPP
#define POLAR_EVENTS_HPP

#include <polar/detail/call.hpp>
#include <polar/detail/config.hpp>
#include <polar/generator.hpp>
#include <polar/ingest_batcher.hpp>
#include <polar/models.hpp>
#include <polar/with_diagnostics.hpp>

#include <boost/asio/async_result.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace polar {

/**
 * @brief Parameters of `events().list()` (`GET /v1/events/`, dated versions).
 *
 * @details A view, like list_meters_params: everything pointed to must
 * outlive the call's initiation only, so writing it inline is safe:
 * `co_await client.events().list({.meter_id = id, .limit = 100})`.
 * Repeated values of one parameter are ORed; different parameters are ANDed.
 */
struct list_events_params {
    /// Only events matching this filter (sent as its JSON text). The events
    /// list evaluates filters its own way: a missing metadata key reads as
    /// "" or 0, so `ne`, `lt`, ... may match events that lack the key.
    const polar::filter* filter = nullptr;
    /// Only events after this time (exclusive).
    std::optional<polar::timestamp> start_timestamp{};
    /// Only events before this time (exclusive).
    std::optional<polar::timestamp> end_timestamp{};
    /// Restrict to these organizations.
    std::span<const std::string_view> organization_id{};
    /// Events of these customers (also those ingested with the customers' external ids).
    std::span<const std::string_view> customer_id{};
    /// Events of these external customer ids (also those of the customers that have them).
    std::span<const std::string_view> external_customer_id{};
    /// Events the meter counts (its filter applied). An unknown meter is a
    /// 422 (`meter_id`), not a 404.
    std::optional<std::string_view> meter_id{};
    /// Exact event names.
    std::span<const std::string_view> name{};
    /// `system` and/or `user` events.
    std::span<const event_source> source{};
    /// Text search over names and customers; needs `organization_id` and at
    /// least 3 characters (else 422).
    std::optional<std::string_view> query{};
    /// Children of this event (direct ones unless `depth` is set).
    std::optional<std::string_view> parent_id{};
    /// 0: root events only; n: roots (or `parent_id`'s children) and n levels below. 0-5.
    std::optional<std::int64_t> depth{};
    /// Page number, from 1.
    std::optional<std::int64_t> page{};
    /// Page size; the server clamps values above 100 to 100 (default 10).
    std::optional<std::int64_t> limit{};
    /// Sort order (server default: newest first). Only the first key counts.
    std::span<const event_sort_property> sorting{};
    /// `metadata[key]=value` conditions on top-level event metadata.
    std::span<const metadata_filter> metadata{};
};

namespace detail {
POLAR_DECL http_call make_ingest_call(const events_ingest& body, const request_options& o, api_version version);
POLAR_DECL http_call make_list_events_call(const list_events_params& p, const request_options& o);
POLAR_DECL http_call make_get_event_call(std::string_view id, const request_options& o);
} // namespace detail

/**
 * @brief Events: `client.events()`: ingestion, and on the dated API
 * versions listing and reading them.
 *
 * @details Same conventions as `meters_service`: completion signature
 * `void(polar::error_code, T)`, the default token throws `api_error`;
 * cancellation, executor and thread-safety rules are those of
 * `meters_service`. Ingestion needs the `events:write` scope, reading
 * `events:read` or `events:write`.
 *
 * `list()`, `get()` and the generators are endpoints of the dated versions
 * (2026-04, 2026-10); they are sent as they are on api_version::v2025_03
 * too (without a version header the server answers in its default version).
 */
class events_service {
public:
    explicit events_service(std::shared_ptr<detail::client_state> state) noexcept : state_(std::move(state)) {}

    /// List events (`GET /v1/events/`): one page, newest first unless
    /// `sorting` says otherwise. A page past the end reports `total_count` 0.
    template <class CompletionToken = default_token>
    auto list(const list_events_params& params = {}, const request_options& opts = {},
              CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, page<event>)>(
            detail::op_initiation<page<event>>{state_}, token, detail::make_list_events_call(params, opts));
    }
    template <detail::not_options CompletionToken>
    auto list(const list_events_params& params, CompletionToken&& token) {
        return list(params, request_options{}, std::forward<CompletionToken>(token));
    }

    /// Get an event by id (`GET /v1/events/{id}`; 404 -> errc::not_found).
    template <class CompletionToken = default_token>
    auto get(std::string_view id, const request_options& opts = {}, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, event)>(
            detail::op_initiation<event>{state_}, token, detail::make_get_event_call(id, opts));
    }
    template <detail::not_options CompletionToken>
    auto get(std::string_view id, CompletionToken&& token) {
        return get(id, request_options{}, std::forward<CompletionToken>(token));
    }

    /// All events matching `params`, page by page, from `params.page` (default 1). No I/O until `next()`.
    POLAR_DECL generator<page<event>> list_pages(const list_events_params& params = {},
                                                 const request_options& opts = {},
                                                 const generator_options& gen = {}) const;
    /// All events matching `params`, one by one (pages fetched on demand).
    POLAR_DECL generator<event> list_items(const list_events_params& params = {}, const request_options& opts = {},
                                           const generator_options& gen = {}) const;

    /**
     * @brief Ingest a batch of events (`POST /v1/events/ingest`).
     *
     * @details On the dated versions an event that carries an `external_id`
     * already stored for the organization (or earlier in the same batch) is
     * dropped and counted in `events_ingest_response::duplicates`. So a
     * batch in which every event has an `external_id`, sent on a dated
     * version, is idempotent: the client retries it like a read, and a
     * retry after a lost response reports the events as duplicates.
     * Otherwise it is not idempotent: a connection failure after sending
     * fails with `errc::outcome_unknown` instead of risking duplicates
     * (unless the retry policy opts in with `retry_non_idempotent(true)`).
     * The whole batch is validated first: one invalid event rejects it all
     * (422, one error per event). Timestamps in the future are rejected.
     */
    template <class CompletionToken = default_token>
    auto ingest(const events_ingest& body, const request_options& opts = {}, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, events_ingest_response)>(
            detail::op_initiation<events_ingest_response>{state_}, token,
            detail::make_ingest_call(body, opts, detail::effective_api_version(state_.get(), opts)));
    }
    template <detail::not_options CompletionToken>
    auto ingest(const events_ingest& body, CompletionToken&& token) {
        return ingest(body, request_options{}, std::forward<CompletionToken>(token));
    }

    /**
     * @brief A batcher that ingests the events it is fed in batches, with
     * safe retries (see ingest_batcher).
     *
     * @details Errors: throws `api_error` with `errc::invalid_argument` when
     * an option is out of range or the API version is 2025-03 (its ingest
     * has no `external_id`, so a retried batch could count events twice).
     */
    POLAR_DECL ingest_batcher batcher(batcher_options options = {}) const;

private:
    std::shared_ptr<detail::client_state> state_;
};

} // namespace polar

#ifdef POLAR_HEADER_ONLY
#include <polar/impl/events.ipp>
#endif

#endif
