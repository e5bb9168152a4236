#include "mtls_probe/engine/http.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "mtls_probe/engine/url.h"

namespace mtls_probe {
namespace {

using State = HttpResponseParser::State;

const std::string kUa = "User-Agent: mtls-probe/" MTLS_PROBE_VERSION "\r\n";

// -H values as the front end parses them.
std::vector<RequestHeader> headers(std::initializer_list<const char*> given) {
  std::vector<RequestHeader> out;
  for (const char* g : given) {
    auto h = parse_request_header(g);
    EXPECT_TRUE(h.has_value()) << g;
    if (h) out.push_back(*h);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// build_request

TEST(HttpRequest, GetBytesExact) {
  HttpOptions opts;
  EXPECT_EQ(build_request(opts, "example.com:8443", "/path?q=1"),
            "GET /path?q=1 HTTP/1.1\r\n"
            "Host: example.com:8443\r\n" +
                kUa +
                "Accept: */*\r\n"
                "Connection: close\r\n"
                "\r\n");
}

TEST(HttpRequest, PostWithDataBytesExact) {
  HttpOptions opts;
  opts.method = "POST";
  opts.data = "a=1&b=2";
  opts.headers = headers({"X-Trace: 42"});
  EXPECT_EQ(build_request(opts, "[::1]", "/submit"),
            "POST /submit HTTP/1.1\r\n"
            "Host: [::1]\r\n" +
                kUa +
                "Accept: */*\r\n"
                "Content-Length: 7\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Connection: close\r\n"
                "X-Trace: 42\r\n"
                "\r\n"
                "a=1&b=2");
}

TEST(HttpRequest, EmptyDataStillHasLength) {
  HttpOptions opts;
  opts.method = "PUT";
  opts.data = "";
  std::string req = build_request(opts, "h", "/");
  EXPECT_NE(req.find("\r\nContent-Length: 0\r\n"), std::string::npos) << req;
  EXPECT_EQ(req.substr(req.size() - 4), "\r\n\r\n");
}

TEST(HttpRequest, UserHeadersReplaceDefaults) {
  HttpOptions opts;
  opts.headers = headers({"user-agent: curl/8.5.0", "Host: other.example", "Content-Type: application/json"});
  opts.data = "{}";
  opts.method = "POST";
  EXPECT_EQ(build_request(opts, "example.com", "/"),
            "POST / HTTP/1.1\r\n"
            "Accept: */*\r\n"
            "Content-Length: 2\r\n"
            "Connection: close\r\n"
            "user-agent: curl/8.5.0\r\n"
            "Host: other.example\r\n"
            "Content-Type: application/json\r\n"
            "\r\n"
            "{}");
}

TEST(HttpRequest, EmptyHeaderRemovesDefaultSemicolonSendsEmpty) {
  HttpOptions opts;
  opts.headers = headers({"Accept:", "X-Empty;", "X-Gone:"});
  EXPECT_EQ(build_request(opts, "h", "/"),
            "GET / HTTP/1.1\r\n"
            "Host: h\r\n" +
                kUa +
                "Connection: close\r\n"
                "X-Empty:\r\n"
                "\r\n");
}

TEST(HttpRequest, NeverInjects) {
  HttpOptions opts;
  opts.method = "GET / HTTP/1.1\r\nEvil: 1\r\n";
  // Built by hand, past the front end's parsing: build_request still drops what could inject a line.
  opts.headers = {RequestHeader{"X", "a\r\nEvil: 2", true}, RequestHeader{"Bad Name", "v", true},
                  RequestHeader{"Good", "yes", true}};
  std::string req = build_request(opts, "h", "/x y");
  EXPECT_EQ(req.find("Evil"), std::string::npos) << req;
  EXPECT_EQ(req.rfind("GET / HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Good: yes\r\n"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------
// HttpResponseParser

struct Parsed {
  State state;
  std::optional<int> status;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  uint64_t body_bytes;
  bool truncated;
  std::string error;
  std::vector<std::pair<std::string, std::string>> trailers;
};

Parsed snapshot(const HttpResponseParser& p) {
  return {p.state(),      p.status(),         p.reason(), p.headers(), p.body_kept(),
          p.body_bytes(), p.body_truncated(), p.error(),  p.trailers()};
}

bool same(const Parsed& a, const Parsed& b) {
  return a.state == b.state && a.status == b.status && a.reason == b.reason && a.headers == b.headers &&
         a.body == b.body && a.body_bytes == b.body_bytes && a.truncated == b.truncated &&
         a.trailers == b.trailers;
}

// Feeds `parts` in order; calls finish() at the end when `eof` and the parser still wants more.
Parsed run(const std::vector<std::string>& parts, bool eof = false, HttpLimits limits = {},
           bool head = false) {
  HttpResponseParser p(limits, head);
  for (const auto& part : parts) p.feed(part);
  if (eof && p.state() == State::need_more) p.finish();
  return snapshot(p);
}

Parsed run_bytewise(const std::string& text, bool eof = false, HttpLimits limits = {}, bool head = false) {
  HttpResponseParser p(limits, head);
  for (char c : text) p.feed(std::string_view(&c, 1));
  if (eof && p.state() == State::need_more) p.finish();
  return snapshot(p);
}

TEST(HttpResponse, SimpleContentLength) {
  Parsed r = run({"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.reason, "OK");
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Content-Type", "text/plain"}));
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.body_bytes, 5u);
  EXPECT_FALSE(r.truncated);
}

TEST(HttpResponse, AccessorsAndHeaderLookup) {
  HttpResponseParser p;
  EXPECT_FALSE(p.status_seen());
  EXPECT_EQ(p.feed("HTTP/1.1 403 Forbidden\r\nX-A:  spaced value \t\r\n"), State::need_more);
  EXPECT_TRUE(p.status_seen());
  EXPECT_FALSE(p.headers_complete());
  EXPECT_EQ(p.feed("content-length: 0\r\n\r\n"), State::complete);
  EXPECT_TRUE(p.headers_complete());
  EXPECT_EQ(p.status(), 403);
  EXPECT_EQ(p.reason(), "Forbidden");
  EXPECT_EQ(p.header("x-a"), "spaced value");
  EXPECT_EQ(p.header("Content-Length"), "0");
  EXPECT_FALSE(p.header("missing").has_value());
  EXPECT_EQ(p.feed("garbage after the response"), State::complete);  // ignored
}

TEST(HttpResponse, StatusWithoutReason) {
  Parsed r = run({"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.reason, "");
  r = run({"HTTP/1.0 404 \r\nContent-Length: 0\r\n\r\n"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.status, 404);
  r = run({"HTTP/1.1 400 The SSL certificate error\r\nContent-Length: 0\r\n\r\n"});
  EXPECT_EQ(r.reason, "The SSL certificate error");
}

TEST(HttpResponse, BareLfLineEndings) {
  Parsed r = run({"HTTP/1.1 200 OK\nContent-Length: 2\n\nok"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.body, "ok");
}

TEST(HttpResponse, ChunkedWithExtensionsAndTrailers) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "6 ; a=\"b;c\"\r\n world\r\n"
      "A\r\n0123456789\r\n"
      "0;last\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n";
  Parsed r = run({text});
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.body, "hello world0123456789");
  EXPECT_EQ(r.body_bytes, 21u);
  EXPECT_EQ(r.headers.size(), 1u);  // trailers are not headers
  using Fields = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(r.trailers, (Fields{{"X-Trailer", "t"}, {"X-Other", "u"}}));
  // The same, one byte at a time.
  EXPECT_TRUE(same(run_bytewise(text), r));
}

TEST(HttpResponse, TrailerSyntaxIsHeaderSyntax) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n";
  // Whitespace trimmed, obs-fold joined, as in the header section.
  Parsed r = run({head + "Grpc-Status :  0  \r\nX-Long: a\r\n  b\r\n\r\n"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  using Fields = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(r.trailers, (Fields{{"Grpc-Status", "0"}, {"X-Long", "a b"}}));
  // A line that is not a field is a broken response, named as a trailer.
  r = run({head + "no colon here\r\n\r\n"});
  EXPECT_EQ(r.state, State::error);
  EXPECT_NE(r.error.find("malformed response trailer line"), std::string::npos) << r.error;
  r = run({head + " folded first\r\n\r\n"});
  EXPECT_EQ(r.state, State::error);
  EXPECT_NE(r.error.find("before any trailer"), std::string::npos) << r.error;
  // No trailers: an empty list, not the headers.
  r = run({head + "\r\n"});
  EXPECT_EQ(r.state, State::complete);
  EXPECT_TRUE(r.trailers.empty());
}

TEST(HttpResponse, TrailerCountBounded) {
  HttpLimits limits;
  limits.max_headers = 3;
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  Parsed r = run({head + "a: 1\r\nb: 2\r\nc: 3\r\n\r\n"}, false, limits);
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.trailers.size(), 3u);
  r = run({head + "a: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n"}, false, limits);
  EXPECT_EQ(r.state, State::error);
  EXPECT_NE(r.error.find("more than 3 trailers in the response"), std::string::npos) << r.error;
  EXPECT_EQ(r.trailers.size(), 3u);
}

TEST(HttpResponse, ChunkedNoTrailers) {
  Parsed r = run({"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.body, "abc");
}

TEST(HttpResponse, TransferEncodingBeatsContentLength) {
  Parsed r = run(
      {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.body, "hi");
}

TEST(HttpResponse, NonChunkedTransferEncodingReadsUntilClose) {
  Parsed r = run({"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz"}, true);
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.body, "zzz");
}

const std::vector<std::string> kSamples = {
    "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: b\r\n\r\nhello world",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.0 200 OK\r\nServer: x\r\n folded\r\n\r\nuntil close",
    "HTTP/1.1 204 No Content\r\nX: y\r\n\r\n",
    "HTTP/1.1 400 Bad Request\nContent-Length: 3\n\nbad",
};

TEST(HttpResponse, EverySplitPointGivesTheSameResult) {
  for (const auto& text : kSamples) {
    Parsed whole = run({text}, true);
    ASSERT_EQ(whole.state, State::complete) << text << ": " << whole.error;
    for (std::size_t i = 0; i <= text.size(); ++i) {
      Parsed split = run({text.substr(0, i), text.substr(i)}, true);
      EXPECT_TRUE(same(whole, split)) << "split at " << i << " of: " << text << " error: " << split.error;
    }
    EXPECT_TRUE(same(whole, run_bytewise(text, true))) << "bytewise: " << text;
  }
}

TEST(HttpResponse, EveryThreeWaySplitOfChunked) {
  const std::string& text = kSamples[1];
  Parsed whole = run({text});
  ASSERT_EQ(whole.state, State::complete);
  for (std::size_t i = 0; i <= text.size(); ++i) {
    for (std::size_t j = i; j <= text.size(); ++j) {
      Parsed split = run({text.substr(0, i), text.substr(i, j - i), text.substr(j)});
      ASSERT_TRUE(same(whole, split)) << "split at " << i << "," << j;
    }
  }
}

TEST(HttpResponse, ErrorsAreFoundAtEverySplitPoint) {
  const std::vector<std::string> bad = {
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
      "SSH-2.0-OpenSSH_9.6\r\n",
  };
  for (const auto& text : bad) {
    for (std::size_t i = 0; i <= text.size(); ++i) {
      Parsed split = run({text.substr(0, i), text.substr(i)});
      EXPECT_EQ(split.state, State::error) << "split at " << i << " of: " << text;
    }
    EXPECT_EQ(run_bytewise(text).state, State::error) << text;
  }
}

TEST(HttpResponse, ReadUntilClose) {
  HttpResponseParser p;
  EXPECT_EQ(p.feed("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nsome "), State::need_more);
  EXPECT_EQ(p.feed("body"), State::need_more);
  EXPECT_TRUE(p.headers_complete());
  EXPECT_EQ(p.finish(), State::complete);
  EXPECT_EQ(p.body_kept(), "some body");
  EXPECT_FALSE(p.body_truncated());
}

TEST(HttpResponse, EarlyCloseWithContentLength) {
  HttpResponseParser p;
  p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd");
  EXPECT_EQ(p.finish(), State::error);
  EXPECT_NE(p.error().find("connection closed before the response was complete (got 4 of 10 body bytes)"),
            std::string::npos)
      << p.error();
  EXPECT_EQ(p.status(), 200);  // what arrived stays available
}

TEST(HttpResponse, EarlyCloseInChunkedBody) {
  for (const char* text : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"}) {
    HttpResponseParser p;
    EXPECT_EQ(p.feed(text), State::need_more) << text;
    EXPECT_EQ(p.finish(), State::error) << text;
    EXPECT_NE(p.error().find("connection closed before the response was complete"), std::string::npos)
        << p.error();
  }
}

TEST(HttpResponse, EarlyCloseInHead) {
  {
    HttpResponseParser p;
    EXPECT_EQ(p.finish(), State::error);
    EXPECT_NE(p.error().find("before any response"), std::string::npos) << p.error();
  }
  {
    HttpResponseParser p;
    p.feed("HTTP/1.1 20");
    EXPECT_EQ(p.finish(), State::error);
    EXPECT_NE(p.error().find("status line"), std::string::npos) << p.error();
  }
  {
    HttpResponseParser p;
    p.feed("HTTP/1.1 200 OK\r\nContent-Le");
    EXPECT_EQ(p.finish(), State::error);
    EXPECT_NE(p.error().find("headers were complete"), std::string::npos) << p.error();
    EXPECT_EQ(p.status(), 200);
  }
  {
    HttpResponseParser p;
    p.feed("HTTP/1.1 100 Continue\r\n\r\n");
    EXPECT_EQ(p.finish(), State::error);
    EXPECT_NE(p.error().find("interim"), std::string::npos) << p.error();
  }
}

TEST(HttpResponse, FinishIsIdempotent) {
  HttpResponseParser p;
  p.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
  EXPECT_EQ(p.finish(), State::complete);
  EXPECT_EQ(p.finish(), State::complete);
}

TEST(HttpResponse, InterimResponsesSkipped) {
  Parsed r =
      run({"HTTP/1.1 100 Continue\r\n\r\n"
           "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Content-Length");
  EXPECT_EQ(r.body, "ok");
}

TEST(HttpResponse, InterimThenGarbageIsAnError) {
  Parsed r = run({"HTTP/1.1 100 Continue\r\n\r\nnonsense\r\n"});
  EXPECT_EQ(r.state, State::error);
  EXPECT_NE(r.error.find("not an HTTP response"), std::string::npos) << r.error;
}

TEST(HttpResponse, EndlessInterimResponsesAreBounded) {
  HttpLimits limits;
  limits.max_header_bytes = 1000;
  HttpResponseParser p(limits);
  State s = State::need_more;
  for (int i = 0; i < 1000 && s == State::need_more; ++i) s = p.feed("HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_EQ(s, State::error);
  EXPECT_NE(p.error().find("exceed 1000 bytes"), std::string::npos) << p.error();
}

TEST(HttpResponse, SwitchingProtocolsEndsTheResponse) {
  Parsed r = run({"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n\x00\x01"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.status, 101);
  EXPECT_EQ(r.body_bytes, 0u);
}

TEST(HttpResponse, HeadHasNoBody) {
  Parsed r = run({"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"}, false, {}, true);
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.body_bytes, 0u);
  r = run({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"}, false, {}, true);
  EXPECT_EQ(r.state, State::complete) << r.error;
}

TEST(HttpResponse, NoBodyStatuses) {
  for (const char* text : {"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
                           "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
                           "HTTP/1.1 204 No Content\r\n\r\n"}) {
    Parsed r = run({text});
    EXPECT_EQ(r.state, State::complete) << text << r.error;
    EXPECT_EQ(r.body_bytes, 0u);
  }
}

TEST(HttpResponse, ZeroContentLengthCompletesAtOnce) {
  Parsed r = run({"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"});
  EXPECT_EQ(r.state, State::complete);
  EXPECT_EQ(r.status, 403);
}

TEST(HttpResponse, OversizeHeadersRefused) {
  HttpLimits limits;
  limits.max_header_bytes = 100;
  Parsed r = run({"HTTP/1.1 200 OK\r\nX-Big: " + std::string(200, 'a') + "\r\n\r\n"}, false, limits);
  EXPECT_EQ(r.state, State::error);
  EXPECT_NE(r.error.find("response headers exceed 100 bytes"), std::string::npos) << r.error;
  // Without any line end: fails as soon as the cap is passed, bytewise too.
  r = run_bytewise("HTTP/1.1 200 OK" + std::string(200, 'a'), false, limits);
  EXPECT_EQ(r.state, State::error);
  // Exactly at the cap is fine.
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
  head += "X: " + std::string(100 - head.size() - 7, 'a') + "\r\n\r\n";
  ASSERT_EQ(head.size(), 100u);
  EXPECT_EQ(run({head}, false, limits).state, State::complete);
}

TEST(HttpResponse, DefaultHeaderCapHoldsAgainstAFlood) {
  HttpResponseParser p;
  p.feed("HTTP/1.1 200 OK\r\n");
  std::string junk(4096, 'x');
  State s = State::need_more;
  int fed = 0;
  while (s == State::need_more && fed < 1000) {
    s = p.feed(junk);
    ++fed;
  }
  EXPECT_EQ(s, State::error);
  EXPECT_LE(fed, 17);  // 64 KiB
  EXPECT_NE(p.error().find("response headers exceed 65536 bytes"), std::string::npos) << p.error();
}

TEST(HttpResponse, TooManyHeadersRefused) {
  HttpLimits limits;
  limits.max_headers = 3;
  EXPECT_EQ(
      run({"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n\r\n"}, false, limits).state,
      State::error);
  Parsed r = run({"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"}, false, limits);
  EXPECT_EQ(r.state, State::error);
  EXPECT_NE(r.error.find("more than 3 headers"), std::string::npos) << r.error;
  EXPECT_EQ(run({"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n"}, false, limits).state,
            State::complete);
}

HttpLimits small_body_limits() {
  HttpLimits limits;
  limits.body_keep = 100;
  limits.max_body_bytes = 1000;
  return limits;
}

TEST(HttpResponse, EndlessBodyTruncatedAtMaxBodyBytes) {
  HttpResponseParser p(small_body_limits());
  p.feed("HTTP/1.1 200 OK\r\n\r\n");
  std::string piece(64, 'z');
  int fed = 0;
  while (p.state() == State::need_more && fed < 100000) {
    p.feed(piece);
    ++fed;
  }
  EXPECT_EQ(p.state(), State::complete);
  EXPECT_TRUE(p.body_truncated());
  EXPECT_EQ(p.body_bytes(), 1000u);
  EXPECT_EQ(p.body_kept(), std::string(100, 'z'));
  EXPECT_LE(fed, 17);
}

TEST(HttpResponse, EndlessChunkedBodyTruncated) {
  HttpResponseParser p(small_body_limits());
  p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  int fed = 0;
  while (p.state() == State::need_more && fed < 100000) {
    p.feed("7\r\nabcdefg\r\n");
    ++fed;
  }
  EXPECT_EQ(p.state(), State::complete);
  EXPECT_TRUE(p.body_truncated());
  EXPECT_EQ(p.body_bytes(), 1000u);
  EXPECT_EQ(p.body_kept().size(), 100u);
}

TEST(HttpResponse, HugeContentLengthTruncated) {
  Parsed r = run({"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", std::string(5000, 'x')}, false,
                 small_body_limits());
  EXPECT_EQ(r.state, State::complete);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.body_bytes, 1000u);
}

TEST(HttpResponse, BodyOfExactlyTheLimitIsNotTruncated) {
  Parsed r = run({"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", std::string(1000, 'x')}, false,
                 small_body_limits());
  EXPECT_EQ(r.state, State::complete);
  EXPECT_FALSE(r.truncated);
  r = run({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n", std::string(1000, 'x'),
           "\r\n0\r\n\r\n"},
          false, small_body_limits());
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_FALSE(r.truncated);
  r = run({"HTTP/1.0 200 OK\r\n\r\n", std::string(1000, 'x')}, true, small_body_limits());
  EXPECT_EQ(r.state, State::complete);
  EXPECT_FALSE(r.truncated);
}

TEST(HttpResponse, LargeBodyBytewiseIsLinear) {
  HttpLimits limits;
  limits.max_body_bytes = 4u << 20;
  std::string chunk = "1000\r\n" + std::string(4096, 'b') + "\r\n";
  HttpResponseParser p(limits);
  p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 512; ++i) {  // 2 MiB, one byte per feed
    for (char c : chunk) p.feed(std::string_view(&c, 1));
  }
  p.feed("0\r\n\r\n");
  EXPECT_EQ(p.state(), State::complete) << p.error();
  EXPECT_EQ(p.body_bytes(), 512u * 4096u);
  EXPECT_EQ(p.body_kept().size(), limits.body_keep);
}

TEST(HttpResponse, GarbageRefused) {
  for (const std::string& text : std::vector<std::string>{
           std::string("SSH-2.0-OpenSSH_9.6\r\n"), std::string("\x15\x03\x03\x00\x02\x02\x28", 7),
           std::string("<html>hello</html>"), std::string("HTTP/2 200\r\n\r\n"),
           std::string("http/1.1 200 OK\r\n"), std::string("\r\nHTTP/1.1 200 OK\r\n"),
           std::string("HTTP/1.1 20 OK\r\n\r\n"), std::string("HTTP/1.1 200OK\r\n\r\n"),
           std::string("HTTP/1.1 099 Low\r\n\r\n"), std::string("HTTP/1.1  200 OK\r\n\r\n"),
           std::string("HTTP/1.x 200 OK\r\n\r\n"), std::string("HTTP/1.1 200 O\rK\r\n\r\n")}) {
    Parsed r = run({text});
    EXPECT_EQ(r.state, State::error) << text;
    EXPECT_NE(r.error.find("not an HTTP response"), std::string::npos) << r.error;
    EXPECT_EQ(run_bytewise(text).state, State::error) << text;
  }
}

TEST(HttpResponse, GarbageIsQuotedEscapedAndBounded) {
  HttpResponseParser p;
  EXPECT_EQ(p.feed(std::string("\x15\x03\x03\x00\x02\x02\x28", 7) + std::string(500, 'q')), State::error);
  EXPECT_NE(p.error().find("\\x15\\x03\\x03\\x00"), std::string::npos) << p.error();
  EXPECT_LT(p.error().size(), 200u);
  // Fails on the first wrong byte without waiting for a line end.
  HttpResponseParser q;
  EXPECT_EQ(q.feed("S"), State::error);
}

TEST(HttpResponse, MalformedHeaders) {
  for (const char* text : {"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
                           "HTTP/1.1 200 OK\r\n continued\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
                           "HTTP/1.1 200 OK\r\n: x\r\n\r\n", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n"}) {
    Parsed r = run({text});
    EXPECT_EQ(r.state, State::error) << text;
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(HttpResponse, ObsFoldJoinedAndSpaceBeforeColonTolerated) {
  Parsed r = run(
      {"HTTP/1.1 200 OK\r\nX-Long: part one\r\n\tpart two\r\nServer : nginx\r\nContent-Length: 0\r\n\r\n"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  ASSERT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(r.headers[0].second, "part one part two");
  EXPECT_EQ(r.headers[1].first, "Server");
}

TEST(HttpResponse, ChunkSizeOverflowRefused) {
  Parsed r = run({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n"});
  EXPECT_EQ(r.state, State::error);
  EXPECT_NE(r.error.find("overflow"), std::string::npos) << r.error;
  // The largest size parses (and is then truncated at the body limit).
  r = run(
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", std::string(2000, 'x')},
      false, small_body_limits());
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_TRUE(r.truncated);
  // Leading zeros are no overflow.
  r = run({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000000000000000000003\r\nabc\r\n0\r\n\r\n"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.body, "abc");
}

TEST(HttpResponse, BadChunkFramingRefused) {
  for (const std::string& tail :
       std::vector<std::string>{"zz\r\n", "\r\n", "-1\r\n", "5 x\r\n", "5\r\nhelloX\r\n", "5\r\nhello\rX",
                                "5\r\nhello\r\r\n", std::string(5000, '1')}) {
    Parsed r = run({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + tail});
    EXPECT_EQ(r.state, State::error) << tail;
    EXPECT_NE(r.error.find("chunk"), std::string::npos) << r.error;
  }
}

TEST(HttpResponse, TrailersBounded) {
  HttpLimits limits;
  limits.max_header_bytes = 200;
  Parsed r = run({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", std::string(300, 't')}, false,
                 limits);
  EXPECT_EQ(r.state, State::error);
  EXPECT_NE(r.error.find("trailers exceed"), std::string::npos) << r.error;
}

TEST(HttpResponse, ConflictingContentLengthRefused) {
  Parsed r = run({"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"});
  EXPECT_EQ(r.state, State::error);
  EXPECT_NE(r.error.find("conflicting Content-Length"), std::string::npos) << r.error;
  r = run({"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd"});
  EXPECT_EQ(r.state, State::error);
}

TEST(HttpResponse, EqualDuplicateContentLengthAccepted) {
  Parsed r = run({"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  r = run({"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc"});
  EXPECT_EQ(r.state, State::complete) << r.error;
  EXPECT_EQ(r.body, "abc");
}

TEST(HttpResponse, BadContentLengthRefused) {
  for (const char* value : {"abc", "-1", "+3", "3.0", "", "0x10", "99999999999999999999", "1 2"}) {
    Parsed r = run({std::string("HTTP/1.1 200 OK\r\nContent-Length: ") + value + "\r\n\r\n"});
    EXPECT_EQ(r.state, State::error) << value;
    EXPECT_NE(r.error.find("Content-Length"), std::string::npos) << r.error;
  }
}

TEST(HttpResponse, ZeroMaxBodyTruncatesAtOnce) {
  HttpLimits limits;
  limits.max_body_bytes = 0;
  Parsed r = run({"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"}, false, limits);
  EXPECT_EQ(r.state, State::complete);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.body_bytes, 0u);
}

TEST(HttpTrace, CredentialHeadersAreRecognisedCaseInsensitively) {
  for (const char* n : {"Authorization", "authorization", "PROXY-AUTHORIZATION", "Cookie", "set-cookie"}) {
    EXPECT_TRUE(is_credential_header(n)) << n;
  }
  for (const char* n : {"Host", "X-Authorization-Id", "Cookies", "Content-Type", ""}) {
    EXPECT_FALSE(is_credential_header(n)) << n;
  }
}

TEST(HttpTrace, HeaderLineRedactsOnlyCredentials) {
  EXPECT_EQ(header_trace_line("Set-Cookie", "sid=SECRET; HttpOnly"), "Set-Cookie: <redacted>");
  EXPECT_EQ(header_trace_line("Content-Type", "text/plain"), "Content-Type: text/plain");
}

TEST(HttpTrace, RequestLinesWithoutCredentialValuesOrBody) {
  HttpOptions o;
  o.method = "POST";
  o.headers = headers({"Authorization: Bearer SECRET-TOKEN", "cookie:sid=SECRET", "X-Trace: 1",
                       "Proxy-Authorization: Basic SECRET"});
  o.data = "body=SECRET-BODY";
  const std::vector<std::string> lines = request_trace_lines(build_request(o, "h.test:8443", "/p?q=1"));
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0], "POST /p?q=1 HTTP/1.1");
  EXPECT_EQ(lines[1], "Host: h.test:8443");
  auto has = [&](const std::string& l) { return std::find(lines.begin(), lines.end(), l) != lines.end(); };
  EXPECT_TRUE(has("Authorization: <redacted>"));
  EXPECT_TRUE(has("cookie: <redacted>"));
  EXPECT_TRUE(has("Proxy-Authorization: <redacted>"));
  EXPECT_TRUE(has("X-Trace: 1"));
  for (const auto& l : lines) {
    EXPECT_EQ(l.find("SECRET"), std::string::npos) << l;
    EXPECT_EQ(l.find('\r'), std::string::npos) << l;
  }
}

TEST(HttpTrace, ParserKeepsTheResponseVersion) {
  HttpResponseParser p;
  p.feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(p.version(), "HTTP/1.0");
}

}  // namespace
}  // namespace mtls_probe
