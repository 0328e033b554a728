//
// polar-cpp testing: the meters endpoints of the dated versions
// (MeterAPI-2026-10.md §3.1-§3.4, §4.1): the unit fields and `archived_at`
// in the output, create with the unit rules and the `unique` aggregation,
// list with `is_archived` and real totals past the end, update of the unit
// fields and archiving. Included by emulator_state.ipp after the handler
// context; the 2025-03 handlers (emulator_state_endpoints.ipp) are unchanged.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_METERS_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_METERS_IPP

namespace polar::testing::emu {

// The newest event matching the meter with the dated (PostgreSQL)
// semantics, optionally only among events linked to an existing customer.
inline const event* newest_dated_matching_event(const state_data& st, const meter& m, bool require_customer) {
    const event* best = nullptr;
    for (const auto& e : st.org_event_list(m.organization_id)) {
        if (best && e.timestamp < best->timestamp) continue;
        if (require_customer && !st.event_customer(e)) continue;
        if (!dated_meter_matches(m, e)) continue;
        best = &e;
    }
    return best;
}

// A boolean query parameter (Pydantic's lax bool from text).
inline std::optional<bool> bool_param(const parsed_target& t, std::string_view key, verrors& errors) {
    const std::string* raw = t.last(key);
    if (!raw) return std::nullopt;
    if (auto b = lax_bool(*raw)) return b;
    errors.push_back(make_error("bool_parsing", loc_t{"query", key},
                                "Input should be a valid boolean, unable to interpret input", json::string(*raw)));
    return std::nullopt;
}

// The page [offset, offset + limit) of `n` items with the real total: the
// dated lists count with a separate query, so a page past the end keeps
// total_count and max_page (§2.2).
inline page_window paginate_counted(std::size_t n, std::int64_t page, std::int64_t limit) {
    page_window w;
    w.total = static_cast<std::int64_t>(n);
    const auto skip = static_cast<std::uint64_t>(page - 1) * static_cast<std::uint64_t>(limit);
    if (static_cast<std::uint64_t>(page - 1) > n || skip >= n) {
        w.begin = w.end = 0;
        return w;
    }
    w.begin = static_cast<std::size_t>(skip);
    w.end = std::min<std::size_t>(n, w.begin + static_cast<std::size_t>(limit));
    return w;
}

// GET /v1/meters/ (dated)
inline emulator_response list_meters_dated(handler_context& cx) {
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::meters_read, subject)) return *r;
    const auto& t = cx.target;
    verrors errors;
    const auto page = positive_int_param(t, "page", 1, errors);
    const auto limit = clamp_limit(positive_int_param(t, "limit", 10, errors));
    std::vector<std::pair<bool, bool>> sorting;  // (descending, by_name)
    const auto sort_values = t.all("sorting");
    for (std::size_t i = 0; i < sort_values.size(); ++i) {
        const auto& s = sort_values[i];
        if (s == "created_at" || s == "-created_at" || s == "name" || s == "-name")
            sorting.emplace_back(s.front() == '-', s.find("name") != std::string::npos);
        else
            errors.push_back(enum_error(loc_t{"query", "sorting", static_cast<std::int64_t>(i)}, json::string(s),
                                        {"created_at", "-created_at", "name", "-name"}));
    }
    if (sort_values.empty()) sorting.emplace_back(false, true);
    const auto metadata = metadata_query(t);
    const auto org_filter = uuid4_list_param(t, "organization_id", errors);
    const auto is_archived = bool_param(t, "is_archived", errors);
    const std::string* query = t.last("query");
    if (!errors.empty()) return validation_response(errors);

    std::vector<const meter*> rows;
    for (const auto& m : cx.st.meters) {
        if (!subject.sees(m.organization_id)) continue;
        if (!org_filter.empty() &&
            std::find(org_filter.begin(), org_filter.end(), m.organization_id) == org_filter.end())
            continue;
        if (is_archived && m.archived_at.has_value() != *is_archived) continue;
        // ILIKE '%q%': this query is not escaped, `%`/`_` stay wildcards (§3.1).
        if (query && !like_contains(m.name, *query, true)) continue;
        bool ok = true;
        for (const auto& [key, values] : metadata) {
            auto it = m.metadata.find(key);
            if (it == m.metadata.end() || it->value().is_null() ||
                std::find(values.begin(), values.end(), jsonb_text(it->value())) == values.end()) {
                ok = false;
                break;
            }
        }
        if (ok) rows.push_back(&m);
    }
    std::stable_sort(rows.begin(), rows.end(), [&](const meter* a, const meter* b) {
        for (const auto& [desc, by_name] : sorting) {
            if (by_name) {
                if (a->name == b->name) continue;
                return desc ? b->name < a->name : a->name < b->name;
            }
            if (a->created_at == b->created_at) continue;
            return desc ? b->created_at < a->created_at : a->created_at < b->created_at;
        }
        return false;
    });
    const auto w = paginate_counted(rows.size(), page, limit);
    std::string body = "{\"items\":[";
    for (std::size_t i = w.begin; i < w.end; ++i) {
        if (i > w.begin) body.push_back(',');
        body.append(dated_meter_json(*rows[i]));
    }
    append_page_envelope_end(body, w.total, limit);
    return json_response(200, std::move(body));
}

// The MeterCreate model validator (mode "after"): only custom_label is
// checked, so a custom_multiplier with another unit is accepted and stored.
// UNCONFIRMED: the loc (["body"]) and the end of both messages.
inline void check_meter_units(const meter_create_input& in, const json::value& body, verrors& errors) {
    const std::string unit = in.units.unit.value_or("scalar");
    if (unit == "custom" && !in.units.custom_label)
        errors.push_back(make_error("value_error", loc_t{"body"},
                                    "Value error, custom_label is required when unit is custom.", body,
                                    json::object{{"error", json::object{}}}));
    else if (unit != "custom" && in.units.custom_label)
        errors.push_back(make_error("value_error", loc_t{"body"},
                                    "Value error, custom_label and custom_multiplier are only allowed when unit is custom.",
                                    body, json::object{{"error", json::object{}}}));
}

// POST /v1/meters/ (dated)
inline emulator_response create_meter_dated(handler_context& cx) {
    const auto body = decode_body(cx.req);
    if (body.what == body_outcome::json_error || body.what == body_outcome::unreadable)
        return body_decode_failure(body);
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::meters_write, subject)) return *r;
    verrors errors;
    std::optional<meter_create_input> in;
    if (body_present(body, errors)) in = validate_meter_create(body.doc, errors, true);
    if (in && in->units.unit_given && !in->units.unit) {
        // `unit` is not nullable on create.
        errors.push_back(enum_error(loc_t{"body", "unit"}, nullptr, {"scalar", "token", "custom"}));
        in.reset();
    }
    if (in) check_meter_units(*in, body.doc, errors);
    if (!errors.empty() || !in) return validation_response(errors);

    const json::value* org_input = field(body.doc.get_object(), "organization_id");
    auto org = resolve_organization(subject, in->organization_id, in->organization_id_given,
                                    org_input ? *org_input : json::value(nullptr), loc_t{"body", "organization_id"},
                                    errors);
    if (!org) return validation_response(errors, "PolarRequestValidationError");

    meter m;
    m.id = cx.self.new_id();
    m.organization_id = *org;
    m.name = std::move(in->name);
    m.unit = in->units.unit.value_or("scalar");
    m.custom_label = std::move(in->units.custom_label);
    m.custom_multiplier = in->units.custom_multiplier;
    m.filter = std::move(in->filter);
    m.agg = std::move(in->agg);
    m.metadata = std::move(in->metadata);
    m.created_at = cx.self.now();
    m.dated = true;
    if (const event* e = newest_dated_matching_event(cx.st, m, false)) m.last_billed_event_id = e->id;
    cx.st.add_meter(std::move(m));
    return json_response(201, dated_meter_json(cx.st.meters.back()));
}

// PATCH /v1/meters/{id} (dated)
inline emulator_response update_meter_dated(handler_context& cx, const std::string& raw_id) {
    const auto body = decode_body(cx.req);
    if (body.what == body_outcome::json_error || body.what == body_outcome::unreadable)
        return body_decode_failure(body);
    auth_subject subject;
    if (auto r = authenticate(cx.st, cx.req.authorization, required_scope::meters_write, subject)) return *r;
    verrors errors;
    auto id = validate_uuid4(json::string(raw_id), loc_t{"path", "id"}, errors);
    std::optional<meter_update_input> in;
    if (body_present(body, errors)) in = validate_meter_update(body.doc, errors, true);
    if (!errors.empty() || !id || !in) return validation_response(errors);

    if (!visible_meter(cx.st, subject, *id)) return resource_not_found();
    meter& m = cx.st.meters[cx.st.meter_by_id.find(*id)->second];

    if (m.last_billed_event_id) {
        static constexpr std::string_view msg = "This field can't be updated because the meter is already aggregating events.";
        if (in->filter_given)
            errors.push_back(make_error("forbidden", loc_t{"body", "filter"}, std::string(msg), in->filter_input));
        if (in->aggregation_given)
            errors.push_back(
                make_error("forbidden", loc_t{"body", "aggregation"}, std::string(msg), in->aggregation_input));
        if (!errors.empty()) return validation_response(errors, "PolarRequestValidationError");
    }
    // The archive rules (a metered price on an active product, a meter_credit
    // benefit) never trigger: the emulator has no products or benefits.
    //
    // `name: null` and `unit: null` are written into NOT NULL columns: an
    // unhandled database error (UNCONFIRMED status in the spec): 500.
    if ((in->name_given && !in->name) || (in->units.unit_given && !in->units.unit)) return server_error_response();

    bool changed = false;
    auto set = [&](auto& field_ref, auto value) {
        if (field_ref != value) {
            field_ref = std::move(value);
            changed = true;
        }
    };
    if (in->name) set(m.name, std::move(*in->name));
    // Set as given, explicit null included; no cross-field check on update.
    if (in->units.unit) set(m.unit, *in->units.unit);
    if (in->units.label_given) set(m.custom_label, in->units.custom_label);
    if (in->units.multiplier_given) set(m.custom_multiplier, in->units.custom_multiplier);
    if (in->metadata) set(m.metadata, std::move(*in->metadata));
    if (in->filter && filter_to_json(*in->filter) != filter_to_json(m.filter)) {
        m.filter = std::move(*in->filter);
        changed = true;
    }
    if (in->agg && aggregation_to_json(*in->agg) != aggregation_to_json(m.agg)) {
        m.agg = std::move(*in->agg);
        changed = true;
    }
    if (in->is_archived) {
        // Archiving re-stamps archived_at even when already archived.
        if (*in->is_archived)
            set(m.archived_at, std::optional<micros>(cx.self.now()));
        else
            set(m.archived_at, std::optional<micros>());
    }
    if (changed) {
        m.modified_at = cx.self.now();
        m.json_text = meter_json(m);
    }
    return json_response(200, dated_meter_json(m));
}

} // namespace polar::testing::emu

#endif
