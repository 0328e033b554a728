//
// polar-cpp testing: emulator_state's members, routing and endpoints.
//
// Evaluation order (MeterAPI.md §5.5, and FastAPI's own order): routing
// (404 / 405 / 307 slash redirects), body decoding (FastAPI reads the JSON
// before it resolves dependencies, so a malformed body is a 422 even without
// credentials), authentication and scopes (401 / 403), parameter and body
// validation (422, every error at once), existence and visibility (404),
// then business rules (422: organization_id, the update lock, the
// quantities range).
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_IPP

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

// ---------------------------------------------------------------------------
// GET /v1/meters/

inline emulator_response list_meters(handler_context& cx) {
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::meters_read, subject)) return *r;
    const auto& t = cx.target;
    verrors errors;
    const auto page = positive_int_param(t, "page", 1, errors);
    const auto limit = clamp_limit(positive_int_param(t, "limit", 10, errors));
    // Sorting criteria: (descending, by_name).
    std::vector<std::pair<bool, bool>> sorting;
    const auto sort_values = t.all("sorting");
    for (std::size_t i = 0; i < sort_values.size(); ++i) {
        const auto& s = sort_values[i];
        if (s == "created_at" || s == "-created_at" || s == "name" || s == "-name")
            sorting.emplace_back(s.front() == '-', s.find("name") != std::string::npos);
        else
            errors.push_back(enum_error(loc_t{"query", "sorting", static_cast<std::int64_t>(i)}, json::string(s),
                                        {"created_at", "-created_at", "name", "-name"}));
    }
    if (sort_values.empty()) sorting.emplace_back(false, true);
    const auto metadata = metadata_query(t);
    const auto org_filter = uuid4_list_param(t, "organization_id", errors);
    const std::string* query = t.last("query");
    if (!errors.empty()) return validation_response(errors);

    std::vector<const meter*> rows;
    for (const auto& m : cx.st.meters) {
        if (!subject.sees(m.organization_id)) continue;
        if (!org_filter.empty() &&
            std::find(org_filter.begin(), org_filter.end(), m.organization_id) == org_filter.end())
            continue;
        if (query && !like_contains(m.name, *query, true)) continue;
        bool ok = true;
        for (const auto& [key, values] : metadata) {
            auto it = m.metadata.find(key);
            if (it == m.metadata.end() || it->value().is_null()) {
                ok = false;
                break;
            }
            const std::string text = jsonb_text(it->value());
            if (std::find(values.begin(), values.end(), text) == values.end()) {
                ok = false;
                break;
            }
        }
        if (ok) rows.push_back(&m);
    }
    // Criteria in order; ties keep insertion order (stable sort).
    std::stable_sort(rows.begin(), rows.end(), [&](const meter* a, const meter* b) {
        for (const auto& [desc, by_name] : sorting) {
            if (by_name) {
                if (a->name == b->name) continue;
                return desc ? b->name < a->name : a->name < b->name;
            }
            if (a->created_at == b->created_at) continue;
            return desc ? b->created_at < a->created_at : a->created_at < b->created_at;
        }
        return false;
    });
    const auto w = paginate(rows.size(), page, limit);
    std::string body;
    std::size_t reserve = 64;
    for (std::size_t i = w.begin; i < w.end; ++i) reserve += rows[i]->json_text.size() + 1;
    body.reserve(reserve);
    body.append("{\"items\":[");
    for (std::size_t i = w.begin; i < w.end; ++i) {
        if (i > w.begin) body.push_back(',');
        body.append(rows[i]->json_text);
    }
    append_page_envelope_end(body, w.total, limit);
    return json_response(200, std::move(body));
}

// ---------------------------------------------------------------------------
// POST /v1/meters/

inline emulator_response create_meter(handler_context& cx) {
    const auto body = decode_body(cx.req);
    if (body.what == body_outcome::json_error || body.what == body_outcome::unreadable)
        return body_decode_failure(body);
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::meters_write, subject)) return *r;
    verrors errors;
    std::optional<meter_create_input> in;
    if (body_present(body, errors)) in = validate_meter_create(body.doc, errors);
    if (!errors.empty() || !in) return validation_response(errors);

    const json::value* org_input = field(body.doc.get_object(), "organization_id");
    auto org = resolve_organization(subject, in->organization_id, in->organization_id_given,
                                    org_input ? *org_input : json::value(nullptr), loc_t{"body", "organization_id"},
                                    errors);
    if (!org) return validation_response(errors, "PolarRequestValidationError");

    meter m;
    m.id = cx.self.new_id();
    m.organization_id = *org;
    m.name = std::move(in->name);
    m.filter = std::move(in->filter);
    m.agg = std::move(in->agg);
    m.metadata = std::move(in->metadata);
    m.created_at = cx.self.now();
    // The server looks up the newest matching event at creation and keeps it
    // as the meter's last billed event (this can fail like any query using
    // the filter: nothing is stored then).
    if (const event* e = newest_matching_event(cx.st, m, false)) m.last_billed_event_id = e->id;
    cx.st.add_meter(std::move(m));
    return json_response(201, cx.st.meters.back().json_text);
}

// ---------------------------------------------------------------------------
// GET /v1/meters/{id}

inline emulator_response get_meter(handler_context& cx, const std::string& raw_id) {
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::meters_read, subject)) return *r;
    verrors errors;
    auto id = validate_uuid4(json::string(raw_id), loc_t{"path", "id"}, errors);
    if (!id) return validation_response(errors);
    const meter* m = visible_meter(cx.st, subject, *id);
    if (!m) return resource_not_found();
    return json_response(200, cx.dated() ? dated_meter_json(*m) : m->json_text);
}

// ---------------------------------------------------------------------------
// PATCH /v1/meters/{id}

inline emulator_response update_meter(handler_context& cx, const std::string& raw_id) {
    const auto body = decode_body(cx.req);
    if (body.what == body_outcome::json_error || body.what == body_outcome::unreadable)
        return body_decode_failure(body);
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::meters_write, subject)) return *r;
    verrors errors;
    auto id = validate_uuid4(json::string(raw_id), loc_t{"path", "id"}, errors);
    std::optional<meter_update_input> in;
    if (body_present(body, errors)) in = validate_meter_update(body.doc, errors);
    if (!errors.empty() || !id || !in) return validation_response(errors);

    const meter* found = visible_meter(cx.st, subject, *id);
    if (!found) return resource_not_found();
    meter& m = cx.st.meters[cx.st.meter_by_id.find(*id)->second];

    // The lock: once a meter has a last billed event, the mere presence of
    // the keys is rejected, one error per key, even with null values.
    if (m.last_billed_event_id) {
        static constexpr std::string_view msg = "This field can't be updated because the meter is already aggregating events.";
        if (in->filter_given)
            errors.push_back(make_error("forbidden", loc_t{"body", "filter"}, std::string(msg), in->filter_input));
        if (in->aggregation_given)
            errors.push_back(
                make_error("forbidden", loc_t{"body", "aggregation"}, std::string(msg), in->aggregation_input));
        if (!errors.empty()) return validation_response(errors, "PolarRequestValidationError");
    }
    // `name: null` passes validation (the field is Optional) and the server
    // then writes NULL into a NOT NULL column: an unhandled database error.
    // The spec only says "server error" (exact status UNCONFIRMED): 500.
    if (in->name_given && !in->name) return server_error_response();

    bool changed = false;
    if (in->name && *in->name != m.name) {
        m.name = std::move(*in->name);
        changed = true;
    }
    if (in->metadata && *in->metadata != m.metadata) {
        m.metadata = std::move(*in->metadata);
        changed = true;
    }
    if (in->filter && filter_to_json(*in->filter) != filter_to_json(m.filter)) {
        m.filter = std::move(*in->filter);
        changed = true;
    }
    if (in->agg && aggregation_to_json(*in->agg) != aggregation_to_json(m.agg)) {
        m.agg = std::move(*in->agg);
        changed = true;
    }
    // modified_at moves only when a row really changes (an ORM flush with no
    // net change issues no UPDATE). The response shows the new value
    // (UNCONFIRMED in the spec).
    if (changed) {
        m.modified_at = cx.self.now();
        m.json_text = meter_json(m);
    }
    return json_response(200, m.json_text);
}

// ---------------------------------------------------------------------------
// GET /v1/meters/{id}/events

inline emulator_response meter_events(handler_context& cx, const std::string& raw_id) {
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::meters_read, subject)) return *r;
    verrors errors;
    // The pagination dependency is resolved before the endpoint's own path parameter.
    const auto page = positive_int_param(cx.target, "page", 1, errors);
    const auto limit = clamp_limit(positive_int_param(cx.target, "limit", 10, errors));
    auto id = validate_uuid4(json::string(raw_id), loc_t{"path", "id"}, errors);
    if (!errors.empty() || !id) return validation_response(errors);
    const meter* m = visible_meter(cx.st, subject, *id);
    if (!m) return resource_not_found();

    if (filter_is_broken(m->filter)) throw server_failure("filter clause on an unsupported column");
    std::vector<const event*> rows;
    for (const auto& e : cx.st.org_event_list(m->organization_id))
        if (meter_matches(*m, e)) rows.push_back(&e);
    std::stable_sort(rows.begin(), rows.end(),
                     [](const event* a, const event* b) { return a->timestamp > b->timestamp; });
    const auto w = paginate(rows.size(), page, limit);
    std::string body;
    body.reserve(64 + (w.end - w.begin) * 900);
    body.append("{\"items\":[");
    for (std::size_t i = w.begin; i < w.end; ++i) {
        if (i > w.begin) body.push_back(',');
        body.append(event_json(cx.st, *rows[i]));
    }
    append_page_envelope_end(body, w.total, limit);
    return json_response(200, std::move(body));
}

// ---------------------------------------------------------------------------
// GET /v1/meters/{id}/quantities

// The required range of a quantities query, as Pydantic reports its errors
// into `errors`; `min_start_text` is how the 2023-01-01 lower bound of
// start_timestamp prints in the message and `ctx` of its error.
struct quantities_range {
    std::optional<local_datetime> start, end;
    std::optional<time_interval> interval;
};

inline quantities_range read_quantities_range(const parsed_target& t, verrors& errors,
                                              std::string_view min_start_text) {
    static const micros min_start = days_from_civil(2023, 1, 1) * us_per_day;
    auto read_timestamp = [&](std::string_view key, bool lower_bound) -> std::optional<local_datetime> {
        const std::string* raw = t.last(key);
        const loc_t loc{"query", key};
        if (!raw) {
            errors.push_back(missing_error(loc, nullptr));
            return std::nullopt;
        }
        auto v = validate_aware_datetime(json::string(*raw), loc, errors);
        if (v && lower_bound && v->utc() < min_start) {
            errors.push_back(make_error("greater_than_equal", loc,
                                        "Input should be greater than or equal to " + std::string(min_start_text),
                                        json::string(*raw), json::object{{"ge", min_start_text}}));
            return std::nullopt;
        }
        return v;
    };
    quantities_range r;
    r.start = read_timestamp("start_timestamp", true);
    r.end = read_timestamp("end_timestamp", false);
    if (const std::string* raw = t.last("interval")) {
        r.interval = parse_interval(*raw);
        if (!r.interval)
            errors.push_back(enum_error(loc_t{"query", "interval"}, json::string(*raw),
                                        {"year", "month", "week", "day", "hour"}));
    } else {
        errors.push_back(missing_error(loc_t{"query", "interval"}, nullptr));
    }
    return r;
}

inline emulator_response meter_quantities(handler_context& cx, const std::string& raw_id) {
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::meters_read, subject)) return *r;
    const auto& t = cx.target;
    verrors errors;
    auto id = validate_uuid4(json::string(raw_id), loc_t{"path", "id"}, errors);
    // The lower bound on start_timestamp is compared as an instant (the
    // naive-vs-aware comparison at the boundary is UNCONFIRMED) and printed
    // naive, as the 2025-03 server's naive datetime.
    const auto [start, end, interval] = read_quantities_range(t, errors, "2023-01-01T00:00:00");
    const auto customer_ids = uuid4_list_param(t, "customer_id", errors);
    const auto external_ids = t.all("external_customer_id");
    if (!errors.empty() || !id || !start || !end || !interval) return validation_response(errors);

    const meter* m = visible_meter(cx.st, subject, *id);
    if (!m) return resource_not_found();

    if (range_too_big(*start, *end, *interval)) {
        json::array input{json::string(start->isoformat()), json::string(end->isoformat()),
                          json::string(interval_name(*interval))};
        errors.push_back(make_error("value_error", loc_t{"query"},
                                    "The interval is too big. Try to change the interval or reduce the date range.",
                                    std::move(input)));
        return validation_response(errors, "PolarRequestValidationError");
    }
    const auto customers = make_customer_filter(cx.st, m->organization_id, customer_ids, external_ids);
    return json_response(200, compute_quantities(cx.st, *m, start->utc(), end->utc(), *interval, customers));
}

// ---------------------------------------------------------------------------
// POST /v1/events/ingest

inline emulator_response ingest_events(handler_context& cx) {
    const auto body = decode_body(cx.req);
    if (body.what == body_outcome::json_error || body.what == body_outcome::unreadable)
        return body_decode_failure(body);
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::events_write, subject)) return *r;
    const micros now = cx.self.now();
    verrors errors;
    std::optional<std::vector<event_create_input>> in;
    if (body_present(body, errors)) in = validate_events_ingest(body.doc, now, errors);
    if (!errors.empty() || !in) return validation_response(errors);

    // Business rules per event: organization_id as on meter create, and the
    // customer must exist in that organization (UNCONFIRMED detail: type
    // "customer_id", msg "Customer not found.").
    std::vector<event> events;
    events.reserve(in->size());
    const auto& items = body.doc.get_object().find("events")->value().get_array();
    for (std::size_t i = 0; i < in->size(); ++i) {
        auto& ev = (*in)[i];
        const loc_t base{"body", "events", static_cast<std::int64_t>(i)};
        const json::value* org_input = field(items[i].get_object(), "organization_id");
        auto org = resolve_organization(subject, ev.organization_id, ev.organization_id_given,
                                        org_input ? *org_input : json::value(nullptr),
                                        loc_plus(base, "organization_id"), errors);
        if (!org) continue;
        if (ev.customer_id) {
            const customer* c = cx.st.find_customer(*ev.customer_id);
            if (!c || c->organization_id != *org) {
                errors.push_back(make_error("customer_id", loc_plus(base, "customer_id"), "Customer not found.",
                                            json::string(*ev.customer_id)));
                continue;
            }
        }
        event e;
        e.organization_id = *org;
        e.name = std::move(ev.name);
        e.source = "user";
        e.timestamp = ev.timestamp.value_or(now);
        e.customer_id = std::move(ev.customer_id);
        e.external_customer_id = std::move(ev.external_customer_id);
        e.metadata = std::move(ev.metadata);
        events.push_back(std::move(e));
    }
    if (!errors.empty()) return validation_response(errors, "PolarRequestValidationError");
    // The name column is VARCHAR(128) while the schema has no maximum: a
    // longer name fails in the database (500) and nothing is inserted.
    for (const auto& e : events)
        if (py_len(e.name) > 128) throw server_failure("value too long for type character varying(128)");
    const auto n = events.size();
    for (auto& e : events) {
        e.id = cx.self.new_id();
        cx.st.add_event(std::move(e));
    }
    return json_response(200, "{\"inserted\":" + std::to_string(n) + "}");
}

} // namespace emu
} // namespace polar::testing

#include <polar/testing/impl/emulator_state_events.ipp>
#include <polar/testing/impl/emulator_state_ingest.ipp>
#include <polar/testing/impl/emulator_state_meters.ipp>
#include <polar/testing/impl/emulator_state_quantities_dated.ipp>
#include <polar/testing/impl/emulator_state_customer_meters.ipp>

namespace polar::testing {
namespace emu {

inline emulator_response dispatch(engine& self, const emulator_request& req, api_contract contract) {
    const parsed_target target = parse_target(req.target);
    handler_context cx{self, req, target, self.st, contract};
    const route_match m = match_route(target.path, contract);
    const std::string_view method = req.method;
    switch (m.r) {
    case route::meters_root:
        if (method == "GET") return cx.dated() ? list_meters_dated(cx) : list_meters(cx);
        if (method == "POST") return cx.dated() ? create_meter_dated(cx) : create_meter(cx);
        break;
    case route::meter:
        if (method == "GET") return get_meter(cx, m.id);
        if (method == "PATCH") return cx.dated() ? update_meter_dated(cx, m.id) : update_meter(cx, m.id);
        break;
    case route::meter_events:
        if (method == "GET") return meter_events(cx, m.id);
        break;
    case route::meter_quantities:
        if (method == "GET") return cx.dated() ? meter_quantities_dated(cx, m.id) : meter_quantities(cx, m.id);
        break;
    case route::events_ingest:
        if (method == "POST") return cx.dated() ? ingest_events_dated(cx) : ingest_events(cx);
        // Starlette keeps looking for a full match: GET /v1/events/ingest
        // is the dated versions' GET /v1/events/{id} (422 on the id).
        if (method == "GET" && cx.dated()) return get_event(cx, "ingest");
        break;
    case route::events_root:
        if (method == "GET") return list_events(cx);
        break;
    case route::event:
        if (method == "GET") return get_event(cx, m.id);
        break;
    case route::customer_meters_root:
        if (method == "GET") return list_customer_meters(cx);
        break;
    case route::customer_meter:
        if (method == "GET") return get_customer_meter(cx, m.id);
        break;
    case route::none: {
        // Starlette's redirect_slashes: toggle the trailing slash and
        // redirect (307, any method) when that path has a route.
        const std::string& path = target.path;
        if (path != "/" && !path.empty()) {
            std::string alt = path;
            if (alt.back() == '/') {
                while (!alt.empty() && alt.back() == '/') alt.pop_back();
            } else {
                alt.push_back('/');
            }
            if (match_route(alt, contract).r != route::none) {
                emulator_response r;
                r.status = 307;
                r.content_type.clear();
                std::string location;
                if (!req.host.empty()) {
                    location.append(req.scheme.empty() ? std::string_view("http") : req.scheme);
                    location.append("://");
                    location.append(req.host);
                }
                location.append(alt);
                if (!target.raw_query.empty()) {
                    location.push_back('?');
                    location.append(target.raw_query);
                }
                r.headers.emplace_back("location", std::move(location));
                return r;
            }
        }
        return detail_response(404, "Not Found");
    }
    }
    // The path matched but not the method: the first matching route's methods.
    auto r = detail_response(405, "Method Not Allowed");
    r.headers.emplace_back("Allow", m.r == route::events_ingest ? "POST" : "GET");
    return r;
}

} // namespace emu
} // namespace polar::testing

#include <polar/testing/impl/emulator_state_members.ipp>
#include <polar/testing/impl/emulator_state_rate_limit.ipp>

#endif
