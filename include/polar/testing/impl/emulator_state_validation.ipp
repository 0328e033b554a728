//
// polar-cpp testing: request bodies validated the way FastAPI + Pydantic v2
// do it for Polar's schemas: body decoding (json_invalid with Python's
// messages and positions), then field by field in schema order, collecting
// every error with its `loc`, `type`, `msg`, `input` and `ctx`.
// The field validators, filters and aggregations are here; the bodies'
// schemas in emulator_state_validation_inputs.ipp.
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

} // namespace polar::testing::emu

#include <polar/testing/impl/emulator_state_validation_inputs.ipp>

#endif
