// The ingest batcher without a server: names, error messages and the empty
// handle (moved-from or default-constructed).
#include <polar/polar.hpp>

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <string>
#include <utility>

TEST_CASE("ingest batcher: trigger names and error codes") {
    CHECK(polar::to_string(polar::batch_trigger::count) == "count");
    CHECK(polar::to_string(polar::batch_trigger::bytes) == "bytes");
    CHECK(polar::to_string(polar::batch_trigger::age) == "age");
    CHECK(polar::to_string(polar::batch_trigger::queue_full) == "queue_full");
    CHECK(polar::to_string(polar::batch_trigger::flush) == "flush");
    CHECK(polar::to_string(polar::batch_trigger::close) == "close");
    const polar::error_code full = polar::errc::queue_full;
    const polar::error_code closed = polar::errc::batcher_closed;
    CHECK(full.message().find("queue is full") != std::string::npos);
    CHECK(closed.message().find("closed") != std::string::npos);
    CHECK(full != closed);
}

TEST_CASE("ingest batcher: an empty handle refuses everything without crashing") {
    boost::asio::io_context ioc;
    polar::client_options o;
    o.access_token = "tok";
    o.server_url = "http://127.0.0.1:9";
    polar::client c(ioc.get_executor(), o);
    polar::ingest_batcher b = c.events().batcher();
    CHECK(b.external_id_prefix().size() == 33);
    polar::ingest_batcher moved = std::move(b);
    // NOLINTNEXTLINE(bugprone-use-after-move): the moved-from handle is empty
    CHECK(b.try_add(polar::event_create::for_external_customer("a", "x")) == polar::errc::batcher_closed);
    CHECK(b.stats().accepted == 0);
    CHECK(b.take_failures().empty());
    CHECK(b.external_id_prefix().empty());
    CHECK_THROWS_AS(b.add(polar::event_create::for_external_customer("a", "x"), [](polar::error_code, std::string) {}),
                    polar::api_error);
    CHECK_THROWS_AS(b.flush([](polar::error_code, polar::batcher_stats) {}), polar::api_error);
    // The live one, closed with nothing in it, sends nothing.
    polar::batcher_stats s{};
    bool done = false;
    moved.close([&](polar::error_code ec, polar::batcher_stats st) {
        CHECK_FALSE(ec);
        s = st;
        done = true;
    });
    ioc.run();
    CHECK(done);
    CHECK(s.accepted == 0);
    CHECK(s.batches == 0);
}
