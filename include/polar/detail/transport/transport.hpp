//
// polar-cpp: the transport (internal).
//
// This folder moves requests and bytes between the operations and the
// server. It knows HTTP endpoints, sockets, TLS and deadlines, and nothing of
// meters, events or any other model: it includes no model header, and the
// operations (detail/operations/) are its only user. What an attempt writes
// on a connection and how the response is read and decoded are the
// operations' business (detail/operations/, detail/response.hpp).
//
//   transport.hpp        this overview; includes the folder
//   watchdog.hpp         watchdog: bounds a connection's I/O by a deadline by
//                        shutting the socket down; earliest(), after()
//   tls_stream.hpp       tls_stream: TLS in which OpenSSL does the socket I/O
//   connection.hpp       connection: a socket (plain or TLS), its watchdog,
//                        its read buffer and the request being written
//   pool.hpp             connection_pool: idle connections, the count of all,
//                        the waiters (pool_waiter); release() gives one back
//   open_connection.hpp  open_connection(): resolve, connect, TLS handshake
//                        with SNI and host name verification
//   acquire.hpp          acquire(): an idle connection, a new one, or a wait
//                        for one to be released
//
// The client's state (client_state, detail/operations/client_state.hpp) is
// a connection_pool plus what is the client's own: options, header fields,
// the retry budget and the rate limiter.
//
#ifndef POLAR_DETAIL_TRANSPORT_TRANSPORT_HPP
#define POLAR_DETAIL_TRANSPORT_TRANSPORT_HPP

#include <polar/detail/transport/watchdog.hpp>
#include <polar/detail/transport/tls_stream.hpp>
#include <polar/detail/transport/connection.hpp>
#include <polar/detail/transport/pool.hpp>
#include <polar/detail/transport/open_connection.hpp>
#include <polar/detail/transport/acquire.hpp>

#endif
