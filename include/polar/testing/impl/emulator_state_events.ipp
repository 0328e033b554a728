//
// polar-cpp testing: the events endpoints of the dated versions
// (MeterAPI-2026-10.md §3.7 GET /v1/events/, §3.8 GET /v1/events/{id}).
// Included by emulator_state.ipp after the handler context.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_EVENTS_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_EVENTS_IPP

namespace polar::testing::emu {

// The number of parent steps from `e` up to its root (0 for a root). A
// cycle or a chain longer than 64 stops the walk.
inline int event_depth(const state_data& st, const event& e) {
    int d = 0;
    const event* cur = &e;
    while (cur->parent_id && d < 64) {
        const event* p = st.find_event(cur->organization_id, *cur->parent_id);
        ++d;
        if (!p) break;
        cur = p;
    }
    return d;
}

// True when `ancestor_id` is 1..max_levels parent steps above `e`.
inline bool descends_from(const state_data& st, const event& e, std::string_view ancestor_id, int max_levels) {
    const event* cur = &e;
    for (int level = 1; level <= max_levels && cur->parent_id; ++level) {
        if (*cur->parent_id == ancestor_id) return true;
        cur = st.find_event(cur->organization_id, *cur->parent_id);
        if (!cur) return false;
    }
    return false;
}

// An integer query parameter with bounds (depth).
inline std::optional<std::int64_t> bounded_int_param(const parsed_target& t, std::string_view key, std::int64_t lo,
                                                     std::int64_t hi, verrors& errors) {
    const std::string* raw = t.last(key);
    if (!raw) return std::nullopt;
    const loc_t loc{"query", key};
    auto v = parse_py_int(*raw);
    if (!v) {
        errors.push_back(make_error("int_parsing", loc,
                                    "Input should be a valid integer, unable to parse string as an integer",
                                    json::string(*raw)));
        return std::nullopt;
    }
    if (*v < lo) {
        errors.push_back(make_error("greater_than_equal", loc,
                                    "Input should be greater than or equal to " + std::to_string(lo),
                                    json::string(*raw), json::object{{"ge", lo}}));
        return std::nullopt;
    }
    if (*v > hi) {
        errors.push_back(make_error("less_than_equal", loc, "Input should be less than or equal to " + std::to_string(hi),
                                    json::string(*raw), json::object{{"le", hi}}));
        return std::nullopt;
    }
    return v;
}

// The `filter` query parameter: JSON text parsed with
// Filter.model_validate_json, whose errors are re-raised as they are (their
// `loc` is not prefixed with "query"). UNCONFIRMED: the wording of the
// json_invalid message (serde_json's) is not reproduced; the emulator says
// "Invalid JSON: <reason>".
inline std::optional<filter_node> parse_filter_param(const std::string& text, verrors& errors) {
    std::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) {
        const std::string reason = ec.message();
        errors.push_back(make_error("json_invalid", loc_t{}, "Invalid JSON: " + reason, json::string(text),
                                    json::object{{"error", reason}}));
        return std::nullopt;
    }
    return validate_filter(v, loc_t{}, errors, 0, true);
}

// Customer filters of the events list (§3.7): customer_id also matches
// events carrying those customers' external id; external_customer_id also
// matches events whose customer has that external id; both given: union.
struct event_customer_filter {
    bool active = false;
    std::unordered_set<std::string> ids, external_ids;

    bool matches(const event& e) const {
        if (!active) return true;
        return (e.customer_id && ids.count(*e.customer_id)) ||
               (e.external_customer_id && external_ids.count(*e.external_customer_id));
    }
};

inline event_customer_filter make_event_customer_filter(const state_data& st, const auth_subject& subject,
                                                        const std::vector<std::string>& customer_ids,
                                                        const std::vector<std::string>& external_ids) {
    event_customer_filter f;
    f.active = !customer_ids.empty() || !external_ids.empty();
    for (const auto& id : customer_ids) {
        f.ids.insert(id);
        if (auto c = st.find_customer(id); c && subject.sees(c->organization_id) && c->external_id)
            f.external_ids.insert(*c->external_id);
    }
    for (const auto& x : external_ids) {
        f.external_ids.insert(x);
        for (const auto& org : subject.organizations)
            if (auto c = st.find_customer_external(org, x)) f.ids.insert(c->id);
    }
    return f;
}

inline bool contains_ci(std::string_view text, std::string_view needle) {
    auto lower = [](std::string_view s) {
        std::string o(s);
        for (auto& ch : o) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return o;
    };
    return lower(text).find(lower(needle)) != std::string::npos;
}

// GET /v1/events/
inline emulator_response list_events(handler_context& cx) {
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::events_read, subject)) return *r;
    const auto& t = cx.target;
    verrors errors;
    auto read_time = [&](std::string_view key) -> std::optional<micros> {
        const std::string* raw = t.last(key);
        if (!raw) return std::nullopt;
        auto v = validate_aware_datetime(json::string(*raw), loc_t{"query", key}, errors);
        return v ? std::optional<micros>(v->utc()) : std::nullopt;
    };
    const auto start = read_time("start_timestamp");
    const auto end = read_time("end_timestamp");
    const auto org_filter = uuid4_list_param(t, "organization_id", errors);
    const auto customer_ids = uuid4_list_param(t, "customer_id", errors);
    const auto external_ids = t.all("external_customer_id");
    std::optional<std::string> meter_id;
    if (const std::string* raw = t.last("meter_id"))
        meter_id = validate_uuid4(json::string(*raw), loc_t{"query", "meter_id"}, errors);
    const auto names = t.all("name");
    const auto sources = t.all("source");
    for (std::size_t i = 0; i < sources.size(); ++i)
        if (sources[i] != "system" && sources[i] != "user")
            errors.push_back(enum_error(loc_t{"query", "source", static_cast<std::int64_t>(i)},
                                        json::string(sources[i]), {"system", "user"}));
    const std::string* query = t.last("query");
    std::optional<std::string> parent_id;
    if (const std::string* raw = t.last("parent_id"))
        parent_id = validate_uuid4(json::string(*raw), loc_t{"query", "parent_id"}, errors);
    const auto depth = bounded_int_param(t, "depth", 0, 5, errors);
    const auto page = positive_int_param(t, "page", 1, errors);
    const auto limit = clamp_limit(positive_int_param(t, "limit", 10, errors));
    bool descending = true;  // only the first value's direction is used (§2.3)
    const auto sort_values = t.all("sorting");
    for (std::size_t i = 0; i < sort_values.size(); ++i) {
        const auto& s = sort_values[i];
        if (s != "timestamp" && s != "-timestamp")
            errors.push_back(enum_error(loc_t{"query", "sorting", static_cast<std::int64_t>(i)}, json::string(s),
                                        {"timestamp", "-timestamp"}));
    }
    if (!sort_values.empty()) descending = sort_values.front() == "-timestamp";
    const auto metadata = metadata_query(t);
    // The hidden cursor mode (§2.2, not in the public schema).
    // UNCONFIRMED: how its cursor is passed; the emulator pages with
    // page/limit as usual and only changes the envelope.
    bool cursor_mode = false;
    if (const std::string* raw = t.last("cursor_pagination")) {
        if (auto b = lax_bool(*raw))
            cursor_mode = *b;
        else
            errors.push_back(make_error("bool_parsing", loc_t{"query", "cursor_pagination"},
                                        "Input should be a valid boolean, unable to interpret input",
                                        json::string(*raw)));
    }
    if (!errors.empty()) return validation_response(errors);

    // The endpoint's own checks, in its order: the filter text, then query.
    std::optional<filter_node> filter;
    if (const std::string* raw = t.last("filter")) {
        filter = parse_filter_param(*raw, errors);
        if (!filter) return validation_response(errors);
    }
    if (query) {
        const json::value input = json::string(*query);
        if (org_filter.empty())
            errors.push_back(make_error("value_error", loc_t{"query", "query"},
                                        "Query is only supported when organization_id is provided.", input));
        else if (py_len(*query) < 3)
            // UNCONFIRMED: the message of the length check (type "query" per the spec).
            errors.push_back(make_error("query", loc_t{"query", "query"}, "Query must be at least 3 characters long.",
                                        input));
        if (!errors.empty()) return validation_response(errors);
    }
    const meter* m = nullptr;
    if (meter_id) {
        // Archived meters are accepted; an unknown or invisible one is a 422.
        m = visible_meter(cx.st, subject, *meter_id);
        if (!m) {
            errors.push_back(make_error("meter_id", loc_t{"query", "meter_id"}, "Meter not found.",
                                        json::string(*meter_id)));
            return validation_response(errors, "PolarRequestValidationError");
        }
    }

    const auto customers = make_event_customer_filter(cx.st, subject, customer_ids, external_ids);
    std::vector<const event*> rows;
    for (const auto& org : subject.organizations) {
        if (!org_filter.empty() && std::find(org_filter.begin(), org_filter.end(), org) == org_filter.end()) continue;
        if (m && m->organization_id != org) continue;
        for (const auto& e : cx.st.org_event_list(org)) {
            if (start && e.timestamp <= *start) continue;  // both bounds exclusive
            if (end && e.timestamp >= *end) continue;
            if (!names.empty() && std::find(names.begin(), names.end(), e.name) == names.end()) continue;
            if (!sources.empty() && std::find(sources.begin(), sources.end(), e.source) == sources.end()) continue;
            if (!customers.matches(e)) continue;
            if (parent_id) {
                if (depth ? !descends_from(cx.st, e, *parent_id, static_cast<int>(*depth))
                          : !(e.parent_id && *e.parent_id == *parent_id))
                    continue;
            } else if (depth && event_depth(cx.st, e) > *depth) {
                continue;
            }
            // metadata[k]: JSONExtractString of the top-level key, so a
            // stored number or boolean reads as '' (UNCONFIRMED, §3.7), as
            // does a missing key.
            bool ok = true;
            for (const auto& [key, values] : metadata) {
                auto it = e.metadata.find(key);
                const std::string_view text =
                    it != e.metadata.end() && it->value().is_string() ? std::string_view(it->value().get_string())
                                                                      : std::string_view();
                if (std::find(values.begin(), values.end(), text) == values.end()) {
                    ok = false;
                    break;
                }
            }
            if (!ok) continue;
            if (query) {
                // UNCONFIRMED: the text search's fields. The emulator looks
                // for the text (case-insensitively) in the event name, the
                // external customer id and the customer's name, email and
                // external id.
                const customer* c = cx.st.event_customer(e);
                const bool hit = contains_ci(e.name, *query) ||
                                 (e.external_customer_id && contains_ci(*e.external_customer_id, *query)) ||
                                 (c && (contains_ci(c->name, *query) || contains_ci(c->email, *query) ||
                                        (c->external_id && contains_ci(*c->external_id, *query))));
                if (!hit) continue;
            }
            if (filter && !eval_dated_filter(*filter, e, dated_engine::clickhouse)) continue;
            if (m && !events_list_meter_matches(*m, e)) continue;
            rows.push_back(&e);
        }
    }
    std::stable_sort(rows.begin(), rows.end(), [&](const event* a, const event* b) {
        return descending ? a->timestamp > b->timestamp : a->timestamp < b->timestamp;
    });
    // The count comes from Tinybird but an empty page short-circuits to
    // ([], 0): past the end, total_count and max_page are 0 (§2.2).
    const auto w = paginate(rows.size(), page, limit);
    dated_render_cache cache(cx.st);
    std::string body;
    body.reserve(64 + (w.end - w.begin) * 1200);
    body.append("{\"items\":[");
    for (std::size_t i = w.begin; i < w.end; ++i) {
        if (i > w.begin) body.push_back(',');
        append_dated_event(body, *rows[i], cache);
    }
    if (cursor_mode) {
        body.append(w.end < rows.size() && w.end > 0 ? "],\"pagination\":{\"has_next_page\":true}}"
                                                     : "],\"pagination\":{\"has_next_page\":false}}");
        return json_response(200, std::move(body));
    }
    append_page_envelope_end(body, w.total, limit);
    return json_response(200, std::move(body));
}

// GET /v1/events/{id}: 404 ResourceNotFound when missing or not visible.
inline emulator_response get_event(handler_context& cx, const std::string& raw_id) {
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::events_read, subject)) return *r;
    verrors errors;
    auto id = validate_uuid4(json::string(raw_id), loc_t{"path", "id"}, errors);
    if (!id) return validation_response(errors);
    const event* e = cx.st.find_event_any(*id);
    if (!e || !subject.sees(e->organization_id)) return resource_not_found();
    dated_render_cache cache(cx.st);
    std::string body;
    append_dated_event(body, *e, cache);
    return json_response(200, std::move(body));
}

} // namespace polar::testing::emu

#endif
