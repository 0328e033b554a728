//
// polar-cpp testing: the emulator's in-memory Polar (organizations, tokens,
// customers, meters, events) and its HTTP semantics, independent of sockets.
//
#ifndef POLAR_TESTING_EMULATOR_STATE_HPP
#define POLAR_TESTING_EMULATOR_STATE_HPP

#include <polar/detail/config.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace polar::testing {

/// The seed-era ("events era", March 2025) contract of `MeterAPI.md`. The
/// real server of that time knew no version header; the emulator serves this
/// contract under this name.
inline constexpr std::string_view api_version_2025_03 = "2025-03";
/// The dated contract of `MeterAPI-2026-10.md`, as version 2026-04 (served by
/// Polar until its removal) ...
inline constexpr std::string_view api_version_2026_04 = "2026-04";
/// ... and as version 2026-10 (Polar's current version, and the emulator's
/// default). Both names select the same contract.
inline constexpr std::string_view api_version_2026_10 = "2026-10";
/// Every version the emulator serves.
inline constexpr std::array<std::string_view, 3> supported_api_versions = {
    api_version_2025_03, api_version_2026_04, api_version_2026_10};

/// True when `v` is one of `supported_api_versions` (exact spelling).
constexpr bool is_supported_api_version(std::string_view v) noexcept {
    for (std::string_view s : supported_api_versions)
        if (s == v) return true;
    return false;
}

/// A request as the emulator's logic sees it (no sockets involved).
struct emulator_request {
    std::string_view method;         ///< "GET", "POST", "PATCH", ...
    std::string_view target;         ///< origin-form target: path and query, percent-encoded
    std::string_view authorization;  ///< value of the Authorization header ("" if absent)
    std::string_view content_type;   ///< value of the Content-Type header ("" if absent)
    std::string_view body;
    /// Value of the Host header, used to build absolute `Location` URLs for
    /// the 307 slash redirects, as Starlette does. Empty: a relative Location.
    std::string_view host;
    std::string_view scheme = "http"; ///< "http" or "https" (for `Location`)
    /// Value of the `Polar-Version` header; empty optional when the request
    /// has none. Absent or empty selects the default version; a value that
    /// is not one of `supported_api_versions` gets 404 `{"detail":"Not Found"}`
    /// without a `Polar-Version` response header.
    std::optional<std::string_view> polar_version;
    /// The version for requests without the header; empty: the state's
    /// default (`emulator_state::set_default_api_version`). The emulator
    /// server passes `emulator_options::default_api_version`. A value that is
    /// not a supported version is treated like an unknown header (404).
    std::string_view default_api_version;
    /// The declared Content-Length; empty: `body.size()`.
    std::optional<std::uint64_t> content_length;
    /// True when the request had no Content-Length header (no body, or a
    /// chunked one): the dated versions answer 411 to POST, PUT and PATCH.
    bool content_length_missing = false;
};

/// A response produced by the emulator's logic.
struct emulator_response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers; ///< besides Content-Type/Length
    /// Empty for responses without a body type (the 307 redirects): send no
    /// Content-Type header then.
    std::string content_type = "application/json";
    std::string body;
};

/// What emulator_state::seed_demo() created.
struct emulator_demo {
    std::string organization_id;        ///< "Acme AI": customers, meters, events
    std::string second_organization_id; ///< "Globex Labs": a few customers, a meter, events
    std::string user_id;                ///< a member of both organizations
    std::string organization_token;     ///< "polar_demo_token": Acme's organization token, all scopes
    std::string read_only_token;        ///< Acme's organization token with `meters:read` only
    std::string user_token;             ///< the user's personal token, all scopes
    std::vector<std::string> customer_ids;          ///< Acme's customers, in creation order
    std::vector<std::string> external_customer_ids; ///< external ids of Acme's customers that have one
    std::vector<std::string> meter_ids;             ///< Acme's meters, in creation order
    std::string second_meter_id;                    ///< Globex's meter
    std::size_t event_count = 0;                    ///< events created (both organizations), 2025-03 view
    /// Extras that only the dated versions (2026-04, 2026-10) show, so the
    /// 2025-03 demo stays as it was: Acme's team customer (no email), system
    /// events (`customer.created`, `meter.credited`) and user events with
    /// float, `_llm` and `_cost` metadata and a parent/child chain.
    std::string team_customer_id;
    std::size_t dated_event_count = 0;              ///< the dated-only events among them
};

/// An event added directly by a test (no ingest validation, no future check).
struct emulator_event {
    std::string organization_id;
    std::string name;
    std::chrono::system_clock::time_point timestamp; ///< truncated to microseconds
    std::optional<std::string> customer_id;          ///< a customer id (need not exist)
    std::optional<std::string> external_customer_id;
    std::string metadata_json = "{}";                ///< a JSON object, stored as given
    std::string source = "user";                     ///< "user" or "system"
    /// The dated versions' fields (MeterAPI-2026-10.md §4.2): the parent
    /// event's id (stored as given, not resolved), member ids, and the
    /// `external_id` that ingest deduplicates on (never serialized).
    std::optional<std::string> parent_id;
    std::optional<std::string> member_id;
    std::optional<std::string> external_member_id;
    std::optional<std::string> external_id;
};

/**
 * @brief Polar's Meters API as an in-memory state machine.
 *
 * @details Holds organizations, users, tokens, customers, meters and events,
 * and answers requests as Polar's Meters API does, in the contract the
 * request's `Polar-Version` selects (see `emulator_request::polar_version`):
 * - `2025-03`: the events-era API of `MeterAPI.md`: `GET/POST /v1/meters/`,
 *   `GET/PATCH /v1/meters/{id}`, `GET /v1/meters/{id}/events`,
 *   `GET /v1/meters/{id}/quantities` and `POST /v1/events/ingest`, with the
 *   same authentication, validation (FastAPI / Pydantic v2 style 422 bodies),
 *   pagination, filtering, aggregation and bucketing rules, quirks included;
 * - `2026-04` and `2026-10`: the dated API of `MeterAPI-2026-10.md` (the
 *   version middleware, 411/413 body checks, meter units and archiving, the
 *   `unique` aggregation, the new filter semantics, quantities with `total`,
 *   `timezone`, `customer_aggregation_function` and `metadata` filters,
 *   `GET /v1/events/` and `/v1/events/{id}` with the Event and Customer
 *   unions, ingest with `external_id` deduplication and parents, and
 *   `GET /v1/customer-meters/` and `/{id}`; the old `/v1/meters/{id}/events`
 *   route is gone). Time zones come from the TZif files of
 *   /usr/share/zoneinfo (see emulator_state_tz.ipp for what happens without).
 * Every response under a resolved version carries `Polar-Version`, except a
 * 2025-03 default serving a request without the header (the seed-era wire is
 * unchanged) and the generic 500.
 *
 * The setup functions (`add_*`) do not validate their arguments beyond what
 * they need; ids they return are random UUID version 4 strings.
 *
 * Errors: `restore` throws `std::invalid_argument` on a malformed snapshot;
 * `add_event` throws `std::invalid_argument` when `metadata_json` is not a JSON
 * object. `handle` never throws for any request content.
 *
 * Thread safety: every member function may be called concurrently (one
 * internal mutex). The clock function is called with the mutex held.
 */
class emulator_state {
public:
    /// Random ids (seeded from std::random_device).
    POLAR_DECL emulator_state();
    /// Deterministic ids: the same calls produce the same ids.
    POLAR_DECL explicit emulator_state(std::uint64_t seed);
    POLAR_DECL ~emulator_state();
    emulator_state(const emulator_state&) = delete;
    emulator_state& operator=(const emulator_state&) = delete;

    /// Replaces the clock used for "now" (timestamps of new objects, the
    /// default ingest timestamp and the future-timestamp check).
    POLAR_DECL void set_clock(std::function<std::chrono::system_clock::time_point()> clock);

    /// Sets the version served to requests without a `Polar-Version` header
    /// (and without `emulator_request::default_api_version`). Default
    /// `"2026-10"`, like the real server.
    /// Errors: throws `std::invalid_argument` when `version` is not one of
    /// `supported_api_versions`.
    POLAR_DECL void set_default_api_version(std::string_view version);
    POLAR_DECL std::string default_api_version() const;

    /// Creates an organization; returns its id.
    POLAR_DECL std::string add_organization(std::string name);
    /// Creates a user who is an active member of `organization_ids`; returns its id.
    POLAR_DECL std::string add_user(std::vector<std::string> organization_ids);
    /// Registers an organization access token with the given scopes
    /// (e.g. "meters:read", "meters:write", "events:write", "web_default").
    POLAR_DECL void add_organization_token(std::string token, std::string organization_id,
                                           std::vector<std::string> scopes);
    /// Registers a personal (user) access token.
    POLAR_DECL void add_user_token(std::string token, std::string user_id, std::vector<std::string> scopes);
    /// Registers a customer session token (the Meters API rejects it with 401 invalid_token).
    POLAR_DECL void add_customer_session_token(std::string token);
    /// The identity Polar's rate limiter counts a request with this
    /// `Authorization` value under: `"organization:<id>"` for an
    /// organization token, `"user:<id>"` for a personal token, else
    /// `"token:<the value>"` (unknown or missing tokens).
    POLAR_DECL std::string rate_limit_identity(std::string_view authorization) const;
    /// Blocks (or unblocks) an organization: its organization tokens get 403 NotPermitted.
    POLAR_DECL void set_organization_blocked(const std::string& organization_id, bool blocked);

    /// Creates a customer; returns its id.
    POLAR_DECL std::string add_customer(std::string organization_id, std::optional<std::string> external_id,
                                        std::string email, std::string name);
    /// Creates a team customer without an email (the dated versions show it
    /// with `type: "team"` and `email: null`; 2025-03 shows `email: ""`).
    POLAR_DECL std::string add_team_customer(std::string organization_id, std::optional<std::string> external_id,
                                             std::string name);
    /// Stores an event as given (bypasses ingest validation); returns its id.
    POLAR_DECL std::string add_event(const emulator_event& event);

    /**
     * @brief Runs the 5-minute billing job once.
     * @details For every meter, records the newest event that matches it (filter
     * and aggregation type guard) and is linked to an existing customer (by
     * `customer_id`, or by `external_customer_id` through the customer's
     * `external_id`) as the meter's last billed event. Such a meter rejects
     * updates of `filter` and `aggregation` from then on. Archived meters are
     * skipped. A meter created on a dated version is matched with the dated
     * filter semantics (MeterAPI-2026-10.md §5.1), one created on 2025-03 with
     * the seed-era ones.
     * @returns how many meters got a (new) last billed event.
     */
    POLAR_DECL std::size_t run_billing_job();

    /// True when the meter has a last billed event (it is update-locked).
    POLAR_DECL bool meter_locked(const std::string& meter_id) const;
    POLAR_DECL std::size_t meter_count() const;
    /// Events and customers stored, not counting the demo's dated-only
    /// extras (emulator_demo::dated_event_count, team_customer_id).
    POLAR_DECL std::size_t event_count() const;
    POLAR_DECL std::size_t customer_count() const;

    /// Answers one API request. Never throws for any request content.
    POLAR_DECL emulator_response handle(const emulator_request& request);

    /// The whole state (organizations, users, tokens, customers, meters,
    /// events and the meters' last billed events) as JSON text.
    POLAR_DECL std::string snapshot() const;
    /// Replaces the whole state with a snapshot() result.
    POLAR_DECL void restore(std::string_view json);

    /**
     * @brief Loads a realistic, deterministic demo data set.
     * @details Two organizations, a user who belongs to both, tokens (see
     * emulator_demo), about ten customers, six meters with varied filters and
     * aggregations, and a few thousand events over the 30 days before the
     * clock's "now", with integer metadata (`tokens`, `bytes`, `duration_ms`)
     * and string metadata (`model`: lite/pro/max, `region`). The content only
     * depends on the clock; ids are generated from a fixed seed.
     */
    POLAR_DECL emulator_demo seed_demo();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace polar::testing

#ifdef POLAR_HEADER_ONLY
#include <polar/testing/impl/emulator_state.ipp>
#endif

#endif
