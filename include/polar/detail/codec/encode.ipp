#ifndef POLAR_DETAIL_CODEC_ENCODE_IPP
#define POLAR_DETAIL_CODEC_ENCODE_IPP

// Encoding: compact JSON written straight into a std::string (no DOM). The
// writer (encode_writer.ipp), the models (encode_models.ipp) and the request
// bodies (encode_requests.ipp); here, the entry points of codec.hpp.

#include <polar/detail/codec/codec.hpp>
#include <polar/detail/codec/encode_requests.ipp>

#include <polar/error.hpp>

#include <cstddef>
#include <string>
#include <utility>

namespace polar {
namespace detail {
namespace json_encode_impl {

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
