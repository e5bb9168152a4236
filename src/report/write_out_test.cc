// -w/--write-out: a pure function of a ProbeResult and the format.
#include "mtls_probe/report/write_out.h"

#include <gtest/gtest.h>

#include <string>

namespace mtls_probe {
namespace {

ProbeResult fetched() {
  ProbeFacts f;
  f.url = "https://localhost:8443/file";
  f.dns_attempted = true;
  f.addresses = {"127.0.0.1"};
  f.dns_ms = 1.5;
  f.connect_attempted = true;
  f.connected_address = "127.0.0.1:8443";
  f.local_ip = "127.0.0.1";
  f.local_port = 40000;
  f.connect_ms = 0.5;
  f.tls_attempted = true;
  f.handshake_completed = true;
  f.tls_version = "TLSv1.3";
  f.cipher = "TLS_AES_256_GCM_SHA384";
  f.alpn = "h2";
  f.tls_ms = 3.0;
  f.client_cert_requested = true;
  f.client_cert_sent = true;
  f.request_sent = true;
  f.request_head_bytes = 80;
  f.request_body_bytes = 5;
  f.http_version = "2";
  f.http_status = 200;
  f.response_headers = {{"content-type", "text/plain"}, {"x-a", "1"}, {"X-A", "2"}};
  f.body_bytes = 2000;
  f.ttfb_ms = 5.0;
  f.total_ms = 20.0;
  return ProbeResult{std::move(f), Diagnosis{Verdict::ok, "Client certificate accepted.", {}, {}}};
}

// All the text a write-out produces, whatever stream it went to.
std::string all_text(const WriteOut& w) {
  std::string s;
  for (const auto& p : w.pieces) s += p.text;
  return s;
}

std::string expand(const std::string& format, const ProbeResult& r = fetched()) {
  return all_text(render_write_out(r, format));
}

TEST(WriteOut, PlainTextAndEscapes) {
  EXPECT_EQ(expand("a\\nb\\tc\\rd\\\\e"), "a\nb\tc\rd\\e");
  EXPECT_EQ(expand("100%%"), "100%");
  EXPECT_EQ(expand("\\q"), "\\q");  // an unknown escape stays as it is (curl)
  EXPECT_EQ(expand("trailing\\"), "trailing\\");
  EXPECT_EQ(expand("%"), "%");
  EXPECT_EQ(expand("50% off"), "50% off");
  EXPECT_EQ(expand("%{http_code"), "%{http_code");  // never closed: printed as it is
  EXPECT_EQ(expand(""), "");
}

TEST(WriteOut, CodesAreThreeDigits) {
  EXPECT_EQ(expand("%{http_code} %{response_code}"), "200 200");
  ProbeResult none = fetched();
  none.facts.http_status.reset();
  EXPECT_EQ(expand("%{http_code}", none), "000");
}

TEST(WriteOut, TimesAreCumulativeSecondsWithSixDecimals) {
  EXPECT_EQ(expand("%{time_namelookup} %{time_connect} %{time_appconnect} %{time_pretransfer} "
                   "%{time_starttransfer} %{time_total}"),
            "0.001500 0.002000 0.005000 0.005000 0.010000 0.020000");
}

TEST(WriteOut, TimesNeverDecreaseEvenWhenTotalWasMeasuredShort) {
  ProbeResult r = fetched();
  r.facts.total_ms = 1.0;  // a clock quirk: the total is at least the last phase
  EXPECT_EQ(expand("%{time_total}", r), "0.010000");
}

TEST(WriteOut, PhasesNotReachedAreZero) {
  ProbeResult r = fetched();
  r.facts.handshake_completed = false;
  r.facts.tls_ms.reset();
  r.facts.request_sent = false;
  r.facts.ttfb_ms.reset();
  r.facts.http_status.reset();
  EXPECT_EQ(expand("%{time_connect} %{time_appconnect} %{time_pretransfer} %{time_starttransfer}", r),
            "0.002000 0.000000 0.000000 0.000000");
}

TEST(WriteOut, AddressesAndSizes) {
  EXPECT_EQ(expand("%{remote_ip}:%{remote_port} %{local_ip}:%{local_port}"),
            "127.0.0.1:8443 127.0.0.1:40000");
  ProbeResult v6 = fetched();
  v6.facts.connected_address = "[::1]:443";
  EXPECT_EQ(expand("%{remote_ip} %{remote_port}", v6), "::1 443");
  EXPECT_EQ(expand("%{size_download} %{size_request} %{size_upload} %{num_headers} %{num_connects}"),
            "2000 85 5 3 1");
  // "HTTP/2 200 \r\n" + the three fields + the blank line.
  EXPECT_EQ(expand("%{size_header}"), std::to_string(13 + 26 + 8 + 8 + 2));
  EXPECT_EQ(expand("%{speed_download}"), "100000");  // 2000 bytes in 0.02 s
}

TEST(WriteOut, NamesAndVersions) {
  EXPECT_EQ(expand("%{http_version} %{scheme} %{url_effective} %{content_type}"),
            "2 https https://localhost:8443/file text/plain");
  EXPECT_EQ(expand("%{exitcode} [%{errormsg}] %{ssl_verify_result} %{proxy_used}"), "0 [] 0 0");
  EXPECT_EQ(expand("%{verdict} %{client_cert_requested} %{client_cert_sent} %{tls_version} %{alpn}"),
            "ok 1 1 TLSv1.3 h2");
}

TEST(WriteOut, ErrormsgIsTheSummaryOfAFailure) {
  ProbeResult r = fetched();
  r.diagnosis.verdict = Verdict::http_error;
  r.diagnosis.summary = "TLS succeeded; the server answered 404.";
  EXPECT_EQ(expand("%{exitcode}: %{errormsg}", r),
            std::to_string(exit_code(Verdict::http_error)) + ": TLS succeeded; the server answered 404.");
}

TEST(WriteOut, HeaderValuesCaseInsensitiveAndJoined) {
  EXPECT_EQ(expand("[%header{Content-Type}]"), "[text/plain]");
  EXPECT_EQ(expand("[%header{x-a}]"), "[1, 2]");
  EXPECT_EQ(expand("[%header{absent}]"), "[]");
  EXPECT_TRUE(render_write_out(fetched(), "%header{absent}").warnings.empty());
}

TEST(WriteOut, UnknownVariableWarnsAndPrintsNothing) {
  const WriteOut w = render_write_out(fetched(), "a%{no_such_thing}b");
  EXPECT_EQ(all_text(w), "ab");
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_EQ(w.warnings[0], "unknown --write-out variable: 'no_such_thing'");
}

TEST(WriteOut, StreamSwitching) {
  const WriteOut w = render_write_out(fetched(), "a%{stderr}b%{stdout}c");
  ASSERT_EQ(w.pieces.size(), 3u);
  EXPECT_EQ(w.pieces[0].stream, WriteOutStream::out);
  EXPECT_EQ(w.pieces[0].text, "a");
  EXPECT_EQ(w.pieces[1].stream, WriteOutStream::err);
  EXPECT_EQ(w.pieces[1].text, "b");
  EXPECT_EQ(w.pieces[2].stream, WriteOutStream::out);
  EXPECT_EQ(w.pieces[2].text, "c");
}

TEST(WriteOut, LockedStreamIgnoresStdout) {  // --json: stdout is the JSON object's alone
  const WriteOut w = render_write_out(fetched(), "a%{stdout}b", WriteOutStream::err, true);
  ASSERT_EQ(w.pieces.size(), 1u);
  EXPECT_EQ(w.pieces[0].stream, WriteOutStream::err);
  EXPECT_EQ(w.pieces[0].text, "ab");
}

TEST(WriteOut, JsonHasEveryVariableTyped) {
  const std::string text = expand("%{json}");
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("http_code"), 200);
  EXPECT_EQ(j.at("remote_port"), 8443);
  EXPECT_DOUBLE_EQ(j.at("time_total").get<double>(), 0.02);
  EXPECT_EQ(j.at("client_cert_sent"), true);
  EXPECT_EQ(j.at("verdict"), "ok");
  EXPECT_EQ(j, write_out_variables(fetched()));
  // Every variable %{json} lists is one %{name} knows.
  for (const auto& [name, value] : j.items()) {
    EXPECT_TRUE(render_write_out(fetched(), "%{" + name + "}").warnings.empty()) << name;
  }
}

TEST(WriteOut, ServerTextIsTerminalSafe) {
  ProbeResult r = fetched();
  r.facts.response_headers = {{"content-type", "text/\x1b[31mred"}};
  EXPECT_EQ(expand("%{content_type}", r).find('\x1b'), std::string::npos);
  EXPECT_EQ(expand("%header{content-type}", r).find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace mtls_probe
