//
// polar-cpp: the API's enumerations.
//
// Every enumeration has an `unknown` enumerator: values the server adds later
// decode to `unknown` (inside an open_enum, which keeps the raw string), so
// an old SDK keeps working against a newer server. to_string() returns the
// wire value; it returns an empty string for `unknown`.
//
#ifndef POLAR_MODELS_ENUMS_HPP
#define POLAR_MODELS_ENUMS_HPP

#include <polar/models/common.hpp>

#include <string_view>

namespace polar {

/// FilterOperator: how a filter clause compares an event property with its value.
enum class filter_operator {
    eq,       ///< `eq`: equal
    ne,       ///< `ne`: not equal
    gt,       ///< `gt`: greater than
    gte,      ///< `gte`: greater than or equal
    lt,       ///< `lt`: less than
    lte,      ///< `lte`: less than or equal
    like,     ///< `like`: case-sensitive substring (`%` and `_` act as wildcards)
    not_like, ///< `not_like`: negation of `like`
    unknown,  ///< a value this SDK does not know
};

/// FilterConjunction: how a filter combines its clauses. (`and`/`or` are C++ keywords.)
enum class filter_conjunction {
    and_,    ///< `and`: every clause must match (an empty filter matches everything)
    or_,     ///< `or`: at least one clause must match (an empty filter matches everything)
    unknown, ///< a value this SDK does not know
};

/**
 * @brief AggregationFunction: the `func` of an aggregation, and the values
 * of the quantities' `customer_aggregation_function` (dated API).
 */
enum class aggregation_function {
    count,   ///< `count`: number of matching events
    sum,     ///< `sum` of a metadata property
    max,     ///< `max` of a metadata property
    min,     ///< `min` of a metadata property
    avg,     ///< `avg` (mean) of a metadata property
    unique,  ///< `unique`: number of distinct values of a metadata property (dated API only)
    unknown, ///< a value this SDK does not know
};

/// TimeInterval: bucket size of meter quantities.
enum class time_interval {
    year,    ///< `year`
    month,   ///< `month`
    week,    ///< `week` (ISO weeks, starting Monday)
    day,     ///< `day`
    hour,    ///< `hour`
    unknown, ///< a value this SDK does not know
};

/// MeterSortProperty: sort keys of the meters list.
enum class meter_sort_property {
    created_at,      ///< `created_at`, ascending
    created_at_desc, ///< `-created_at`, descending
    name,            ///< `name`, ascending (the server's default)
    name_desc,       ///< `-name`, descending
    unknown,         ///< a value this SDK does not know
};

/// EventSortProperty: sort keys of the events list (dated API).
enum class event_sort_property {
    timestamp,      ///< `timestamp`, ascending
    timestamp_desc, ///< `-timestamp`, descending (the server's default)
    unknown,        ///< a value this SDK does not know
};

/// CustomerMeterSortProperty: sort keys of the customer meters list (dated API).
enum class customer_meter_sort_property {
    created_at,          ///< `created_at`
    created_at_desc,     ///< `-created_at`
    modified_at,         ///< `modified_at`
    modified_at_desc,    ///< `-modified_at` (the server's default)
    customer_id,         ///< `customer_id`
    customer_id_desc,    ///< `-customer_id`
    customer_name,       ///< `customer_name`
    customer_name_desc,  ///< `-customer_name`
    meter_id,            ///< `meter_id`
    meter_id_desc,       ///< `-meter_id`
    meter_name,          ///< `meter_name`
    meter_name_desc,     ///< `-meter_name`
    consumed_units,      ///< `consumed_units`
    consumed_units_desc, ///< `-consumed_units`
    credited_units,      ///< `credited_units`
    credited_units_desc, ///< `-credited_units`
    balance,             ///< `balance`
    balance_desc,        ///< `-balance`
    unknown,             ///< a value this SDK does not know
};

/// MeterUnit: how a meter's quantity is labelled (dated API; 2025-03 meters are `scalar`).
enum class meter_unit {
    scalar,  ///< `scalar`: a plain number (the default)
    token,   ///< `token`: LLM tokens (singular on the wire)
    custom,  ///< `custom`: see meter::custom_label and meter::custom_multiplier
    unknown, ///< a value this SDK does not know
};

/// The `type` of a customer (dated API; 2025-03 customers are individuals).
enum class customer_type {
    individual, ///< `individual`: a person (has an email)
    team,       ///< `team`: an organization account (may have no email)
    unknown,    ///< a value this SDK does not know
};

/// EventSource: who created an event.
enum class event_source {
    system,  ///< `system`: created by Polar
    user,    ///< `user`: ingested through the API
    unknown, ///< a value this SDK does not know
};

/// TaxIDFormat: the format of a customer's tax id (Stripe's list).
enum class tax_id_format {
    ad_nrt, ae_trn, ar_cuit, au_abn, au_arn, bg_uic, bh_vat, bo_tin, br_cnpj, br_cpf,
    ca_bn, ca_gst_hst, ca_pst_bc, ca_pst_mb, ca_pst_sk, ca_qst, ch_uid, ch_vat, cl_tin,
    cn_tin, co_nit, cr_tin, de_stn, do_rcn, ec_ruc, eg_tin, es_cif, eu_oss_vat, eu_vat,
    gb_vat, ge_vat, hk_br, hr_oib, hu_tin, id_npwp, il_vat, in_gst, is_vat, jp_cn,
    jp_rn, jp_trn, ke_pin, kr_brn, kz_bin, li_uid, mx_rfc, my_frp, my_itn, my_sst,
    ng_tin, no_vat, no_voec, nz_gst, om_vat, pe_ruc, ph_tin, ro_tin, rs_pib, ru_inn,
    ru_kpp, sa_vat, sg_gst, sg_uen, si_tin, sv_nit, th_vat, tr_tin, tw_vat, ua_vat,
    us_ein, uy_ruc, ve_rif, vn_tin, za_vat,
    mk_vat, mu_tan, ///< dated API; after the others so their numbers stay (unknown, always last, moves)
    unknown, ///< a value this SDK does not know
};

namespace detail {

template <>
struct enum_traits<filter_operator> {
    static constexpr std::string_view names[] = {"eq", "ne", "gt", "gte", "lt", "lte", "like", "not_like"};
};
template <>
struct enum_traits<filter_conjunction> {
    static constexpr std::string_view names[] = {"and", "or"};
};
template <>
struct enum_traits<aggregation_function> {
    static constexpr std::string_view names[] = {"count", "sum", "max", "min", "avg", "unique"};
};
template <>
struct enum_traits<time_interval> {
    static constexpr std::string_view names[] = {"year", "month", "week", "day", "hour"};
};
template <>
struct enum_traits<meter_sort_property> {
    static constexpr std::string_view names[] = {"created_at", "-created_at", "name", "-name"};
};
template <>
struct enum_traits<event_sort_property> {
    static constexpr std::string_view names[] = {"timestamp", "-timestamp"};
};
template <>
struct enum_traits<customer_meter_sort_property> {
    static constexpr std::string_view names[] = {
        "created_at",     "-created_at",     "modified_at",    "-modified_at",    "customer_id",
        "-customer_id",   "customer_name",   "-customer_name", "meter_id",        "-meter_id",
        "meter_name",     "-meter_name",     "consumed_units", "-consumed_units", "credited_units",
        "-credited_units", "balance",        "-balance"};
};
template <>
struct enum_traits<meter_unit> {
    static constexpr std::string_view names[] = {"scalar", "token", "custom"};
};
template <>
struct enum_traits<customer_type> {
    static constexpr std::string_view names[] = {"individual", "team"};
};
template <>
struct enum_traits<event_source> {
    static constexpr std::string_view names[] = {"system", "user"};
};
template <>
struct enum_traits<tax_id_format> {
    static constexpr std::string_view names[] = {
        "ad_nrt", "ae_trn", "ar_cuit", "au_abn", "au_arn", "bg_uic", "bh_vat", "bo_tin",
        "br_cnpj", "br_cpf", "ca_bn", "ca_gst_hst", "ca_pst_bc", "ca_pst_mb", "ca_pst_sk",
        "ca_qst", "ch_uid", "ch_vat", "cl_tin", "cn_tin", "co_nit", "cr_tin", "de_stn",
        "do_rcn", "ec_ruc", "eg_tin", "es_cif", "eu_oss_vat", "eu_vat", "gb_vat", "ge_vat",
        "hk_br", "hr_oib", "hu_tin", "id_npwp", "il_vat", "in_gst", "is_vat", "jp_cn",
        "jp_rn", "jp_trn", "ke_pin", "kr_brn", "kz_bin", "li_uid", "mx_rfc", "my_frp",
        "my_itn", "my_sst", "ng_tin", "no_vat", "no_voec", "nz_gst", "om_vat", "pe_ruc",
        "ph_tin", "ro_tin", "rs_pib", "ru_inn", "ru_kpp", "sa_vat", "sg_gst", "sg_uen",
        "si_tin", "sv_nit", "th_vat", "tr_tin", "tw_vat", "ua_vat", "us_ein", "uy_ruc",
        "ve_rif", "vn_tin", "za_vat", "mk_vat", "mu_tan"};
};

static_assert(std::size(enum_traits<filter_operator>::names) == static_cast<std::size_t>(filter_operator::unknown));
static_assert(std::size(enum_traits<filter_conjunction>::names) == static_cast<std::size_t>(filter_conjunction::unknown));
static_assert(std::size(enum_traits<aggregation_function>::names) == static_cast<std::size_t>(aggregation_function::unknown));
static_assert(std::size(enum_traits<time_interval>::names) == static_cast<std::size_t>(time_interval::unknown));
static_assert(std::size(enum_traits<meter_sort_property>::names) == static_cast<std::size_t>(meter_sort_property::unknown));
static_assert(std::size(enum_traits<event_source>::names) == static_cast<std::size_t>(event_source::unknown));
static_assert(std::size(enum_traits<event_sort_property>::names) == static_cast<std::size_t>(event_sort_property::unknown));
static_assert(std::size(enum_traits<customer_meter_sort_property>::names) ==
              static_cast<std::size_t>(customer_meter_sort_property::unknown));
static_assert(std::size(enum_traits<meter_unit>::names) == static_cast<std::size_t>(meter_unit::unknown));
static_assert(std::size(enum_traits<customer_type>::names) == static_cast<std::size_t>(customer_type::unknown));
static_assert(std::size(enum_traits<tax_id_format>::names) == static_cast<std::size_t>(tax_id_format::unknown));

} // namespace detail

/// The wire value (`"not_like"`, ...); empty for `unknown`.
constexpr std::string_view to_string(filter_operator v) noexcept { return detail::enum_to_wire(v); }
/// The wire value (`"and"`, `"or"`); empty for `unknown`.
constexpr std::string_view to_string(filter_conjunction v) noexcept { return detail::enum_to_wire(v); }
/// The wire value (`"count"`, `"sum"`, ..., `"unique"`); empty for `unknown`.
constexpr std::string_view to_string(aggregation_function v) noexcept { return detail::enum_to_wire(v); }
/// The wire value (`"day"`, ...); empty for `unknown`.
constexpr std::string_view to_string(time_interval v) noexcept { return detail::enum_to_wire(v); }
/// The wire value (`"created_at"`, `"-created_at"`, `"name"`, `"-name"`); empty for `unknown`.
constexpr std::string_view to_string(meter_sort_property v) noexcept { return detail::enum_to_wire(v); }
/// The wire value (`"timestamp"`, `"-timestamp"`); empty for `unknown`.
constexpr std::string_view to_string(event_sort_property v) noexcept { return detail::enum_to_wire(v); }
/// The wire value (`"created_at"`, `"-balance"`, ...); empty for `unknown`.
constexpr std::string_view to_string(customer_meter_sort_property v) noexcept { return detail::enum_to_wire(v); }
/// The wire value (`"scalar"`, `"token"`, `"custom"`); empty for `unknown`.
constexpr std::string_view to_string(meter_unit v) noexcept { return detail::enum_to_wire(v); }
/// The wire value (`"individual"`, `"team"`); empty for `unknown`.
constexpr std::string_view to_string(customer_type v) noexcept { return detail::enum_to_wire(v); }
/// The wire value (`"system"`, `"user"`); empty for `unknown`.
constexpr std::string_view to_string(event_source v) noexcept { return detail::enum_to_wire(v); }
/// The wire value (`"eu_vat"`, ...); empty for `unknown`.
constexpr std::string_view to_string(tax_id_format v) noexcept { return detail::enum_to_wire(v); }

/// The wire value of an open_enum: the known name, or the raw string when unknown.
template <class E>
std::string_view to_string(const open_enum<E>& v) noexcept {
    return v.wire();
}

/**
 * @brief Parses a wire value into an enumerator.
 *
 * @returns false (leaving `out` untouched) when `wire` is not a known value.
 * Use open_enum<E>::from_wire to keep unknown values instead.
 */
template <class E>
bool from_string(std::string_view wire, E& out) noexcept
    requires requires { detail::enum_traits<E>::names; }
{
    return detail::enum_from_wire(wire, out);
}

} // namespace polar

#endif
