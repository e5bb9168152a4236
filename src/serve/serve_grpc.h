// serve --grpc-health: the answer to grpc.health.v1.Health/Check over HTTP/2, as a gRPC server gives it.
// Pure: the HTTP/2 session (serve_h2) sends what this makes.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mtls_probe::serve_grpc {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct GrpcAnswer {
  Fields headers;    // :status 200 is the session's; content-type (and, trailers-only, the status)
  std::string body;  // the length-prefixed HealthCheckResponse ("" for an error status)
  Fields trailers;   // grpc-status (empty: a trailers-only answer carries it in the headers)
};

// grpc_status 0: SERVING, as a message and grpc-status 0 in the trailers. Any other status (1..16): a
// trailers-only answer (no message), as gRPC servers answer an error, with a grpc-message naming the option.
GrpcAnswer health_check_answer(int grpc_status);

}  // namespace mtls_probe::serve_grpc
