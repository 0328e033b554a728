//
// polar-cpp testing: the emulator's state as JSON (snapshot / restore), so a
// `--state FILE` emulator survives restarts.
//
// Format: {"format":"polar-emulator-state","version":1, "organizations":[...],
// "users":[...], "tokens":[...], "customers":[...], "meters":[...],
// "events":[...]}; timestamps in the API's UTC form, filters and
// aggregations in their wire form.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_STORAGE_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_STORAGE_IPP

#include <polar/testing/impl/emulator_state_filters.ipp>

#include <map>

namespace polar::testing::emu {

inline json::value optional_json(const std::optional<std::string>& s) {
    return s ? json::value(json::string(*s)) : json::value(nullptr);
}

inline std::string_view token_kind_name(token_kind k) {
    switch (k) {
    case token_kind::organization: return "organization";
    case token_kind::user: return "user";
    case token_kind::customer_session: return "customer_session";
    }
    return "organization";
}

inline std::string snapshot_state(const state_data& st) {
    json::object root;
    root["format"] = "polar-emulator-state";
    root["version"] = 1;

    json::array orgs;
    for (const auto& id : st.organization_order) {
        const auto& o = st.organizations.find(id)->second;
        orgs.push_back(json::object{{"id", o.id}, {"name", o.name}, {"created_at", format_utc(o.created_at)},
                                    {"blocked", o.blocked}});
    }
    root["organizations"] = std::move(orgs);

    json::array users;
    for (const auto& id : st.user_order) {
        json::array member;
        for (const auto& o : st.users.find(id)->second) member.push_back(json::string(o));
        users.push_back(json::object{{"id", id}, {"organization_ids", std::move(member)}});
    }
    root["users"] = std::move(users);

    json::array tokens;
    for (const auto& tok : st.token_order) {
        const auto& t = st.tokens.find(tok)->second;
        json::array scopes;
        for (const auto& s : t.scopes) scopes.push_back(json::string(s));
        tokens.push_back(json::object{{"token", tok},
                                      {"kind", token_kind_name(t.kind)},
                                      {"subject_id", t.subject_id},
                                      {"scopes", std::move(scopes)}});
    }
    root["tokens"] = std::move(tokens);

    json::array customers;
    for (const auto& c : st.customers) {
        customers.push_back(json::object{{"id", c.id},
                                         {"organization_id", c.organization_id},
                                         {"external_id", optional_json(c.external_id)},
                                         {"email", c.email},
                                         {"name", c.name},
                                         {"created_at", format_utc(c.created_at)},
                                         {"metadata", c.metadata}});
        // The dated versions' fields are written only when set, so a
        // 2025-03 state's snapshot reads as it always did.
        if (c.team) customers.back().as_object()["team"] = true;
        if (c.dated_only) customers.back().as_object()["dated_only"] = true;
    }
    root["customers"] = std::move(customers);

    json::array meters;
    for (const auto& m : st.meters) {
        meters.push_back(json::object{
            {"id", m.id},
            {"organization_id", m.organization_id},
            {"name", m.name},
            {"filter", filter_to_json(m.filter)},
            {"aggregation", aggregation_to_json(m.agg)},
            {"metadata", m.metadata},
            {"created_at", format_utc(m.created_at)},
            {"modified_at", m.modified_at ? json::value(json::string(format_utc(*m.modified_at))) : json::value()},
            {"last_billed_event_id", optional_json(m.last_billed_event_id)}});
        auto& mo = meters.back().as_object();
        if (m.unit != "scalar") mo["unit"] = m.unit;
        if (m.custom_label) mo["custom_label"] = *m.custom_label;
        if (m.custom_multiplier) mo["custom_multiplier"] = *m.custom_multiplier;
        if (m.archived_at) mo["archived_at"] = format_utc(*m.archived_at);
        if (m.dated) mo["dated"] = true;
    }
    root["meters"] = std::move(meters);

    // Events per organization in insertion order (known organizations
    // first, then any other, by id).
    json::array events;
    std::vector<std::string> org_ids = st.organization_order;
    std::vector<std::string> others;
    for (const auto& kv : st.events)
        if (!st.organizations.count(kv.first)) others.push_back(kv.first);
    std::sort(others.begin(), others.end());
    org_ids.insert(org_ids.end(), others.begin(), others.end());
    for (const auto& org : org_ids) {
        for (const auto& e : st.org_event_list(org)) {
            events.push_back(json::object{{"id", e.id},
                                          {"organization_id", e.organization_id},
                                          {"name", e.name},
                                          {"source", e.source},
                                          {"timestamp", format_utc(e.timestamp)},
                                          {"customer_id", optional_json(e.customer_id)},
                                          {"external_customer_id", optional_json(e.external_customer_id)},
                                          {"metadata", e.metadata}});
            auto& eo = events.back().as_object();
            auto put = [&](std::string_view k, const std::optional<std::string>& v) {
                if (v) eo[k] = *v;
            };
            put("external_id", e.external_id);
            put("parent_id", e.parent_id);
            put("parent_reference", e.parent_reference);
            put("member_id", e.member_id);
            put("external_member_id", e.external_member_id);
            if (e.dated_only) eo["dated_only"] = true;
        }
    }
    root["events"] = std::move(events);
    return to_json_text(root);
}

[[noreturn]] inline void bad_snapshot(const std::string& what) {
    throw std::invalid_argument("emulator_state::restore: " + what);
}

inline const json::value& req_field(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) bad_snapshot("missing \"" + std::string(key) + "\"");
    return it->value();
}

inline std::string req_string(const json::object& o, std::string_view key) {
    const auto& v = req_field(o, key);
    if (!v.is_string()) bad_snapshot("\"" + std::string(key) + "\" must be a string");
    return std::string(v.get_string());
}

inline std::optional<std::string> opt_string(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return std::nullopt;
    if (!it->value().is_string()) bad_snapshot("\"" + std::string(key) + "\" must be a string or null");
    return std::string(it->value().get_string());
}

inline micros req_time(const json::object& o, std::string_view key) {
    polar::timestamp t;
    if (!polar::detail::parse_timestamp(req_string(o, key), t)) bad_snapshot("bad timestamp in \"" + std::string(key) + "\"");
    return t.time_since_epoch().count();
}

inline const json::array& req_array(const json::object& o, std::string_view key) {
    const auto& v = req_field(o, key);
    if (!v.is_array()) bad_snapshot("\"" + std::string(key) + "\" must be an array");
    return v.get_array();
}

inline const json::object& as_obj(const json::value& v) {
    if (!v.is_object()) bad_snapshot("expected an object");
    return v.get_object();
}

inline json::object req_object(const json::object& o, std::string_view key) {
    const auto& v = req_field(o, key);
    if (!v.is_object()) bad_snapshot("\"" + std::string(key) + "\" must be an object");
    return v.get_object();
}

inline state_data restore_state(std::string_view text) {
    std::error_code ec;
    json::parse_options opts;
    opts.max_depth = 1000;
    json::value doc = json::parse(text, ec, {}, opts);
    if (ec) bad_snapshot("invalid JSON: " + ec.message());
    const auto& root = as_obj(doc);
    if (root.find("format") == root.end() || req_string(root, "format") != "polar-emulator-state")
        bad_snapshot("not an emulator state");
    state_data st;
    for (const auto& v : req_array(root, "organizations")) {
        const auto& o = as_obj(v);
        organization org;
        org.id = req_string(o, "id");
        org.name = req_string(o, "name");
        org.created_at = req_time(o, "created_at");
        if (auto it = o.find("blocked"); it != o.end() && it->value().is_bool()) org.blocked = it->value().get_bool();
        st.organization_order.push_back(org.id);
        st.organizations[org.id] = std::move(org);
    }
    for (const auto& v : req_array(root, "users")) {
        const auto& o = as_obj(v);
        std::vector<std::string> member;
        for (const auto& id : req_array(o, "organization_ids")) {
            if (!id.is_string()) bad_snapshot("organization_ids must hold strings");
            member.emplace_back(id.get_string());
        }
        const auto id = req_string(o, "id");
        st.user_order.push_back(id);
        st.users[id] = std::move(member);
    }
    for (const auto& v : req_array(root, "tokens")) {
        const auto& o = as_obj(v);
        access_token t;
        const auto kind = req_string(o, "kind");
        if (kind == "organization")
            t.kind = token_kind::organization;
        else if (kind == "user")
            t.kind = token_kind::user;
        else if (kind == "customer_session")
            t.kind = token_kind::customer_session;
        else
            bad_snapshot("unknown token kind " + kind);
        t.subject_id = req_string(o, "subject_id");
        for (const auto& s : req_array(o, "scopes")) {
            if (!s.is_string()) bad_snapshot("scopes must hold strings");
            t.scopes.emplace_back(s.get_string());
        }
        const auto tok = req_string(o, "token");
        if (!st.tokens.count(tok)) st.token_order.push_back(tok);
        st.tokens[tok] = std::move(t);
    }
    for (const auto& v : req_array(root, "customers")) {
        const auto& o = as_obj(v);
        customer c;
        c.id = req_string(o, "id");
        c.organization_id = req_string(o, "organization_id");
        c.external_id = opt_string(o, "external_id");
        c.email = req_string(o, "email");
        c.name = req_string(o, "name");
        c.created_at = req_time(o, "created_at");
        c.metadata = req_object(o, "metadata");
        if (auto it = o.find("team"); it != o.end()) c.team = it->value().is_bool() && it->value().get_bool();
        if (auto it = o.find("dated_only"); it != o.end()) c.dated_only = it->value().is_bool() && it->value().get_bool();
        st.add_customer(std::move(c));
    }
    for (const auto& v : req_array(root, "meters")) {
        const auto& o = as_obj(v);
        meter m;
        m.id = req_string(o, "id");
        m.organization_id = req_string(o, "organization_id");
        m.name = req_string(o, "name");
        verrors errors;
        auto f = validate_filter(req_field(o, "filter"), loc_t{"filter"}, errors);
        auto a = validate_aggregation(req_field(o, "aggregation"), loc_t{"aggregation"}, errors);
        if (!a) {
            // A dated meter's `unique` aggregation.
            verrors dated_errors;
            a = validate_aggregation(req_field(o, "aggregation"), loc_t{"aggregation"}, dated_errors, true);
            if (a) errors.clear();
        }
        if (!f || !a) bad_snapshot("invalid filter or aggregation in meter " + m.id);
        m.filter = std::move(*f);
        m.agg = std::move(*a);
        m.metadata = req_object(o, "metadata");
        m.created_at = req_time(o, "created_at");
        if (auto it = o.find("modified_at"); it != o.end() && !it->value().is_null()) m.modified_at = req_time(o, "modified_at");
        m.last_billed_event_id = opt_string(o, "last_billed_event_id");
        if (auto u = opt_string(o, "unit")) m.unit = *u;
        m.custom_label = opt_string(o, "custom_label");
        if (auto it = o.find("custom_multiplier"); it != o.end() && it->value().is_int64())
            m.custom_multiplier = it->value().get_int64();
        if (auto it = o.find("archived_at"); it != o.end() && !it->value().is_null()) m.archived_at = req_time(o, "archived_at");
        if (auto it = o.find("dated"); it != o.end()) m.dated = it->value().is_bool() && it->value().get_bool();
        st.add_meter(std::move(m));
    }
    for (const auto& v : req_array(root, "events")) {
        const auto& o = as_obj(v);
        event e;
        e.id = req_string(o, "id");
        e.organization_id = req_string(o, "organization_id");
        e.name = req_string(o, "name");
        e.source = req_string(o, "source");
        e.timestamp = req_time(o, "timestamp");
        e.customer_id = opt_string(o, "customer_id");
        e.external_customer_id = opt_string(o, "external_customer_id");
        e.metadata = req_object(o, "metadata");
        e.external_id = opt_string(o, "external_id");
        e.parent_id = opt_string(o, "parent_id");
        e.parent_reference = opt_string(o, "parent_reference");
        e.member_id = opt_string(o, "member_id");
        e.external_member_id = opt_string(o, "external_member_id");
        if (auto it = o.find("dated_only"); it != o.end()) e.dated_only = it->value().is_bool() && it->value().get_bool();
        const bool waiting = e.parent_reference && !e.parent_id;
        const std::size_t index = st.events[e.organization_id].events.size();
        if (waiting) st.add_pending_parent(e, index);
        st.add_event(std::move(e));
    }
    return st;
}

} // namespace polar::testing::emu

#endif
