#include "mtls_probe/engine/grpc.h"

#include <gtest/gtest.h>

#include <string>

namespace mtls_probe {
namespace {

using namespace std::string_literals;

TEST(GrpcNames, AllSeventeenStatusCodesAndBeyond) {
  const char* names[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  for (int i = 0; i < 17; ++i) EXPECT_EQ(grpc_status_name(i), names[i]) << i;
  EXPECT_EQ(grpc_status_name(17), "CODE_17");
  EXPECT_EQ(grpc_status_name(-1), "CODE_-1");
  EXPECT_EQ(serving_status_name(0), "UNKNOWN");
  EXPECT_EQ(serving_status_name(1), "SERVING");
  EXPECT_EQ(serving_status_name(2), "NOT_SERVING");
  EXPECT_EQ(serving_status_name(3), "SERVICE_UNKNOWN");
  EXPECT_EQ(serving_status_name(9), "VALUE_9");
}

TEST(GrpcEncode, HealthCheckRequestIsProtobufField1) {
  EXPECT_EQ(encode_health_check_request(""), "");  // proto3 leaves the default out
  EXPECT_EQ(encode_health_check_request("down"),
            "\x0a\x04"s
            "down");
  const std::string long_name(200, 's');  // a length past 127 takes a two-byte varint
  EXPECT_EQ(encode_health_check_request(long_name), "\x0a\xc8\x01"s + long_name);
}

TEST(GrpcEncode, FrameIsFlagAndBigEndianLength) {
  EXPECT_EQ(grpc_frame(""), std::string(5, '\0'));
  EXPECT_EQ(grpc_frame("\x0a\x04"
                       "down"),
            "\x00\x00\x00\x00\x06\x0a\x04"s
            "down");
  EXPECT_EQ(grpc_frame(std::string(0x10203, 'x')).substr(0, 5), "\x00\x00\x01\x02\x03"s);
  EXPECT_EQ(encode_health_check_response(1), "\x08\x01");
  EXPECT_EQ(encode_health_check_response(0), "");
}

TEST(GrpcEncode, PercentEncodingRoundTripsAndDecodingIsBounded) {
  EXPECT_EQ(grpc_percent_encode("a b%c\n\xc3\xa9"), "a b%25c%0A%C3%A9");
  EXPECT_EQ(grpc_percent_decode("a b%25c%0A%C3%A9", 100), "a b%c\n\xc3\xa9");
  EXPECT_EQ(grpc_percent_decode("100%", 100), "100%");    // a lone '%' stays
  EXPECT_EQ(grpc_percent_decode("%zz%4", 100), "%zz%4");  // so do bad escapes
  EXPECT_EQ(grpc_percent_decode(std::string(1000, 'a'), 10), std::string(10, 'a'));
}

TEST(GrpcRequest, HealthCheckIsAPostWithGrpcHeaders) {
  TargetOptions t;
  t.http.headers.push_back({"authorization", "Bearer x", true});
  make_grpc_health_request(t, "down");
  EXPECT_EQ(t.grpc_health, std::optional<std::string>("down"));
  EXPECT_EQ(t.http.method, "POST");
  EXPECT_EQ(t.url.target, "/grpc.health.v1.Health/Check");
  EXPECT_EQ(t.http.data, std::optional<std::string>("\x00\x00\x00\x00\x06\x0a\x04"s
                                                    "down"));
  ASSERT_EQ(t.http.headers.size(), 3U);
  EXPECT_EQ(t.http.headers[0].name, "content-type");
  EXPECT_EQ(t.http.headers[0].value, "application/grpc");
  EXPECT_EQ(t.http.headers[1].name, "te");
  EXPECT_EQ(t.http.headers[1].value, "trailers");
  EXPECT_EQ(t.http.headers[2].name, "authorization");  // the user's metadata stays

  TargetOptions own;  // the user's own content-type wins
  own.http.headers.push_back({"Content-Type", "application/grpc+proto", true});
  make_grpc_health_request(own, "");
  ASSERT_EQ(own.http.headers.size(), 2U);
  EXPECT_EQ(own.http.headers[0].name, "te");
  EXPECT_EQ(own.http.data, std::optional<std::string>(std::string(5, '\0')));
}

std::optional<std::string> message_of(const std::string& body, std::string& problem, bool truncated = false,
                                      std::uint64_t read = 0) {
  return parse_grpc_message({body, read ? read : body.size(), truncated, 1 << 20}, problem);
}

TEST(GrpcParse, OneMessageOrAProblem) {
  std::string problem;
  EXPECT_EQ(message_of("\x00\x00\x00\x00\x02\x08\x01"s, problem), std::optional<std::string>("\x08\x01"));
  EXPECT_EQ(message_of("", problem), std::optional<std::string>(""));
  EXPECT_EQ(message_of("\x00\x00\x00\x00\x00"s, problem), std::optional<std::string>(""));

  struct Case {
    std::string body;
    const char* words;
  } cases[] = {
      {"\x00\x00\x00"s, "shorter than a gRPC message prefix"},
      {"\x01\x00\x00\x00\x02\x08\x01"s, "compressed its message"},
      {"\x05\x00\x00\x00\x02\x08\x01"s, "compressed flag is 5"},
      {"\x00\x00\x00\x00\x05\x08\x01"s, "ends inside the message: 2 of the 5 bytes"},
      {"\x00\x00\x00\x00\x01\x08\x01"s, "1 bytes follow the first message"},
      {"\x00\x7f\xff\xff\xff"s, "past the 1048576-byte body cap"},
      {"<html>oops</html>"s, "compressed flag is 60"},
  };
  for (const auto& c : cases) {
    problem.clear();
    EXPECT_FALSE(message_of(c.body, problem)) << c.words;
    EXPECT_NE(problem.find(c.words), std::string::npos) << problem;
  }
  problem.clear();
  EXPECT_FALSE(message_of("\x00\x00\x00\x00\x02\x08\x01"s, problem, true));
  EXPECT_NE(problem.find("cap"), std::string::npos) << problem;
  problem.clear();  // read but not kept (body_bytes beyond the excerpt)
  EXPECT_FALSE(message_of("\x00\x00\x00\x00\x04\x08"s, problem, false, 9));
  EXPECT_NE(problem.find("larger than the 6 bytes kept"), std::string::npos) << problem;
}

TEST(GrpcParse, HealthCheckResponseFields) {
  std::string problem;
  EXPECT_EQ(parse_health_check_response("", problem), std::optional<int>(0));  // UNKNOWN is left out
  EXPECT_EQ(parse_health_check_response("\x08\x01", problem), std::optional<int>(1));
  EXPECT_EQ(parse_health_check_response("\x08\x02", problem), std::optional<int>(2));
  // Unknown fields are skipped (varint, 64-bit, length-delimited, 32-bit); the last status wins.
  EXPECT_EQ(parse_health_check_response("\x10\x05\x19"
                                        "12345678"
                                        "\x22\x02hi\x2d"
                                        "abcd"
                                        "\x08\x03"s,
                                        problem),
            std::optional<int>(3));
  EXPECT_EQ(parse_health_check_response("\x08\x01\x08\x02"s, problem), std::optional<int>(2));
  for (const std::string& bad : {"\x08"s, "\x0a\x01"s, "\x0a\x05x"s, "\x0b"s, "\x00\x01"s, "\x22\x09hi"s}) {
    problem.clear();
    EXPECT_FALSE(parse_health_check_response(bad, problem)) << testing::PrintToString(bad);
    EXPECT_FALSE(problem.empty());
  }
}

// A response as the HTTP/2 exchange records it.
ProbeFacts answered(int status, std::vector<std::pair<std::string, std::string>> headers, std::string body,
                    std::vector<std::pair<std::string, std::string>> trailers) {
  ProbeFacts f;
  f.grpc.emplace();
  f.grpc->service = "svc";
  f.http_status = status;
  f.response_headers = std::move(headers);
  f.body_bytes = body.size();
  f.body_excerpt = std::move(body);
  f.response_trailers = std::move(trailers);
  return f;
}

const std::pair<std::string, std::string> kGrpcType{"content-type", "application/grpc"};

TEST(GrpcRecord, ServingFromMessageAndTrailers) {
  ProbeFacts f = answered(200, {kGrpcType}, grpc_frame("\x08\x01"), {{"grpc-status", "0"}});
  record_grpc_response(f, HttpLimits{});
  const GrpcFacts& g = *f.grpc;
  EXPECT_EQ(g.service, "svc");
  EXPECT_EQ(g.status, std::optional<int>(0));
  EXPECT_EQ(g.status_name, "OK");
  EXPECT_EQ(g.serving_status, std::optional<int>(1));
  EXPECT_EQ(g.serving_status_name, "SERVING");
  EXPECT_FALSE(g.message);
  EXPECT_FALSE(g.trailers_only);
  EXPECT_FALSE(g.problem) << *g.problem;
}

TEST(GrpcRecord, TrailersOnlyErrorWithPercentEncodedMessage) {
  ProbeFacts f =
      answered(200, {kGrpcType, {"grpc-status", "7"}, {"grpc-message", "no%20access%3A%20CN%3Dx"}}, "", {});
  record_grpc_response(f, HttpLimits{});
  const GrpcFacts& g = *f.grpc;
  EXPECT_EQ(g.status, std::optional<int>(7));
  EXPECT_EQ(g.status_name, "PERMISSION_DENIED");
  EXPECT_EQ(g.message, std::optional<std::string>("no access: CN=x"));
  EXPECT_TRUE(g.trailers_only);
  EXPECT_FALSE(g.serving_status);
  EXPECT_FALSE(g.problem);

  ProbeFacts grpc_go = answered(200, {{"content-type", "application/grpc+proto"}}, "",
                                {{"grpc-status", "12"}, {"grpc-message", "unknown service"}});
  record_grpc_response(grpc_go, HttpLimits{});
  EXPECT_EQ(grpc_go.grpc->status_name, "UNIMPLEMENTED");
  EXPECT_FALSE(grpc_go.grpc->trailers_only);
  EXPECT_FALSE(grpc_go.grpc->problem);
}

TEST(GrpcRecord, ProblemsWithTheAnswer) {
  struct Case {
    ProbeFacts f;
    const char* words;
  } cases[] = {
      {answered(200, {{"content-type", "text/html"}}, "<html>", {}), "content-type is \"text/html\""},
      {answered(200, {}, "", {{"grpc-status", "0"}}), "no content-type"},
      {answered(200, {kGrpcType}, grpc_frame("\x08\x01"), {}), "without grpc-status"},
      {answered(200, {kGrpcType}, "", {{"grpc-status", "0"}}), "without a HealthCheckResponse"},
      {answered(200, {kGrpcType}, grpc_frame("\x08"), {{"grpc-status", "0"}}), "not valid protobuf"},
      {answered(200, {kGrpcType}, "\x00\x00\x00"s, {{"grpc-status", "0"}}), "shorter than a gRPC message"},
      {answered(200, {kGrpcType}, "", {{"grpc-status", "OK"}}), "grpc-status \"OK\" is not a status code"},
  };
  for (auto& c : cases) {
    record_grpc_response(c.f, HttpLimits{});
    ASSERT_TRUE(c.f.grpc->problem) << c.words;
    EXPECT_NE(c.f.grpc->problem->find(c.words), std::string::npos) << *c.f.grpc->problem;
  }
}

TEST(GrpcRecord, NonGrpcHttpAnswersAreLeftToTheHttpRules) {
  ProbeFacts page =
      answered(400, {{"content-type", "text/html"}}, "No required SSL certificate was sent", {});
  record_grpc_response(page, HttpLimits{});
  EXPECT_FALSE(page.grpc->status);
  EXPECT_FALSE(page.grpc->problem);

  ProbeFacts broken = answered(200, {kGrpcType}, "", {});
  broken.http_error = "connection closed before the response was complete";
  record_grpc_response(broken, HttpLimits{});
  EXPECT_FALSE(broken.grpc->problem);

  ProbeFacts none;
  none.grpc = GrpcFacts{};
  record_grpc_response(none, HttpLimits{});
  EXPECT_FALSE(none.grpc->status);
  EXPECT_FALSE(none.grpc->problem);
}

}  // namespace
}  // namespace mtls_probe
