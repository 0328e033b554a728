//
// polar-cpp testing: the JSON forms of the dated versions (2026-04 and
// 2026-10; MeterAPI-2026-10.md §4): the Meter with its unit fields and
// `archived_at`, the Customer union (§4.3) and the Event union (§4.2). The
// 2025-03 forms (emulator_state_model.ipp) are untouched.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_DATED_JSON_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_DATED_JSON_IPP

#include <polar/testing/impl/emulator_state_model.ipp>

namespace polar::testing::emu {

inline void append_optional_time(std::string& out, const std::optional<micros>& t) {
    if (!t) {
        out.append("null");
        return;
    }
    out.push_back('"');
    append_utc(out, *t);
    out.push_back('"');
}

// Meter (§4.1). The server always serializes `custom_label`,
// `custom_multiplier` and `archived_at`, null when unset.
inline std::string dated_meter_json(const meter& m) {
    std::string s;
    s.reserve(320 + m.name.size());
    s.append("{\"metadata\":");
    write_json(s, m.metadata);
    s.append(",\"created_at\":\"");
    append_utc(s, m.created_at);
    s.append("\",\"modified_at\":");
    append_optional_time(s, m.modified_at);
    s.append(",\"id\":");
    append_json_string(s, m.id);
    s.append(",\"name\":");
    append_json_string(s, m.name);
    s.append(",\"unit\":");
    append_json_string(s, m.unit);
    s.append(",\"custom_label\":");
    append_optional_string(s, m.custom_label);
    s.append(",\"custom_multiplier\":");
    if (m.custom_multiplier)
        s.append(std::to_string(*m.custom_multiplier));
    else
        s.append("null");
    s.append(",\"filter\":");
    write_json(s, filter_to_json(m.filter));
    s.append(",\"aggregation\":");
    write_json(s, aggregation_to_json(m.agg));
    s.append(",\"organization_id\":");
    append_json_string(s, m.organization_id);
    s.append(",\"archived_at\":");
    append_optional_time(s, m.archived_at);
    s.push_back('}');
    return s;
}

// Per-response memo for the dated Event/Customer forms: the customers'
// `first_user_event_at` and the events' `child_count` are derived from the
// stored events, once per response.
struct dated_render_cache {
    const state_data& st;
    string_map<std::optional<micros>> first_event;  // customer id -> first user event
    string_map<std::int64_t> children;              // event id -> direct children
    std::unordered_set<std::string> children_done;  // organizations counted

    explicit dated_render_cache(const state_data& s) : st(s) {}

    // The timestamp of the customer's first user event (by customer_id, or
    // by external_customer_id through the customer's external id).
    // UNCONFIRMED: the server keeps this in a column set at ingestion; here it
    // is derived, so it also counts events added with add_event.
    std::optional<micros> first_user_event_at(const customer& c) {
        auto it = first_event.find(c.id);
        if (it != first_event.end()) return it->second;
        std::optional<micros> best;
        for (const auto& e : st.org_event_list(c.organization_id)) {
            if (e.source != "user") continue;
            const bool mine = (e.customer_id && *e.customer_id == c.id) ||
                              (c.external_id && e.external_customer_id && *e.external_customer_id == *c.external_id);
            if (mine && (!best || e.timestamp < *best)) best = e.timestamp;
        }
        first_event.emplace(c.id, best);
        return best;
    }

    std::int64_t child_count(const event& e) {
        if (!children_done.count(e.organization_id)) {
            children_done.insert(e.organization_id);
            for (const auto& x : st.org_event_list(e.organization_id))
                if (x.parent_id) ++children[*x.parent_id];
        }
        auto it = children.find(e.id);
        return it == children.end() ? 0 : it->second;
    }
};

inline std::string gravatar_url(std::string_view email) {
    std::string lower(email);
    for (auto& ch : lower)
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    return "https://www.gravatar.com/avatar/" + sha256_hex(lower) + "?d=blank";
}

// Customer (§4.3): CustomerIndividual | CustomerTeam by `type`. A team
// customer without an email has `email: null` and `avatar_url: null` (the
// avatar is derived from the email). The emulator stores no billing name,
// locale or payment method: they are null.
inline void append_dated_customer(std::string& s, const customer& c, dated_render_cache& cache) {
    const bool has_email = !c.email.empty();
    s.append("{\"id\":");
    append_json_string(s, c.id);
    s.append(",\"created_at\":\"");
    append_utc(s, c.created_at);
    s.append("\",\"modified_at\":null,\"metadata\":");
    write_json(s, c.metadata);
    s.append(",\"external_id\":");
    append_optional_string(s, c.external_id);
    s.append(",\"email\":");
    if (has_email)
        append_json_string(s, c.email);
    else
        s.append("null");
    s.append(",\"email_verified\":false,\"type\":");
    s.append(c.team ? "\"team\"" : "\"individual\"");
    s.append(",\"name\":");
    append_json_string(s, c.name);
    s.append(",\"billing_name\":null,\"billing_address\":null,\"tax_id\":null,\"locale\":null,\"organization_id\":");
    append_json_string(s, c.organization_id);
    s.append(",\"default_payment_method_id\":null,\"deleted_at\":null,\"first_user_event_at\":");
    append_optional_time(s, cache.first_user_event_at(c));
    s.append(",\"avatar_url\":");
    if (has_email)
        append_json_string(s, gravatar_url(c.email));
    else
        s.append("null");
    s.push_back('}');
}

// The event type's label. User events get their name (the server creates
// the event type on demand with the name as its label). For system events
// the label comes from the server's own event-type table: UNCONFIRMED
// wording, these are the emulator's.
inline std::string_view event_label(const event& e) {
    if (e.source == "system") {
        static constexpr std::pair<std::string_view, std::string_view> labels[] = {
            {"meter.credited", "Meter credited"},       {"meter.reset", "Meter reset"},
            {"customer.created", "Customer created"},   {"customer.updated", "Customer updated"},
            {"customer.deleted", "Customer deleted"},   {"order.paid", "Order paid"},
            {"benefit.granted", "Benefit granted"},     {"subscription.created", "Subscription created"},
        };
        for (const auto& [name, label] : labels)
            if (name == e.name) return label;
    }
    return e.name;
}

// Event (§4.2): UserEvent | SystemEvent by `source`. System events list
// `source` before `name` (their schemas declare it so); `external_id` is not
// part of the output.
inline void append_dated_event(std::string& s, const event& e, dated_render_cache& cache) {
    const state_data& st = cache.st;
    s.append("{\"id\":");
    append_json_string(s, e.id);
    s.append(",\"timestamp\":\"");
    append_utc(s, e.timestamp);
    s.append("\",\"organization_id\":");
    append_json_string(s, e.organization_id);
    s.append(",\"customer_id\":");
    append_optional_string(s, e.customer_id);
    s.append(",\"customer\":");
    if (auto c = st.event_customer(e))
        append_dated_customer(s, *c, cache);
    else
        s.append("null");
    s.append(",\"external_customer_id\":");
    append_optional_string(s, e.external_customer_id);
    s.append(",\"member_id\":");
    append_optional_string(s, e.member_id);
    s.append(",\"external_member_id\":");
    append_optional_string(s, e.external_member_id);
    s.append(",\"child_count\":");
    s.append(std::to_string(cache.child_count(e)));
    s.append(",\"parent_id\":");
    append_optional_string(s, e.parent_id);
    s.append(",\"label\":");
    append_json_string(s, event_label(e));
    if (e.source == "system") {
        s.append(",\"source\":\"system\",\"name\":");
        append_json_string(s, e.name);
    } else {
        s.append(",\"name\":");
        append_json_string(s, e.name);
        s.append(",\"source\":");
        append_json_string(s, e.source);
    }
    s.append(",\"metadata\":");
    write_json(s, e.metadata);
    s.push_back('}');
}

} // namespace polar::testing::emu

#endif
