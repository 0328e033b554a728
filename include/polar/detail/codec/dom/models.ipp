#ifndef POLAR_DETAIL_CODEC_DOM_MODELS_IPP
#define POLAR_DETAIL_CODEC_DOM_MODELS_IPP

// The DOM reference decoder, part 2: filters, aggregations, meters,
// customers, LLM and cost metadata.
#include <polar/detail/codec/dom/reader.ipp>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace dom {

// -- filters ----------------------------------------------------------------

inline bool read_clause(reader& r, const bj::object& o, filter_clause& out) {
    static constexpr std::string_view required[] = {"property", "operator", "value"};
    unsigned seen = 0;
    for (const auto& kv : o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "property") {
            if (!r.str(x, out.property)) return r.at_key(k);
            seen |= 1u;
        } else if (k == "operator") {
            if (!r.enumeration(x, out.op)) return r.at_key(k);
            seen |= 2u;
        } else if (k == "value") {
            if (!r.filter_scalar(x, out.value)) return r.at_key(k);
            seen |= 4u;
        }
    }
    return check_required(r, seen, required);
}

// A Filter object; recursion is bounded by max_filter_depth (and the parser's
// max_json_depth), so hostile input cannot exhaust the stack.
inline bool read_filter(reader& r, const bj::value& v, filter& out, std::size_t depth) {
    if (depth > max_filter_depth) return r.fail(filter_too_deep_message());
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"conjunction", "clauses"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "conjunction") {
            if (!r.enumeration(x, out.conjunction)) return r.at_key(k);
            seen |= 1u;
        } else if (k == "clauses") {
            const bj::array* a = r.array(x);
            if (!a) return r.at_key(k);
            out.clauses.clear();
            out.clauses.reserve(a->size());
            for (std::size_t i = 0; i < a->size(); ++i) {
                const bj::value& item = (*a)[i];
                const bj::object* io = r.object(item);
                if (!io) return r.at_index(i), r.at_key(k);
                // FilterClause | Filter: a nested filter is recognised by its keys.
                bool nested = false;
                for (const auto& ikv : *io) {
                    const std::string_view ik = ikv.key();
                    if (ik == "clauses" || ik == "conjunction") {
                        nested = true;
                        break;
                    }
                }
                filter_node& node = out.clauses.emplace_back(); // an empty clause
                if (nested) {
                    if (!read_filter(r, item, node.value.emplace<1>(), depth + 1)) return r.at_index(i), r.at_key(k);
                } else {
                    if (!read_clause(r, *io, *std::get_if<0>(&node.value))) return r.at_index(i), r.at_key(k);
                }
            }
            seen |= 2u;
        }
    }
    return check_required(r, seen, required);
}

// -- aggregation -------------------------------------------------------------

inline bool read_aggregation(reader& r, const bj::value& v, aggregation& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    const bj::value* func = o->if_contains("func");
    if (!func) return r.missing("func");
    open_enum<aggregation_function> f;
    if (!r.enumeration(*func, f)) return r.at_key("func");
    const bj::value* prop = o->if_contains("property");
    std::string property;
    if (f == aggregation_function::count) {
        // The API ignores extra keys of CountAggregation.
    } else if (f.is_unknown()) {
        // Keep what we can of a function from a newer API version.
        if (prop && prop->is_string()) property.assign(prop->get_string().data(), prop->get_string().size());
    } else {
        if (!prop) return r.missing("property");
        if (!r.str(*prop, property)) return r.at_key("property");
    }
    out = aggregation(std::move(f), std::move(property));
    return true;
}

// -- meters --------------------------------------------------------------------

inline bool read_meter(reader& r, const bj::value& v, meter& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"id", "created_at", "metadata", "name",
                                                    "filter", "aggregation", "organization_id"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "id") {
            if (!r.str(x, out.id)) return r.at_key(k);
            seen |= 1u << 0;
        } else if (k == "created_at") {
            if (!r.time(x, out.created_at)) return r.at_key(k);
            seen |= 1u << 1;
        } else if (k == "modified_at") {
            if (!r.opt_time(x, out.modified_at)) return r.at_key(k);
        } else if (k == "metadata") {
            if (!r.meta(x, out.metadata)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "name") {
            if (!r.str(x, out.name)) return r.at_key(k);
            seen |= 1u << 3;
        } else if (k == "filter") {
            if (!read_filter(r, x, out.filter, 1)) return r.at_key(k);
            seen |= 1u << 4;
        } else if (k == "aggregation") {
            if (!read_aggregation(r, x, out.aggregation)) return r.at_key(k);
            seen |= 1u << 5;
        } else if (k == "organization_id") {
            if (!r.str(x, out.organization_id)) return r.at_key(k);
            seen |= 1u << 6;
        } else if (k == "unit") {
            // Absent (2025-03) or null: the default, `scalar`.
            if (x.is_null()) out.unit = meter_unit::scalar;
            else if (!r.enumeration(x, out.unit)) return r.at_key(k);
        } else if (k == "custom_label") {
            if (!r.opt_str(x, out.custom_label)) return r.at_key(k);
        } else if (k == "custom_multiplier") {
            if (!r.opt_i64(x, out.custom_multiplier)) return r.at_key(k);
        } else if (k == "archived_at") {
            if (!r.opt_time(x, out.archived_at)) return r.at_key(k);
        }
    }
    return check_required(r, seen, required);
}

inline bool read_meter_create(reader& r, const bj::value& v, meter_create& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"name", "filter", "aggregation"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "name") {
            if (!r.str(x, out.name)) return r.at_key(k);
            seen |= 1u << 0;
        } else if (k == "filter") {
            if (!read_filter(r, x, out.filter, 1)) return r.at_key(k);
            seen |= 1u << 1;
        } else if (k == "aggregation") {
            if (!read_aggregation(r, x, out.aggregation)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "metadata") {
            if (!r.meta(x, out.metadata.emplace())) return r.at_key(k);
        } else if (k == "organization_id") {
            if (!r.opt_str(x, out.organization_id)) return r.at_key(k);
        } else if (k == "unit") {
            if (x.is_null()) out.unit.reset();
            else if (!r.enumeration(x, out.unit.emplace())) return r.at_key(k);
        } else if (k == "custom_label") {
            if (!r.opt_str(x, out.custom_label)) return r.at_key(k);
        } else if (k == "custom_multiplier") {
            if (!r.opt_i64(x, out.custom_multiplier)) return r.at_key(k);
        }
    }
    return check_required(r, seen, required);
}

inline bool read_meter_update(reader& r, const bj::value& v, meter_update& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "name") {
            if (!r.str(x, out.name.emplace())) return r.at_key(k);
        } else if (k == "filter") {
            if (x.is_null()) {
                out.filter.set_null();
            } else {
                filter f;
                if (!read_filter(r, x, f, 1)) return r.at_key(k);
                out.filter.set(std::move(f));
            }
        } else if (k == "aggregation") {
            if (x.is_null()) {
                out.aggregation.set_null();
            } else {
                aggregation a;
                if (!read_aggregation(r, x, a)) return r.at_key(k);
                out.aggregation.set(std::move(a));
            }
        } else if (k == "metadata") {
            if (!r.meta(x, out.metadata.emplace())) return r.at_key(k);
        } else if (k == "unit") {
            if (x.is_null()) {
                out.unit.set_null();
            } else {
                open_enum<meter_unit> u;
                if (!r.enumeration(x, u)) return r.at_key(k);
                out.unit.set(std::move(u));
            }
        } else if (k == "custom_label") {
            if (x.is_null()) {
                out.custom_label.set_null();
            } else {
                std::string label;
                if (!r.str(x, label)) return r.at_key(k);
                out.custom_label.set(std::move(label));
            }
        } else if (k == "custom_multiplier") {
            if (x.is_null()) {
                out.custom_multiplier.set_null();
            } else {
                std::int64_t m = 0;
                if (!r.i64(x, m)) return r.at_key(k);
                out.custom_multiplier.set(m);
            }
        } else if (k == "is_archived") {
            // null means "unchanged", like absent.
            if (x.is_null()) out.is_archived.reset();
            else if (!r.boolean(x, out.is_archived.emplace())) return r.at_key(k);
        }
    }
    return true;
}

// -- customers and events ------------------------------------------------------

inline bool read_address(reader& r, const bj::value& v, address& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"country"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "country") {
            if (!r.str(x, out.country)) return r.at_key(k);
            seen |= 1u;
        } else if (k == "line1") {
            if (!r.opt_str(x, out.line1)) return r.at_key(k);
        } else if (k == "line2") {
            if (!r.opt_str(x, out.line2)) return r.at_key(k);
        } else if (k == "postal_code") {
            if (!r.opt_str(x, out.postal_code)) return r.at_key(k);
        } else if (k == "city") {
            if (!r.opt_str(x, out.city)) return r.at_key(k);
        } else if (k == "state") {
            if (!r.opt_str(x, out.state)) return r.at_key(k);
        }
    }
    return check_required(r, seen, required);
}

// `[value, format]` or null.
inline bool read_tax_id(reader& r, const bj::value& v, std::optional<tax_id>& out) {
    if (v.is_null()) {
        out.reset();
        return true;
    }
    const bj::array* a = v.if_array();
    if (!a) return r.type_error("[value, format] array or null", v);
    if (a->size() != 2) return r.fail("expected a [value, format] array of 2 items, got " + std::to_string(a->size()));
    tax_id& t = out.emplace();
    if (!r.str((*a)[0], t.value)) return r.at_index(0);
    if (!r.enumeration((*a)[1], t.format)) return r.at_index(1);
    return true;
}

inline bool read_customer(reader& r, const bj::value& v, customer& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    // `email` is checked after the loop: whether it may be null or absent
    // depends on `type`, which may come later.
    static constexpr std::string_view required[] = {"id", "created_at", "metadata",
                                                    "email_verified", "organization_id", "avatar_url"};
    unsigned seen = 0;
    const bj::value* email = nullptr;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "id") {
            if (!r.str(x, out.id)) return r.at_key(k);
            seen |= 1u << 0;
        } else if (k == "created_at") {
            if (!r.time(x, out.created_at)) return r.at_key(k);
            seen |= 1u << 1;
        } else if (k == "modified_at") {
            if (!r.opt_time(x, out.modified_at)) return r.at_key(k);
        } else if (k == "metadata") {
            if (!r.meta(x, out.metadata)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "external_id") {
            if (!r.opt_str(x, out.external_id)) return r.at_key(k);
        } else if (k == "email") {
            email = &x;
        } else if (k == "email_verified") {
            if (!r.boolean(x, out.email_verified)) return r.at_key(k);
            seen |= 1u << 3;
        } else if (k == "name") {
            if (!r.opt_str(x, out.name)) return r.at_key(k);
        } else if (k == "billing_address") {
            if (x.is_null()) out.billing_address.reset();
            else if (!read_address(r, x, out.billing_address.emplace())) return r.at_key(k);
        } else if (k == "tax_id") {
            if (!read_tax_id(r, x, out.tax_id)) return r.at_key(k);
        } else if (k == "organization_id") {
            if (!r.str(x, out.organization_id)) return r.at_key(k);
            seen |= 1u << 4;
        } else if (k == "deleted_at") {
            if (!r.opt_time(x, out.deleted_at)) return r.at_key(k);
        } else if (k == "avatar_url") {
            // The dated API sends null for customers without an avatar.
            if (x.is_null()) out.avatar_url.clear();
            else if (!x.is_string()) return r.type_error("string or null", x), r.at_key(k);
            else if (!r.str(x, out.avatar_url)) return r.at_key(k);
            seen |= 1u << 5;
        } else if (k == "type") {
            if (!r.enumeration(x, out.type)) return r.at_key(k);
        } else if (k == "billing_name") {
            if (!r.opt_str(x, out.billing_name)) return r.at_key(k);
        } else if (k == "locale") {
            if (!r.opt_str(x, out.locale)) return r.at_key(k);
        } else if (k == "default_payment_method_id") {
            if (!r.opt_str(x, out.default_payment_method_id)) return r.at_key(k);
        } else if (k == "first_user_event_at") {
            if (!r.opt_time(x, out.first_user_event_at)) return r.at_key(k);
        }
    }
    if (!check_required(r, seen, required)) return false;
    // Individuals (also 2025-03 customers, which have no type) must have an
    // email; teams and unknown types may have none.
    if (out.type == customer_type::individual) {
        if (!email) return r.missing("email");
        if (!r.str(*email, out.email)) return r.at_key("email");
    } else if (email && !email->is_null()) {
        if (!email->is_string()) return r.type_error("string or null", *email), r.at_key("email");
        if (!r.str(*email, out.email)) return r.at_key("email");
    } else {
        out.email.clear();
    }
    return true;
}

// LLMMetadata (`_llm`).
inline bool read_llm(reader& r, const bj::value& v, llm_metadata& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"vendor", "model", "input_tokens", "output_tokens",
                                                    "total_tokens"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "vendor") {
            if (!r.str(x, out.vendor)) return r.at_key(k);
            seen |= 1u << 0;
        } else if (k == "model") {
            if (!r.str(x, out.model)) return r.at_key(k);
            seen |= 1u << 1;
        } else if (k == "input_tokens") {
            if (!r.i64(x, out.input_tokens)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "output_tokens") {
            if (!r.i64(x, out.output_tokens)) return r.at_key(k);
            seen |= 1u << 3;
        } else if (k == "total_tokens") {
            if (!r.i64(x, out.total_tokens)) return r.at_key(k);
            seen |= 1u << 4;
        } else if (k == "prompt") {
            if (!r.opt_str(x, out.prompt)) return r.at_key(k);
        } else if (k == "response") {
            if (!r.opt_str(x, out.response)) return r.at_key(k);
        } else if (k == "cached_input_tokens") {
            if (!r.opt_i64(x, out.cached_input_tokens)) return r.at_key(k);
        }
    }
    return check_required(r, seen, required);
}

// A decimal sent as a number: its shortest text in fixed notation.
POLAR_COLD inline void decimal_text(const bj::value& v, std::string& out) {
    char buf[400];
    std::to_chars_result res{};
    if (v.is_int64()) res = std::to_chars(buf, buf + sizeof buf, v.get_int64());
    else if (v.is_uint64()) res = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
    else res = std::to_chars(buf, buf + sizeof buf, v.get_double(), std::chars_format::fixed);
    out.assign(buf, res.ec == std::errc() ? static_cast<std::size_t>(res.ptr - buf) : 0);
}

// CostMetadata (`_cost`): `amount` as a string or a number.
inline bool read_cost(reader& r, const bj::value& v, cost_metadata& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"amount", "currency"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "amount") {
            if (x.is_string()) {
                r.str(x, out.amount);
            } else if (x.is_int64() || x.is_uint64() || x.is_double()) {
                if (x.is_double() && !std::isfinite(x.get_double())) return r.not_finite(), r.at_key(k);
                decimal_text(x, out.amount);
            } else {
                return r.type_error("decimal string or number", x), r.at_key(k);
            }
            seen |= 1u << 0;
        } else if (k == "currency") {
            if (!r.str(x, out.currency)) return r.at_key(k);
            seen |= 1u << 1;
        }
    }
    return check_required(r, seen, required);
}

// EventMetadataOutput of a user event: scalars, plus `_llm` and `_cost`
// objects. A 2025-03 event may hold scalars under those keys: kept as
// metadata. Other non-scalar values under `_` keys (reserved for Polar's
// structured metadata) are skipped, so a structure added later does not

} // namespace dom
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
