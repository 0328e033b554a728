// 6. Error handling: the two styles of reporting errors, and the failures a
// program meets in practice.
//
//   1. exceptions: the default token throws polar::api_error or a subclass
//      (not_found_error, validation_failed_error, timeout_error, ...) holding
//      the error code, the HTTP status and the server's diagnostics;
//   2. error codes: asio::as_tuple(asio::deferred) gives (error_code, value)
//      and request_options::diag receives the same diagnostics;
//   3. a validation error (422) from bad input, field by field;
//   4. errors found before anything is sent (bad options or headers);
//   5. timeouts: a deadline for the whole call and one per attempt;
//   6. retries: a retry_policy object and the on_attempt hook logging every
//      attempt, through 503s, an outage and a 429 with Retry-After;
//   7. cancellation through a cancellation slot.
//
//   example_error_handling
//
// Runs against the bundled emulator unless POLAR_ACCESS_TOKEN is set (see
// example_support.hpp). Offline, the emulator's fault injection makes the
// server slow, silent or failing on purpose, and the program checks that
// each error is the one expected (exit status 1 otherwise). Against Polar
// only the parts that need no injected fault are shown.
#include "example_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using namespace std::chrono;
using polar::testing::fault;

// A well-formed meter id that no meter has.
constexpr std::string_view missing_id = "6f1e0c2a-9d4b-4e57-8a3c-0b1d2e3f4a5b";

/// Prints the parts of an error that programs and people look at.
void print_diagnostics(const polar::error_code& ec, const polar::diagnostics& d) {
    std::cout << "    code:       " << ec.category().name() << ":" << ec.value() << " (" << ec.message() << ")\n"
              << "    HTTP:       " << d.status << " " << d.method << " " << d.path << "\n";
    if (!d.error.empty()) std::cout << "    Polar:      " << d.error << ": " << d.detail << "\n";
    if (!d.request_id.empty()) std::cout << "    request id: " << d.request_id << "\n";
    std::cout << "    attempts:   " << d.attempts << "\n";
    if (!d.retry_stop_reason.empty()) std::cout << "    stopped:    " << d.retry_stop_reason << "\n";
}

struct demo {
    polar::client client;
    example::target& target;
    std::shared_ptr<std::atomic<bool>> log_attempts;
    int& status;
    std::string meter_id = std::string(missing_id); ///< an existing meter once listed

    bool offline() const { return target.emulator.has_value(); }
    polar::testing::fault_injector faults() const { return target.emulator->faults(); }

    /// Offline, the outcome is known in advance: anything else is a failure.
    void expect(bool ok, std::string_view what) const {
        if (offline() && !ok) {
            std::cout << "    UNEXPECTED: " << what << "\n";
            status = 1;
        }
    }

    // 1. Exceptions: the default token throws on failure.
    asio::awaitable<void> exceptions() {
        std::cout << "1. Exceptions\n";
        try {
            const polar::meter m = co_await client.meters().get(missing_id);
            std::cout << "  found " << m.name << "?\n";
            expect(false, "a missing meter was found");
        } catch (const polar::not_found_error& e) { // the most specific first
            std::cout << "  not_found_error: " << e.what() << "\n";
            print_diagnostics(e.code(), e.diag());
            expect(e.status() == 404 && e.code() == polar::errc::not_found, "404 / errc::not_found");
        } catch (const polar::api_error& e) { // every error of the SDK
            std::cout << "  api_error: " << e.what() << "\n";
            expect(false, "not_found_error");
        }
    }

    // 2. Error codes: no exception, the diagnostics through request_options.
    asio::awaitable<void> error_codes() {
        std::cout << "\n2. Error codes\n";
        polar::diagnostics d;
        auto [ec, m] = co_await client.meters().get(missing_id, {.diag = &d}, asio::as_tuple(asio::deferred));
        if (ec == polar::errc::not_found) {
            std::cout << "  no meter " << missing_id << "\n";
            print_diagnostics(ec, d);
        } else if (ec) {
            std::cout << "  failed: " << d.summary() << "\n";
        }
        expect(ec == polar::errc::not_found && d.status == 404, "errc::not_found");

        // Success fills the diagnostics too (status, attempts, request id).
        polar::diagnostics ok;
        auto [ec2, page] = co_await client.meters().list({.limit = 1}, {.diag = &ok}, asio::as_tuple(asio::deferred));
        std::cout << "  list: " << (ec2 ? ec2.message() : "ok") << ", HTTP " << ok.status << ", " << ok.attempts
                  << " attempt(s), " << page.pagination.total_count << " meters in all\n";
        expect(!ec2, "list succeeds");
        if (!page.items.empty()) meter_id = page.items.front().id;
    }

    // 3. Validation errors (422): the server names every rejected field.
    asio::awaitable<void> validation() {
        std::cout << "\n3. Validation errors\n";
        const polar::meter_create body("x", polar::filter::all(), polar::aggregation::sum(""));
        try {
            const polar::meter m = co_await client.meters().create(body);
            std::cout << "  created " << m.id << "?\n";
            expect(false, "an invalid meter was created");
        } catch (const polar::validation_failed_error& e) {
            std::cout << "  create: HTTP " << e.status() << ", " << e.diag().validation_errors.size() << " validation error(s)\n";
            for (const polar::validation_error& v : e.diag().validation_errors)
                std::cout << "    " << v.path() << ": " << v.msg << " [" << v.type << "]"
                          << (v.input.empty() ? "" : " input " + v.input) << "\n";
            expect(e.code() == polar::errc::validation_failed, "errc::validation_failed");
        }

        // The same with an error code: hourly quantities cover at most 7 days.
        // (The meter must exist: the server looks it up first.)
        const auto now = floor<hours>(system_clock::now());
        polar::diagnostics d;
        auto [ec, q] = co_await client.meters().quantities(
            meter_id, {.start_timestamp = now - days(30), .end_timestamp = now, .interval = polar::time_interval::hour},
            {.diag = &d}, asio::as_tuple(asio::deferred));
        std::cout << "  quantities: " << ec.message() << "\n";
        for (const polar::validation_error& v : d.validation_errors)
            std::cout << "    " << v.path() << ": " << v.msg << " [" << v.type << "]\n";
        expect(ec == polar::errc::validation_failed, "422 for 30 days of hours");
    }

    // 4. Errors found before sending anything: errc::invalid_argument.
    asio::awaitable<void> before_sending() {
        std::cout << "\n4. Rejected before sending\n";
        polar::client_options bad = target.options;
        bad.max_connections = 0;
        try {
            polar::client c(client.get_executor(), bad);
            expect(false, "max_connections = 0 was accepted");
        } catch (const polar::api_error& e) {
            std::cout << "  client options: " << e.what() << "\n";
            expect(e.code() == polar::errc::invalid_argument, "errc::invalid_argument");
        }
        const polar::http_header header{"Authorization", "Bearer something-else"};
        auto [ec, page] = co_await client.meters().list(
            {}, {.headers = std::span<const polar::http_header>(&header, 1)}, asio::as_tuple(asio::deferred));
        std::cout << "  an Authorization header: " << ec.message() << "\n";
        expect(ec == polar::errc::invalid_argument, "errc::invalid_argument");
    }

    // 5. Timeouts: `timeout` bounds the whole call, retries included;
    //    `attempt_timeout` bounds each attempt, and a timed-out attempt is
    //    retried like a failed connection.
    asio::awaitable<void> timeouts() {
        std::cout << "\n5. Timeouts\n";
        if (offline()) faults().add(fault::stall().on("GET /v1/meters/"));
        auto t0 = steady_clock::now();
        try {
            // Against Polar, 1 ms is usually too short for a round trip.
            const auto limit = offline() ? milliseconds(300) : milliseconds(1);
            co_await client.meters().list({}, {.timeout = limit});
            std::cout << "  answered within the limit\n";
            expect(false, "a silent server answered");
        } catch (const polar::timeout_error& e) {
            std::cout << "  timeout_error after " << duration_cast<milliseconds>(steady_clock::now() - t0).count()
                      << " ms: " << e.what() << "\n";
            expect(e.code() == polar::errc::timeout, "errc::timeout");
        }

        if (!offline()) co_return;
        faults().clear();
        faults().add(fault::stall().times(1).on("GET /v1/meters/"));
        log_attempts->store(true);
        t0 = steady_clock::now();
        polar::diagnostics d;
        co_await client.meters().list({}, {.attempt_timeout = milliseconds(300), .diag = &d});
        log_attempts->store(false);
        std::cout << "  attempt_timeout 300 ms: answered after " << d.attempts << " attempts, "
                  << duration_cast<milliseconds>(steady_clock::now() - t0).count() << " ms\n";
        expect(d.attempts == 2, "the timed-out attempt retried once");
    }

    // 6. Retries: the client's policy (4 attempts, 50 ms doubling to 400 ms,
    //    see main) and on_attempt logging.
    asio::awaitable<void> retries() {
        std::cout << "\n6. Retries\n";
        log_attempts->store(true);
        if (!offline()) {
            polar::diagnostics d;
            co_await client.meters().list({.limit = 1}, {.diag = &d});
            std::cout << "  list: " << d.attempts << " attempt(s)\n";
            log_attempts->store(false);
            co_return;
        }

        // Two 503s, then the answer: the caller sees only the answer.
        faults().add(fault::status(503).times(2).on("GET /v1/meters/"));
        polar::diagnostics d;
        const polar::page<polar::meter> page = co_await client.meters().list({.limit = 1}, {.diag = &d});
        std::cout << "  two 503s, then " << page.items.size() << " meter after " << d.attempts << " attempts\n";
        expect(d.attempts == 3, "3 attempts");

        // An outage: every attempt fails; the error says why retrying stopped.
        faults().add(fault::status(503).always().on("GET /v1/meters/"));
        try {
            co_await client.meters().list();
            expect(false, "the outage went unnoticed");
        } catch (const polar::server_error& e) {
            std::cout << "  server_error: " << e.what() << "\n";
            expect(e.diag().attempts == 4, "4 attempts");
        }

        // Per call, another policy: no retries at all.
        const polar::retry_policy once = polar::retry_policy::none();
        polar::diagnostics d2;
        auto [ec, p] = co_await client.meters().list({}, {.retry = &once, .diag = &d2}, asio::as_tuple(asio::deferred));
        std::cout << "  retry_policy::none(): " << ec.message() << " after " << d2.attempts << " attempt\n";
        expect(ec == polar::errc::server_error && d2.attempts == 1, "1 attempt");
        faults().clear();

        // 429 with Retry-After: the next attempt waits at least that long.
        faults().add(fault::rate_limited(seconds(1)).on("GET /v1/meters/"));
        const auto t0 = steady_clock::now();
        co_await client.meters().list();
        const auto waited = duration_cast<milliseconds>(steady_clock::now() - t0).count();
        std::cout << "  429 with Retry-After: 1, answered after " << waited << " ms\n";
        expect(waited >= 990, "Retry-After honoured");
        log_attempts->store(false);
    }

    // 7. Cancellation: emit on a cancellation_signal bound to the call; it
    //    completes with operation_aborted (not errc::timeout).
    asio::awaitable<void> cancellation() {
        std::cout << "\n7. Cancellation\n";
        if (offline()) faults().add(fault::stall().on("GET /v1/meters/"));
        asio::cancellation_signal signal;
        asio::steady_timer timer(client.get_executor(), offline() ? milliseconds(200) : milliseconds(0));
        timer.async_wait([&signal](polar::error_code ec) {
            if (!ec) signal.emit(asio::cancellation_type::terminal);
        });
        const auto t0 = steady_clock::now();
        auto [ec, page] = co_await client.meters().list(
            {}, asio::bind_cancellation_slot(signal.slot(), asio::as_tuple(asio::use_awaitable)));
        std::cout << "  " << (ec ? ec.message() : "answered before the cancellation") << " after "
                  << duration_cast<milliseconds>(steady_clock::now() - t0).count() << " ms\n";
        expect(ec == asio::error::operation_aborted, "operation_aborted");
        timer.cancel();

        // The client is still usable afterwards.
        auto [ec2, again] = co_await client.meters().list({.limit = 1}, asio::as_tuple(asio::deferred));
        std::cout << "  the next call: " << (ec2 ? ec2.message() : "ok") << "\n";
        expect(!ec2, "the client works after a cancellation");
    }

    asio::awaitable<void> run() {
        co_await exceptions();
        co_await error_codes();
        co_await validation();
        co_await before_sending();
        co_await timeouts();
        co_await retries();
        co_await cancellation();
        std::cout << (status ? "\nSome outcomes were not the expected ones.\n" : "\nDone.\n");
    }
};

int main() {
    asio::io_context ioc;
    auto target = example::connect(ioc.get_executor());

    // The client's retry policy: 4 attempts, 50 ms doubling up to 400 ms,
    // with full jitter; and a hook that sees every attempt.
    polar::client_options options = target->options;
    options.retry = polar::retry_policy().max_attempts(4).initial_delay(milliseconds(50)).max_delay(milliseconds(400));
    auto log_attempts = std::make_shared<std::atomic<bool>>(false);
    options.on_attempt = [log_attempts](const polar::attempt_info& a) {
        if (!log_attempts->load()) return;
        std::cout << "    attempt " << a.attempt << ": " << a.method << " " << a.target << " -> ";
        if (a.status)
            std::cout << a.status;
        else
            std::cout << a.ec.message();
        std::cout << " in " << duration_cast<milliseconds>(a.latency).count() << " ms";
        if (a.will_retry) std::cout << ", retrying in " << a.retry_delay.count() << " ms";
        std::cout << "\n";
    };
    polar::client client(ioc.get_executor(), options);

    int status = 0;
    demo d{client, *target, log_attempts, status};
    asio::co_spawn(ioc, d.run(), example::finish(*target, status));
    ioc.run();
    return status;
}
