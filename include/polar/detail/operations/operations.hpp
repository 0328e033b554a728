//
// polar-cpp: the operations (internal).
//
// This folder runs the calls. A request builder (impl/meters.ipp, events.ipp,
// customer_meters.ipp) makes an http_call, and op_initiation
// (detail/call.hpp) hands it to async_execute(); from there an operation
// runs it attempt after attempt on the transport (detail/transport/): it
// waits for the rate limiter, acquires a connection, writes the request,
// reads the response (detail/response.hpp), decodes the result and retries
// per the policy, until it calls the handler once. Of the models it knows
// only the result types of async_execute's explicit instantiations.
//
//   operations.hpp    this overview; includes the folder
//   client_state.hpp  client_state: what every copy of a client shares, the
//                     connection pool plus the options, header fields, rate
//                     limiter and retry budget
//   request.hpp       write_request(): the request as one buffer; the traces
//                     of requests and responses, the token masked
//   result.hpp        decoding the result: decode_erased() of a whole body,
//                     decode_sink for a body decoded as it arrives, and a
//                     page's context for fetching the next one
//   operation.hpp     operation_base: the state machine of one call (rate
//                     limit, acquire(), async_write, http::async_read);
//                     operation<T, Handler>, start_operation(),
//                     async_execute() and its explicit instantiations
//   retry.hpp         the end of an attempt (operation_base's members): the
//                     response interpreted, the retry decision (policy,
//                     budget, Retry-After, deadline), the backoff
//
// The client class's own members (the constructor that validates the
// options and fills client_state, stats(), shutdown()) are in
// impl/client.ipp, which includes this folder.
//
#ifndef POLAR_DETAIL_OPERATIONS_OPERATIONS_HPP
#define POLAR_DETAIL_OPERATIONS_OPERATIONS_HPP

#include <polar/detail/operations/client_state.hpp>
#include <polar/detail/operations/request.hpp>
#include <polar/detail/operations/result.hpp>
#include <polar/detail/operations/operation.hpp>
#include <polar/detail/operations/retry.hpp>

#endif
