//
// polar-cpp testing: the engine behind emulator_state, the route table (which
// path is which endpoint in each contract), and what every handler shares:
// the handler context, error and page envelopes, body presence, meter
// visibility. Included by emulator_state_endpoints.ipp.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_ROUTES_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_ROUTES_IPP

#include <polar/testing/emulator_state.hpp>
#include <polar/testing/impl/emulator_state_auth.ipp>
#include <polar/testing/impl/emulator_state_dated_filters.ipp>
#include <polar/testing/impl/emulator_state_dated_json.ipp>
#include <polar/testing/impl/emulator_state_tz.ipp>
#include <polar/testing/impl/emulator_state_quantities.ipp>
#include <polar/testing/impl/emulator_state_storage.ipp>
#include <polar/testing/impl/emulator_state_seed.ipp>
#include <polar/testing/impl/emulator_state_versions.ipp>

namespace polar::testing {
namespace emu {

// Everything behind emulator_state's pimpl.
struct engine {
    mutable std::mutex mutex;
    std::mt19937_64 rng;
    std::function<std::chrono::system_clock::time_point()> clock = [] { return std::chrono::system_clock::now(); };
    state_data st;
    std::string_view default_version = api_version_2026_10;

    micros now() const { return to_micros(clock()); }
    std::string new_id() { return random_uuid4(rng); }
};

enum class route {
    none, meters_root, meter, meter_events, meter_quantities, events_ingest, events_root, event,
    customer_meters_root, customer_meter
};

struct route_match {
    route r = route::none;
    std::string id;
};

// Starlette's path matching: `{id}` is one non-empty segment without '/'.
// The dated contract has no `/v1/meters/{id}/events` route (removed on
// 2025-04-11): such a request is a plain route 404, and its slash variant
// gets no redirect.
inline route_match match_route(std::string_view path, api_contract contract) {
    route_match m;
    if (path == "/v1/meters/") {
        m.r = route::meters_root;
        return m;
    }
    if (path == "/v1/events/ingest") {
        m.r = route::events_ingest;
        return m;
    }
    // The dated versions' events list and get (§3.7, §3.8).
    if (contract == api_contract::dated) {
        constexpr std::string_view events_prefix = "/v1/events/";
        if (path == events_prefix) {
            m.r = route::events_root;
            return m;
        }
        if (path.substr(0, events_prefix.size()) == events_prefix) {
            const std::string_view id = path.substr(events_prefix.size());
            if (id.find('/') == std::string_view::npos) {
                m.r = route::event;
                m.id = std::string(id);
            }
            return m;
        }
        // §3.10
        constexpr std::string_view cm_prefix = "/v1/customer-meters/";
        if (path == cm_prefix) {
            m.r = route::customer_meters_root;
            return m;
        }
        if (path.substr(0, cm_prefix.size()) == cm_prefix) {
            const std::string_view id = path.substr(cm_prefix.size());
            if (id.find('/') == std::string_view::npos) {
                m.r = route::customer_meter;
                m.id = std::string(id);
            }
            return m;
        }
    }
    constexpr std::string_view prefix = "/v1/meters/";
    if (path.substr(0, prefix.size()) != prefix) return m;
    std::string_view rest = path.substr(prefix.size());
    const auto slash = rest.find('/');
    const std::string_view id = rest.substr(0, slash);
    if (id.empty()) return m;
    if (slash == std::string_view::npos) {
        m.r = route::meter;
    } else {
        const std::string_view tail = rest.substr(slash);
        if (tail == "/events" && contract == api_contract::v2025_03)
            m.r = route::meter_events;
        else if (tail == "/quantities")
            m.r = route::meter_quantities;
        else
            return m;
    }
    m.id = std::string(id);
    return m;
}

inline emulator_response detail_response(int status, std::string_view detail) {
    std::string body = "{\"detail\":";
    append_json_string(body, detail);
    body.push_back('}');
    return json_response(status, std::move(body));
}

inline void append_page_envelope_end(std::string& body, std::int64_t total, std::int64_t limit) {
    const std::int64_t max_page = total == 0 ? 0 : (total + limit - 1) / limit;
    body.append("],\"pagination\":{\"total_count\":");
    body.append(std::to_string(total));
    body.append(",\"max_page\":");
    body.append(std::to_string(max_page));
    body.append("}}");
}

// The page [offset, offset + limit) of `n` items, and the quirky total: the
// server counts with a window function over the page's own rows, so a page
// past the end reports 0.
struct page_window {
    std::size_t begin = 0, end = 0;
    std::int64_t total = 0;
};

inline page_window paginate(std::size_t n, std::int64_t page, std::int64_t limit) {
    page_window w;
    const auto skip_pages = static_cast<std::uint64_t>(page - 1);
    const auto lim = static_cast<std::uint64_t>(limit);
    if (skip_pages >= (n + lim - 1) / lim || n == 0) return w;
    w.begin = static_cast<std::size_t>(skip_pages * lim);
    w.end = std::min<std::size_t>(n, w.begin + static_cast<std::size_t>(lim));
    w.total = static_cast<std::int64_t>(n);
    return w;
}

// The 100-item cap is applied silently.
inline std::int64_t clamp_limit(std::int64_t limit) { return std::min<std::int64_t>(limit, 100); }

struct handler_context {
    engine& self;
    const emulator_request& req;
    const parsed_target& target;
    state_data& st;
    api_contract contract = api_contract::v2025_03;

    bool dated() const noexcept { return contract == api_contract::dated; }
};

inline emulator_response body_decode_failure(const body_outcome& b) {
    if (b.what == body_outcome::json_error) return validation_response({*b.error});
    return detail_response(400, "There was an error parsing the body");
}

// Validates the request body of a POST/PATCH once decoded. A missing body
// (empty) is a single `missing` error at ["body"].
inline bool body_present(const body_outcome& b, verrors& errors) {
    if (b.what == body_outcome::missing) {
        errors.push_back(missing_error(loc_t{"body"}, nullptr));
        return false;
    }
    return true;
}

inline const meter* visible_meter(const state_data& st, const auth_subject& subject, const std::string& id) {
    auto it = st.meter_by_id.find(id);
    if (it == st.meter_by_id.end()) return nullptr;
    const meter& m = st.meters[it->second];
    return subject.sees(m.organization_id) ? &m : nullptr;
}

} // namespace emu
} // namespace polar::testing

#endif
