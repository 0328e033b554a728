//
// polar-cpp testing: the endpoints of the 2025-03 contract (MeterAPI.md), and
// those every version shares (GET /v1/meters/{id}, its events, the
// quantities range). The dated versions' own handlers are in
// emulator_state_{meters,events,ingest,quantities_dated,customer_meters}.ipp.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_ENDPOINTS_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_ENDPOINTS_IPP

#include <polar/testing/impl/emulator_state_routes.ipp>

namespace polar::testing {
namespace emu {

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

#endif
