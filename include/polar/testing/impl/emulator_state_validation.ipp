//
// polar-cpp testing: request bodies validated the way FastAPI + Pydantic v2
// do it for Polar's schemas: body decoding (json_invalid with Python's
// messages and positions), then field by field in schema order, collecting
// every error with its `loc`, `type`, `msg`, `input` and `ctx`.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_VALIDATION_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_VALIDATION_IPP

#include <polar/testing/impl/emulator_state_body.ipp>

namespace polar::testing::emu {

// ---------------------------------------------------------------------------
// Field validators.

inline const json::value* field(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it == o.end() ? nullptr : &it->value();
}

inline std::optional<std::string> validate_string(const json::value& v, const loc_t& loc, verrors& errors,
                                                  std::int64_t min_length = 0) {
    if (!v.is_string()) {
        errors.push_back(string_type_error(loc, v));
        return std::nullopt;
    }
    if (min_length > 0 && py_len(v.get_string()) < min_length) {
        errors.push_back(string_too_short(loc, v, min_length));
        return std::nullopt;
    }
    return std::string(v.get_string());
}

// A double that Pydantic's lax int accepts (no fractional part).
inline bool integral_double(double d) {
    return std::isfinite(d) && std::floor(d) == d && std::abs(d) < 9.2e18;
}

// `str | int | bool` (FilterClause.value): the union branch errors when all fail.
inline void union_scalar_errors(const json::value& v, const loc_t& loc, std::string_view str_label, verrors& errors,
                                const std::optional<verror>& str_error) {
    if (str_error)
        errors.push_back(*str_error);
    else
        errors.push_back(string_type_error(loc_plus(loc, json::string(str_label)), v));
    const loc_t li = loc_plus(loc, "int"), lb = loc_plus(loc, "bool");
    if (v.is_double()) {
        errors.push_back(make_error("int_from_float", li, "Input should be a valid integer, got a number with a fractional part", v));
        errors.push_back(make_error("bool_parsing", lb, "Input should be a valid boolean, unable to interpret input", v));
    } else if (v.is_string()) {
        errors.push_back(make_error("int_parsing", li, "Input should be a valid integer, unable to parse string as an integer", v));
        errors.push_back(make_error("bool_parsing", lb, "Input should be a valid boolean, unable to interpret input", v));
    } else {
        errors.push_back(make_error("int_type", li, "Input should be a valid integer", v));
        errors.push_back(make_error("bool_type", lb, "Input should be a valid boolean", v));
    }
}

// Pydantic's lax bool from a string (only reached for strings the str branch rejected).
inline std::optional<bool> lax_bool(std::string_view s) {
    std::string l(s);
    for (auto& ch : l) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (l == "1" || l == "on" || l == "t" || l == "true" || l == "y" || l == "yes") return true;
    if (l == "0" || l == "off" || l == "f" || l == "false" || l == "n" || l == "no") return false;
    return std::nullopt;
}

// MetadataField: dict[str(1..40), str(1..500) | int | bool], at most 50 items.
// `dated`: the dated versions add `float` (§2.4): a number with a fraction
// is kept as a float, and 5.0 stays 5.0 (the float branch is the exact match).
inline std::optional<json::object> validate_metadata(const json::value& v, const loc_t& loc, verrors& errors,
                                                     bool dated = false) {
    if (!v.is_object()) {
        errors.push_back(make_error("dict_type", loc, "Input should be a valid dictionary", v));
        return std::nullopt;
    }
    const auto before = errors.size();
    json::object out;
    for (const auto& kv : v.get_object()) {
        const std::string_view key = kv.key();
        const loc_t kloc = loc_plus(loc, json::string(key));
        const auto klen = py_len(key);
        if (klen < 1)
            errors.push_back(string_too_short(loc_plus(kloc, "[key]"), json::string(key), 1));
        else if (klen > 40)
            errors.push_back(string_too_long(loc_plus(kloc, "[key]"), json::string(key), 40));
        const json::value& val = kv.value();
        switch (val.kind()) {
        case json::kind::bool_:
        case json::kind::int64:
        case json::kind::uint64: out[key] = val; break;
        case json::kind::double_:
            if (dated && std::isfinite(val.get_double())) {
                out[key] = val;
                break;
            }
            if (integral_double(val.get_double())) {
                out[key] = static_cast<std::int64_t>(val.get_double());
                break;
            }
            union_scalar_errors(val, kloc, "constrained-str", errors, std::nullopt);
            break;
        case json::kind::string: {
            const auto len = py_len(val.get_string());
            if (len >= 1 && len <= 500) {
                out[key] = val;
                break;
            }
            // The str branch failed its length; the lax int/bool branches may still take it.
            if (auto i = parse_py_int(val.get_string()); i && len > 500) {
                out[key] = *i;
                break;
            }
            if (auto b = lax_bool(val.get_string())) {
                out[key] = *b;
                break;
            }
            const loc_t sl = loc_plus(kloc, "constrained-str");
            union_scalar_errors(val, kloc, "constrained-str", errors,
                                len < 1 ? string_too_short(sl, val, 1) : string_too_long(sl, val, 500));
            break;
        }
        default: union_scalar_errors(val, kloc, "constrained-str", errors, std::nullopt);
        }
    }
    if (errors.size() != before) return std::nullopt;
    if (out.size() > 50) {
        errors.push_back(make_error("too_long", loc,
                                    "Dictionary should have at most 50 items after validation, not " +
                                        std::to_string(out.size()),
                                    v,
                                    json::object{{"field_type", "Dictionary"},
                                                 {"max_length", 50},
                                                 {"actual_length", static_cast<std::int64_t>(out.size())}}));
        return std::nullopt;
    }
    return out;
}

inline std::optional<filter_node> validate_filter(const json::value& v, const loc_t& loc, verrors& errors, int depth = 0,
                                                  bool dated = false);

// The dated versions' property: a leading `metadata.` is stripped (§4.1).
inline std::string strip_metadata_prefix(std::string p) {
    constexpr std::string_view prefix = "metadata.";
    if (std::string_view(p).substr(0, prefix.size()) == prefix) p.erase(0, prefix.size());
    return p;
}

// `dated`: FilterClause.value is `str(max 1000) | int32 | bool` (§4.1).
// UNCONFIRMED: the union labels of the constrained branches
// ("constrained-str", "constrained-int") follow Pydantic's naming.
inline void dated_clause_value(const json::value& p, const loc_t& vl, filter_node& n, verrors& errors) {
    const loc_t ls = loc_plus(vl, "constrained-str"), li = loc_plus(vl, "constrained-int"), lb = loc_plus(vl, "bool");
    auto int_range_error = [&](const json::value& input, bool too_big) {
        errors.push_back(string_type_error(ls, input));
        if (too_big)
            errors.push_back(make_error("less_than_equal", li, "Input should be less than or equal to 2147483647", input,
                                        json::object{{"le", 2147483647}}));
        else
            errors.push_back(make_error("greater_than_equal", li,
                                        "Input should be greater than or equal to -2147483648", input,
                                        json::object{{"ge", -2147483648LL}}));
        errors.push_back(make_error("bool_parsing", lb, "Input should be a valid boolean, unable to interpret input", input));
    };
    switch (p.kind()) {
    case json::kind::string:
        if (py_len(p.get_string()) <= 1000) {
            n.value = p;
            return;
        }
        errors.push_back(string_too_long(ls, p, 1000));
        errors.push_back(make_error("int_parsing", li, "Input should be a valid integer, unable to parse string as an integer", p));
        errors.push_back(make_error("bool_parsing", lb, "Input should be a valid boolean, unable to interpret input", p));
        return;
    case json::kind::bool_: n.value = p; return;
    case json::kind::int64: {
        const auto i = p.get_int64();
        if (i >= INT32_MIN && i <= INT32_MAX) {
            n.value = p;
            return;
        }
        int_range_error(p, i > 0);
        return;
    }
    case json::kind::uint64: int_range_error(p, true); return;
    case json::kind::double_: {
        const double d = p.get_double();
        if (integral_double(d) && d >= INT32_MIN && d <= INT32_MAX) {
            n.value = static_cast<std::int64_t>(d);
            return;
        }
        if (integral_double(d)) {
            int_range_error(p, d > 0);
            return;
        }
        union_scalar_errors(p, vl, "constrained-str", errors, std::nullopt);
        return;
    }
    default: union_scalar_errors(p, vl, "constrained-str", errors, std::nullopt);
    }
}

inline std::optional<filter_node> validate_clause(const json::value& v, const loc_t& loc, verrors& errors,
                                                  bool dated = false) {
    if (!v.is_object()) {
        errors.push_back(model_attributes_error(loc, v));
        return std::nullopt;
    }
    const auto& o = v.get_object();
    const auto before = errors.size();
    filter_node n;
    n.is_clause = true;
    if (auto p = field(o, "property")) {
        if (auto s = validate_string(*p, loc_plus(loc, "property"), errors))
            n.property = dated ? strip_metadata_prefix(std::move(*s)) : std::move(*s);
    } else {
        errors.push_back(missing_error(loc_plus(loc, "property"), v));
    }
    if (auto p = field(o, "operator")) {
        std::optional<filter_op> op;
        if (p->is_string()) op = parse_filter_op(p->get_string());
        if (op)
            n.op = *op;
        else
            errors.push_back(enum_error(loc_plus(loc, "operator"), *p,
                                        {"eq", "ne", "gt", "gte", "lt", "lte", "like", "not_like"}));
    } else {
        errors.push_back(missing_error(loc_plus(loc, "operator"), v));
    }
    if (auto p = field(o, "value"); p && dated) {
        dated_clause_value(*p, loc_plus(loc, "value"), n, errors);
    } else if (p) {
        const loc_t vl = loc_plus(loc, "value");
        switch (p->kind()) {
        case json::kind::string:
        case json::kind::bool_:
        case json::kind::int64: n.value = *p; break;
        case json::kind::uint64:
            // Beyond int64: kept as written (Python ints are unbounded).
            n.value = *p;
            break;
        case json::kind::double_:
            if (integral_double(p->get_double())) {
                n.value = static_cast<std::int64_t>(p->get_double());
                break;
            }
            union_scalar_errors(*p, vl, "str", errors, std::nullopt);
            break;
        default: union_scalar_errors(*p, vl, "str", errors, std::nullopt);
        }
    } else {
        errors.push_back(missing_error(loc_plus(loc, "value"), v));
    }
    if (errors.size() != before) return std::nullopt;
    return n;
}

inline std::optional<filter_node> validate_filter(const json::value& v, const loc_t& loc, verrors& errors, int depth,
                                                  bool dated) {
    if (!v.is_object()) {
        errors.push_back(model_attributes_error(loc, v));
        return std::nullopt;
    }
    const auto& o = v.get_object();
    const auto before = errors.size();
    filter_node n;
    if (auto p = field(o, "conjunction")) {
        if (p->is_string() && (p->get_string() == "and" || p->get_string() == "or"))
            n.conjunction_and = p->get_string() == "and";
        else
            errors.push_back(enum_error(loc_plus(loc, "conjunction"), *p, {"and", "or"}));
    } else {
        errors.push_back(missing_error(loc_plus(loc, "conjunction"), v));
    }
    if (auto p = field(o, "clauses")) {
        if (!p->is_array()) {
            errors.push_back(make_error("list_type", loc_plus(loc, "clauses"), "Input should be a valid list", *p));
        } else {
            const auto& arr = p->get_array();
            for (std::size_t i = 0; i < arr.size(); ++i) {
                const loc_t il = loc_plus(loc_plus(loc, "clauses"), static_cast<std::int64_t>(i));
                // Smart union FilterClause | Filter: the first branch that validates wins.
                verrors clause_errors, group_errors;
                if (auto c = validate_clause(arr[i], loc_plus(il, "FilterClause"), clause_errors, dated)) {
                    n.clauses.push_back(std::move(*c));
                    continue;
                }
                if (auto g = validate_filter(arr[i], loc_plus(il, "Filter"), group_errors, depth + 1, dated)) {
                    n.clauses.push_back(std::move(*g));
                    continue;
                }
                errors.insert(errors.end(), clause_errors.begin(), clause_errors.end());
                errors.insert(errors.end(), group_errors.begin(), group_errors.end());
            }
        }
    } else {
        errors.push_back(missing_error(loc_plus(loc, "clauses"), v));
    }
    if (errors.size() != before) return std::nullopt;
    return n;
}

// Annotated[CountAggregation | PropertyAggregation, Discriminator("func")];
// `dated`: `| UniqueAggregation`, and a leading `metadata.` in `property` is
// stripped (§4.1).
inline std::optional<aggregation> validate_aggregation(const json::value& v, const loc_t& loc, verrors& errors,
                                                       bool dated = false) {
    const std::string_view expected_tags =
        dated ? "'count', 'sum', 'max', 'min', 'avg', 'unique'" : "'count', 'sum', 'max', 'min', 'avg'";
    const std::size_t tag_count = dated ? std::size(agg_func_names) : std::size(agg_func_names) - 1;
    if (!v.is_object()) {
        errors.push_back(model_attributes_error(loc, v));
        return std::nullopt;
    }
    const auto& o = v.get_object();
    const json::value* tag = field(o, "func");
    if (!tag) {
        errors.push_back(make_error("union_tag_not_found", loc, "Unable to extract tag using discriminator 'func'", v,
                                    json::object{{"discriminator", "'func'"}}));
        return std::nullopt;
    }
    std::optional<agg_func> func;
    if (tag->is_string()) {
        for (std::size_t i = 0; i < tag_count; ++i)
            if (agg_func_names[i] == tag->get_string()) func = static_cast<agg_func>(i);
    }
    if (!func) {
        const std::string tag_text = tag->is_null() ? "None" : python_str(*tag);
        errors.push_back(make_error("union_tag_invalid", loc,
                                    "Input tag '" + tag_text +
                                        "' found using 'func' does not match any of the expected tags: " +
                                        std::string(expected_tags),
                                    v,
                                    json::object{{"discriminator", "'func'"},
                                                 {"tag", tag_text},
                                                 {"expected_tags", expected_tags}}));
        return std::nullopt;
    }
    aggregation a;
    a.func = *func;
    if (a.func == agg_func::count) return a;  // extra keys are ignored
    const loc_t bl = loc_plus(loc, json::string(agg_func_names[static_cast<int>(a.func)]));
    if (auto p = field(o, "property")) {
        auto s = validate_string(*p, loc_plus(bl, "property"), errors);
        if (!s) return std::nullopt;
        a.property = dated ? strip_metadata_prefix(std::move(*s)) : std::move(*s);
    } else {
        errors.push_back(missing_error(loc_plus(bl, "property"), v));
        return std::nullopt;
    }
    return a;
}

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
