// HttpResponseParser on arbitrary bytes, split across reads at positions taken from the input.
//
// Input layout (see make_seeds.py):
//   byte 0        flags: bit 0 HEAD request, bit 1 small limits (4 more bytes follow), bits 4-6 number of
//                 splits (0-7)
//   [4 bytes]     small limits: max_header_bytes = 1 + b0 * 4, max_headers = b1 % 16,
//                 body_keep = b2 % 64, max_body_bytes = b3 * 2
//   [splits]      one byte each: the length of each read; the rest of the stream is one last read
//   rest          the bytes the "server" sent
// Invariants: the outcome (state, status, headers, trailers, kept body, counts) does not depend on the split;
// the bounds hold (kept body <= body_keep, body bytes <= max_body_bytes, headers <= max_headers); after
// finish() the state is complete or error, an error has a message, a complete response has a status and
// complete headers; nothing is accepted after the end.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_common.h"
#include "mtls_probe/engine/http.h"

using namespace mtls_probe;
using State = HttpResponseParser::State;

namespace {

struct Outcome {
  State state;
  std::optional<int> status;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> trailers;
  std::string body;
  std::uint64_t body_bytes;
  bool truncated;
  bool headers_complete;
};

void check_bounds(const HttpResponseParser& p, const HttpLimits& limits) {
  FUZZ_CHECK(p.body_kept().size() <= limits.body_keep);
  FUZZ_CHECK(p.body_kept().size() <= p.body_bytes());
  FUZZ_CHECK(p.body_bytes() <= limits.max_body_bytes);
  FUZZ_CHECK(p.headers().size() <= limits.max_headers);
  FUZZ_CHECK(p.trailers().size() <= limits.max_headers);
  if (!p.headers_complete()) FUZZ_CHECK(p.trailers().empty());
  if (p.state() == State::error) FUZZ_CHECK(!p.error().empty());
  if (p.state() != State::error) FUZZ_CHECK(p.error().empty());
  if (p.status_seen()) FUZZ_CHECK(*p.status() >= 100 && *p.status() <= 999);
  if (p.headers_complete()) FUZZ_CHECK(p.status_seen());
  if (p.body_truncated()) FUZZ_CHECK(p.state() == State::complete);
  if (!p.headers_complete()) FUZZ_CHECK(p.body_bytes() == 0);
}

Outcome run(const HttpLimits& limits, bool head, std::string_view stream,
            const std::vector<std::size_t>& reads) {
  HttpResponseParser p(limits, head);
  FUZZ_CHECK(p.state() == State::need_more);
  for (std::size_t n : reads) {
    if (stream.empty()) break;
    std::string_view piece = stream.substr(0, n);
    stream.remove_prefix(piece.size());
    State before = p.state();
    State s = p.feed(piece);
    FUZZ_CHECK(s == p.state());
    if (before != State::need_more) FUZZ_CHECK(s == before);  // final states are final
    check_bounds(p, limits);
  }
  if (!stream.empty()) {
    State before = p.state();
    p.feed(stream);
    if (before != State::need_more) FUZZ_CHECK(p.state() == before);
    check_bounds(p, limits);
  }
  State before = p.state();
  State s = p.finish();
  FUZZ_CHECK(s == p.state());
  FUZZ_CHECK(s != State::need_more);
  if (before != State::need_more) FUZZ_CHECK(s == before);
  check_bounds(p, limits);
  if (s == State::complete) {
    FUZZ_CHECK(p.status_seen());
    FUZZ_CHECK(p.headers_complete());
  }
  // Feeding after the end changes nothing.
  State again = p.feed("HTTP/1.1 200 OK\r\n\r\n");
  FUZZ_CHECK(again == s);
  FUZZ_CHECK(p.finish() == s);
  check_bounds(p, limits);
  return Outcome{p.state(),     p.status(),     p.reason(),         p.headers(),         p.trailers(),
                 p.body_kept(), p.body_bytes(), p.body_truncated(), p.headers_complete()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.empty()) return 0;
  const auto flags = static_cast<unsigned char>(in[0]);
  in.remove_prefix(1);
  const bool head = (flags & 1) != 0;
  HttpLimits limits;
  if ((flags & 2) != 0) {
    if (in.size() < 4) return 0;
    auto b = [&](std::size_t i) { return static_cast<unsigned char>(in[i]); };
    limits.max_header_bytes = 1 + static_cast<std::size_t>(b(0)) * 4;
    limits.max_headers = b(1) % 16;
    limits.body_keep = b(2) % 64;
    limits.max_body_bytes = static_cast<std::uint64_t>(b(3)) * 2;
    in.remove_prefix(4);
  }
  std::size_t nsplits = (flags >> 4) & 7;
  if (in.size() < nsplits) return 0;
  std::vector<std::size_t> reads;
  for (std::size_t i = 0; i < nsplits; ++i) reads.push_back(static_cast<unsigned char>(in[i]));
  in.remove_prefix(nsplits);

  Outcome split = run(limits, head, in, reads);
  Outcome whole = run(limits, head, in, {});
  // Byte by byte for short streams: the most adversarial split.
  if (in.size() <= 512) {
    Outcome bytes = run(limits, head, in, std::vector<std::size_t>(in.size(), 1));
    FUZZ_CHECK(bytes.state == whole.state);
    FUZZ_CHECK(bytes.status == whole.status);
    FUZZ_CHECK(bytes.headers == whole.headers);
    FUZZ_CHECK(bytes.trailers == whole.trailers);
    FUZZ_CHECK(bytes.body == whole.body);
    FUZZ_CHECK(bytes.body_bytes == whole.body_bytes);
    FUZZ_CHECK(bytes.truncated == whole.truncated);
  }
  FUZZ_CHECK(split.state == whole.state);
  FUZZ_CHECK(split.status == whole.status);
  FUZZ_CHECK(split.reason == whole.reason);
  FUZZ_CHECK(split.headers == whole.headers);
  FUZZ_CHECK(split.trailers == whole.trailers);
  FUZZ_CHECK(split.body == whole.body);
  FUZZ_CHECK(split.body_bytes == whole.body_bytes);
  FUZZ_CHECK(split.truncated == whole.truncated);
  FUZZ_CHECK(split.headers_complete == whole.headers_complete);
  return 0;
}
