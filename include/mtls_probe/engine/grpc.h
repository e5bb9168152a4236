// gRPC health checking by hand: grpc.health.v1.Health/Check is one unary call whose request and response
// are a few bytes of protobuf, so no gRPC library is needed. The request is an ordinary HTTP/2 POST (the
// HTTP/2 exchange sends it like any -d body); the answer is read back from the facts the exchange recorded
// (headers, body, trailers) into GrpcFacts. Pure functions: unit-tested without sockets (grpc_test.cc).
//
// Wire format (gRPC over HTTP/2, "PROTOCOL-HTTP2.md"): each message is a 5-byte prefix (compressed flag,
// 4-byte big-endian length) and the message; the call's status is grpc-status / grpc-message in the trailers,
// or in the response headers of a "trailers-only" answer (an error with no message at all).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/http.h"
#include "mtls_probe/engine/options.h"

namespace mtls_probe {

inline constexpr std::string_view kGrpcHealthCheckPath = "/grpc.health.v1.Health/Check";
inline constexpr std::size_t kGrpcMessageKeep = 512;  // grpc-message bytes kept (decoded) for the report

// The 17 status codes' names (grpc/status.h): "OK", "CANCELLED", ... "UNAUTHENTICATED"; "CODE_N" beyond them.
std::string grpc_status_name(int code);
// HealthCheckResponse.ServingStatus: "UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"; "VALUE_N" else.
std::string serving_status_name(int value);

// HealthCheckRequest {string service = 1;} as protobuf bytes ("" for the empty service: proto3 omits it).
std::string encode_health_check_request(std::string_view service);
// HealthCheckResponse {ServingStatus status = 1;} as protobuf bytes (0 = UNKNOWN is omitted, as proto3 does).
std::string encode_health_check_response(int serving_status);
// One uncompressed length-prefixed gRPC message.
std::string grpc_frame(std::string_view message);

// grpc-message's encoding: percent-encoding of bytes outside 0x20..0x7e and of '%' itself.
std::string grpc_percent_encode(std::string_view text);
// The reverse, bounded to max_bytes of output; a '%' not followed by two hex digits stays as it is
// (gRPC's own decoders are lenient the same way).
std::string grpc_percent_decode(std::string_view text, std::size_t max_bytes);

// Turns the probe's request into a health check of `service`: POST kGrpcHealthCheckPath, content-type
// application/grpc, te: trailers, the framed HealthCheckRequest as the body. The user's other headers stay
// (gRPC metadata such as authorization). Sets target.grpc_health.
void make_grpc_health_request(TargetOptions& target, std::string_view service);

// The length-prefixed messages of a response body, one only (a unary call). nullopt with *problem set
// when the body is not one well-formed message within what was read (body_bytes) and kept (body).
struct GrpcBody {
  std::string_view body;     // the bytes kept
  std::uint64_t body_bytes;  // the bytes read
  bool truncated;            // reading stopped at the body cap
  std::uint64_t max_body_bytes;
};
std::optional<std::string> parse_grpc_message(const GrpcBody& in, std::string& problem);

// HealthCheckResponse's status field (0 when absent); nullopt with *problem set when not valid protobuf.
std::optional<int> parse_health_check_response(std::string_view message, std::string& problem);

// Reads what the HTTP/2 exchange recorded in f (status, headers, trailers, body) as the health check's
// answer, into f.grpc (which must be set). A problem (not gRPC, broken framing) goes to f.grpc->problem.
void record_grpc_response(ProbeFacts& f, const HttpLimits& limits);

}  // namespace mtls_probe
