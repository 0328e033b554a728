//
// polar-cpp testing: GET /v1/customer-meters/ and /v1/customer-meters/{id}
// on the dated versions (MeterAPI-2026-10.md §3.10). Included by
// emulator_state.ipp after the handler context.
//
// The server keeps these rows up to date with background jobs; the emulator
// derives them from the stored events on each request (no lag):
// - a row exists for each (customer, meter) of an organization where the
//   customer has at least one event matching the meter or a credit of it
//   (UNCONFIRMED: the server's job may also create rows without usage);
// - consumed_units is the meter's all-time aggregate over that customer's
//   events (customer_id, or external_customer_id = the customer's external
//   id), credited_units the sum of the `units` of the customer's
//   `meter.credited` system events naming the meter (the emulator has no
//   benefits that grant credits; seeded or added events stand for them),
//   balance is credited - consumed;
// - a consumed figure that is not finite (float metadata near the double
//   range) answers 500, as the server's JSON encoder refuses it;
// - created_at / modified_at are the first / last matching event's
//   timestamps (UNCONFIRMED: the server stamps the job's run);
// - the row id is a UUID v4 derived from the customer and meter ids, so it
//   is stable across requests and restores.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_CUSTOMER_METERS_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_CUSTOMER_METERS_IPP

namespace polar::testing::emu {

struct customer_meter_row {
    std::string id;
    const customer* c = nullptr;
    const meter* m = nullptr;
    micros created_at = 0, modified_at = 0;
    double consumed = 0;
    std::int64_t credited = 0;
    double balance() const { return static_cast<double>(credited) - consumed; }
};

// The `units` of a `meter.credited` event of meter `m`, if `e` is one.
inline std::optional<std::int64_t> credited_units(const event& e, const meter& m) {
    if (e.source != "system" || e.name != "meter.credited") return std::nullopt;
    const auto* id = e.metadata.if_contains("meter_id");
    const auto* units = e.metadata.if_contains("units");
    if (!id || !id->is_string() || id->get_string() != m.id || !units || !units->is_int64()) return std::nullopt;
    return units->get_int64();
}

inline std::string customer_meter_id(std::string_view customer_id, std::string_view meter_id) {
    std::string h = sha256_hex(std::string(customer_id) + "/" + std::string(meter_id));
    h[12] = '4';
    static constexpr char variant[] = "89ab";
    h[16] = variant[hex_value(h[16]) & 3];
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

// Every row of the organizations `orgs`, optionally only for one meter.
inline std::vector<customer_meter_row> customer_meter_rows(const state_data& st,
                                                           const std::vector<std::string>& orgs) {
    std::vector<customer_meter_row> rows;
    for (const auto& org : orgs) {
        for (const auto& m : st.meters) {
            if (m.organization_id != org) continue;
            // Per customer: usage, credits and the first/last event of either.
            struct tally {
                dated_accumulator usage;
                std::int64_t credited = 0;
                micros first = 0, last = 0;
            };
            std::map<std::string, tally> per;
            for (const auto& e : st.org_event_list(org)) {
                const customer* c = st.event_customer(e);
                if (!c) continue;
                const auto credit = credited_units(e, m);
                if (!credit && !dated_meter_matches(m, e)) continue;
                auto [it, fresh] = per.try_emplace(c->id);
                tally& t = it->second;
                if (fresh) t.first = t.last = e.timestamp;
                t.first = std::min(t.first, e.timestamp);
                t.last = std::max(t.last, e.timestamp);
                if (credit)
                    t.credited += *credit;
                else
                    t.usage.add(m.agg, e);
            }
            for (const auto& [cid, t] : per) {
                customer_meter_row r;
                r.c = st.find_customer(cid);
                r.m = &m;
                r.id = customer_meter_id(cid, m.id);
                r.created_at = t.first;
                r.modified_at = t.last;
                r.consumed = t.usage.result(m.agg.func);
                r.credited = t.credited;
                rows.push_back(std::move(r));
            }
        }
    }
    return rows;
}

inline bool all_finite(const std::vector<customer_meter_row>& rows) {
    return std::all_of(rows.begin(), rows.end(), [](const customer_meter_row& r) { return std::isfinite(r.consumed); });
}

inline void append_customer_meter(std::string& s, const customer_meter_row& r, dated_render_cache& cache) {
    s.append("{\"id\":");
    append_json_string(s, r.id);
    s.append(",\"created_at\":\"");
    append_utc(s, r.created_at);
    s.append("\",\"modified_at\":\"");
    append_utc(s, r.modified_at);
    s.append("\",\"customer_id\":");
    append_json_string(s, r.c->id);
    s.append(",\"meter_id\":");
    append_json_string(s, r.m->id);
    s.append(",\"consumed_units\":");
    append_py_float(s, r.consumed);
    s.append(",\"credited_units\":");
    s.append(std::to_string(r.credited));
    s.append(",\"balance\":");
    append_py_float(s, r.balance());
    s.append(",\"customer\":");
    append_dated_customer(s, *r.c, cache);
    s.append(",\"meter\":");
    s.append(dated_meter_json(*r.m));
    s.push_back('}');
}

inline constexpr std::string_view customer_meter_sort_names[] = {
    "created_at",  "modified_at", "customer_id",    "customer_name", "meter_id",
    "meter_name",  "consumed_units", "credited_units", "balance"};

// GET /v1/customer-meters/
inline emulator_response list_customer_meters(handler_context& cx) {
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::customer_meters_read, subject)) return *r;
    const auto& t = cx.target;
    verrors errors;
    const auto org_filter = uuid4_list_param(t, "organization_id", errors);
    const auto customer_ids = uuid4_list_param(t, "customer_id", errors);
    const auto external_ids = t.all("external_customer_id");
    const auto meter_ids = uuid4_list_param(t, "meter_id", errors);
    const auto page = positive_int_param(t, "page", 1, errors);
    const auto limit = clamp_limit(positive_int_param(t, "limit", 10, errors));
    std::vector<std::pair<bool, std::size_t>> sorting;  // (descending, property)
    const auto sort_values = t.all("sorting");
    for (std::size_t i = 0; i < sort_values.size(); ++i) {
        std::string_view s = sort_values[i];
        const bool desc = !s.empty() && s.front() == '-';
        if (desc) s.remove_prefix(1);
        const auto* it = std::find(std::begin(customer_meter_sort_names), std::end(customer_meter_sort_names), s);
        if (it == std::end(customer_meter_sort_names))
            errors.push_back(enum_error(
                loc_t{"query", "sorting", static_cast<std::int64_t>(i)}, json::string(sort_values[i]),
                {"created_at", "-created_at", "modified_at", "-modified_at", "customer_id", "-customer_id",
                 "customer_name", "-customer_name", "meter_id", "-meter_id", "meter_name", "-meter_name",
                 "consumed_units", "-consumed_units", "credited_units", "-credited_units", "balance", "-balance"}));
        else
            sorting.emplace_back(desc, static_cast<std::size_t>(it - std::begin(customer_meter_sort_names)));
    }
    if (sort_values.empty()) sorting.emplace_back(true, 1);  // -modified_at
    if (!errors.empty()) return validation_response(errors);

    std::vector<std::string> orgs;
    for (const auto& org : subject.organizations)
        if (org_filter.empty() || std::find(org_filter.begin(), org_filter.end(), org) != org_filter.end())
            orgs.push_back(org);
    auto all = customer_meter_rows(cx.st, orgs);
    if (!all_finite(all)) return server_error_response();
    std::vector<const customer_meter_row*> rows;
    for (const auto& r : all) {
        if (!customer_ids.empty() && std::find(customer_ids.begin(), customer_ids.end(), r.c->id) == customer_ids.end())
            continue;
        if (!external_ids.empty() &&
            (!r.c->external_id ||
             std::find(external_ids.begin(), external_ids.end(), *r.c->external_id) == external_ids.end()))
            continue;
        if (!meter_ids.empty()) {
            if (std::find(meter_ids.begin(), meter_ids.end(), r.m->id) == meter_ids.end()) continue;
        } else if (r.m->archived_at) {
            continue;  // archived meters only when meter_id is given
        }
        rows.push_back(&r);
    }
    auto key_less = [](std::size_t p, const customer_meter_row& a, const customer_meter_row& b) -> int {
        auto cmp = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
        switch (p) {
        case 0: return cmp(a.created_at, b.created_at);
        case 1: return cmp(a.modified_at, b.modified_at);
        case 2: return cmp(a.c->id, b.c->id);
        case 3: return cmp(a.c->name, b.c->name);
        case 4: return cmp(a.m->id, b.m->id);
        case 5: return cmp(a.m->name, b.m->name);
        case 6: return cmp(a.consumed, b.consumed);
        case 7: return cmp(a.credited, b.credited);
        case 8: return cmp(a.balance(), b.balance());
        }
        return 0;
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const customer_meter_row* a, const customer_meter_row* b) {
        for (const auto& [desc, p] : sorting) {
            const int c = key_less(p, *a, *b);
            if (c != 0) return desc ? c > 0 : c < 0;
        }
        return false;
    });
    const auto w = paginate_counted(rows.size(), page, limit);
    dated_render_cache cache(cx.st);
    std::string body = "{\"items\":[";
    for (std::size_t i = w.begin; i < w.end; ++i) {
        if (i > w.begin) body.push_back(',');
        append_customer_meter(body, *rows[i], cache);
    }
    append_page_envelope_end(body, w.total, limit);
    return json_response(200, std::move(body));
}

// GET /v1/customer-meters/{id}
inline emulator_response get_customer_meter(handler_context& cx, const std::string& raw_id) {
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::customer_meters_read, subject)) return *r;
    verrors errors;
    auto id = validate_uuid4(json::string(raw_id), loc_t{"path", "id"}, errors);
    if (!id) return validation_response(errors);
    for (const auto& r : customer_meter_rows(cx.st, subject.organizations)) {
        if (r.id != *id) continue;
        if (!std::isfinite(r.consumed)) return server_error_response();
        dated_render_cache cache(cx.st);
        std::string body;
        append_customer_meter(body, r, cache);
        return json_response(200, std::move(body));
    }
    return resource_not_found();
}

} // namespace polar::testing::emu

#endif
