#ifndef POLAR_DETAIL_CODEC_DOM_EVENTS_IPP
#define POLAR_DETAIL_CODEC_DOM_EVENTS_IPP

// The DOM reference decoder, part 3: events, ingestion, quantities, pages,
// customer meters and the entry points (dom::decode_dom()).
#include <polar/detail/codec/dom/models.ipp>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace dom {

// break decoding.
inline bool read_user_event_metadata(reader& r, const bj::value& v, event& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    out.metadata.clear();
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (!k.empty() && k[0] == '_' && !x.is_string() && !x.is_number() && !x.is_bool()) {
            if (k == "_llm" && x.is_object()) {
                if (!read_llm(r, x, out.llm.emplace())) return r.at_key(k);
            } else if (k == "_cost" && x.is_object()) {
                if (!read_cost(r, x, out.cost.emplace())) return r.at_key(k);
            }
            continue;
        }
        auto it = out.metadata.try_emplace(out.metadata.end(), std::string(k));
        if (!r.scalar(x, it->second)) return r.at_key(k);
    }
    return true;
}

// The metadata of a system event (or of an unknown source): its typed
// object is kept whole in raw_json; `metadata` gets the top-level scalars.
inline bool read_other_event_metadata(reader& r, const bj::value& v, event& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    out.metadata.clear();
    for (const auto& kv : *o) {
        const bj::value& x = kv.value();
        if (x.is_string() || x.is_int64() || x.is_bool() || x.is_uint64() ||
            (x.is_double() && std::isfinite(x.get_double()))) {
            auto it = out.metadata.try_emplace(out.metadata.end(), std::string(kv.key()));
            r.scalar(x, it->second);
        }
    }
    return true;
}

// Event = SystemEvent | UserEvent, discriminated by `source`, then (system)
// by `name`. The common fields are read for every event; `metadata` once
// `source` is known (keys come in any order).
inline bool read_event(reader& r, const bj::value& v, event& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"id", "timestamp", "name", "source",
                                                    "organization_id", "metadata"};
    unsigned seen = 0;
    const bj::value* metadata = nullptr;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "id") {
            if (!r.str(x, out.id)) return r.at_key(k);
            seen |= 1u << 0;
        } else if (k == "timestamp") {
            if (!r.time(x, out.timestamp)) return r.at_key(k);
            seen |= 1u << 1;
        } else if (k == "name") {
            if (!r.str(x, out.name)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "source") {
            if (!r.enumeration(x, out.source)) return r.at_key(k);
            seen |= 1u << 3;
        } else if (k == "organization_id") {
            if (!r.str(x, out.organization_id)) return r.at_key(k);
            seen |= 1u << 4;
        } else if (k == "metadata") {
            metadata = &x;
            seen |= 1u << 5;
        } else if (k == "customer_id") {
            if (!r.opt_str(x, out.customer_id)) return r.at_key(k);
        } else if (k == "external_customer_id") {
            if (!r.opt_str(x, out.external_customer_id)) return r.at_key(k);
        } else if (k == "customer") {
            if (x.is_null()) out.customer.reset();
            else if (!read_customer(r, x, out.customer.emplace())) return r.at_key(k);
        } else if (k == "label") {
            if (!r.str(x, out.label)) return r.at_key(k);
        } else if (k == "child_count") {
            if (!r.i64(x, out.child_count)) return r.at_key(k);
        } else if (k == "parent_id") {
            if (!r.opt_str(x, out.parent_id)) return r.at_key(k);
        } else if (k == "member_id") {
            if (!r.opt_str(x, out.member_id)) return r.at_key(k);
        } else if (k == "external_member_id") {
            if (!r.opt_str(x, out.external_member_id)) return r.at_key(k);
        }
    }
    if (!check_required(r, seen, required)) return false;
    if (out.source == event_source::user) {
        if (!read_user_event_metadata(r, *metadata, out)) return r.at_key("metadata");
    } else {
        if (!read_other_event_metadata(r, *metadata, out)) return r.at_key("metadata");
        out.raw_json = r.raw_text(v);
    }
    return true;
}

// EventMetadataInput: scalars, plus `_llm` and `_cost` objects, which go to
// event_create::llm and ::cost (the map is left unset when they were all it
// held, as the encoder writes them for an unset map).
inline bool read_event_create_metadata(reader& r, const bj::value& v, event_create& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    metadata& md = out.metadata.emplace();
    bool structured = false;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "_llm" && x.is_object()) {
            if (!read_llm(r, x, out.llm.emplace())) return r.at_key(k);
            structured = true;
        } else if (k == "_cost" && x.is_object()) {
            if (!read_cost(r, x, out.cost.emplace())) return r.at_key(k);
            structured = true;
        } else {
            auto it = md.try_emplace(md.end(), std::string(k));
            if (!r.scalar(x, it->second)) return r.at_key(k);
        }
    }
    if (structured && md.empty()) out.metadata.reset();
    return true;
}

inline bool read_event_create(reader& r, const bj::value& v, event_create& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"name"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        const bj::value& x = kv.value();
        if (k == "name") {
            if (!r.str(x, out.name)) return r.at_key(k);
            seen |= 1u;
        } else if (k == "customer_id") {
            if (!r.str(x, out.customer_id.emplace())) return r.at_key(k);
        } else if (k == "external_customer_id") {
            if (!r.str(x, out.external_customer_id.emplace())) return r.at_key(k);
        } else if (k == "timestamp") {
            if (!r.time(x, out.timestamp.emplace())) return r.at_key(k);
        } else if (k == "metadata") {
            if (!read_event_create_metadata(r, x, out)) return r.at_key(k);
        } else if (k == "organization_id") {
            if (!r.opt_str(x, out.organization_id)) return r.at_key(k);
        } else if (k == "external_id") {
            if (!r.opt_str(x, out.external_id)) return r.at_key(k);
        } else if (k == "parent_id") {
            if (!r.opt_str(x, out.parent_id)) return r.at_key(k);
        } else if (k == "member_id") {
            if (!r.opt_str(x, out.member_id)) return r.at_key(k);
        } else if (k == "external_member_id") {
            if (!r.opt_str(x, out.external_member_id)) return r.at_key(k);
        }
    }
    if (!check_required(r, seen, required)) return false;
    if (!out.customer_id && !out.external_customer_id)
        return r.fail("missing required field: customer_id or external_customer_id");
    return true;
}

inline bool read_events_ingest(reader& r, const bj::value& v, events_ingest& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    const bj::value* events = o->if_contains("events");
    if (!events) return r.missing("events");
    const bj::array* a = r.array(*events);
    if (!a) return r.at_key("events");
    out.events.clear();
    out.events.reserve(a->size());
    for (std::size_t i = 0; i < a->size(); ++i)
        if (!read_event_create(r, (*a)[i], out.events.emplace_back())) return r.at_index(i), r.at_key("events");
    return true;
}

inline bool read_ingest_response(reader& r, const bj::value& v, events_ingest_response& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    const bj::value* n = o->if_contains("inserted");
    if (!n) return r.missing("inserted");
    if (!r.i64(*n, out.inserted)) return r.at_key("inserted");
    // Dated API only; 0 when absent.
    if (const bj::value* d = o->if_contains("duplicates"))
        if (!r.i64(*d, out.duplicates)) return r.at_key("duplicates");
    return true;
}

// -- quantities and pages ------------------------------------------------------------

inline bool read_quantities(reader& r, const bj::value& v, meter_quantities& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    // Dated API only.
    if (const bj::value* t = o->if_contains("total"))
        if (!r.number(*t, out.total.emplace())) return r.at_key("total");
    const bj::value* q = o->if_contains("quantities");
    if (!q) return r.missing("quantities");
    const bj::array* a = r.array(*q);
    if (!a) return r.at_key("quantities");
    out.quantities.clear();
    out.quantities.reserve(a->size());
    static constexpr std::string_view required[] = {"timestamp", "quantity"};
    for (std::size_t i = 0; i < a->size(); ++i) {
        const bj::object* io = r.object((*a)[i]);
        if (!io) return r.at_index(i), r.at_key("quantities");
        meter_quantity& mq = out.quantities.emplace_back();
        unsigned seen = 0;
        for (const auto& kv : *io) {
            const std::string_view k = kv.key();
            if (k == "timestamp") {
                if (!r.time(kv.value(), mq.timestamp)) return r.at_key(k), r.at_index(i), r.at_key("quantities");
                seen |= 1u;
            } else if (k == "quantity") {
                if (!r.number(kv.value(), mq.quantity)) return r.at_key(k), r.at_index(i), r.at_key("quantities");
                seen |= 2u;
            }
        }
        if (!check_required(r, seen, required)) return r.at_index(i), r.at_key("quantities");
    }
    return true;
}

inline bool read_pagination(reader& r, const bj::value& v, pagination& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"total_count", "max_page"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        if (k == "total_count") {
            if (!r.i64(kv.value(), out.total_count)) return r.at_key(k);
            seen |= 1u;
        } else if (k == "max_page") {
            if (!r.i64(kv.value(), out.max_page)) return r.at_key(k);
            seen |= 2u;
        }
    }
    return check_required(r, seen, required);
}

template <class T, class ReadItem>
bool read_page(reader& r, const bj::value& v, page<T>& out, ReadItem read_item) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"items", "pagination"};
    unsigned seen = 0;
    for (const auto& kv : *o) {
        const std::string_view k = kv.key();
        if (k == "items") {
            const bj::array* a = r.array(kv.value());
            if (!a) return r.at_key(k);
            out.items.clear();
            out.items.reserve(a->size());
            for (std::size_t i = 0; i < a->size(); ++i) {
                r.set_item(static_cast<std::ptrdiff_t>(i));
                if (!read_item(r, (*a)[i], out.items.emplace_back())) return r.at_index(i), r.at_key(k);
            }
            r.set_item(-1);
            seen |= 1u;
        } else if (k == "pagination") {
            if (!read_pagination(r, kv.value(), out.pagination)) return r.at_key(k);
            seen |= 2u;
        }
    }
    return check_required(r, seen, required);
}

// -- customer meters ----------------------------------------------------------------

inline bool read_customer_meter(reader& r, const bj::value& v, customer_meter& out) {
    const bj::object* o = r.object(v);
    if (!o) return false;
    static constexpr std::string_view required[] = {"id",          "created_at",     "customer_id",
                                                    "meter_id",    "consumed_units", "credited_units",
                                                    "balance",     "customer",       "meter"};
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
        } else if (k == "customer_id") {
            if (!r.str(x, out.customer_id)) return r.at_key(k);
            seen |= 1u << 2;
        } else if (k == "meter_id") {
            if (!r.str(x, out.meter_id)) return r.at_key(k);
            seen |= 1u << 3;
        } else if (k == "consumed_units") {
            if (!r.number(x, out.consumed_units)) return r.at_key(k);
            seen |= 1u << 4;
        } else if (k == "credited_units") {
            if (!r.i64(x, out.credited_units)) return r.at_key(k);
            seen |= 1u << 5;
        } else if (k == "balance") {
            if (!r.number(x, out.balance)) return r.at_key(k);
            seen |= 1u << 6;
        } else if (k == "customer") {
            if (!read_customer(r, x, out.customer)) return r.at_key(k);
            seen |= 1u << 7;
        } else if (k == "meter") {
            if (!read_meter(r, x, out.meter)) return r.at_key(k);
            seen |= 1u << 8;
        }
    }
    return check_required(r, seen, required);
}


template <class T, class Read>
error_code decode_root(std::string_view body, T& out, std::string& what, Read read) noexcept {
    try {
        what.clear();
        bool ok = with_document(body, what, [&](const bj::value& root) {
            reader r;
            r.set_body(body);
            if (read(r, root, out)) return true;
            what = r.what();
            return false;
        });
        if (ok) return {};
    } catch (const std::bad_alloc&) {
        try { what = "out of memory while decoding the response"; } catch (...) {}
    } catch (const std::exception& e) {
        try { what = std::string("decoding failed: ") + e.what(); } catch (...) {}
    } catch (...) {
        try { what = "decoding failed"; } catch (...) {}
    }
    return make_error_code(errc::invalid_response);
}



inline error_code decode_dom(std::string_view body, meter& out, std::string& what) {
    out = meter();
    return decode_root(body, out, what, read_meter);
}

inline error_code decode_dom(std::string_view body, page<meter>& out, std::string& what) {
    out.items.clear();
    out.pagination = {};
    return decode_root(body, out, what, [](auto& r, const auto& v, page<meter>& p) {
        return read_page(r, v, p, read_meter);
    });
}

inline error_code decode_dom(std::string_view body, page<event>& out, std::string& what) {
    out.items.clear();
    out.pagination = {};
    return decode_root(body, out, what, [](auto& r, const auto& v, page<event>& p) {
        return read_page(r, v, p, read_event);
    });
}

inline error_code decode_dom(std::string_view body, page<customer_meter>& out, std::string& what) {
    out.items.clear();
    out.pagination = {};
    return decode_root(body, out, what, [](auto& r, const auto& v, page<customer_meter>& p) {
        return read_page(r, v, p, read_customer_meter);
    });
}

inline error_code decode_dom(std::string_view body, customer_meter& out, std::string& what) {
    out = customer_meter();
    return decode_root(body, out, what, read_customer_meter);
}

inline error_code decode_dom(std::string_view body, meter_quantities& out, std::string& what) {
    out = meter_quantities();
    return decode_root(body, out, what, read_quantities);
}

inline error_code decode_dom(std::string_view body, events_ingest_response& out, std::string& what) {
    out = events_ingest_response();
    return decode_root(body, out, what, read_ingest_response);
}

inline error_code decode_dom(std::string_view body, event& out, std::string& what) {
    out = event();
    return decode_root(body, out, what, read_event);
}

inline error_code decode_dom(std::string_view body, customer& out, std::string& what) {
    out = customer();
    return decode_root(body, out, what, read_customer);
}

inline error_code decode_dom(std::string_view body, address& out, std::string& what) {
    out = address();
    return decode_root(body, out, what, read_address);
}

inline error_code decode_dom(std::string_view body, filter& out, std::string& what) {
    out = filter();
    return decode_root(body, out, what, [](auto& r, const auto& v, filter& f) {
        return read_filter(r, v, f, 1);
    });
}

inline error_code decode_dom(std::string_view body, aggregation& out, std::string& what) {
    out = aggregation();
    return decode_root(body, out, what, read_aggregation);
}

inline error_code decode_dom(std::string_view body, pagination& out, std::string& what) {
    out = pagination();
    return decode_root(body, out, what, read_pagination);
}

inline error_code decode_dom(std::string_view body, meter_create& out, std::string& what) {
    out = meter_create();
    return decode_root(body, out, what, read_meter_create);
}

inline error_code decode_dom(std::string_view body, meter_update& out, std::string& what) {
    out = meter_update();
    return decode_root(body, out, what, read_meter_update);
}

inline error_code decode_dom(std::string_view body, event_create& out, std::string& what) {
    out = event_create();
    return decode_root(body, out, what, read_event_create);
}

inline error_code decode_dom(std::string_view body, events_ingest& out, std::string& what) {
    out = events_ingest();
    return decode_root(body, out, what, read_events_ingest);
}


} // namespace dom
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
