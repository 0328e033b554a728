//
// polar-cpp: JSON conversion of the models, for users (tests, fakes, logs,
// persistence).
//
#ifndef POLAR_MODELS_JSON_HPP
#define POLAR_MODELS_JSON_HPP

#include <polar/detail/codec/codec.hpp>
#include <polar/error.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace polar {

/**
 * @brief Encodes a model as compact JSON, exactly as the SDK sends it (request
 * bodies) or as the server sends it (responses).
 *
 * @details Works for meter, meter_create, meter_update, page<meter>,
 * page<event>, page<customer_meter>, event, event_create, events_ingest,
 * events_ingest_response, customer, customer_meter, address,
 * meter_quantities, filter, aggregation and pagination. Request bodies
 * contain only the keys that were set. An event with raw_json is written as
 * that text.
 *
 * Errors: throws api_error with errc::invalid_argument when a metadata
 * value is a NaN or an infinity (JSON cannot represent them); its
 * diagnostics' `message` names the key. Do not call it in the same
 * full-expression as a `co_await` (see from_json).
 */
template <class T>
std::string to_json(const T& value)
    requires requires { detail::encode(value); }
{
    return detail::encode(value);
}

/**
 * @brief Decodes a model from JSON without throwing.
 *
 * @returns an empty error_code on success; errc::invalid_response otherwise,
 * with `what` saying where and why (e.g. `filter.clauses[0].value: expected
 * string, integer or boolean, got null`). Works for the same types as
 * to_json.
 */
template <class T>
error_code from_json(std::string_view json, T& out, std::string& what)
    requires requires { detail::decode(json, out, what); }
{
    return detail::decode(json, out, what);
}

/**
 * @brief Decodes a model from JSON.
 *
 * @details `auto m = polar::from_json<polar::meter>(text);`
 *
 * Errors: throws api_error with code errc::invalid_response; its
 * diagnostics' `message` says where and why and `body` holds the input
 * (first 4 KiB). Do not call it in the same full-expression as a `co_await`
 * (g++ 12 double-frees exceptions thrown there): use a separate statement.
 */
template <class T>
T from_json(std::string_view json)
    requires requires(T& out, std::string& what) { detail::decode(json, out, what); }
{
    T out;
    std::string what;
    if (error_code ec = detail::decode(json, out, what)) {
        diagnostics diag;
        diag.message = std::move(what);
        diag.body.assign(json.data(), json.size() < 4096 ? json.size() : 4096);
        throw api_error(ec, std::move(diag));
    }
    return out;
}

} // namespace polar

#endif
