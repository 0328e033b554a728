//
// polar-cpp testing: POST /v1/events/ingest on the dated versions
// (MeterAPI-2026-10.md §3.9): external_id deduplication, parent_id,
// member_id / external_member_id, float metadata, the `_llm` and `_cost`
// structured keys, name max 128, all-or-nothing 422. Included by
// emulator_state.ipp after the handler context. The 2025-03 ingest is
// unchanged (emulator_state_endpoints.ipp).
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_INGEST_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_INGEST_IPP

namespace polar::testing::emu {

// A Pydantic (lax) int: JSON integers, integral floats, integer strings.
inline std::optional<std::int64_t> validate_int(const json::value& v, const loc_t& loc, verrors& errors) {
    switch (v.kind()) {
    case json::kind::int64: return v.get_int64();
    case json::kind::double_:
        if (integral_double(v.get_double())) return static_cast<std::int64_t>(v.get_double());
        errors.push_back(make_error("int_from_float", loc, "Input should be a valid integer, got a number with a fractional part", v));
        return std::nullopt;
    case json::kind::string:
        if (auto i = parse_py_int(v.get_string())) return i;
        errors.push_back(make_error("int_parsing", loc, "Input should be a valid integer, unable to parse string as an integer", v));
        return std::nullopt;
    default: errors.push_back(make_error("int_type", loc, "Input should be a valid integer", v)); return std::nullopt;
    }
}

// LLMMetadata (a TypedDict): kept in the schema's key order, absent
// optional keys left out.
inline std::optional<json::object> validate_llm(const json::value& v, const loc_t& loc, verrors& errors) {
    if (!v.is_object()) {
        errors.push_back(make_error("dict_type", loc, "Input should be a valid dictionary", v));
        return std::nullopt;
    }
    const auto& o = v.get_object();
    const auto before = errors.size();
    json::object out;
    struct spec {
        std::string_view key;
        int kind;  // 0 str, 1 int, 2 str|null
        bool required;
    };
    static constexpr spec fields[] = {{"vendor", 0, true},       {"model", 0, true},
                                      {"prompt", 2, false},      {"response", 2, false},
                                      {"input_tokens", 1, true}, {"cached_input_tokens", 1, false},
                                      {"output_tokens", 1, true}, {"total_tokens", 1, true}};
    for (const auto& f : fields) {
        const json::value* p = field(o, f.key);
        const loc_t fl = loc_plus(loc, json::string(f.key));
        if (!p) {
            if (f.required) errors.push_back(missing_error(fl, v));
            continue;
        }
        if (f.kind == 1) {
            if (auto i = validate_int(*p, fl, errors)) out[f.key] = *i;
        } else if (f.kind == 2 && p->is_null()) {
            out[f.key] = nullptr;
        } else if (auto s = validate_string(*p, fl, errors)) {
            out[f.key] = std::move(*s);
        }
    }
    if (errors.size() != before) return std::nullopt;
    return out;
}

// A Decimal with max_digits 17 and decimal_places 12, as its text.
inline std::optional<std::string> validate_cost_amount(const json::value& v, const loc_t& loc, verrors& errors) {
    std::string text;
    if (v.is_int64() || v.is_uint64()) {
        text = to_json_text(v);
    } else if (v.is_double()) {
        append_py_float(text, v.get_double());
        if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
    } else if (v.is_string()) {
        text = std::string(v.get_string());
    } else {
        errors.push_back(make_error("decimal_type", loc, "Decimal input should be an integer, float, string or Decimal object", v));
        return std::nullopt;
    }
    std::string_view s = text;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) s.remove_prefix(1);
    const auto dot = s.find('.');
    const std::string_view whole = s.substr(0, dot), frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
    const bool digits_only = whole.find_first_not_of("0123456789") == std::string_view::npos &&
                             frac.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits_only || (whole.empty() && frac.empty())) {
        errors.push_back(make_error("decimal_parsing", loc, "Input should be a valid decimal", v));
        return std::nullopt;
    }
    std::string_view w = whole;
    while (!w.empty() && w.front() == '0') w.remove_prefix(1);
    std::string_view fr = frac;
    while (!fr.empty() && fr.back() == '0') fr.remove_suffix(1);
    if (fr.size() > 12) {
        errors.push_back(make_error("decimal_max_places", loc, "Decimal input should have no more than 12 decimal places",
                                    v, json::object{{"decimal_places", 12}}));
        return std::nullopt;
    }
    if (w.size() + fr.size() > 17) {
        errors.push_back(make_error("decimal_max_digits", loc, "Decimal input should have no more than 17 digits in total",
                                    v, json::object{{"max_digits", 17}}));
        return std::nullopt;
    }
    return text;
}

// CostMetadata: {amount: Decimal, currency: pattern "usd"}; the output
// carries the amount as a string.
inline std::optional<json::object> validate_cost(const json::value& v, const loc_t& loc, verrors& errors) {
    if (!v.is_object()) {
        errors.push_back(make_error("dict_type", loc, "Input should be a valid dictionary", v));
        return std::nullopt;
    }
    const auto& o = v.get_object();
    const auto before = errors.size();
    json::object out;
    if (auto p = field(o, "amount")) {
        if (auto a = validate_cost_amount(*p, loc_plus(loc, "amount"), errors)) out["amount"] = std::move(*a);
    } else {
        errors.push_back(missing_error(loc_plus(loc, "amount"), v));
    }
    if (auto p = field(o, "currency")) {
        // Pydantic's pattern is a regex search: "usd" anywhere.
        if (auto s = validate_string(*p, loc_plus(loc, "currency"), errors)) {
            if (s->find("usd") == std::string::npos)
                errors.push_back(make_error("string_pattern_mismatch", loc_plus(loc, "currency"),
                                            "String should match pattern 'usd'", *p, json::object{{"pattern", "usd"}}));
            else
                out["currency"] = std::move(*s);
        }
    } else {
        errors.push_back(missing_error(loc_plus(loc, "currency"), v));
    }
    if (errors.size() != before) return std::nullopt;
    return out;
}

// EventMetadataInput: `_llm`, `_cost`, and free keys of
// str(1..500) | int | float | bool. No key count or key length limit.
inline std::optional<json::object> validate_event_metadata(const json::value& v, const loc_t& loc, verrors& errors) {
    if (!v.is_object()) {
        errors.push_back(make_error("dict_type", loc, "Input should be a valid dictionary", v));
        return std::nullopt;
    }
    const auto before = errors.size();
    json::object out;
    for (const auto& kv : v.get_object()) {
        const std::string_view key = kv.key();
        const json::value& val = kv.value();
        const loc_t kloc = loc_plus(loc, json::string(key));
        if (key == "_llm") {
            if (auto o = validate_llm(val, kloc, errors)) out[key] = std::move(*o);
            continue;
        }
        if (key == "_cost") {
            if (auto o = validate_cost(val, kloc, errors)) out[key] = std::move(*o);
            continue;
        }
        const loc_t ls = loc_plus(kloc, "constrained-str"), li = loc_plus(kloc, "int"),
                    lf = loc_plus(kloc, "float"), lb = loc_plus(kloc, "bool");
        switch (val.kind()) {
        case json::kind::bool_:
        case json::kind::int64:
        case json::kind::uint64:
        case json::kind::double_: out[key] = val; continue;
        case json::kind::string: {
            const auto len = py_len(val.get_string());
            if (len >= 1 && len <= 500) {
                out[key] = val;
                continue;
            }
            if (auto i = parse_py_int(val.get_string()); i && len > 500) {
                out[key] = *i;
                continue;
            }
            if (auto b = lax_bool(val.get_string())) {
                out[key] = *b;
                continue;
            }
            errors.push_back(len < 1 ? string_too_short(ls, val, 1) : string_too_long(ls, val, 500));
            errors.push_back(make_error("int_parsing", li, "Input should be a valid integer, unable to parse string as an integer", val));
            errors.push_back(make_error("float_parsing", lf, "Input should be a valid number, unable to parse string as a number", val));
            errors.push_back(make_error("bool_parsing", lb, "Input should be a valid boolean, unable to interpret input", val));
            continue;
        }
        default:
            errors.push_back(string_type_error(ls, val));
            errors.push_back(make_error("int_type", li, "Input should be a valid integer", val));
            errors.push_back(make_error("float_type", lf, "Input should be a valid number", val));
            errors.push_back(make_error("bool_type", lb, "Input should be a valid boolean", val));
        }
    }
    if (errors.size() != before) return std::nullopt;
    return out;
}

struct dated_event_input {
    event_create_input base;
    std::optional<std::string> external_id, parent_id, member_id, external_member_id;
};

inline std::optional<std::string> optional_string_field(const json::object& o, std::string_view key, const loc_t& loc,
                                                        verrors& errors) {
    const json::value* p = field(o, key);
    if (!p || p->is_null()) return std::nullopt;
    return validate_string(*p, loc_plus(loc, json::string(key)), errors);
}

inline std::optional<dated_event_input> validate_dated_event_branch(const json::value& v, const loc_t& loc,
                                                                    bool external, micros now, verrors& errors) {
    if (!v.is_object()) {
        errors.push_back(model_attributes_error(loc, v));
        return std::nullopt;
    }
    const auto& o = v.get_object();
    const auto before = errors.size();
    dated_event_input in;
    if (auto p = field(o, "metadata")) {
        if (auto m = validate_event_metadata(*p, loc_plus(loc, "metadata"), errors)) in.base.metadata = std::move(*m);
    }
    if (auto p = field(o, "timestamp")) {
        const loc_t tl = loc_plus(loc, "timestamp");
        if (auto t = validate_aware_datetime(*p, tl, errors)) {
            if (t->utc() > now)
                errors.push_back(make_error("value_error", tl, "Value error, Timestamp must be in the past.", *p,
                                            json::object{{"error", json::object{}}}));
            else
                in.base.timestamp = t->utc();
        }
    }
    if (auto p = field(o, "name")) {
        if (auto s = validate_string(*p, loc_plus(loc, "name"), errors)) {
            if (py_len(*s) > 128)
                errors.push_back(string_too_long(loc_plus(loc, "name"), *p, 128));
            else
                in.base.name = std::move(*s);
        }
    } else {
        errors.push_back(missing_error(loc_plus(loc, "name"), v));
    }
    in.base.organization_id = validate_optional_org(o, loc, errors, in.base.organization_id_given);
    in.external_id = optional_string_field(o, "external_id", loc, errors);
    in.parent_id = optional_string_field(o, "parent_id", loc, errors);
    if (!external) {
        if (auto p = field(o, "customer_id"))
            in.base.customer_id = validate_uuid4(*p, loc_plus(loc, "customer_id"), errors);
        else
            errors.push_back(missing_error(loc_plus(loc, "customer_id"), v));
        if (auto p = field(o, "member_id"); p && !p->is_null())
            in.member_id = validate_uuid4(*p, loc_plus(loc, "member_id"), errors);
    } else {
        if (auto p = field(o, "external_customer_id"))
            in.base.external_customer_id = validate_string(*p, loc_plus(loc, "external_customer_id"), errors);
        else
            errors.push_back(missing_error(loc_plus(loc, "external_customer_id"), v));
        in.external_member_id = optional_string_field(o, "external_member_id", loc, errors);
    }
    if (errors.size() != before) return std::nullopt;
    return in;
}

// Links the events of `org` stored from index `first` on: each one's
// `parent_reference` (an event UUID or an external id of the organization)
// becomes `parent_id` when that event exists, else it waits in
// `pending_parents` (the event is a root until the parent arrives, §3.9);
// and events that were waiting for one of them get it as their parent.
// An event never becomes its own parent.
inline void link_new_events(state_data& st, const std::string& org, std::size_t first) {
    auto& list = st.events[org].events;
    for (std::size_t i = first; i < list.size(); ++i) {
        event& e = list[i];
        if (e.parent_id || !e.parent_reference) continue;
        const std::string& ref = *e.parent_reference;
        const event* p = st.find_event(org, ref);
        if (!p) {
            auto x = st.event_by_external.find(org + '\n' + ref);
            if (x != st.event_by_external.end()) p = st.find_event(org, x->second);
        }
        if (p && p->id != e.id) {
            e.parent_id = p->id;
            e.parent_reference.reset();
        } else {
            st.add_pending_parent(e, i);
        }
    }
    auto adopt = [&](const std::string& parent_id, const std::string& reference) {
        auto it = st.pending_parents.find(org + '\n' + reference);
        if (it == st.pending_parents.end()) return;
        std::vector<std::size_t> keep;
        for (std::size_t j : it->second) {
            event& child = list[j];
            if (child.id == parent_id) {
                keep.push_back(j); // its own reference: stays a root
                continue;
            }
            child.parent_id = parent_id;
            child.parent_reference.reset();
        }
        if (keep.empty())
            st.pending_parents.erase(it);
        else
            it->second = std::move(keep);
    };
    for (std::size_t i = first; i < list.size(); ++i) {
        const std::string id = list[i].id;
        adopt(id, id);
        if (list[i].external_id) adopt(id, *list[i].external_id);
    }
}

// POST /v1/events/ingest (dated)
inline emulator_response ingest_events_dated(handler_context& cx) {
    const auto body = decode_body(cx.req);
    if (body.what == body_outcome::json_error || body.what == body_outcome::unreadable)
        return body_decode_failure(body);
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::events_write, subject)) return *r;
    const micros now = cx.self.now();
    verrors errors;
    std::vector<dated_event_input> in;
    if (body_present(body, errors)) {
        const json::value& doc = body.doc;
        const loc_t root{"body"};
        const json::value* p = doc.is_object() ? field(doc.get_object(), "events") : nullptr;
        if (!doc.is_object())
            errors.push_back(model_attributes_error(root, doc));
        else if (!p)
            errors.push_back(missing_error(loc_plus(root, "events"), doc));
        else if (!p->is_array())
            errors.push_back(make_error("list_type", loc_plus(root, "events"), "Input should be a valid list", *p));
        else {
            const auto& arr = p->get_array();
            for (std::size_t i = 0; i < arr.size(); ++i) {
                const loc_t il = loc_plus(loc_plus(root, "events"), static_cast<std::int64_t>(i));
                verrors e1, e2;
                if (auto c = validate_dated_event_branch(arr[i], loc_plus(il, "EventCreateCustomer"), false, now, e1)) {
                    in.push_back(std::move(*c));
                    continue;
                }
                if (auto c = validate_dated_event_branch(arr[i], loc_plus(il, "EventCreateExternalCustomer"), true,
                                                         now, e2)) {
                    in.push_back(std::move(*c));
                    continue;
                }
                errors.insert(errors.end(), e1.begin(), e1.end());
                errors.insert(errors.end(), e2.begin(), e2.end());
            }
        }
    }
    if (!errors.empty()) return validation_response(errors);

    // Business rules per event, every error collected; nothing is inserted
    // when any item fails.
    std::vector<event> events;
    events.reserve(in.size());
    const auto& items = body.doc.get_object().find("events")->value().get_array();
    for (std::size_t i = 0; i < in.size(); ++i) {
        auto& ev = in[i];
        const loc_t base{"body", "events", static_cast<std::int64_t>(i)};
        const json::value* org_input = field(items[i].get_object(), "organization_id");
        auto org = resolve_organization(subject, ev.base.organization_id, ev.base.organization_id_given,
                                        org_input ? *org_input : json::value(nullptr),
                                        loc_plus(base, "organization_id"), errors);
        if (!org) continue;
        if (ev.base.customer_id) {
            const customer* c = cx.st.find_customer(*ev.base.customer_id);
            if (!c || c->organization_id != *org) {
                errors.push_back(make_error("customer_id", loc_plus(base, "customer_id"), "Customer not found.",
                                            json::string(*ev.base.customer_id)));
                continue;
            }
        }
        if (ev.member_id) {
            // The emulator has no members (team seats): every member_id is
            // unknown. UNCONFIRMED message, after the customer_id check.
            errors.push_back(make_error("member_id", loc_plus(base, "member_id"), "Member not found.",
                                        json::string(*ev.member_id)));
            continue;
        }
        event e;
        e.organization_id = *org;
        e.name = std::move(ev.base.name);
        e.source = "user";
        e.timestamp = ev.base.timestamp.value_or(now);
        e.customer_id = std::move(ev.base.customer_id);
        e.external_customer_id = std::move(ev.base.external_customer_id);
        e.metadata = std::move(ev.base.metadata);
        e.external_id = std::move(ev.external_id);
        e.parent_reference = std::move(ev.parent_id);
        e.external_member_id = std::move(ev.external_member_id);
        events.push_back(std::move(e));
    }
    if (!errors.empty()) return validation_response(errors, "PolarRequestValidationError");

    // ON CONFLICT (organization, external_id) DO NOTHING: repeats of stored
    // events and repeats within the batch are dropped and counted.
    std::int64_t inserted = 0, duplicates = 0;
    std::unordered_set<std::string> batch_keys;
    std::unordered_map<std::string, std::size_t> first_new; // organization -> index of its first new event
    for (auto& e : events) {
        if (e.external_id) {
            std::string key = e.organization_id + '\n' + *e.external_id;
            if (cx.st.event_by_external.count(key) || !batch_keys.insert(key).second) {
                ++duplicates;
                continue;
            }
        }
        e.id = cx.self.new_id();
        first_new.try_emplace(e.organization_id, cx.st.events[e.organization_id].events.size());
        cx.st.add_event(std::move(e));
        ++inserted;
    }
    for (const auto& [org, first] : first_new) link_new_events(cx.st, org, first);
    return json_response(200,
                         "{\"inserted\":" + std::to_string(inserted) + ",\"duplicates\":" + std::to_string(duplicates) + "}");
}

} // namespace polar::testing::emu

#endif
