//
// polar-cpp: events (Event = SystemEvent | UserEvent) and their ingestion
// (EventsIngest, EventCreateCustomer, EventCreateExternalCustomer,
// EventsIngestResponse), with the structured metadata of user events
// (LLMMetadata, CostMetadata).
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
 * @brief The `_llm` metadata of a user event (LLMMetadata, dated API): one
 * call to a language model.
 *
 * @details `vendor`, `model` and the three token counts are required by the
 * server; `prompt`, `response` and `cached_input_tokens` are sent only when
 * set. Meters can filter and aggregate on its fields with dotted paths
 * (`_llm.total_tokens`).
 *
 * Lifetimes: an owning value type with constructors (not an aggregate), safe
 * as a temporary inside `co_await` expressions with g++ 12.
 */
class llm_metadata {
public:
    std::string vendor;                              ///< e.g. "openai"
    std::string model;                               ///< e.g. "gpt-4o-mini"
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::int64_t total_tokens = 0;
    std::optional<std::string> prompt;               ///< sent when set; may come back null
    std::optional<std::string> response;             ///< sent when set; may come back null
    std::optional<std::int64_t> cached_input_tokens; ///< sent when set

    /// Empty strings and zero counts.
    llm_metadata() = default;
    /// The required fields.
    llm_metadata(std::string vendor, std::string model, std::int64_t input_tokens, std::int64_t output_tokens,
                 std::int64_t total_tokens) noexcept
        : vendor(std::move(vendor)), model(std::move(model)), input_tokens(input_tokens), output_tokens(output_tokens),
          total_tokens(total_tokens) {}

    llm_metadata& set_prompt(std::string v) & { prompt = std::move(v); return *this; }
    llm_metadata&& set_prompt(std::string v) && { prompt = std::move(v); return std::move(*this); }
    llm_metadata& set_response(std::string v) & { response = std::move(v); return *this; }
    llm_metadata&& set_response(std::string v) && { response = std::move(v); return std::move(*this); }
    llm_metadata& set_cached_input_tokens(std::int64_t v) & { cached_input_tokens = v; return *this; }
    llm_metadata&& set_cached_input_tokens(std::int64_t v) && { cached_input_tokens = v; return std::move(*this); }

    friend bool operator==(const llm_metadata&, const llm_metadata&) = default;
};

/**
 * @brief The `_cost` metadata of a user event (CostMetadata, dated API).
 *
 * @details `amount` is a decimal kept as text, so it is exact: at most 17
 * digits of which at most 12 after the point (e.g. "0.0042"), validated by
 * the server. It is sent as a JSON string. The server may return it as a
 * string or a number; a number is converted to its shortest decimal text
 * (fixed notation, e.g. `1.5e-3` becomes "0.0015"). `currency` must be
 * "usd" (the only value the API accepts).
 *
 * Lifetimes: an owning value type with constructors (not an aggregate), safe
 * as a temporary inside `co_await` expressions with g++ 12.
 */
class cost_metadata {
public:
    std::string amount;   ///< decimal text, e.g. "0.0042"
    std::string currency; ///< "usd"

    /// Empty amount and currency.
    cost_metadata() = default;
    /// An amount in `currency` (default "usd").
    explicit cost_metadata(std::string amount, std::string currency = "usd") noexcept
        : amount(std::move(amount)), currency(std::move(currency)) {}

    friend bool operator==(const cost_metadata&, const cost_metadata&) = default;
};

/**
 * @brief An event as the server returns it (Event = SystemEvent | UserEvent).
 *
 * @details `customer` is the customer whose `id` equals `customer_id` or
 * whose `external_id` equals `external_customer_id`, when there is one.
 *
 * The dated API (2026-04 and later) sends a union discriminated by `source`,
 * then, for system events, by `name` (`meter.credited`, `order.paid`,
 * `customer.updated`, ... each with its own typed `metadata` object). The
 * SDK decodes every event leniently into this one type:
 * - user events: `metadata` holds the scalar values; the structured keys
 *   `_llm` and `_cost` go to `llm` and `cost` (other object values under
 *   keys starting with `_`, reserved for Polar, are skipped);
 * - system events, and events of a `source` this SDK does not know:
 *   `metadata` holds the top-level scalar values of their metadata (objects,
 *   arrays and nulls are skipped), and `raw_json` holds the JSON text of the
 *   whole event object as received, to read the typed system metadata with
 *   any JSON library. An unknown system `name` never fails the decode.
 * Fields of the dated API (`label`, `child_count`, `parent_id`, `member_id`,
 * `external_member_id`, `llm`, `cost`) are empty when a 2025-03 server
 * does not send them.
 *
 * Encoding: when `raw_json` is set, to_json() writes it unchanged (the other
 * fields are not re-encoded), so system events keep their typed metadata;
 * clear it to encode the fields. Comparison (`==`) ignores `raw_json`.
 *
 * A response type (plain aggregate); build it in a named local, not as a
 * braced temporary inside a `co_await` expression.
 */
struct event {
    std::string id;                                 ///< UUID
    polar::timestamp timestamp{};                   ///< when the event happened
    std::string name;                               ///< e.g. "llm.call", "meter.credited"
    open_enum<event_source> source;                 ///< `system` or `user`
    std::string organization_id;                    ///< UUID
    std::optional<std::string> customer_id;         ///< Polar customer UUID
    std::optional<std::string> external_customer_id;///< the customer's id in your system
    std::optional<polar::customer> customer;        ///< the resolved customer
    polar::metadata metadata;                       ///< scalar metadata values
    std::string label;                              ///< human-readable event type (dated API)
    std::int64_t child_count = 0;                   ///< number of direct children (dated API)
    std::optional<std::string> parent_id;           ///< the parent event's UUID (dated API)
    std::optional<std::string> member_id;           ///< member UUID (dated API)
    std::optional<std::string> external_member_id;  ///< the member's id in your system (dated API)
    std::optional<llm_metadata> llm;                ///< `metadata._llm` of a user event
    std::optional<cost_metadata> cost;              ///< `metadata._cost` of a user event
    std::string raw_json; ///< system and unknown-source events: the event object as received; else empty

    /// True for events created by Polar (`source` is `system`).
    bool is_system() const noexcept { return source == event_source::system; }

    /// Compares every field but raw_json.
    friend bool operator==(const event& a, const event& b) {
        return a.id == b.id && a.timestamp == b.timestamp && a.name == b.name && a.source == b.source &&
               a.organization_id == b.organization_id && a.customer_id == b.customer_id &&
               a.external_customer_id == b.external_customer_id && a.customer == b.customer &&
               a.metadata == b.metadata && a.label == b.label && a.child_count == b.child_count &&
               a.parent_id == b.parent_id && a.member_id == b.member_id &&
               a.external_member_id == b.external_member_id && a.llm == b.llm && a.cost == b.cost;
    }
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
 * Dated API (2026-04 and later) only, all sent only when set:
 * - `external_id`: your id for the event; the server drops repeats (against
 *   stored events and within a batch) and counts them in
 *   events_ingest_response::duplicates.
 * - `parent_id`: the parent's Polar UUID or external_id, resolved later.
 * - `member_id` (with a customer_id) / `external_member_id` (with an
 *   external_customer_id).
 * - `llm` / `cost`: written into `metadata` as the structured keys `_llm`
 *   and `_cost` (they replace an entry of `metadata` with the same key).
 * Float metadata values need the dated API too.
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
    std::optional<std::string> external_id;          ///< sent when set (dated API)
    std::optional<std::string> parent_id;            ///< sent when set (dated API)
    std::optional<std::string> member_id;            ///< sent when set (dated API)
    std::optional<std::string> external_member_id;   ///< sent when set (dated API)
    std::optional<llm_metadata> llm;                 ///< sent as `metadata._llm` when set (dated API)
    std::optional<cost_metadata> cost;               ///< sent as `metadata._cost` when set (dated API)

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
    event_create& set_external_id(std::string v) & { external_id = std::move(v); return *this; }
    event_create&& set_external_id(std::string v) && { external_id = std::move(v); return std::move(*this); }
    event_create& set_parent_id(std::string v) & { parent_id = std::move(v); return *this; }
    event_create&& set_parent_id(std::string v) && { parent_id = std::move(v); return std::move(*this); }
    event_create& set_member_id(std::string v) & { member_id = std::move(v); return *this; }
    event_create&& set_member_id(std::string v) && { member_id = std::move(v); return std::move(*this); }
    event_create& set_external_member_id(std::string v) & { external_member_id = std::move(v); return *this; }
    event_create&& set_external_member_id(std::string v) && { external_member_id = std::move(v); return std::move(*this); }
    event_create& set_llm(llm_metadata v) & { llm = std::move(v); return *this; }
    event_create&& set_llm(llm_metadata v) && { llm = std::move(v); return std::move(*this); }
    event_create& set_cost(cost_metadata v) & { cost = std::move(v); return *this; }
    event_create&& set_cost(cost_metadata v) && { cost = std::move(v); return std::move(*this); }

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

/**
 * @brief The response of an ingestion request (EventsIngestResponse).
 *
 * @details `duplicates` is sent by the dated API only (0 with a 2025-03
 * server): events dropped because their `external_id` was already known.
 */
struct events_ingest_response {
    std::int64_t inserted = 0;   ///< number of events inserted
    std::int64_t duplicates = 0; ///< number of events dropped as repeats of an external_id

    friend bool operator==(const events_ingest_response&, const events_ingest_response&) = default;
};

} // namespace polar

#endif
