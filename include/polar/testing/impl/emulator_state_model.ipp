//
// polar-cpp testing: the emulator's stored objects and their JSON forms.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_MODEL_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_MODEL_IPP

#include <polar/testing/impl/emulator_state_datetime.ipp>

#include <openssl/evp.h>

#include <functional>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace polar::testing::emu {

// Heterogeneous lookup (std::string keys, std::string_view probes).
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class T>
using string_map = std::unordered_map<std::string, T, string_hash, std::equal_to<>>;

// ---------------------------------------------------------------------------
// Filters and aggregations.

enum class filter_op { eq, ne, gt, gte, lt, lte, like, not_like };

inline constexpr std::string_view filter_op_names[] = {"eq", "ne", "gt", "gte", "lt", "lte", "like", "not_like"};

inline std::optional<filter_op> parse_filter_op(std::string_view s) {
    for (std::size_t i = 0; i < std::size(filter_op_names); ++i)
        if (filter_op_names[i] == s) return static_cast<filter_op>(i);
    return std::nullopt;
}

// A Filter (group) or a FilterClause.
struct filter_node {
    bool is_clause = false;
    // group
    bool conjunction_and = true;
    std::vector<filter_node> clauses;
    // clause
    std::string property;
    filter_op op = filter_op::eq;
    json::value value;  // string, int64 or bool
};

// `unique` exists on the dated versions only (validation keeps it out of 2025-03).
enum class agg_func { count, sum, max, min, avg, unique };

inline constexpr std::string_view agg_func_names[] = {"count", "sum", "max", "min", "avg", "unique"};

struct aggregation {
    agg_func func = agg_func::count;
    std::string property;  // empty for count
};

inline json::value filter_to_json(const filter_node& f) {
    if (f.is_clause) {
        json::object o;
        o["property"] = f.property;
        o["operator"] = filter_op_names[static_cast<int>(f.op)];
        o["value"] = f.value;
        return o;
    }
    json::object o;
    o["conjunction"] = f.conjunction_and ? "and" : "or";
    json::array a;
    for (const auto& c : f.clauses) a.push_back(filter_to_json(c));
    o["clauses"] = std::move(a);
    return o;
}

inline json::value aggregation_to_json(const aggregation& a) {
    json::object o;
    o["func"] = agg_func_names[static_cast<int>(a.func)];
    if (a.func != agg_func::count) o["property"] = a.property;
    return o;
}

// ---------------------------------------------------------------------------
// Stored objects.

struct organization {
    std::string id;
    std::string name;
    micros created_at = 0;
    bool blocked = false;
};

enum class token_kind { organization, user, customer_session };

struct access_token {
    token_kind kind = token_kind::organization;
    std::string subject_id;  // organization or user id
    std::vector<std::string> scopes;
};

struct customer {
    std::string id;
    std::string organization_id;
    std::optional<std::string> external_id;
    std::string email;
    std::string name;
    micros created_at = 0;
    json::object metadata;
    std::string json_text;  // the Customer schema, cached
    // Dated versions (§4.3): a team customer has no email (null on the wire;
    // the 2025-03 form writes the empty string then).
    bool team = false;
    // Seeded for the dated versions only: not counted by customer_count().
    bool dated_only = false;
};

struct event {
    std::string id;
    std::string organization_id;
    std::string name;
    std::string source = "user";
    micros timestamp = 0;
    std::optional<std::string> customer_id;
    std::optional<std::string> external_customer_id;
    json::object metadata;
    // Dated versions (§3.9, §4.2).
    std::optional<std::string> external_id;       // dedup key per organization, never serialized
    std::optional<std::string> parent_id;         // resolved parent event id
    std::optional<std::string> parent_reference;  // parent_id as ingested while unresolved
    std::optional<std::string> member_id;
    std::optional<std::string> external_member_id;
    // Seeded system events that only the dated versions show (the 2025-03
    // demo stays as it was).
    bool dated_only = false;
};

struct meter {
    std::string id;
    std::string organization_id;
    std::string name;
    filter_node filter;
    aggregation agg;
    json::object metadata;
    micros created_at = 0;
    std::optional<micros> modified_at;
    std::optional<std::string> last_billed_event_id;
    std::string json_text;  // the Meter schema, cached (the GET fast path)
    // Dated versions (§4.1).
    std::string unit = "scalar";
    std::optional<std::string> custom_label;
    std::optional<std::int64_t> custom_multiplier;
    std::optional<micros> archived_at;
    // Created on a dated version: the billing job evaluates it with the
    // dated semantics (§5.1, §5.2), as today's server does.
    bool dated = false;
};

// Per organization: its events in insertion order.
struct org_events {
    std::vector<event> events;
};

inline std::string sha256_hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < len; ++i) {
        s.push_back(hex[md[i] >> 4]);
        s.push_back(hex[md[i] & 15]);
    }
    return s;
}

inline void append_optional_string(std::string& out, const std::optional<std::string>& s) {
    if (s)
        append_json_string(out, *s);
    else
        out.append("null");
}

inline std::string customer_json(const customer& c) {
    std::string lower = c.email;
    for (auto& ch : lower)
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    std::string s;
    s.reserve(512);
    s.append("{\"id\":");
    append_json_string(s, c.id);
    s.append(",\"created_at\":\"");
    append_utc(s, c.created_at);
    s.append("\",\"modified_at\":null,\"metadata\":");
    write_json(s, c.metadata);
    s.append(",\"external_id\":");
    append_optional_string(s, c.external_id);
    s.append(",\"email\":");
    append_json_string(s, c.email);
    s.append(",\"email_verified\":false,\"name\":");
    append_json_string(s, c.name);
    s.append(",\"billing_address\":null,\"tax_id\":null,\"organization_id\":");
    append_json_string(s, c.organization_id);
    s.append(",\"deleted_at\":null,\"avatar_url\":");
    append_json_string(s, "https://www.gravatar.com/avatar/" + sha256_hex(lower) + "?d=blank");
    s.push_back('}');
    return s;
}

inline std::string meter_json(const meter& m) {
    std::string s;
    s.reserve(256 + m.name.size());
    s.append("{\"metadata\":");
    write_json(s, m.metadata);
    s.append(",\"created_at\":\"");
    append_utc(s, m.created_at);
    s.append("\",\"modified_at\":");
    if (m.modified_at) {
        s.push_back('"');
        append_utc(s, *m.modified_at);
        s.push_back('"');
    } else {
        s.append("null");
    }
    s.append(",\"id\":");
    append_json_string(s, m.id);
    s.append(",\"name\":");
    append_json_string(s, m.name);
    s.append(",\"filter\":");
    write_json(s, filter_to_json(m.filter));
    s.append(",\"aggregation\":");
    write_json(s, aggregation_to_json(m.agg));
    s.append(",\"organization_id\":");
    append_json_string(s, m.organization_id);
    s.push_back('}');
    return s;
}

// ---------------------------------------------------------------------------
// The whole state.

struct state_data {
    string_map<organization> organizations;
    std::vector<std::string> organization_order;
    string_map<std::vector<std::string>> users;  // user id -> member organization ids
    std::vector<std::string> user_order;
    string_map<access_token> tokens;
    std::vector<std::string> token_order;

    std::vector<customer> customers;
    string_map<std::size_t> customer_by_id;
    string_map<std::size_t> customer_by_external;  // key: organization id + '\n' + external id

    std::vector<meter> meters;  // insertion order
    string_map<std::size_t> meter_by_id;

    string_map<org_events> events;  // by organization id
    std::size_t total_events = 0;
    string_map<std::size_t> event_by_id;                 // id -> index in its organization's list
    string_map<std::string> event_by_external;           // organization id + '\n' + external id -> event id
    // Events whose parent_id is not resolved yet: organization id + '\n' +
    // the reference (an event id or external id) -> indices in the
    // organization's list, so an arriving event finds its waiting children
    // without a scan.
    string_map<std::vector<std::size_t>> pending_parents;

    void add_pending_parent(const event& e, std::size_t index) {
        pending_parents[e.organization_id + '\n' + *e.parent_reference].push_back(index);
    }

    const customer* find_customer(std::string_view id) const {
        auto it = customer_by_id.find(id);
        return it == customer_by_id.end() ? nullptr : &customers[it->second];
    }
    const customer* find_customer_external(std::string_view org_id, std::string_view external_id) const {
        std::string key;
        key.reserve(org_id.size() + 1 + external_id.size());
        key.append(org_id);
        key.push_back('\n');
        key.append(external_id);
        auto it = customer_by_external.find(key);
        return it == customer_by_external.end() ? nullptr : &customers[it->second];
    }

    // The Event.customer relationship: by id, else by external id, in the event's organization.
    const customer* event_customer(const event& e) const {
        if (e.customer_id) {
            if (auto c = find_customer(*e.customer_id); c && c->organization_id == e.organization_id) return c;
        }
        if (e.external_customer_id) return find_customer_external(e.organization_id, *e.external_customer_id);
        return nullptr;
    }

    void add_customer(customer c) {
        c.json_text = customer_json(c);
        customer_by_id[c.id] = customers.size();
        if (c.external_id) customer_by_external[c.organization_id + '\n' + *c.external_id] = customers.size();
        customers.push_back(std::move(c));
    }

    void add_meter(meter m) {
        m.json_text = meter_json(m);
        meter_by_id[m.id] = meters.size();
        meters.push_back(std::move(m));
    }

    void add_event(event e) {
        auto& bucket = events[e.organization_id];
        event_by_id[e.id] = bucket.events.size();
        if (e.external_id) event_by_external[e.organization_id + '\n' + *e.external_id] = e.id;
        bucket.events.push_back(std::move(e));
        if (!bucket.events.back().dated_only) ++total_events;
    }

    const event* find_event(std::string_view org_id, std::string_view id) const {
        auto it = event_by_id.find(id);
        if (it == event_by_id.end()) return nullptr;
        const auto& list = org_event_list(org_id);
        if (it->second >= list.size() || list[it->second].id != id) return nullptr;
        return &list[it->second];
    }
    const event* find_event_any(std::string_view id) const {
        auto it = event_by_id.find(id);
        if (it == event_by_id.end()) return nullptr;
        for (const auto& kv : events) {
            const auto& list = kv.second.events;
            if (it->second < list.size() && list[it->second].id == id) return &list[it->second];
        }
        return nullptr;
    }

    const std::vector<event>& org_event_list(std::string_view org_id) const {
        static const std::vector<event> none;
        auto it = events.find(org_id);
        return it == events.end() ? none : it->second.events;
    }
};

inline std::string event_json(const state_data& st, const event& e) {
    std::string s;
    s.reserve(320);
    s.append("{\"metadata\":");
    write_json(s, e.metadata);
    s.append(",\"id\":");
    append_json_string(s, e.id);
    s.append(",\"timestamp\":\"");
    append_utc(s, e.timestamp);
    s.append("\",\"name\":");
    append_json_string(s, e.name);
    s.append(",\"source\":");
    append_json_string(s, e.source);
    s.append(",\"organization_id\":");
    append_json_string(s, e.organization_id);
    s.append(",\"customer_id\":");
    append_optional_string(s, e.customer_id);
    s.append(",\"customer\":");
    if (auto c = st.event_customer(e))
        s.append(c->json_text);
    else
        s.append("null");
    s.append(",\"external_customer_id\":");
    append_optional_string(s, e.external_customer_id);
    s.push_back('}');
    return s;
}

} // namespace polar::testing::emu

#endif
