#include "serve_grpc.h"

#include "mtls_probe/engine/grpc.h"

namespace mtls_probe::serve_grpc {

GrpcAnswer health_check_answer(int grpc_status) {
  GrpcAnswer a;
  a.headers.emplace_back("content-type", "application/grpc");
  if (grpc_status == 0) {
    a.body = grpc_frame(encode_health_check_response(1));  // SERVING
    a.trailers.emplace_back("grpc-status", "0");
    return a;
  }
  a.headers.emplace_back("grpc-status", std::to_string(grpc_status));
  a.headers.emplace_back(
      "grpc-message", grpc_percent_encode("mtls-probe serve: --grpc-status " + std::to_string(grpc_status) +
                                          " (" + grpc_status_name(grpc_status) + ")"));
  return a;
}

}  // namespace mtls_probe::serve_grpc
