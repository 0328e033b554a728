#ifndef POLAR_DETAIL_CODEC_ENCODE_IPP
#define POLAR_DETAIL_CODEC_ENCODE_IPP

// Encoding: compact JSON written straight into a std::string (no DOM).

#include <polar/detail/codec/codec.hpp>
#include <polar/detail/codec/utf8.ipp>

#include <polar/error.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace polar {
namespace detail {
namespace json_encode_impl {

class writer {
public:
    explicit writer(std::string& out) noexcept : out_(out) {}

    void raw(std::string_view s) { out_.append(s.data(), s.size()); }
    void raw(char c) { out_.push_back(c); }

    // A JSON string. Bytes that are not valid UTF-8 become U+FFFD.
    void str(std::string_view s) {
        out_.push_back('"');
        std::size_t run = 0; // start of the pending run of bytes copied verbatim
        std::size_t i = 0;
        while (i < s.size()) {
            const auto c = static_cast<unsigned char>(s[i]);
            if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
                ++i;
                continue;
            }
            if (c >= 0x80) {
                const std::size_t n = utf8::sequence_length(s, i);
                if (n != 0) {
                    i += n;
                    continue;
                }
            }
            out_.append(s.data() + run, i - run);
            switch (c) {
            case '"': out_.append("\\\"", 2); break;
            case '\\': out_.append("\\\\", 2); break;
            case '\b': out_.append("\\b", 2); break;
            case '\f': out_.append("\\f", 2); break;
            case '\n': out_.append("\\n", 2); break;
            case '\r': out_.append("\\r", 2); break;
            case '\t': out_.append("\\t", 2); break;
            default:
                if (c < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                    out_.append(esc, 6);
                } else {
                    out_.append("\\ufffd", 6); // invalid UTF-8 byte
                }
            }
            run = ++i;
        }
        out_.append(s.data() + run, s.size() - run);
        out_.push_back('"');
    }

    // `"key":` for keys known to need no escaping.
    void key(std::string_view k) {
        out_.push_back('"');
        out_.append(k.data(), k.size());
        out_.append("\":", 2);
    }
    // `,"key":` unless first.
    void member(bool& first, std::string_view k) {
        if (!first) out_.push_back(',');
        first = false;
        key(k);
    }

    void i64(std::int64_t v) {
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        out_.append(buf, static_cast<std::size_t>(r.ptr - buf));
    }
    // Shortest round-trip form, with ".0" on integral values like the server
    // writes them; JSON has no NaN or infinity, so those become null.
    void number(double v) {
        if (!std::isfinite(v)) {
            out_.append("null", 4);
            return;
        }
        char buf[40];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        const std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
        out_.append(s.data(), s.size());
        if (s.find_first_of(".e") == std::string_view::npos) out_.append(".0", 2);
    }
    void boolean(bool v) {
        if (v) out_.append("true", 4);
        else out_.append("false", 5);
    }
    void null() { out_.append("null", 4); }
    void time(timestamp t) {
        char buf[timestamp_buffer_size + 2];
        buf[0] = '"';
        const std::size_t n = detail::format_timestamp(t, buf + 1);
        buf[n + 1] = '"';
        out_.append(buf, n + 2);
    }
    void opt_time(const std::optional<timestamp>& t) {
        if (t) time(*t);
        else null();
    }
    void opt_str(const std::optional<std::string>& s) {
        if (s) str(*s);
        else null();
    }
    // A metadata double: like number(), but NaN and infinities are an error
    // (null is written in their place so that the text stays JSON).
    void metadata_double(double v, std::string_view key) {
        if (!std::isfinite(v)) {
            fail_metadata(key);
            null();
            return;
        }
        number(v);
    }
    void scalar(const metadata_value& v, std::string_view key) {
        switch (v.index()) {
        case 0: str(*std::get_if<0>(&v)); break;
        case 1: i64(*std::get_if<1>(&v)); break;
        case 2: boolean(*std::get_if<2>(&v)); break;
        case 3: metadata_double(*std::get_if<3>(&v), key); break;
        default: null(); break; // valueless_by_exception
        }
    }
    void scalar(const filter_value& v) {
        switch (v.index()) {
        case 0: str(*std::get_if<0>(&v)); break;
        case 1: i64(*std::get_if<1>(&v)); break;
        case 2: boolean(*std::get_if<2>(&v)); break;
        default: null(); break; // valueless_by_exception
        }
    }
    // The entries of a metadata map, without braces; `skip_llm` / `skip_cost`
    // leave out the keys `_llm` / `_cost` (written from the structures).
    void meta_entries(const metadata& m, bool& first, bool skip_llm = false, bool skip_cost = false) {
        for (const auto& [k, v] : m) {
            if ((skip_llm && k == "_llm") || (skip_cost && k == "_cost")) continue;
            if (!first) out_.push_back(',');
            first = false;
            str(k);
            out_.push_back(':');
            scalar(v, k);
        }
    }
    void meta(const metadata& m) {
        out_.push_back('{');
        bool first = true;
        meta_entries(m, first);
        out_.push_back('}');
    }

    // -- errors ---------------------------------------------------------------
    bool failed() const noexcept { return !error_.empty(); }
    const std::string& error() const noexcept { return error_; }
    POLAR_COLD void fail_metadata(std::string_view key) {
        if (failed()) return;
        error_ = "metadata.";
        error_.append(key.data(), key.size());
        error_ += ": NaN or infinity cannot be encoded as JSON";
    }
    // Runs f(); prefixes a failure it caused with the path `prefix`.
    template <class F>
    void nested(std::string_view prefix, F&& f) {
        const bool had = failed();
        f();
        if (!had && failed()) prefix_error(prefix, std::string_view());
    }
    template <class F>
    void nested(std::string_view array, std::size_t i, F&& f) {
        const bool had = failed();
        f();
        if (!had && failed()) prefix_error(array, std::to_string(i));
    }

private:
    POLAR_COLD void prefix_error(std::string_view key, std::string_view index) {
        std::string p(key);
        if (!index.empty()) {
            p += '[';
            p.append(index.data(), index.size());
            p += ']';
        }
        p += '.';
        error_.insert(0, p);
    }

    std::string& out_;
    std::string error_;
};

inline void write_filter(writer& w, const filter& f);

inline void write_clause(writer& w, const filter_clause& c) {
    w.raw("{\"property\":");
    w.str(c.property);
    w.raw(",\"operator\":");
    w.str(c.op.wire());
    w.raw(",\"value\":");
    w.scalar(c.value);
    w.raw('}');
}

inline void write_filter(writer& w, const filter& f) {
    w.raw("{\"conjunction\":");
    w.str(f.conjunction.wire());
    w.raw(",\"clauses\":[");
    bool first = true;
    for (const filter_node& n : f.clauses) {
        if (!first) w.raw(',');
        first = false;
        if (n.is_clause()) write_clause(w, n.as_clause());
        else write_filter(w, n.as_filter());
    }
    w.raw("]}");
}

inline void write_aggregation(writer& w, const aggregation& a) {
    w.raw("{\"func\":");
    w.str(a.func_name());
    if (a.is_property_aggregation() || (a.is_unknown() && !a.property().empty())) {
        w.raw(",\"property\":");
        w.str(a.property());
    }
    w.raw('}');
}

inline void write_meter(writer& w, const meter& m) {
    w.raw("{\"id\":");
    w.str(m.id);
    w.raw(",\"created_at\":");
    w.time(m.created_at);
    w.raw(",\"modified_at\":");
    w.opt_time(m.modified_at);
    w.raw(",\"metadata\":");
    w.meta(m.metadata);
    w.raw(",\"name\":");
    w.str(m.name);
    w.raw(",\"filter\":");
    write_filter(w, m.filter);
    w.raw(",\"aggregation\":");
    write_aggregation(w, m.aggregation);
    w.raw(",\"organization_id\":");
    w.str(m.organization_id);
    w.raw(",\"unit\":");
    w.str(m.unit.wire());
    w.raw(",\"custom_label\":");
    w.opt_str(m.custom_label);
    w.raw(",\"custom_multiplier\":");
    if (m.custom_multiplier) w.i64(*m.custom_multiplier);
    else w.null();
    w.raw(",\"archived_at\":");
    w.opt_time(m.archived_at);
    w.raw('}');
}

inline void write_meter_create(writer& w, const meter_create& m) {
    w.raw("{\"name\":");
    w.str(m.name);
    w.raw(",\"filter\":");
    write_filter(w, m.filter);
    w.raw(",\"aggregation\":");
    write_aggregation(w, m.aggregation);
    if (m.metadata) {
        w.raw(",\"metadata\":");
        w.meta(*m.metadata);
    }
    if (m.organization_id) {
        w.raw(",\"organization_id\":");
        w.str(*m.organization_id);
    }
    if (m.unit) {
        w.raw(",\"unit\":");
        w.str(m.unit->wire());
    }
    if (m.custom_label) {
        w.raw(",\"custom_label\":");
        w.str(*m.custom_label);
    }
    if (m.custom_multiplier) {
        w.raw(",\"custom_multiplier\":");
        w.i64(*m.custom_multiplier);
    }
    w.raw('}');
}

inline void write_meter_update(writer& w, const meter_update& m) {
    w.raw('{');
    bool first = true;
    if (m.name) {
        w.member(first, "name");
        w.str(*m.name);
    }
    if (!m.filter.is_absent()) {
        w.member(first, "filter");
        if (const filter* f = m.filter.get()) write_filter(w, *f);
        else w.null();
    }
    if (!m.aggregation.is_absent()) {
        w.member(first, "aggregation");
        if (const aggregation* a = m.aggregation.get()) write_aggregation(w, *a);
        else w.null();
    }
    if (m.metadata) {
        w.member(first, "metadata");
        w.meta(*m.metadata);
    }
    if (!m.unit.is_absent()) {
        w.member(first, "unit");
        if (const auto* u = m.unit.get()) w.str(u->wire());
        else w.null();
    }
    if (!m.custom_label.is_absent()) {
        w.member(first, "custom_label");
        if (const std::string* l = m.custom_label.get()) w.str(*l);
        else w.null();
    }
    if (!m.custom_multiplier.is_absent()) {
        w.member(first, "custom_multiplier");
        if (const std::int64_t* n = m.custom_multiplier.get()) w.i64(*n);
        else w.null();
    }
    if (m.is_archived) {
        w.member(first, "is_archived");
        w.boolean(*m.is_archived);
    }
    w.raw('}');
}

inline void write_address(writer& w, const address& a) {
    w.raw("{\"line1\":");
    w.opt_str(a.line1);
    w.raw(",\"line2\":");
    w.opt_str(a.line2);
    w.raw(",\"postal_code\":");
    w.opt_str(a.postal_code);
    w.raw(",\"city\":");
    w.opt_str(a.city);
    w.raw(",\"state\":");
    w.opt_str(a.state);
    w.raw(",\"country\":");
    w.str(a.country);
    w.raw('}');
}

inline void write_customer(writer& w, const customer& c) {
    w.raw("{\"id\":");
    w.str(c.id);
    w.raw(",\"created_at\":");
    w.time(c.created_at);
    w.raw(",\"modified_at\":");
    w.opt_time(c.modified_at);
    w.raw(",\"metadata\":");
    w.meta(c.metadata);
    w.raw(",\"external_id\":");
    w.opt_str(c.external_id);
    w.raw(",\"email\":");
    if (c.email.empty() && c.type != customer_type::individual) w.null();
    else w.str(c.email);
    w.raw(",\"email_verified\":");
    w.boolean(c.email_verified);
    w.raw(",\"name\":");
    w.opt_str(c.name);
    w.raw(",\"billing_address\":");
    if (c.billing_address) write_address(w, *c.billing_address);
    else w.null();
    w.raw(",\"tax_id\":");
    if (c.tax_id) {
        w.raw('[');
        w.str(c.tax_id->value);
        w.raw(',');
        w.str(c.tax_id->format.wire());
        w.raw(']');
    } else {
        w.null();
    }
    w.raw(",\"organization_id\":");
    w.str(c.organization_id);
    w.raw(",\"deleted_at\":");
    w.opt_time(c.deleted_at);
    w.raw(",\"avatar_url\":");
    w.str(c.avatar_url);
    w.raw(",\"type\":");
    w.str(c.type.wire());
    w.raw(",\"billing_name\":");
    w.opt_str(c.billing_name);
    w.raw(",\"locale\":");
    w.opt_str(c.locale);
    w.raw(",\"default_payment_method_id\":");
    w.opt_str(c.default_payment_method_id);
    w.raw(",\"first_user_event_at\":");
    w.opt_time(c.first_user_event_at);
    w.raw('}');
}

inline void write_llm(writer& w, const llm_metadata& l) {
    w.raw("{\"vendor\":");
    w.str(l.vendor);
    w.raw(",\"model\":");
    w.str(l.model);
    w.raw(",\"input_tokens\":");
    w.i64(l.input_tokens);
    w.raw(",\"output_tokens\":");
    w.i64(l.output_tokens);
    w.raw(",\"total_tokens\":");
    w.i64(l.total_tokens);
    if (l.prompt) {
        w.raw(",\"prompt\":");
        w.str(*l.prompt);
    }
    if (l.response) {
        w.raw(",\"response\":");
        w.str(*l.response);
    }
    if (l.cached_input_tokens) {
        w.raw(",\"cached_input_tokens\":");
        w.i64(*l.cached_input_tokens);
    }
    w.raw('}');
}

inline void write_cost(writer& w, const cost_metadata& c) {
    w.raw("{\"amount\":");
    w.str(c.amount);
    w.raw(",\"currency\":");
    w.str(c.currency);
    w.raw('}');
}

// A metadata object with the structured keys `_llm` and `_cost`.
inline void write_event_metadata(writer& w, const metadata* m, const std::optional<llm_metadata>& llm,
                                 const std::optional<cost_metadata>& cost) {
    w.raw('{');
    bool first = true;
    if (m) w.meta_entries(*m, first, llm.has_value(), cost.has_value());
    if (llm) {
        w.member(first, "_llm");
        write_llm(w, *llm);
    }
    if (cost) {
        w.member(first, "_cost");
        write_cost(w, *cost);
    }
    w.raw('}');
}

inline void write_event(writer& w, const event& e) {
    if (!e.raw_json.empty()) {
        w.raw(e.raw_json);
        return;
    }
    w.raw("{\"id\":");
    w.str(e.id);
    w.raw(",\"timestamp\":");
    w.time(e.timestamp);
    w.raw(",\"name\":");
    w.str(e.name);
    w.raw(",\"source\":");
    w.str(e.source.wire());
    w.raw(",\"organization_id\":");
    w.str(e.organization_id);
    w.raw(",\"customer_id\":");
    w.opt_str(e.customer_id);
    w.raw(",\"external_customer_id\":");
    w.opt_str(e.external_customer_id);
    w.raw(",\"customer\":");
    if (e.customer) w.nested("customer", [&] { write_customer(w, *e.customer); });
    else w.null();
    w.raw(",\"metadata\":");
    write_event_metadata(w, &e.metadata, e.llm, e.cost);
    w.raw(",\"label\":");
    w.str(e.label);
    w.raw(",\"child_count\":");
    w.i64(e.child_count);
    w.raw(",\"parent_id\":");
    w.opt_str(e.parent_id);
    w.raw(",\"member_id\":");
    w.opt_str(e.member_id);
    w.raw(",\"external_member_id\":");
    w.opt_str(e.external_member_id);
    w.raw('}');
}

inline void write_event_create(writer& w, const event_create& e) {
    w.raw("{\"name\":");
    w.str(e.name);
    if (e.customer_id) {
        w.raw(",\"customer_id\":");
        w.str(*e.customer_id);
    }
    if (e.external_customer_id) {
        w.raw(",\"external_customer_id\":");
        w.str(*e.external_customer_id);
    }
    if (e.timestamp) {
        w.raw(",\"timestamp\":");
        w.time(*e.timestamp);
    }
    if (e.metadata || e.llm || e.cost) {
        w.raw(",\"metadata\":");
        write_event_metadata(w, e.metadata ? &*e.metadata : nullptr, e.llm, e.cost);
    }
    if (e.organization_id) {
        w.raw(",\"organization_id\":");
        w.str(*e.organization_id);
    }
    if (e.external_id) {
        w.raw(",\"external_id\":");
        w.str(*e.external_id);
    }
    if (e.parent_id) {
        w.raw(",\"parent_id\":");
        w.str(*e.parent_id);
    }
    if (e.member_id) {
        w.raw(",\"member_id\":");
        w.str(*e.member_id);
    }
    if (e.external_member_id) {
        w.raw(",\"external_member_id\":");
        w.str(*e.external_member_id);
    }
    w.raw('}');
}

inline void write_customer_meter(writer& w, const customer_meter& c) {
    w.raw("{\"id\":");
    w.str(c.id);
    w.raw(",\"created_at\":");
    w.time(c.created_at);
    w.raw(",\"modified_at\":");
    w.opt_time(c.modified_at);
    w.raw(",\"customer_id\":");
    w.str(c.customer_id);
    w.raw(",\"meter_id\":");
    w.str(c.meter_id);
    w.raw(",\"consumed_units\":");
    w.number(c.consumed_units);
    w.raw(",\"credited_units\":");
    w.i64(c.credited_units);
    w.raw(",\"balance\":");
    w.number(c.balance);
    w.raw(",\"customer\":");
    w.nested("customer", [&] { write_customer(w, c.customer); });
    w.raw(",\"meter\":");
    w.nested("meter", [&] { write_meter(w, c.meter); });
    w.raw('}');
}

inline void write_pagination(writer& w, const pagination& p) {
    w.raw("{\"total_count\":");
    w.i64(p.total_count);
    w.raw(",\"max_page\":");
    w.i64(p.max_page);
    w.raw('}');
}

template <class T, class WriteItem>
void write_page(writer& w, const page<T>& p, WriteItem write_item) {
    w.raw("{\"items\":[");
    bool first = true;
    std::size_t i = 0;
    for (const T& item : p.items) {
        if (!first) w.raw(',');
        first = false;
        w.nested("items", i++, [&] { write_item(w, item); });
    }
    w.raw("],\"pagination\":");
    write_pagination(w, p.pagination);
    w.raw('}');
}

POLAR_COLD inline void throw_encode_error(std::string what) {
    diagnostics diag;
    diag.message = std::move(what);
    throw api_error(make_error_code(errc::invalid_argument), std::move(diag));
}

template <class T, class Write>
std::string encode_with(const T& v, std::size_t reserve, Write write) {
    std::string out;
    out.reserve(reserve);
    writer w(out);
    write(w, v);
    if (w.failed()) throw_encode_error(w.error());
    return out;
}

template <class T, class Write>
error_code encode_to(const T& v, std::size_t reserve, std::string& out, std::string& what, Write write) {
    out.clear();
    what.clear();
    out.reserve(reserve);
    writer w(out);
    write(w, v);
    if (!w.failed()) return {};
    what = w.error();
    out.clear();
    return make_error_code(errc::invalid_argument);
}

inline void write_events_ingest(writer& w, const events_ingest& in) {
    w.raw("{\"events\":[");
    bool first = true;
    std::size_t i = 0;
    for (const event_create& e : in.events) {
        if (!first) w.raw(',');
        first = false;
        w.nested("events", i++, [&] { write_event_create(w, e); });
    }
    w.raw("]}");
}

} // namespace json_encode_impl

POLAR_DECL std::string encode(const meter_create& v) {
    return json_encode_impl::encode_with(v, 256, json_encode_impl::write_meter_create);
}

POLAR_DECL std::string encode(const meter_update& v) {
    return json_encode_impl::encode_with(v, 128, json_encode_impl::write_meter_update);
}

POLAR_DECL std::string encode(const events_ingest& v) {
    return json_encode_impl::encode_with(v, 16 + v.events.size() * 160, json_encode_impl::write_events_ingest);
}

POLAR_DECL std::string encode(const event_create& v) {
    return json_encode_impl::encode_with(v, 160, json_encode_impl::write_event_create);
}

POLAR_DECL std::string encode(const meter& v) {
    return json_encode_impl::encode_with(v, 384, json_encode_impl::write_meter);
}

POLAR_DECL std::string encode(const page<meter>& v) {
    return json_encode_impl::encode_with(v, 64 + v.items.size() * 384, [](auto& w, const page<meter>& p) {
        json_encode_impl::write_page(w, p, json_encode_impl::write_meter);
    });
}

POLAR_DECL std::string encode(const page<event>& v) {
    return json_encode_impl::encode_with(v, 64 + v.items.size() * 512, [](auto& w, const page<event>& p) {
        json_encode_impl::write_page(w, p, json_encode_impl::write_event);
    });
}

POLAR_DECL std::string encode(const page<customer_meter>& v) {
    return json_encode_impl::encode_with(v, 64 + v.items.size() * 1024, [](auto& w, const page<customer_meter>& p) {
        json_encode_impl::write_page(w, p, json_encode_impl::write_customer_meter);
    });
}

POLAR_DECL std::string encode(const customer_meter& v) {
    return json_encode_impl::encode_with(v, 1024, json_encode_impl::write_customer_meter);
}

POLAR_DECL std::string encode(const event& v) {
    return json_encode_impl::encode_with(v, 512, json_encode_impl::write_event);
}

POLAR_DECL std::string encode(const customer& v) {
    return json_encode_impl::encode_with(v, 512, json_encode_impl::write_customer);
}

POLAR_DECL std::string encode(const address& v) {
    return json_encode_impl::encode_with(v, 128, json_encode_impl::write_address);
}

POLAR_DECL std::string encode(const meter_quantities& v) {
    return json_encode_impl::encode_with(v, 16 + v.quantities.size() * 56, [](auto& w, const meter_quantities& q) {
        w.raw("{\"quantities\":[");
        bool first = true;
        for (const meter_quantity& mq : q.quantities) {
            if (!first) w.raw(',');
            first = false;
            w.raw("{\"timestamp\":");
            w.time(mq.timestamp);
            w.raw(",\"quantity\":");
            w.number(mq.quantity);
            w.raw('}');
        }
        w.raw(']');
        if (q.total) {
            w.raw(",\"total\":");
            w.number(*q.total);
        }
        w.raw('}');
    });
}

POLAR_DECL std::string encode(const events_ingest_response& v) {
    return json_encode_impl::encode_with(v, 32, [](auto& w, const events_ingest_response& r) {
        w.raw("{\"inserted\":");
        w.i64(r.inserted);
        w.raw(",\"duplicates\":");
        w.i64(r.duplicates);
        w.raw('}');
    });
}

POLAR_DECL std::string encode(const filter& v) {
    return json_encode_impl::encode_with(v, 128, json_encode_impl::write_filter);
}

POLAR_DECL std::string encode(const aggregation& v) {
    return json_encode_impl::encode_with(v, 48, json_encode_impl::write_aggregation);
}

POLAR_DECL std::string encode(const pagination& v) {
    return json_encode_impl::encode_with(v, 48, json_encode_impl::write_pagination);
}

POLAR_DECL error_code encode(const meter_create& v, std::string& out, std::string& what) {
    return json_encode_impl::encode_to(v, 256, out, what, json_encode_impl::write_meter_create);
}

POLAR_DECL error_code encode(const meter_update& v, std::string& out, std::string& what) {
    return json_encode_impl::encode_to(v, 128, out, what, json_encode_impl::write_meter_update);
}

POLAR_DECL error_code encode(const events_ingest& v, std::string& out, std::string& what) {
    return json_encode_impl::encode_to(v, 16 + v.events.size() * 160, out, what,
                                       json_encode_impl::write_events_ingest);
}

POLAR_DECL error_code encode(const event_create& v, std::string& out, std::string& what) {
    return json_encode_impl::encode_to(v, 160, out, what, json_encode_impl::write_event_create);
}

} // namespace detail
} // namespace polar

#endif
