//
// polar-cpp: events (Event) and their ingestion (EventsIngest,
// EventCreateCustomer, EventCreateExternalCustomer, EventsIngestResponse).
//
#ifndef POLAR_MODELS_EVENT_HPP
#define POLAR_MODELS_EVENT_HPP

#include <polar/models/common.hpp>
#include <polar/models/customer.hpp>
#include <polar/models/enums.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace polar {

/**
 * @brief An event as the server returns it (Event).
 *
 * @details `customer` is the customer whose `id` equals `customer_id` or
 * whose `external_id` equals `external_customer_id`, when there is one.
 * A response type (plain aggregate); build it in a named local, not as a
 * braced temporary inside a `co_await` expression.
 */
struct event {
    std::string id;                                 ///< UUID
    polar::timestamp timestamp{};                   ///< when the event happened
    std::string name;                               ///< e.g. "llm.call"
    open_enum<event_source> source;                 ///< `system` or `user`
    std::string organization_id;                    ///< UUID
    std::optional<std::string> customer_id;         ///< Polar customer UUID
    std::optional<std::string> external_customer_id;///< the customer's id in your system
    std::optional<polar::customer> customer;        ///< the resolved customer
    polar::metadata metadata;                       ///< user metadata

    friend bool operator==(const event&, const event&) = default;
};

/**
 * @brief One event to ingest (EventCreateCustomer or EventCreateExternalCustomer).
 *
 * @details Create it with for_customer() (a Polar customer UUID) or
 * for_external_customer() (your own customer id); exactly one of
 * `customer_id` / `external_customer_id` is then set. Optional fields are
 * sent only when set: a missing `timestamp` means "now" (a future timestamp
 * is rejected), `organization_id` follows the same token rules as meter
 * creation.
 *
 * Lifetimes: an owning value type with constructors (not an aggregate), safe
 * as a temporary inside `co_await` expressions with g++ 12.
 */
class event_create {
public:
    std::string name;                                ///< required, at most 128 characters
    std::optional<std::string> customer_id;          ///< set by for_customer()
    std::optional<std::string> external_customer_id; ///< set by for_external_customer()
    std::optional<polar::timestamp> timestamp;       ///< sent when set
    std::optional<polar::metadata> metadata;         ///< sent when set
    std::optional<std::string> organization_id;      ///< sent when set

    /// No name and no customer (fill the members yourself).
    event_create() = default;

    /// An event of the Polar customer `customer_id` (a UUID).
    static event_create for_customer(std::string customer_id, std::string name) {
        event_create e;
        e.name = std::move(name);
        e.customer_id = std::move(customer_id);
        return e;
    }
    /// An event of the customer known in your system as `external_customer_id`.
    static event_create for_external_customer(std::string external_customer_id, std::string name) {
        event_create e;
        e.name = std::move(name);
        e.external_customer_id = std::move(external_customer_id);
        return e;
    }

    event_create& set_name(std::string v) & { name = std::move(v); return *this; }
    event_create&& set_name(std::string v) && { name = std::move(v); return std::move(*this); }
    /// Sets the time of the event (any sys_time; finer units are truncated to microseconds).
    template <class Duration>
    event_create& set_timestamp(std::chrono::sys_time<Duration> t) & {
        timestamp = std::chrono::floor<std::chrono::microseconds>(t);
        return *this;
    }
    template <class Duration>
    event_create&& set_timestamp(std::chrono::sys_time<Duration> t) && {
        timestamp = std::chrono::floor<std::chrono::microseconds>(t);
        return std::move(*this);
    }
    event_create& set_metadata(polar::metadata v) & { metadata = std::move(v); return *this; }
    event_create&& set_metadata(polar::metadata v) && { metadata = std::move(v); return std::move(*this); }
    event_create& set_organization_id(std::string v) & { organization_id = std::move(v); return *this; }
    event_create&& set_organization_id(std::string v) && { organization_id = std::move(v); return std::move(*this); }

    friend bool operator==(const event_create&, const event_create&) = default;
};

/**
 * @brief The body of an ingestion request (EventsIngest): a list of events.
 *
 * @details Lifetimes: an owning value type with constructors (not an
 * aggregate), safe as a temporary inside `co_await` expressions.
 */
class events_ingest {
public:
    std::vector<event_create> events;

    events_ingest() = default;
    explicit events_ingest(std::vector<event_create> events) noexcept : events(std::move(events)) {}

    /// Appends an event; chainable on lvalues and temporaries.
    events_ingest& add(event_create e) & { events.push_back(std::move(e)); return *this; }
    events_ingest&& add(event_create e) && { events.push_back(std::move(e)); return std::move(*this); }

    std::size_t size() const noexcept { return events.size(); }
    bool empty() const noexcept { return events.empty(); }

    friend bool operator==(const events_ingest&, const events_ingest&) = default;
};

/// The response of an ingestion request (EventsIngestResponse).
struct events_ingest_response {
    std::int64_t inserted = 0; ///< number of events inserted

    friend bool operator==(const events_ingest_response&, const events_ingest_response&) = default;
};

} // namespace polar

#endif
