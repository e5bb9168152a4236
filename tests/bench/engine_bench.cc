// The CPU-bound parts of a probe: response parsing, URL parsing, diagnosis and the JSON printer.
#include <benchmark/benchmark.h>

#include <string>

#include "mtls_probe/diagnosis/diagnosis.h"
#include "mtls_probe/engine/http.h"
#include "mtls_probe/report/report.h"
#include "mtls_probe/engine/url.h"

namespace mtls_probe {
namespace {

std::string chunked_response(std::size_t body) {
  std::string r = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(1000, 'x');
  for (std::size_t sent = 0; sent < body; sent += chunk.size()) r += "3e8\r\n" + chunk + "\r\n";
  return r + "0\r\n\r\n";
}

void BM_HttpParseChunked(benchmark::State& state) {
  const std::string response = chunked_response(static_cast<std::size_t>(state.range(0)));
  const std::size_t split = 1400;  // about one TLS record's worth of plaintext per read
  for (auto _ : state) {
    HttpResponseParser p;
    for (std::size_t at = 0; at < response.size(); at += split) {
      p.feed(std::string_view(response).substr(at, split));
    }
    benchmark::DoNotOptimize(p.status());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * response.size()));
}
BENCHMARK(BM_HttpParseChunked)->Arg(16 << 10)->Arg(512 << 10);

void BM_ParseUrl(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parse_url("https://api.internal.example:8443/orders?id=42"));
}
BENCHMARK(BM_ParseUrl);

ProbeFacts rejected_facts() {
  ProbeFacts f;
  f.url = "https://api.internal.example/orders";
  f.host = "api.internal.example";
  f.addresses = {"10.0.0.12"};
  f.tls_attempted = f.handshake_completed = true;
  f.tls_version = "TLSv1.3";
  f.client_cert_requested = f.client_cert_sent = true;
  f.acceptable_ca_names = {"CN=Corp Root CA,O=Corp", "CN=Corp Issuing CA 2,O=Corp"};
  f.issuer_in_acceptable_ca_names = false;
  CertificateSummary c;
  c.subject = "CN=alice";
  c.issuer = "CN=Contractors CA";
  c.not_after = "2027-03-01T00:00:00Z";
  f.client_cert = c;
  AlertRecord a{48, "unknown_ca", Side::server, true, true, true};
  f.alerts = {a};
  f.fatal_alert = a;
  return f;
}

void BM_DiagnoseAndPrintJson(benchmark::State& state) {
  const ProbeFacts f = rejected_facts();
  for (auto _ : state) {
    ProbeResult r{f, diagnose(f)};
    benchmark::DoNotOptimize(to_json(r).dump());
  }
}
BENCHMARK(BM_DiagnoseAndPrintJson);

void BM_DiagnoseAndPrintText(benchmark::State& state) {
  const ProbeFacts f = rejected_facts();
  for (auto _ : state) {
    ProbeResult r{f, diagnose(f)};
    benchmark::DoNotOptimize(render_text(r));
  }
}
BENCHMARK(BM_DiagnoseAndPrintText);

}  // namespace
}  // namespace mtls_probe
