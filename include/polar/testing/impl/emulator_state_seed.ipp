//
// polar-cpp testing: the demo data set (emulator_state::seed_demo).
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_SEED_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_SEED_IPP

#include <polar/testing/impl/emulator_state_filters.ipp>

namespace polar::testing::emu {

inline filter_node clause(std::string property, filter_op op, json::value value) {
    filter_node n;
    n.is_clause = true;
    n.property = std::move(property);
    n.op = op;
    n.value = std::move(value);
    return n;
}

inline filter_node group(bool conjunction_and, std::vector<filter_node> clauses) {
    filter_node n;
    n.conjunction_and = conjunction_and;
    n.clauses = std::move(clauses);
    return n;
}

// The demo's dated-only extras (see emulator_demo): flagged `dated_only`,
// so the 2025-03 views and counters do not see them.
// Micro-dollars as a decimal text ("0.004000").
inline std::string cost_text(std::int64_t micro_usd) {
    std::string frac = std::to_string(micro_usd % 1'000'000);
    return std::to_string(micro_usd / 1'000'000) + "." + std::string(6 - frac.size(), '0') + frac;
}

inline void seed_dated_extras(state_data& st, emulator_demo& demo, std::mt19937_64& rng, micros now) {
    auto uniform = [&](std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    };
    const micros day = us_per_day;
    auto add = [&](event e) {
        e.id = random_uuid4(rng);
        e.organization_id = demo.organization_id;
        e.dated_only = true;
        st.add_event(std::move(e));
        ++demo.dated_event_count;
        return st.org_event_list(demo.organization_id).back().id;
    };

    customer team;
    team.id = demo.team_customer_id = random_uuid4(rng);
    team.organization_id = demo.organization_id;
    team.external_id = "team_42";
    team.name = "Initech Platform Team";
    team.team = true;
    team.dated_only = true;
    team.created_at = now - 35 * day;
    st.add_customer(std::move(team));

    // customer.created for every Acme customer, at its creation.
    for (const auto& c : st.customers) {
        if (c.organization_id != demo.organization_id) continue;
        event e;
        e.name = "customer.created";
        e.source = "system";
        e.timestamp = c.created_at;
        e.customer_id = c.id;
        e.metadata = json::object{{"customer_id", c.id},
                                  {"customer_email", c.email.empty() ? json::value(nullptr) : json::value(c.email)},
                                  {"customer_name", c.name},
                                  {"customer_external_id", c.external_id ? json::value(*c.external_id) : json::value()}};
        add(std::move(e));
    }
    // meter.credited: token credits for the team and the first customer.
    for (const auto& cid : {demo.team_customer_id, demo.customer_ids.front()}) {
        event e;
        e.name = "meter.credited";
        e.source = "system";
        e.timestamp = now - 30 * day;
        e.customer_id = cid;
        e.metadata = json::object{{"meter_id", demo.meter_ids.front()}, {"units", 100000}, {"rollover", false}};
        add(std::move(e));
    }
    // The team's agent runs: a parent with an external_id, LLM calls as
    // children with float, _llm and _cost metadata, and a tool call below.
    static constexpr const char* models[] = {"lite", "pro", "max"};
    for (int run = 0; run < 20; ++run) {
        const micros at = now - uniform(2 * day, 29 * day);
        event parent;
        parent.name = "agent.run";
        parent.timestamp = at;
        parent.external_customer_id = "team_42";
        parent.external_id = "run_" + std::to_string(run + 1);
        parent.external_member_id = run % 2 == 0 ? "member_ana" : "member_raj";
        parent.metadata = json::object{{"duration_s", static_cast<double>(uniform(50, 9000)) / 10.0}};
        const std::string parent_id = add(std::move(parent));
        for (int call = 0; call < 3; ++call) {
            const char* model = models[uniform(0, 2)];
            const std::int64_t in = uniform(100, 3000), out = uniform(20, 900);
            event e;
            e.name = "llm.call";
            e.timestamp = at + (call + 1) * 1'000'000;
            e.external_customer_id = "team_42";
            e.parent_id = parent_id;
            e.metadata = json::object{
                {"model", model},
                {"tokens", in + out},
                {"latency_ms", static_cast<double>(uniform(50, 20000)) / 10.0},
                {"region", "eu-west"},
                {"_llm", json::object{{"vendor", "openai"}, {"model", model}, {"input_tokens", in},
                                      {"output_tokens", out}, {"total_tokens", in + out}}},
                {"_cost", json::object{{"amount", cost_text((in + out) * 2)}, {"currency", "usd"}}}};
            const std::string call_id = add(std::move(e));
            if (call == 2) {
                event tool;
                tool.name = "tool.call";
                tool.timestamp = at + 4'000'000;
                tool.external_customer_id = "team_42";
                tool.parent_id = call_id;
                tool.metadata = json::object{{"tool", "search"}, {"score", 0.87}};
                add(std::move(tool));
            }
        }
    }
}

inline emulator_demo seed_demo_data(state_data& st, micros now) {
    std::mt19937_64 rng(0x706f6c6172646d6full);  // fixed: the same demo every time
    auto uniform = [&](std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    };
    emulator_demo demo;
    const micros day = us_per_day;

    auto add_org = [&](std::string name) {
        organization o;
        o.id = random_uuid4(rng);
        o.name = std::move(name);
        o.created_at = now - 120 * day;
        st.organization_order.push_back(o.id);
        auto id = o.id;
        st.organizations[id] = std::move(o);
        return id;
    };
    demo.organization_id = add_org("Acme AI");
    demo.second_organization_id = add_org("Globex Labs");
    demo.user_id = random_uuid4(rng);
    st.users[demo.user_id] = {demo.organization_id, demo.second_organization_id};
    st.user_order.push_back(demo.user_id);

    auto add_token = [&](std::string tok, token_kind kind, std::string subject, std::vector<std::string> scopes) {
        if (!st.tokens.count(tok)) st.token_order.push_back(tok);
        st.tokens[tok] = access_token{kind, std::move(subject), std::move(scopes)};
        return tok;
    };
    const std::vector<std::string> all_scopes{"meters:read", "meters:write", "events:read", "events:write",
                                              "customer_meters:read"};
    demo.organization_token = add_token("polar_demo_token", token_kind::organization, demo.organization_id, all_scopes);
    demo.read_only_token = add_token("polar_demo_read_token", token_kind::organization, demo.organization_id, {"meters:read"});
    demo.user_token = add_token("polar_demo_user_token", token_kind::user, demo.user_id, all_scopes);

    struct person {
        const char* name;
        const char* email;
        const char* external_id;  // may be null
    };
    static constexpr person acme_people[] = {
        {"Ada Lovelace", "ada@example.com", "usr_1001"},   {"Alan Turing", "alan@example.com", "usr_1002"},
        {"Grace Hopper", "grace@example.com", nullptr},    {"Edsger Dijkstra", "edsger@example.com", "usr_1004"},
        {"Barbara Liskov", "barbara@example.com", nullptr}, {"Donald Knuth", "don@example.com", "usr_1006"},
        {"Margaret Hamilton", "margaret@example.com", nullptr},
    };
    static constexpr person globex_people[] = {
        {"Hank Scorpio", "hank@globex.example", "gx_1"},
        {"Frank Grimes", "frank@globex.example", nullptr},
        {"Lindsey Naegle", "lindsey@globex.example", "gx_3"},
    };
    std::vector<const customer*> acme, globex;
    auto add_people = [&](const std::string& org, const auto& people, bool record) {
        for (const auto& p : people) {
            customer c;
            c.id = random_uuid4(rng);
            c.organization_id = org;
            if (p.external_id) c.external_id = p.external_id;
            c.email = p.email;
            c.name = p.name;
            c.created_at = now - uniform(40, 100) * day;
            if (record) {
                demo.customer_ids.push_back(c.id);
                if (c.external_id) demo.external_customer_ids.push_back(*c.external_id);
            }
            st.add_customer(std::move(c));
        }
    };
    add_people(demo.organization_id, acme_people, true);
    add_people(demo.second_organization_id, globex_people, false);
    for (const auto& c : st.customers) {
        if (c.organization_id == demo.organization_id) acme.push_back(&c);
        if (c.organization_id == demo.second_organization_id) globex.push_back(&c);
    }

    auto add_meter = [&](const std::string& org, std::string name, filter_node f, aggregation a, json::object md,
                         micros created) {
        meter m;
        m.id = random_uuid4(rng);
        m.organization_id = org;
        m.name = std::move(name);
        m.filter = std::move(f);
        m.agg = std::move(a);
        m.metadata = std::move(md);
        m.created_at = created;
        auto id = m.id;
        st.add_meter(std::move(m));
        return id;
    };
    const micros created = now - 31 * day;
    demo.meter_ids.push_back(add_meter(
        demo.organization_id, "API tokens",
        group(true, {clause("name", filter_op::eq, "llm.call"),
                     group(false, {clause("model", filter_op::eq, "lite"), clause("model", filter_op::eq, "pro")})}),
        {agg_func::sum, "tokens"}, json::object{{"team", "core"}}, created));
    demo.meter_ids.push_back(add_meter(demo.organization_id, "Pro model tokens",
                                       group(true, {clause("name", filter_op::eq, "llm.call"),
                                                    clause("model", filter_op::eq, "pro")}),
                                       {agg_func::sum, "tokens"}, json::object{{"team", "core"}, {"tier", 2}},
                                       created + 60 * us_per_second));
    demo.meter_ids.push_back(add_meter(demo.organization_id, "LLM calls",
                                       group(true, {clause("name", filter_op::eq, "llm.call")}), {agg_func::count, ""},
                                       json::object{{"team", "platform"}}, created + 120 * us_per_second));
    demo.meter_ids.push_back(add_meter(demo.organization_id, "Storage peak bytes",
                                       group(true, {clause("name", filter_op::eq, "storage.snapshot")}),
                                       {agg_func::max, "bytes"}, json::object{{"team", "storage"}, {"billable", true}},
                                       created + 180 * us_per_second));
    demo.meter_ids.push_back(add_meter(demo.organization_id, "Request latency",
                                       group(true, {clause("name", filter_op::eq, "api.request"),
                                                    clause("region", filter_op::ne, "test")}),
                                       {agg_func::avg, "duration_ms"}, json::object{{"team", "platform"}},
                                       created + 240 * us_per_second));
    demo.meter_ids.push_back(add_meter(demo.organization_id, "All events", group(true, {}), {agg_func::count, ""},
                                       json::object{}, created + 300 * us_per_second));
    demo.second_meter_id = add_meter(demo.second_organization_id, "Globex requests",
                                     group(true, {clause("name", filter_op::eq, "api.request")}), {agg_func::count, ""},
                                     json::object{{"team", "globex"}}, created);

    // Events, oldest first, over the 30 days before now.
    static constexpr const char* models[] = {"lite", "lite", "lite", "pro", "pro", "max"};
    static constexpr const char* regions[] = {"eu-west", "us-east", "us-west", "ap-south"};
    auto make_events = [&](const std::string& org, const std::vector<const customer*>& people, std::size_t count) {
        std::vector<micros> times(count);
        for (auto& t : times) t = now - uniform(60 * us_per_second, 30 * day);
        std::sort(times.begin(), times.end());
        for (auto t : times) {
            event e;
            e.id = random_uuid4(rng);
            e.organization_id = org;
            e.timestamp = t;
            const customer* c = people[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(people.size()) - 1))];
            if (c->external_id && uniform(0, 1) == 1)
                e.external_customer_id = c->external_id;
            else
                e.customer_id = c->id;
            const auto kind = uniform(0, 99);
            const char* region = regions[uniform(0, 3)];
            if (kind < 60) {
                e.name = "llm.call";
                const char* model = models[uniform(0, 5)];
                e.metadata["model"] = model;
                e.metadata["tokens"] = uniform(20, std::string_view(model) == "max" ? 8000 : 4000);
                e.metadata["region"] = region;
            } else if (kind < 90) {
                e.name = "api.request";
                e.metadata["duration_ms"] = uniform(3, 900);
                e.metadata["status"] = uniform(0, 19) == 0 ? 500 : 200;
                e.metadata["region"] = region;
            } else {
                e.name = "storage.snapshot";
                e.metadata["bytes"] = uniform(1'000'000, 2'000'000'000);
                e.metadata["region"] = region;
            }
            st.add_event(std::move(e));
            ++demo.event_count;
        }
    };
    make_events(demo.organization_id, acme, 3000);
    make_events(demo.second_organization_id, globex, 400);
    // Last, so the random draws above (and the 2025-03 demo) do not change.
    seed_dated_extras(st, demo, rng, now);
    return demo;
}

} // namespace polar::testing::emu

#endif
