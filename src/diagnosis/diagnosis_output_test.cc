// -o / --max-filesize: the body-output rules (a pure function of the facts, no sockets).
#include <gtest/gtest.h>

#include "mtls_probe/diagnosis/diagnosis.h"

namespace mtls_probe {
namespace {

// A 200 over HTTP/1.1 whose body went to out.bin.
ProbeFacts downloaded(std::uint64_t bytes) {
  ProbeFacts f;
  f.url = "https://localhost:8443/big";
  f.dns_attempted = true;
  f.addresses = {"127.0.0.1"};
  f.connect_attempted = true;
  f.connected_address = "127.0.0.1:8443";
  f.tls_attempted = true;
  f.handshake_completed = true;
  f.tls_version = "TLSv1.3";
  f.request_sent = true;
  f.http_version = "1.1";
  f.http_status = 200;
  f.http_reason = "OK";
  f.body_file = "out.bin";
  f.body_bytes = bytes;
  return f;
}

TEST(DiagnosisOutput, WholeBodyWrittenIsOk) {
  ProbeFacts f = downloaded(3 << 20);
  f.max_filesize = 4 << 20;
  EXPECT_EQ(diagnose(f).verdict, Verdict::ok);
}

TEST(DiagnosisOutput, BodyBeyondMaxFilesizeIsHttpErrorNamingTheLimit) {
  ProbeFacts f = downloaded(1000);
  f.max_filesize = 1000;
  f.body_truncated = true;
  f.max_filesize_exceeded = true;
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::http_error);
  EXPECT_NE(d.summary.find("exceeded --max-filesize at 1000 bytes"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("out.bin"), std::string::npos) << d.summary;
}

TEST(DiagnosisOutput, ContentLengthAboveMaxFilesizeIsNotDownloaded) {
  ProbeFacts f = downloaded(0);
  f.max_filesize = 1000;
  f.body_truncated = true;
  f.oversize_content_length = 5000;
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::http_error);
  EXPECT_NE(d.summary.find("Content-Length 5000, above --max-filesize 1000"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("not downloaded"), std::string::npos) << d.summary;
}

TEST(DiagnosisOutput, WriteFailureIsNamed) {
  ProbeFacts f = downloaded(4096);
  f.body_write_error = "No space left on device";
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::http_error);
  EXPECT_NE(d.summary.find("No space left on device"), std::string::npos) << d.summary;
}

TEST(DiagnosisOutput, StdoutIsNamedAsSuch) {
  ProbeFacts f = downloaded(10);
  f.body_file = "-";
  f.max_filesize = 10;
  f.body_truncated = true;
  f.max_filesize_exceeded = true;
  EXPECT_NE(diagnose(f).summary.find("stdout keeps the first 10 bytes"), std::string::npos);
}

TEST(DiagnosisOutput, ABrokenResponseStaysAProtocolError) {
  ProbeFacts f = downloaded(10);
  f.max_filesize = 10;
  f.max_filesize_exceeded = true;
  f.http_error = "connection closed before the response was complete (got 10 of 99 body bytes)";
  EXPECT_EQ(diagnose(f).verdict, Verdict::protocol_error);
}

}  // namespace
}  // namespace mtls_probe
