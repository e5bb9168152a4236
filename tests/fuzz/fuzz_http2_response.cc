// The real HTTP/2 exchange (make_http2_exchange: the nghttp2 client session, its callbacks and caps) with
// arbitrary bytes as the server's side of the connection, through the exchange's I/O seam (ExchangeIo).
//
// Input layout (see make_seeds.py):
//   byte 0        flags: bit 0 the request has a body (1 more byte follows: its size in 512-byte units),
//                 bit 1 small limits (4 more bytes follow), bits 2-3 how the stream ends once the bytes are
//                 read (0 EOF, 1 reset, 2 still open: the deadline ends it, 3 a TLS failure), bits 4-6 the
//                 number of splits (0-7), bit 7 tracing on (-v: frames and headers formatted, to a null sink)
//   [1 byte]      body size / 512
//   [4 bytes]     small limits: max_header_bytes = 1 + b0 * 4, max_headers = b1 % 16,
//                 body_keep = b2 % 64, max_body_bytes = b3 * 2
//   [splits]      one byte each: the length of each read - 1; the rest of the stream is one last read
//   rest          the bytes the "server" sent (a server preface is a SETTINGS frame)
// Invariants: no crash, leak or undefined behaviour; the caps hold (kept body <= body_keep and <= body
// bytes, body bytes <= max_body_bytes, header and trailer fields within max_headers and max_header_bytes);
// finish()'s facts agree with each other (a status is a final one, no headers without it, an error has a
// message, an HTTP/2 error has its RFC name, a stall only with a body not fully sent); the response read
// (status, headers, body) does not depend on how the bytes were split into reads.
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.h"
#include "mtls_probe/engine/http_exchange.h"
#include "mtls_probe/engine/url.h"

using namespace mtls_probe;

namespace {

enum class End { eof, reset, open, failed };

// The server: hands out the input in the given read sizes, swallows every write, then ends as told.
class ScriptedServer final : public ExchangeIo {
 public:
  ScriptedServer(std::string_view bytes, std::vector<std::size_t> reads, End end)
      : rest_(bytes), reads_(std::move(reads)), end_(end) {}

  SslIo read(std::span<std::uint8_t> buf, std::size_t& n, ProbeFacts& f) override {
    n = 0;
    if (rest_.empty()) return end_of_stream(f);
    const std::size_t want = next_ < reads_.size() ? reads_[next_++] : rest_.size();
    n = std::min({want, buf.size(), rest_.size()});
    std::copy_n(rest_.data(), n, buf.data());
    rest_.remove_prefix(n);
    return SslIo::done;
  }

  SslIo write_all(std::string_view data, std::size_t& off, ProbeFacts&) override {
    FUZZ_CHECK(off <= data.size());
    off = data.size();
    return SslIo::done;
  }

  bool exhausted() const { return rest_.empty(); }

 private:
  SslIo end_of_stream(ProbeFacts& f) const {
    switch (end_) {
      case End::eof: return SslIo::eof;
      case End::reset: return SslIo::reset;
      case End::open: return SslIo::want_read;
      case End::failed: f.tls_error = "fuzz: TLS failure"; return SslIo::failed;
    }
    return SslIo::failed;
  }

  std::string_view rest_;
  std::vector<std::size_t> reads_;
  std::size_t next_ = 0;
  End end_;
};

struct Setup {
  HttpLimits limits;
  std::optional<std::string> body;
  End end = End::eof;
  bool tracing = false;
};

std::size_t field_bytes(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t n = 0;
  for (const auto& [name, value] : fields) n += name.size() + value.size();
  return n;
}

void check_facts(const ProbeFacts& f, const Setup& s) {
  const HttpLimits& l = s.limits;
  FUZZ_CHECK(f.request_line == "GET /fuzz HTTP/2" || f.request_line == "POST /fuzz HTTP/2");
  FUZZ_CHECK(f.body_excerpt.size() <= l.body_keep);
  FUZZ_CHECK(f.body_excerpt.size() <= f.body_bytes);
  FUZZ_CHECK(f.body_bytes <= l.max_body_bytes);
  if (f.body_truncated) FUZZ_CHECK(f.body_bytes == l.max_body_bytes);
  // The exchange counts pseudo-headers and trailers against the same caps.
  FUZZ_CHECK(f.response_headers.size() + f.response_trailers.size() <= l.max_headers);
  FUZZ_CHECK(field_bytes(f.response_headers) + field_bytes(f.response_trailers) <= l.max_header_bytes);
  if (f.http_status) {
    FUZZ_CHECK(*f.http_status >= 200 && *f.http_status <= 999);  // a final status, never a 1xx
  } else {
    FUZZ_CHECK(f.response_headers.empty());
    FUZZ_CHECK(f.response_trailers.empty());
  }
  if (f.http_error) FUZZ_CHECK(!f.http_error->empty());
  if (f.h2_error) {
    FUZZ_CHECK(f.h2_error->code != 0);
    FUZZ_CHECK(f.h2_error->name == h2_error_name(f.h2_error->code));
  }
  if (f.closed_before_response) FUZZ_CHECK(!f.http_status && !f.h2_error);
  if (f.h2_window_stall) {
    FUZZ_CHECK(s.body.has_value());
    FUZZ_CHECK(f.h2_window_stall->body_bytes == s.body->size());
    FUZZ_CHECK(f.h2_window_stall->body_bytes_sent <= s.body->size());
    FUZZ_CHECK(!f.request_sent);
  }
  if (!s.body) FUZZ_CHECK(!f.h2_window_stall);
}

ProbeFacts run(const Setup& s, std::string_view server_bytes, std::vector<std::size_t> reads) {
  ProbeFacts facts;
  TargetOptions target;
  target.url_text = "https://fuzz.test/fuzz";
  target.url = *parse_url(target.url_text);
  if (s.body) {
    target.http.method = "POST";
    target.http.data = s.body;
  }
  ProbeLog log;
  if (s.tracing) {
    auto logger = std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    logger->set_level(spdlog::level::debug);
    log = ProbeLog(std::move(logger), "");
    FUZZ_CHECK(log.tracing());
  }
  ScriptedServer server(server_bytes, std::move(reads), s.end);
  ExchangeContext ctx;
  ctx.facts = &facts;
  ctx.log = &log;
  ctx.target = &target;
  ctx.deadline = Clock::now() + std::chrono::hours(1);
  ctx.limits = s.limits;
  ctx.io = &server;
  auto exchange = make_http2_exchange(ctx);
  // One step reads until the exchange is over or would wait: the scripted server never blocks a write,
  // and the deadline is an hour away.
  const HttpExchange::Status st = exchange->step();
  FUZZ_CHECK(st == HttpExchange::Status::done || st == HttpExchange::Status::want_read);
  if (st == HttpExchange::Status::want_read) {
    // Only a server that keeps the stream open with nothing more to say leaves the exchange waiting: the
    // probe's deadline then ends it, as here.
    FUZZ_CHECK(server.exhausted() && s.end == End::open);
    facts.timed_out_in = Phase::http;
  }
  exchange->finish();
  check_facts(facts, s);
  return facts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.empty()) return 0;
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(in[i]); };
  const unsigned flags = b(0);
  in.remove_prefix(1);
  Setup s;
  s.end = static_cast<End>((flags >> 2) & 3);
  s.tracing = (flags & 0x80) != 0;
  if ((flags & 1) != 0) {
    if (in.empty()) return 0;
    s.body = std::string(std::size_t{b(0)} * 512, 'b');
    in.remove_prefix(1);
  }
  if ((flags & 2) != 0) {
    if (in.size() < 4) return 0;
    s.limits.max_header_bytes = 1 + std::size_t{b(0)} * 4;
    s.limits.max_headers = b(1) % 16;
    s.limits.body_keep = b(2) % 64;
    s.limits.max_body_bytes = std::uint64_t{b(3)} * 2;
    in.remove_prefix(4);
  }
  const std::size_t nsplits = (flags >> 4) & 7;
  if (in.size() < nsplits) return 0;
  std::vector<std::size_t> reads;
  for (std::size_t i = 0; i < nsplits; ++i) reads.push_back(std::size_t{b(i)} + 1);
  in.remove_prefix(nsplits);

  const ProbeFacts split = run(s, in, reads);
  const ProbeFacts whole = run(s, in, {});
  // What was read as the response is the bytes', not the reads': compared when both runs read a whole,
  // unbroken response (a later frame in the same read may add an error the split run never reached).
  if (split.http_status && whole.http_status && !split.http_error && !whole.http_error) {
    FUZZ_CHECK(split.http_status == whole.http_status);
    FUZZ_CHECK(split.response_headers == whole.response_headers);
  }
  return 0;
}
