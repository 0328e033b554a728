//
// polar-cpp testing: the request bodies' schemas: MeterCreate and MeterUpdate
// (with the dated versions' unit fields) and EventsIngest, validated with
// the field validators of emulator_state_validation.ipp, which includes this.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_VALIDATION_INPUTS_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_VALIDATION_INPUTS_IPP

namespace polar::testing::emu {

// An optional `organization_id: UUID4 | None` in a body.
inline std::optional<std::string> validate_optional_org(const json::object& o, const loc_t& loc, verrors& errors,
                                                        bool& present) {
    present = false;
    auto p = field(o, "organization_id");
    if (!p || p->is_null()) return std::nullopt;
    present = true;
    return validate_uuid4(*p, loc_plus(loc, "organization_id"), errors);
}

// The dated versions' unit fields of MeterCreate / MeterUpdate (§3.2, §3.4).
struct meter_unit_fields {
    bool unit_given = false, label_given = false, multiplier_given = false;
    std::optional<std::string> unit;  // given and null: unit_given && !unit
    std::optional<std::string> custom_label;
    std::optional<std::int64_t> custom_multiplier;
};

inline void validate_unit_fields(const json::object& o, const loc_t& root, verrors& errors, meter_unit_fields& out) {
    if (auto p = field(o, "unit")) {
        out.unit_given = true;
        if (p->is_string() && (p->get_string() == "scalar" || p->get_string() == "token" || p->get_string() == "custom"))
            out.unit = std::string(p->get_string());
        else if (!p->is_null())
            errors.push_back(enum_error(loc_plus(root, "unit"), *p, {"scalar", "token", "custom"}));
    }
    if (auto p = field(o, "custom_label")) {
        out.label_given = true;
        if (!p->is_null()) out.custom_label = validate_string(*p, loc_plus(root, "custom_label"), errors);
    }
    if (auto p = field(o, "custom_multiplier")) {
        out.multiplier_given = true;
        const loc_t ml = loc_plus(root, "custom_multiplier");
        if (p->is_null()) return;
        std::optional<std::int64_t> v;
        if (p->is_int64())
            v = p->get_int64();
        else if (p->is_double() && integral_double(p->get_double()))
            v = static_cast<std::int64_t>(p->get_double());
        else if (p->is_string())
            v = parse_py_int(p->get_string());
        if (!v) {
            if (p->is_double())
                errors.push_back(make_error("int_from_float", ml, "Input should be a valid integer, got a number with a fractional part", *p));
            else if (p->is_string())
                errors.push_back(make_error("int_parsing", ml, "Input should be a valid integer, unable to parse string as an integer", *p));
            else
                errors.push_back(make_error("int_type", ml, "Input should be a valid integer", *p));
        } else if (*v <= 0) {
            errors.push_back(make_error("greater_than", ml, "Input should be greater than 0", *p, json::object{{"gt", 0}}));
        } else {
            out.custom_multiplier = v;
        }
    }
}

struct meter_create_input {
    json::object metadata;
    std::string name;
    meter_unit_fields units;  // dated versions only
    filter_node filter;
    aggregation agg;
    std::optional<std::string> organization_id;
    bool organization_id_given = false;
};

inline std::optional<meter_create_input> validate_meter_create(const json::value& body, verrors& errors,
                                                               bool dated = false) {
    const loc_t root{"body"};
    if (!body.is_object()) {
        errors.push_back(model_attributes_error(root, body));
        return std::nullopt;
    }
    const auto& o = body.get_object();
    const auto before = errors.size();
    meter_create_input in;
    if (auto p = field(o, "metadata")) {
        if (auto m = validate_metadata(*p, loc_plus(root, "metadata"), errors, dated)) in.metadata = std::move(*m);
    }
    if (auto p = field(o, "name")) {
        if (auto s = validate_string(*p, loc_plus(root, "name"), errors, 3)) in.name = std::move(*s);
    } else {
        errors.push_back(missing_error(loc_plus(root, "name"), body));
    }
    if (dated) validate_unit_fields(o, root, errors, in.units);
    if (auto p = field(o, "filter")) {
        if (auto f = validate_filter(*p, loc_plus(root, "filter"), errors, 0, dated)) in.filter = std::move(*f);
    } else {
        errors.push_back(missing_error(loc_plus(root, "filter"), body));
    }
    if (auto p = field(o, "aggregation")) {
        if (auto a = validate_aggregation(*p, loc_plus(root, "aggregation"), errors, dated)) in.agg = std::move(*a);
    } else {
        errors.push_back(missing_error(loc_plus(root, "aggregation"), body));
    }
    in.organization_id = validate_optional_org(o, root, errors, in.organization_id_given);
    if (errors.size() != before) return std::nullopt;
    return in;
}

struct meter_update_input {
    std::optional<json::object> metadata;
    bool name_given = false;
    std::optional<std::string> name;  // given and null: name_given && !name
    bool filter_given = false;        // the key is present (even with null)
    std::optional<filter_node> filter;
    json::value filter_input;         // the validated value (or null), for the lock error
    bool aggregation_given = false;
    std::optional<aggregation> agg;
    json::value aggregation_input;
    meter_unit_fields units;            // dated versions only
    std::optional<bool> is_archived;    // dated versions only; null: no change
};

inline std::optional<meter_update_input> validate_meter_update(const json::value& body, verrors& errors,
                                                               bool dated = false) {
    const loc_t root{"body"};
    if (!body.is_object()) {
        errors.push_back(model_attributes_error(root, body));
        return std::nullopt;
    }
    const auto& o = body.get_object();
    const auto before = errors.size();
    meter_update_input in;
    if (auto p = field(o, "metadata")) {
        if (auto m = validate_metadata(*p, loc_plus(root, "metadata"), errors, dated)) in.metadata = std::move(*m);
    }
    if (auto p = field(o, "name")) {
        in.name_given = true;
        if (!p->is_null()) in.name = validate_string(*p, loc_plus(root, "name"), errors, 3);
    }
    if (dated) validate_unit_fields(o, root, errors, in.units);
    if (auto p = field(o, "filter")) {
        in.filter_given = true;
        if (!p->is_null()) {
            in.filter = validate_filter(*p, loc_plus(root, "filter"), errors, 0, dated);
            if (in.filter) in.filter_input = filter_to_json(*in.filter);
        }
    }
    if (auto p = field(o, "aggregation")) {
        in.aggregation_given = true;
        if (!p->is_null()) {
            in.agg = validate_aggregation(*p, loc_plus(root, "aggregation"), errors, dated);
            if (in.agg) in.aggregation_input = aggregation_to_json(*in.agg);
        }
    }
    if (auto p = field(o, "is_archived"); p && dated && !p->is_null()) {
        if (p->is_bool())
            in.is_archived = p->get_bool();
        else if (auto b = p->is_string() ? lax_bool(p->get_string()) : std::nullopt)
            in.is_archived = b;
        else if (p->is_int64() && (p->get_int64() == 0 || p->get_int64() == 1))
            in.is_archived = p->get_int64() == 1;
        else
            errors.push_back(make_error(p->is_string() || p->is_number() ? "bool_parsing" : "bool_type",
                                        loc_plus(root, "is_archived"),
                                        p->is_string() || p->is_number()
                                            ? "Input should be a valid boolean, unable to interpret input"
                                            : "Input should be a valid boolean",
                                        *p));
    }
    if (errors.size() != before) return std::nullopt;
    return in;
}

// One item of EventsIngest.events (either branch).
struct event_create_input {
    json::object metadata;
    std::optional<micros> timestamp;  // empty: now
    std::string name;
    std::optional<std::string> organization_id;
    bool organization_id_given = false;
    std::optional<std::string> customer_id;
    std::optional<std::string> external_customer_id;
};

inline std::optional<event_create_input> validate_event_branch(const json::value& v, const loc_t& loc, bool external,
                                                               micros now, verrors& errors) {
    if (!v.is_object()) {
        errors.push_back(model_attributes_error(loc, v));
        return std::nullopt;
    }
    const auto& o = v.get_object();
    const auto before = errors.size();
    event_create_input in;
    if (auto p = field(o, "metadata")) {
        if (auto m = validate_metadata(*p, loc_plus(loc, "metadata"), errors)) in.metadata = std::move(*m);
    }
    if (auto p = field(o, "timestamp")) {
        const loc_t tl = loc_plus(loc, "timestamp");
        if (auto t = validate_aware_datetime(*p, tl, errors)) {
            if (t->utc() > now)
                errors.push_back(make_error("value_error", tl, "Value error, Timestamp must be in the past.", *p,
                                            json::object{{"error", json::object{}}}));
            else
                in.timestamp = t->utc();
        }
    }
    if (auto p = field(o, "name")) {
        if (auto s = validate_string(*p, loc_plus(loc, "name"), errors)) in.name = std::move(*s);
    } else {
        errors.push_back(missing_error(loc_plus(loc, "name"), v));
    }
    in.organization_id = validate_optional_org(o, loc, errors, in.organization_id_given);
    if (!external) {
        if (auto p = field(o, "customer_id"))
            in.customer_id = validate_uuid4(*p, loc_plus(loc, "customer_id"), errors);
        else
            errors.push_back(missing_error(loc_plus(loc, "customer_id"), v));
    } else {
        if (auto p = field(o, "external_customer_id"))
            in.external_customer_id = validate_string(*p, loc_plus(loc, "external_customer_id"), errors);
        else
            errors.push_back(missing_error(loc_plus(loc, "external_customer_id"), v));
    }
    if (errors.size() != before) return std::nullopt;
    return in;
}

inline std::optional<std::vector<event_create_input>> validate_events_ingest(const json::value& body, micros now,
                                                                             verrors& errors) {
    const loc_t root{"body"};
    if (!body.is_object()) {
        errors.push_back(model_attributes_error(root, body));
        return std::nullopt;
    }
    const auto& o = body.get_object();
    auto p = field(o, "events");
    if (!p) {
        errors.push_back(missing_error(loc_plus(root, "events"), body));
        return std::nullopt;
    }
    if (!p->is_array()) {
        errors.push_back(make_error("list_type", loc_plus(root, "events"), "Input should be a valid list", *p));
        return std::nullopt;
    }
    std::vector<event_create_input> out;
    const auto before = errors.size();
    const auto& arr = p->get_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
        const loc_t il = loc_plus(loc_plus(root, "events"), static_cast<std::int64_t>(i));
        verrors e1, e2;
        if (auto c = validate_event_branch(arr[i], loc_plus(il, "EventCreateCustomer"), false, now, e1)) {
            out.push_back(std::move(*c));
            continue;
        }
        if (auto c = validate_event_branch(arr[i], loc_plus(il, "EventCreateExternalCustomer"), true, now, e2)) {
            out.push_back(std::move(*c));
            continue;
        }
        errors.insert(errors.end(), e1.begin(), e1.end());
        errors.insert(errors.end(), e2.begin(), e2.end());
    }
    if (errors.size() != before) return std::nullopt;
    return out;
}

} // namespace polar::testing::emu

#endif
