//
// Test helpers: a small raw HTTP/1.1 client (HTTP and HTTPS, keep-alive,
// timeouts) that does exactly what it is told, an emulator running on its own
// threads, and a child process runner. Light header: the Beast/OpenSSL code is
// in http_test_client.cpp, compiled once into polar_test_support.
//
#ifndef POLAR_TESTS_COMMON_HTTP_TEST_CLIENT_HPP
#define POLAR_TESTS_COMMON_HTTP_TEST_CLIENT_HPP

#include <polar/testing/emulator.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace polar_test {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// A response as received.
struct http_response {
    int status = 0;
    header_list headers;
    std::string body;
    bool keep_alive = true; ///< false when the server announced Connection: close

    /// The first header named `name` (case-insensitive), or "".
    std::string header(std::string_view name) const;
    bool has_header(std::string_view name) const;
    /// True when `body` parses as JSON.
    bool body_is_json() const;
    /// The value at a JSON pointer (e.g. "/id", "/items/0/name",
    /// "/pagination/total_count") serialized as JSON ("\"abc\"", "3", "null"),
    /// or "" when the body is not JSON or has no such value.
    std::string json(std::string_view pointer) const;
    /// Like json() for a string value, without the quotes ("" if not a string).
    std::string json_string(std::string_view pointer) const;
};

/// Options of one request.
struct http_request {
    std::string method = "GET";
    std::string target = "/";
    std::string body;
    header_list headers;     ///< extra headers (Host and Content-Length are added)
    std::string bearer;      ///< adds `Authorization: Bearer <bearer>` when not empty
    std::string content_type = "application/json"; ///< sent when `body` is not empty
};

/**
 * A synchronous client over one connection at a time, with its own
 * io_context: usable from any thread, including while the emulator runs on
 * other threads. Every operation is bounded by `timeout`; on timeout or
 * error the connection is closed and the error returned (never thrown).
 */
class http_test_client {
public:
    /// `base_url` is "http://host:port" or "https://host:port"; for HTTPS the
    /// server certificate must chain to `ca_pem` and match the host.
    explicit http_test_client(std::string base_url, std::string ca_pem = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds(5));
    ~http_test_client();
    http_test_client(const http_test_client&) = delete;
    http_test_client& operator=(const http_test_client&) = delete;

    /// Connects (and handshakes) if not connected.
    boost::system::error_code connect();
    /// Sends one request on the current connection (connecting first if
    /// needed) and reads the response. The connection stays open if the
    /// response allows keep-alive.
    boost::system::error_code request(const http_request& req, http_response& out);
    /// Shorthand: GET/DELETE/... with a bearer token; throws on transport errors.
    http_response get(std::string_view target, std::string_view bearer = polar::testing::default_token);
    http_response send(std::string_view method, std::string_view target, std::string_view body,
                       std::string_view bearer = polar::testing::default_token);

    /// Writes raw bytes on the current connection.
    boost::system::error_code write_raw(std::string_view bytes);
    /// Reads whatever arrives until the peer closes or `timeout` passes;
    /// returns the error that ended the read (eof for an orderly close,
    /// timed_out when the connection was still open).
    boost::system::error_code read_raw(std::string& out, std::chrono::milliseconds timeout);
    /// Reads the next response only (after write_raw); body limit `max_body`.
    boost::system::error_code read_response(http_response& out, std::size_t max_body = std::size_t(64) << 20);

    bool is_open() const;
    void close();
    /// Connections established so far (to check keep-alive reuse).
    std::size_t connects() const;
    void set_timeout(std::chrono::milliseconds t);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// An emulator running on its own io_context and `threads` threads; stops
/// and joins in the destructor.
class running_emulator {
public:
    explicit running_emulator(polar::testing::emulator_options opts = {}, int threads = 1);
    ~running_emulator();
    running_emulator(const running_emulator&) = delete;
    running_emulator& operator=(const running_emulator&) = delete;

    polar::testing::emulator& server();
    polar::testing::emulator* operator->() { return &server(); }
    /// A client for this emulator (trusting its certificate).
    std::unique_ptr<http_test_client> client(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// Runs `f` on the emulator's io_context and waits for it.
    void run_on_context(std::function<void()> f);
    /// Waits until `pred` holds (polling), up to `timeout`; returns the last result.
    static bool wait_until(const std::function<bool()>& pred,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// A child process with its standard output captured.
class child_process {
public:
    /// Starts `argv[0]` with the arguments; throws on failure.
    explicit child_process(std::vector<std::string> argv);
    ~child_process(); ///< SIGKILLs and reaps a child still running
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// Reads the child's stdout until a line contains `needle` or `timeout`
    /// passes; returns that line ("" on timeout or EOF). Everything read so
    /// far is in output().
    std::string wait_for_line(std::string_view needle, std::chrono::milliseconds timeout);
    const std::string& output() const { return output_; }
    /// Sends a signal.
    void signal(int sig);
    /// Waits up to `timeout` for the child to exit; returns its exit status
    /// (the signal number + 128 if killed), or -1 on timeout.
    int wait(std::chrono::milliseconds timeout);

private:
    int pid_ = -1;
    int out_fd_ = -1;
    bool reaped_ = false;
    std::string output_;
    std::size_t scanned_ = 0;
};

/// Error classification without pulling Asio/Beast headers into test files.
bool is_eof(const boost::system::error_code& ec);         ///< orderly close (EOF, or TLS close without close_notify)
bool is_timeout(const boost::system::error_code& ec);     ///< the client's own timeout
bool is_partial_message(const boost::system::error_code& ec); ///< the peer closed inside a message
bool is_body_limit(const boost::system::error_code& ec);  ///< the client's body limit was hit

/// The polar-emulator binary next to the test binary (or $POLAR_EMULATOR_BIN); "" if none.
std::string emulator_binary_path();

} // namespace polar_test

#endif
