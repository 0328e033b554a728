//
// polar-cpp testing: meter quantities (MeterAPI.md §5.3, §5.4).
//
// The server joins generate_series(start, end, '1 <interval>') with the
// events on date_trunc(interval, ...) equality, in UTC. Here the points are
// built once, their units sorted, and every candidate event is dropped into
// its unit with one binary search: one pass over the organization's events.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_QUANTITIES_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_QUANTITIES_IPP

#include <polar/testing/impl/emulator_state_filters.ipp>

namespace polar::testing::emu {

// The largest `date(end) - date(start)` (calendar dates, each in its own
// offset, time of day ignored) the server accepts per interval.
inline std::int64_t max_range_days(time_interval i) {
    switch (i) {
    case time_interval::hour: return 7;
    case time_interval::day: return 366;
    case time_interval::week: return 365;
    case time_interval::month: return 1460;
    case time_interval::year: return 3650;
    }
    return 0;
}

inline bool range_too_big(const local_datetime& start, const local_datetime& end, time_interval i) {
    return end.local_days() - start.local_days() > max_range_days(i);
}

// generate_series(start, end, '1 <interval>'): from the unaligned start,
// each point one interval after the previous one, end inclusive.
inline std::vector<micros> series_points(micros start, micros end, time_interval i) {
    std::vector<micros> points;
    for (micros t = start; t <= end; t = add_interval(i, t)) points.push_back(t);
    return points;
}

struct customer_filter {
    bool by_id = false;
    std::unordered_set<std::string> ids;           // customer_id values, plus customers matched by external id
    bool by_external = false;
    std::unordered_set<std::string> external_ids;  // external_customer_id values, plus external ids of listed customers
    std::unordered_set<std::string> ext_of_ids;    // external ids of the customer_id customers
    std::unordered_set<std::string> ids_of_ext;    // ids of customers whose external id is listed

    bool matches(const event& e) const {
        if (by_id) {
            const bool ok = (e.customer_id && ids.count(*e.customer_id)) ||
                            (e.external_customer_id && ext_of_ids.count(*e.external_customer_id));
            if (!ok) return false;
        }
        if (by_external) {
            const bool ok = (e.external_customer_id && external_ids.count(*e.external_customer_id)) ||
                            (e.customer_id && ids_of_ext.count(*e.customer_id));
            if (!ok) return false;
        }
        return true;
    }
};

inline customer_filter make_customer_filter(const state_data& st, const std::string& org_id,
                                            const std::vector<std::string>& customer_ids,
                                            const std::vector<std::string>& external_ids) {
    customer_filter f;
    if (!customer_ids.empty()) {
        f.by_id = true;
        for (const auto& id : customer_ids) {
            f.ids.insert(id);
            if (auto c = st.find_customer(id); c && c->organization_id == org_id && c->external_id)
                f.ext_of_ids.insert(*c->external_id);
        }
    }
    if (!external_ids.empty()) {
        f.by_external = true;
        for (const auto& x : external_ids) {
            f.external_ids.insert(x);
            if (auto c = st.find_customer_external(org_id, x)) f.ids_of_ext.insert(c->id);
        }
    }
    return f;
}

// The response body of GET /v1/meters/{id}/quantities.
inline std::string compute_quantities(const state_data& st, const meter& m, micros start, micros end,
                                      time_interval interval, const customer_filter& customers) {
    if (filter_is_broken(m.filter)) throw server_failure("filter clause on an unsupported column");
    const auto points = series_points(start, end, interval);
    std::vector<micros> units;
    units.reserve(points.size());
    for (auto p : points) units.push_back(date_trunc(interval, p));  // strictly increasing
    std::vector<accumulator> acc(points.size());
    if (!points.empty()) {
        const micros lo = units.front();
        const micros hi = add_interval(interval, units.back());  // end of the last unit
        for (const auto& e : st.org_event_list(m.organization_id)) {
            if (e.timestamp < lo || e.timestamp >= hi) continue;
            const micros u = date_trunc(interval, e.timestamp);
            auto it = std::lower_bound(units.begin(), units.end(), u);
            if (it == units.end() || *it != u) continue;
            if (!customers.matches(e) || !meter_matches(m, e)) continue;
            acc[static_cast<std::size_t>(it - units.begin())].add(m.agg, e);
        }
    }
    std::string body;
    body.reserve(24 + points.size() * 56);
    body.append("{\"quantities\":[");
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (i > 0) body.push_back(',');
        body.append("{\"timestamp\":\"");
        append_utc(body, points[i]);
        body.append("\",\"quantity\":");
        append_py_float(body, acc[i].result(m.agg.func));
        body.push_back('}');
    }
    body.append("]}");
    return body;
}

} // namespace polar::testing::emu

#endif
