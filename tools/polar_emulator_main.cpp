// polar-emulator: a local server that behaves like Polar's Meters API.
//
//   polar-emulator [--host H] [--port P] [--tls] [--cert FILE --key FILE]
//                  [--seed demo] [--token TOKEN:SCOPE1,SCOPE2[:ORG_ID]]...
//                  [--state FILE] [--threads N] [--idle-timeout SECONDS]
//                  [--api-version 2025-03|2026-04|2026-10] [--rate-limit N/min]
//
// Prints the base URL and the tokens on start, then serves until SIGINT or
// SIGTERM. With --state FILE the state is loaded from FILE when it exists,
// saved every few seconds after a change, and saved on exit. With --tls and no
// --cert/--key, a self-signed certificate is generated and written to a
// temporary file whose path is printed (trust it with e.g. curl --cacert).
// Without --seed, --token or a loaded state, the emulator creates organization
// "Emulated Org" and the token "polar_test_token" (meters:read meters:write
// events:read events:write customer_meters:read). --api-version sets the version served to requests without a
// Polar-Version header (default 2026-10; 2025-03 is the seed-era contract).
#include <polar/testing/emulator.hpp>
#include <polar/testing/emulator_state.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

namespace asio = boost::asio;
using polar::testing::emulator;
using polar::testing::emulator_options;
using polar::testing::emulator_state;

const char* const usage =
    "usage: polar-emulator [--host H] [--port P] [--tls] [--cert FILE --key FILE]\n"
    "                      [--seed demo] [--token TOKEN:SCOPE1,SCOPE2[:ORG_ID]]...\n"
    "                      [--state FILE] [--threads N] [--idle-timeout SECONDS]\n"
    "                      [--api-version 2025-03|2026-04|2026-10] [--rate-limit N/min]\n"
    "\n"
    "  --host H           address to bind (default 127.0.0.1)\n"
    "  --port P           port to bind (default 0: any free port)\n"
    "  --tls              serve HTTPS; without --cert/--key a self-signed certificate\n"
    "                     is generated and written to a temporary file\n"
    "  --cert/--key FILE  PEM certificate chain and private key for --tls\n"
    "  --seed demo        load the demo data set (organizations, customers, meters,\n"
    "                     events and tokens; printed on start)\n"
    "  --token T:S[:ORG]  add an organization token T with comma-separated scopes S\n"
    "                     (e.g. reader:meters:read or w:meters:read,meters:write),\n"
    "                     for organization ORG, a UUID (default: the demo organization with\n"
    "                     --seed demo, else a new \"Emulated Org\"); repeatable\n"
    "  --state FILE       load the state from FILE if it exists; save it there after\n"
    "                     changes and on exit\n"
    "  --threads N        threads serving requests (default 1)\n"
    "  --idle-timeout S   close keep-alive connections idle for S seconds (default 30)\n"
    "  --api-version V    the API version for requests without a Polar-Version header\n"
    "                     (default 2026-10): 2026-10 and 2026-04 serve today's contract,\n"
    "                     2025-03 the seed-era one (with /v1/meters/{id}/events, no\n"
    "                     version header on its responses). A request's own\n"
    "                     Polar-Version header always selects its version; an\n"
    "                     unknown one gets 404 {\"detail\":\"Not Found\"}\n"
    "  --rate-limit N/min Polar's rate limit: N requests per minute (or N/s) per\n"
    "                     organization on every /v1 path; more get 429 with\n"
    "                     Retry-After and an empty body (production: 500/min,\n"
    "                     sandbox: 100/min; default: none, like a local Polar)\n"
    "\n"
    "Without --seed, --token or a loaded state: organization \"Emulated Org\" with the\n"
    "token polar_test_token (meters:read meters:write events:read events:write\n"
    "customer_meters:read).\n";

struct token_arg {
    std::string token;
    std::vector<std::string> scopes;
    std::string organization_id;
};

struct arguments {
    std::string host = "127.0.0.1";
    unsigned port = 0;
    bool tls = false;
    std::string cert_file, key_file;
    bool seed_demo = false;
    std::vector<token_arg> tokens;
    std::string state_file;
    int threads = 1;
    int idle_timeout = 30;
    std::string api_version = std::string(polar::testing::api_version_2026_10);
    polar::rate_limit rate_limit{};
};

[[noreturn]] void fail_usage(const std::string& msg) {
    std::cerr << "polar-emulator: " << msg << "\n\n" << usage;
    std::exit(2);
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur, sep))
        if (!cur.empty())
            out.push_back(cur);
    return out;
}

bool looks_like_uuid(const std::string& s) {
    if (s.size() != 36)
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i])))
            return false;
    }
    return true;
}

int parse_int(const std::string& s, const char* what, int lo, int hi) {
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno != 0 || v < lo || v > hi)
        fail_usage(std::string("bad ") + what + ": " + s);
    return static_cast<int>(v);
}

arguments parse(int argc, char** argv) {
    arguments a;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                fail_usage(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            std::exit(0);
        } else if (arg == "--host") {
            a.host = value();
        } else if (arg == "--port") {
            a.port = static_cast<unsigned>(parse_int(value(), "port", 0, 65535));
        } else if (arg == "--tls") {
            a.tls = true;
        } else if (arg == "--cert") {
            a.cert_file = value();
        } else if (arg == "--key") {
            a.key_file = value();
        } else if (arg == "--seed") {
            std::string v = value();
            if (v != "demo")
                fail_usage("--seed takes 'demo'");
            a.seed_demo = true;
        } else if (arg == "--token") {
            // TOKEN:SCOPES[:ORG_ID]. Scopes contain colons themselves
            // ("meters:read"), so the organization is the last part only when
            // it looks like a UUID.
            std::string v = value();
            auto c1 = v.find(':');
            if (c1 == std::string::npos || c1 == 0)
                fail_usage("--token takes TOKEN:SCOPE1,SCOPE2[:ORG_ID]");
            token_arg t;
            t.token = v.substr(0, c1);
            std::string rest = v.substr(c1 + 1);
            auto last = rest.rfind(':');
            if (last != std::string::npos && looks_like_uuid(rest.substr(last + 1))) {
                t.organization_id = rest.substr(last + 1);
                rest.resize(last);
            }
            t.scopes = split(rest, ',');
            a.tokens.push_back(std::move(t));
        } else if (arg == "--state") {
            a.state_file = value();
        } else if (arg == "--threads") {
            a.threads = parse_int(value(), "thread count", 1, 256);
        } else if (arg == "--api-version") {
            a.api_version = value();
            if (!polar::testing::is_supported_api_version(a.api_version))
                fail_usage("--api-version takes 2025-03, 2026-04 or 2026-10");
        } else if (arg == "--rate-limit") {
            const std::string v = value();
            const auto slash = v.find('/');
            const std::string unit = slash == std::string::npos ? "" : v.substr(slash + 1);
            if (unit != "min" && unit != "s")
                fail_usage("--rate-limit takes N/min or N/s, e.g. 100/min");
            const int n = parse_int(v.substr(0, slash), "rate limit", 1, 1000000);
            a.rate_limit = unit == "min" ? polar::rate_limit::per_minute(static_cast<std::uint32_t>(n))
                                         : polar::rate_limit::per_second(static_cast<std::uint32_t>(n));
        } else if (arg == "--idle-timeout") {
            a.idle_timeout = parse_int(value(), "idle timeout", 1, 86400);
        } else {
            fail_usage("unknown argument " + arg);
        }
    }
    if (a.cert_file.empty() != a.key_file.empty())
        fail_usage("--cert and --key go together");
    if (!a.cert_file.empty() && !a.tls)
        fail_usage("--cert/--key need --tls");
    return a;
}

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Writes next to the target and renames, so a crash never leaves half a file.
void save_state(const emulator_state& state, const std::string& path) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << state.snapshot();
        if (!out)
            throw std::runtime_error("cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
}

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty())
            out += sep;
        out += s;
    }
    return out;
}

std::string write_temp_cert(const std::string& pem) {
    char path[] = "/tmp/polar-emulator-cert-XXXXXX.pem";
    int fd = ::mkstemps(path, 4);
    if (fd < 0)
        throw std::runtime_error("cannot create a temporary file for the certificate");
    std::size_t off = 0;
    while (off < pem.size()) {
        ssize_t n = ::write(fd, pem.data() + off, pem.size() - off);
        if (n <= 0) {
            ::close(fd);
            throw std::runtime_error("cannot write the certificate file");
        }
        off += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return path;
}

int run(const arguments& args) {
    auto state = std::make_shared<emulator_state>();
    bool loaded = false;
    if (!args.state_file.empty()) {
        if (auto text = read_file(args.state_file)) {
            state->restore(*text);
            loaded = true;
            std::cout << "state: loaded " << args.state_file << "\n";
        }
    }

    std::vector<std::pair<std::string, std::string>> token_lines; // token, description
    std::string demo_org;
    if (args.seed_demo) {
        if (loaded) {
            std::cout << "seed: skipped (state loaded from " << args.state_file << ")\n";
        } else {
            auto demo = state->seed_demo();
            demo_org = demo.organization_id;
            std::cout << "seed: demo data (" << demo.meter_ids.size() << " meters, " << demo.customer_ids.size()
                      << " customers, " << demo.event_count << " events; organization " << demo.organization_id
                      << "; on 2026-04/2026-10 also a team customer and " << demo.dated_event_count
                      << " more events)\n";
            token_lines.emplace_back(demo.organization_token, "organization token, all scopes (demo)");
            token_lines.emplace_back(demo.read_only_token, "organization token, meters:read (demo)");
            token_lines.emplace_back(demo.user_token, "user token, all scopes (demo)");
        }
    }
    std::string own_org;
    for (const auto& t : args.tokens) {
        std::string org = t.organization_id;
        if (org.empty())
            org = !demo_org.empty() ? demo_org : own_org;
        if (org.empty())
            org = own_org = state->add_organization(std::string(polar::testing::default_organization_name));
        state->add_organization_token(t.token, org, t.scopes);
        token_lines.emplace_back(t.token, "organization token, scopes " + join(t.scopes, " ") + ", organization " + org);
    }
    if (!args.seed_demo && args.tokens.empty() && !loaded) {
        std::string org = state->add_organization(std::string(polar::testing::default_organization_name));
        state->add_organization_token(std::string(polar::testing::default_token), org,
                                      {"meters:read", "meters:write", "events:read", "events:write",
                                       "customer_meters:read"});
        token_lines.emplace_back(std::string(polar::testing::default_token),
                                 "organization token, scopes meters:read meters:write events:read events:write "
                                 "customer_meters:read, organization " +
                                     org);
    }

    asio::io_context ioc(args.threads);
    emulator_options opts;
    opts.host = args.host;
    opts.port = static_cast<std::uint16_t>(args.port);
    opts.tls = args.tls;
    opts.cert_file = args.cert_file;
    opts.key_file = args.key_file;
    opts.state = state;
    opts.default_setup = false; // done above, so that it can be printed
    opts.idle_timeout = std::chrono::seconds(args.idle_timeout);
    opts.default_api_version = args.api_version;
    opts.rate_limit = args.rate_limit;
    emulator srv(ioc.get_executor(), std::move(opts));
    srv.start();

    std::cout << "polar-emulator: listening on " << srv.base_url() << "\n";
    std::cout << "api version: " << args.api_version << " (requests without a Polar-Version header)\n";
    if (args.rate_limit.enabled())
        std::cout << "rate limit: " << args.rate_limit.requests << " requests per "
                  << (args.rate_limit.window.count() == 1000 ? "second" : "minute") << " per organization\n";
    if (args.tls) {
        if (args.cert_file.empty())
            std::cout << "certificate: " << write_temp_cert(srv.certificate_pem()) << " (self-signed; trust it)\n";
        else
            std::cout << "certificate: " << args.cert_file << "\n";
    }
    for (const auto& [token, what] : token_lines)
        std::cout << "token: " << token << " (" << what << ")\n";
    if (loaded && token_lines.empty())
        std::cout << "token: (the tokens of the loaded state)\n";
    std::cout << std::flush;

    // Periodic save: whenever a mutating request arrived since the last save.
    std::uint64_t saved_mutations = 0;
    asio::steady_timer save_timer(ioc);
    std::function<void()> schedule_save = [&] {
        save_timer.expires_after(std::chrono::seconds(2));
        save_timer.async_wait([&](boost::system::error_code ec) {
            if (ec)
                return;
            auto c = srv.counters();
            std::uint64_t n = c.requests("POST *") + c.requests("PATCH *") + c.requests("PUT *") +
                              c.requests("DELETE *");
            if (n != saved_mutations) {
                saved_mutations = n;
                try {
                    save_state(*state, args.state_file);
                } catch (const std::exception& e) {
                    std::cerr << "polar-emulator: " << e.what() << "\n";
                }
            }
            schedule_save();
        });
    };
    if (!args.state_file.empty())
        schedule_save();

    int exit_code = 0;
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int sig) {
        if (ec)
            return;
        std::cout << "polar-emulator: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down\n"
                  << std::flush;
        save_timer.cancel();
        if (!args.state_file.empty()) {
            try {
                save_state(*state, args.state_file);
                std::cout << "state: saved " << args.state_file << "\n" << std::flush;
            } catch (const std::exception& e) {
                std::cerr << "polar-emulator: " << e.what() << "\n";
                exit_code = 1;
            }
        }
        srv.stop();
        // Connections close on their strands; do not wait for slow peers.
        auto grace = std::make_shared<asio::steady_timer>(ioc, std::chrono::seconds(2));
        grace->async_wait([&ioc, grace](boost::system::error_code) { ioc.stop(); });
        // Once every connection is gone the grace timer is the only work left.
        auto poll = std::make_shared<asio::steady_timer>(ioc);
        auto check = std::make_shared<std::function<void()>>();
        *check = [&ioc, &srv, poll, check, grace] {
            if (srv.counters().open_connections() == 0) {
                grace->cancel();
                ioc.stop();
                *check = nullptr; // break the cycle
                return;
            }
            poll->expires_after(std::chrono::milliseconds(10));
            poll->async_wait([check](boost::system::error_code) {
                if (*check)
                    (*check)();
            });
        };
        (*check)();
    });

    std::vector<std::thread> pool;
    for (int i = 1; i < args.threads; ++i)
        pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool)
        t.join();
    return exit_code;
}

} // namespace

int main(int argc, char** argv) {
    arguments args = parse(argc, argv);
    try {
        return run(args);
    } catch (const std::exception& e) {
        std::cerr << "polar-emulator: " << e.what() << "\n";
        return 1;
    }
}
