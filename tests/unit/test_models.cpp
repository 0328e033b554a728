// Models: enums, builders, value semantics, and owning types used inline in
// co_await expressions (g++ 12.2 double-frees aggregate temporaries there).
#include <polar/models.hpp>

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace {

using polar::filter_operator;
using namespace std::string_view_literals;

template <class E>
void check_enum_names(std::initializer_list<std::pair<E, std::string_view>> expected) {
    for (const auto& [e, name] : expected) {
        CHECK(polar::to_string(e) == name);
        E parsed = E::unknown;
        CHECK(polar::from_string(name, parsed));
        CHECK(parsed == e);
        const auto open = polar::open_enum<E>::from_wire(name);
        CHECK(open == e);
        CHECK_FALSE(open.is_unknown());
        CHECK(open.raw().empty());
        CHECK(open.wire() == name);
    }
    CHECK(polar::to_string(E::unknown).empty());
    E untouched = std::get<0>(*expected.begin());
    CHECK_FALSE(polar::from_string("no-such-value", untouched));
    CHECK(untouched == std::get<0>(*expected.begin()));
}

} // namespace

TEST_CASE("models: enum wire names") {
    check_enum_names<polar::filter_operator>({{filter_operator::eq, "eq"},
                                              {filter_operator::ne, "ne"},
                                              {filter_operator::gt, "gt"},
                                              {filter_operator::gte, "gte"},
                                              {filter_operator::lt, "lt"},
                                              {filter_operator::lte, "lte"},
                                              {filter_operator::like, "like"},
                                              {filter_operator::not_like, "not_like"}});
    check_enum_names<polar::filter_conjunction>(
        {{polar::filter_conjunction::and_, "and"}, {polar::filter_conjunction::or_, "or"}});
    check_enum_names<polar::aggregation_function>({{polar::aggregation_function::count, "count"},
                                                   {polar::aggregation_function::sum, "sum"},
                                                   {polar::aggregation_function::max, "max"},
                                                   {polar::aggregation_function::min, "min"},
                                                   {polar::aggregation_function::avg, "avg"}});
    check_enum_names<polar::time_interval>({{polar::time_interval::year, "year"},
                                            {polar::time_interval::month, "month"},
                                            {polar::time_interval::week, "week"},
                                            {polar::time_interval::day, "day"},
                                            {polar::time_interval::hour, "hour"}});
    check_enum_names<polar::meter_sort_property>({{polar::meter_sort_property::created_at, "created_at"},
                                                  {polar::meter_sort_property::created_at_desc, "-created_at"},
                                                  {polar::meter_sort_property::name, "name"},
                                                  {polar::meter_sort_property::name_desc, "-name"}});
    check_enum_names<polar::event_source>(
        {{polar::event_source::system, "system"}, {polar::event_source::user, "user"}});
    check_enum_names<polar::tax_id_format>({{polar::tax_id_format::ad_nrt, "ad_nrt"},
                                            {polar::tax_id_format::eu_vat, "eu_vat"},
                                            {polar::tax_id_format::eu_oss_vat, "eu_oss_vat"},
                                            {polar::tax_id_format::us_ein, "us_ein"},
                                            {polar::tax_id_format::za_vat, "za_vat"}});
    static_assert(polar::to_string(polar::meter_sort_property::name_desc) == "-name");
}

TEST_CASE("models: open_enum keeps unknown values") {
    auto e = polar::open_enum<polar::event_source>::from_wire("webhook");
    CHECK(e.is_unknown());
    CHECK(e.value() == polar::event_source::unknown);
    CHECK(e == polar::event_source::unknown);
    CHECK(e.raw() == "webhook");
    CHECK(e.wire() == "webhook");
    CHECK(polar::to_string(e) == "webhook");
    CHECK(e == polar::open_enum<polar::event_source>::from_wire("webhook"));
    CHECK_FALSE(e == polar::open_enum<polar::event_source>::from_wire("cron"));

    polar::open_enum<polar::event_source> known = polar::event_source::user;
    CHECK(known == polar::event_source::user);
    CHECK(polar::event_source::user == known);
    CHECK(known != polar::event_source::system);
    CHECK(known.wire() == "user");
    CHECK(polar::open_enum<polar::event_source>() == polar::event_source::system);
}

TEST_CASE("models: filter clauses take strings, integers and booleans") {
    const std::string s = "owned";
    const std::string_view view = "view";
    const auto a = polar::clause("name", filter_operator::eq, "llm.call");
    const auto b = polar::clause("tokens", filter_operator::gt, 5);
    const auto c = polar::clause("flag", filter_operator::eq, true);
    const auto d = polar::clause("x", filter_operator::ne, s);
    const auto e = polar::clause("x", filter_operator::ne, view);
    const auto f = polar::clause("big", filter_operator::lt, std::int64_t{1} << 40);
    const auto g = polar::clause("u", filter_operator::lte, 7u);
    CHECK(std::get<std::string>(a.value) == "llm.call");
    CHECK(std::get<std::int64_t>(b.value) == 5);
    CHECK(std::get<bool>(c.value) == true);
    CHECK(std::get<std::string>(d.value) == "owned");
    CHECK(std::get<std::string>(e.value) == "view");
    CHECK(std::get<std::int64_t>(f.value) == (std::int64_t{1} << 40));
    CHECK(std::get<std::int64_t>(g.value) == 7);
    CHECK(a.property == "name");
    CHECK(a.op == filter_operator::eq);
    // Floating-point values and characters are rejected at compile time.
    static_assert(!std::is_constructible_v<polar::filter_clause, std::string, filter_operator, double>);
    static_assert(!std::is_constructible_v<polar::filter_clause, std::string, filter_operator, char>);
    static_assert(std::is_constructible_v<polar::filter_clause, std::string, filter_operator, long long>);
}

TEST_CASE("models: filter builders") {
    using polar::filter;
    const auto lite = polar::clause("model", filter_operator::eq, "lite");
    const auto pro = polar::clause("model", filter_operator::eq, "pro");

    const filter variadic = filter::all(polar::clause("name", filter_operator::eq, "llm.call"), filter::any(lite, pro));
    const filter braced = filter::all({polar::clause("name", filter_operator::eq, "llm.call"), filter::any({lite, pro})});
    filter chained = filter::all();
    chained.add(polar::clause("name", filter_operator::eq, "llm.call")).add(filter::any().add(lite).add(pro));
    std::vector<polar::filter_node> nodes;
    nodes.emplace_back(polar::clause("name", filter_operator::eq, "llm.call"));
    nodes.emplace_back(filter(polar::filter_conjunction::or_, {lite, pro}));
    const filter from_vector = filter::all(std::move(nodes));

    CHECK(variadic == braced);
    CHECK(variadic == chained);
    CHECK(variadic == from_vector);
    CHECK(variadic.conjunction == polar::filter_conjunction::and_);
    REQUIRE(variadic.clauses.size() == 2);
    CHECK(variadic.clauses[0].is_clause());
    CHECK(variadic.clauses[0].as_clause().property == "name");
    CHECK(variadic.clauses[1].is_filter());
    CHECK(variadic.clauses[1].as_filter().conjunction == polar::filter_conjunction::or_);
    CHECK(variadic.clauses[1].as_filter().clauses.size() == 2);
    CHECK_THROWS_AS((void)variadic.clauses[0].as_filter(), std::bad_variant_access);

    const filter empty;
    CHECK(empty.empty());
    CHECK(empty.conjunction == polar::filter_conjunction::and_);
    CHECK(filter::any().conjunction == polar::filter_conjunction::or_);
    CHECK_FALSE(filter::any() == filter::all());

    // Value semantics: copies are deep.
    filter copy = variadic;
    copy.clauses[1].as_filter().clauses[0].as_clause().value = "changed";
    CHECK_FALSE(copy == variadic);
    CHECK(std::get<std::string>(variadic.clauses[1].as_filter().clauses[0].as_clause().value) == "lite");
}

TEST_CASE("models: aggregations") {
    using polar::aggregation;
    using polar::aggregation_function;
    CHECK(aggregation().func() == aggregation_function::count);
    CHECK(aggregation::count() == aggregation());
    CHECK(aggregation::count().property().empty());
    CHECK_FALSE(aggregation::count().is_property_aggregation());
    const auto sum = aggregation::sum("tokens");
    CHECK(sum.func() == aggregation_function::sum);
    CHECK(sum.func_name() == "sum");
    CHECK(sum.property() == "tokens");
    CHECK(sum.is_property_aggregation());
    CHECK(aggregation::max("m").func() == aggregation_function::max);
    CHECK(aggregation::min("m").func() == aggregation_function::min);
    CHECK(aggregation::avg("m").func() == aggregation_function::avg);
    CHECK_FALSE(aggregation::sum("a") == aggregation::sum("b"));
    CHECK_FALSE(aggregation::sum("a") == aggregation::max("a"));
    // count has no property.
    CHECK(aggregation(aggregation_function::count, "ignored") == aggregation::count());
    // A function from a newer API keeps its tag.
    const aggregation p99(polar::open_enum<aggregation_function>::from_wire("p99"), "user");
    CHECK(p99.is_unknown());
    CHECK(p99.func() == aggregation_function::unknown);
    CHECK(p99.func_name() == "p99");
    CHECK(p99.property() == "user");
    CHECK_FALSE(p99.is_property_aggregation());
}

TEST_CASE("models: owning request types are not aggregates") {
    // Non-aggregates with constructors are safe as temporaries in co_await
    // expressions with g++ 12; aggregates with non-trivial destructors are not.
    static_assert(!std::is_aggregate_v<polar::filter_clause>);
    static_assert(!std::is_aggregate_v<polar::filter>);
    static_assert(!std::is_aggregate_v<polar::filter_node>);
    static_assert(!std::is_aggregate_v<polar::aggregation>);
    static_assert(!std::is_aggregate_v<polar::meter_create>);
    static_assert(!std::is_aggregate_v<polar::meter_update>);
    static_assert(!std::is_aggregate_v<polar::update_field<polar::filter>>);
    static_assert(!std::is_aggregate_v<polar::event_create>);
    static_assert(!std::is_aggregate_v<polar::events_ingest>);
    static_assert(!std::is_aggregate_v<polar::open_enum<polar::event_source>>);
    static_assert(std::is_nothrow_move_constructible_v<polar::filter>);
    static_assert(std::is_nothrow_move_constructible_v<polar::meter_create>);
    static_assert(std::is_nothrow_move_constructible_v<polar::meter>);
    static_assert(std::is_nothrow_move_constructible_v<polar::event>);
}

TEST_CASE("models: meter_create") {
    polar::metadata md{{"team", "core"}, {"tier", 2}, {"beta", true}};
    auto body = polar::meter_create("API tokens", polar::filter::all(polar::clause("name", filter_operator::eq, "llm.call")),
                                    polar::aggregation::sum("tokens"));
    CHECK(body.name == "API tokens");
    CHECK_FALSE(body.metadata.has_value());
    CHECK_FALSE(body.organization_id.has_value());
    body.set_metadata(md).set_organization_id("1dbfc517-0bbf-4301-9ba8-555ca42b9737");
    REQUIRE(body.metadata.has_value());
    CHECK(std::get<std::int64_t>(body.metadata->at("tier")) == 2);
    CHECK(std::get<bool>(body.metadata->at("beta")));
    CHECK(*body.organization_id == "1dbfc517-0bbf-4301-9ba8-555ca42b9737");
    // Chaining on a temporary moves it along.
    const auto moved = polar::meter_create().set_name("x").set_aggregation(polar::aggregation::count());
    CHECK(moved.name == "x");
}

TEST_CASE("models: meter_update distinguishes absent, null and values") {
    polar::meter_update u;
    CHECK(u.empty());
    CHECK(u.filter.is_absent());
    CHECK(u.aggregation.is_absent());

    u.set_filter(nullptr);
    CHECK(u.filter.is_null());
    CHECK_FALSE(u.filter.is_absent());
    CHECK_FALSE(u.filter.has_value());
    CHECK(u.filter.get() == nullptr);
    CHECK_THROWS_AS((void)u.filter.value(), std::bad_optional_access);
    CHECK_FALSE(u.empty());

    u.set_filter(polar::filter::any());
    CHECK(u.filter.has_value());
    CHECK_FALSE(u.filter.is_null());
    CHECK(u.filter.value().conjunction == polar::filter_conjunction::or_);

    u.filter.reset();
    CHECK(u.filter.is_absent());
    CHECK(u.empty());

    u.set_aggregation(nullptr).set_name("renamed");
    CHECK(u.aggregation.is_null());
    CHECK(*u.name == "renamed");
    u.set_aggregation(polar::aggregation::avg("latency_ms"));
    CHECK(u.aggregation.value() == polar::aggregation::avg("latency_ms"));
}

TEST_CASE("models: event_create and events_ingest") {
    using namespace std::chrono;
    auto a = polar::event_create::for_customer("992fae2a-2a17-4b7a-8d9e-e287cf90131b", "llm.call");
    CHECK(a.customer_id == "992fae2a-2a17-4b7a-8d9e-e287cf90131b");
    CHECK_FALSE(a.external_customer_id);
    CHECK(a.name == "llm.call");
    CHECK_FALSE(a.timestamp);

    // Any sys_time; finer units are truncated to microseconds.
    const sys_time<nanoseconds> ns{nanoseconds(1'742'000'000'123'456'789)};
    a.set_timestamp(ns);
    CHECK(a.timestamp->time_since_epoch().count() == 1'742'000'000'123'456);
    a.set_timestamp(sys_seconds(seconds(10)));
    CHECK(a.timestamp->time_since_epoch().count() == 10'000'000);

    const auto b = polar::event_create::for_external_customer("usr_1337", "llm.call")
                       .set_metadata(polar::metadata{{"tokens", 42}})
                       .set_organization_id("org");
    CHECK(b.external_customer_id == "usr_1337");
    CHECK_FALSE(b.customer_id);
    CHECK(std::get<std::int64_t>(b.metadata->at("tokens")) == 42);

    polar::events_ingest batch;
    CHECK(batch.empty());
    batch.add(a).add(b);
    CHECK(batch.size() == 2);
    const auto inline_batch = polar::events_ingest().add(a).add(b);
    CHECK(inline_batch == batch);
}

TEST_CASE("models: response types are aggregates with value semantics") {
    polar::meter m;
    m.id = "m1";
    m.name = "API tokens";
    m.aggregation = polar::aggregation::sum("tokens");
    m.filter = polar::filter::all(polar::clause("name", filter_operator::eq, "llm.call"));
    polar::meter copy = m;
    CHECK(copy == m);
    copy.modified_at = polar::parse_timestamp("2025-03-01T00:00:00Z");
    CHECK_FALSE(copy == m);

    polar::event e;
    e.source = polar::event_source::user;
    e.customer.emplace();
    e.customer->tax_id = polar::tax_id{"FR61954506077", polar::tax_id_format::eu_vat};
    CHECK(e.customer->tax_id->format.wire() == "eu_vat");

    polar::page<polar::meter> p;
    p.items.push_back(m);
    p.pagination = {1, 1};
    CHECK(p.items.size() == 1);
}

// -- owning types inline in co_await expressions ---------------------------------

namespace {

namespace asio = boost::asio;

// Stands in for a client operation: a token function that serializes its
// body at initiation and completes later with (error_code, std::string).
template <class Body, class Token>
auto async_send(const Body& body, Token&& token) {
    return asio::async_initiate<Token, void(polar::error_code, std::string)>(
        [](auto handler, std::string json) {
            auto ex = asio::get_associated_executor(handler);
            asio::post(ex, [h = std::move(handler), json = std::move(json)]() mutable {
                std::move(h)(polar::error_code(), std::move(json));
            });
        },
        token, polar::to_json(body));
}

asio::awaitable<std::string> send_by_value(polar::meter_create body) {
    co_return polar::to_json(body);
}

asio::awaitable<std::string> send_by_ref(const polar::meter_create& body) {
    co_await asio::post(asio::use_awaitable); // suspend while the temporary is referenced
    co_return polar::to_json(body);
}

asio::awaitable<void> inline_bodies(std::vector<std::string>& out) {
    using polar::aggregation;
    using polar::clause;
    using polar::filter;

    // Everything below is written inline, as users naturally would.
    out.push_back(co_await send_by_value(polar::meter_create(
        "API tokens",
        filter::all(clause("name", filter_operator::eq, "llm.call"),
                    filter::any(clause("model", filter_operator::eq, "lite"), clause("model", filter_operator::eq, "pro"))),
        aggregation::sum("tokens"))));

    out.push_back(co_await send_by_ref(
        polar::meter_create("API tokens", filter::all(clause("name", filter_operator::eq, "llm.call")),
                            aggregation::count())
            .set_organization_id("1dbfc517-0bbf-4301-9ba8-555ca42b9737")));

    out.push_back(co_await async_send(
        polar::meter_create("API tokens",
                            filter::any().add(clause("tokens", filter_operator::gte, 100)).add(clause("vip", filter_operator::eq, true)),
                            aggregation::max("tokens")),
        asio::deferred));

    auto [ec, json] = co_await async_send(polar::meter_update().set_name("renamed").set_filter(nullptr),
                                          asio::as_tuple(asio::deferred));
    CHECK_FALSE(ec);
    out.push_back(std::move(json));

    out.push_back(co_await async_send(
        polar::events_ingest()
            .add(polar::event_create::for_external_customer("usr_1337", "llm.call").set_organization_id("org"))
            .add(polar::event_create::for_customer("992fae2a-2a17-4b7a-8d9e-e287cf90131b", "llm.call")),
        asio::deferred));
}

} // namespace

TEST_CASE("models: owning types are safe as temporaries inside co_await") {
    asio::io_context ioc;
    std::vector<std::string> out;
    std::exception_ptr failure;
    asio::co_spawn(ioc, inline_bodies(out), [&](std::exception_ptr e) { failure = e; });
    ioc.run();
    REQUIRE_FALSE(failure);
    REQUIRE(out.size() == 5);
    CHECK(out[0] == R"({"name":"API tokens","filter":{"conjunction":"and","clauses":[)"
                    R"({"property":"name","operator":"eq","value":"llm.call"},)"
                    R"({"conjunction":"or","clauses":[{"property":"model","operator":"eq","value":"lite"},)"
                    R"({"property":"model","operator":"eq","value":"pro"}]}]},)"
                    R"("aggregation":{"func":"sum","property":"tokens"}})");
    CHECK(out[1] == R"({"name":"API tokens","filter":{"conjunction":"and","clauses":[)"
                    R"({"property":"name","operator":"eq","value":"llm.call"}]},)"
                    R"("aggregation":{"func":"count"},"organization_id":"1dbfc517-0bbf-4301-9ba8-555ca42b9737"})");
    CHECK(out[2] == R"({"name":"API tokens","filter":{"conjunction":"or","clauses":[)"
                    R"({"property":"tokens","operator":"gte","value":100},{"property":"vip","operator":"eq","value":true}]},)"
                    R"("aggregation":{"func":"max","property":"tokens"}})");
    CHECK(out[3] == R"({"name":"renamed","filter":null})");
    CHECK(out[4] == R"({"events":[{"name":"llm.call","external_customer_id":"usr_1337","organization_id":"org"},)"
                    R"({"name":"llm.call","customer_id":"992fae2a-2a17-4b7a-8d9e-e287cf90131b"}]})");
}
