// -o / --max-filesize / -I in the HTTP/1.1 parser: every body byte reaches the sink, bounded by the limit.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "mtls_probe/engine/http.h"

namespace mtls_probe {
namespace {

using State = HttpResponseParser::State;

class StringSink final : public BodySink {
 public:
  explicit StringSink(std::size_t fail_after = std::numeric_limits<std::size_t>::max())
      : fail_after_(fail_after) {}
  bool write(std::string_view bytes) override {
    if (data.size() + bytes.size() > fail_after_) {
      error_ = "No space left on device";
      return false;
    }
    data.append(bytes);
    return true;
  }
  std::string error() const override { return error_; }
  std::string name() const override { return "mem"; }
  std::string data;

 private:
  std::size_t fail_after_;
  std::string error_;
};

HttpLimits sink_limits(StringSink& sink, std::optional<std::uint64_t> max_filesize) {
  HttpOptions http;
  http.body_sink = std::shared_ptr<BodySink>(&sink, [](BodySink*) {});
  http.max_filesize = max_filesize;
  return http_limits_for(http);
}

std::string body_of(std::size_t n) {
  std::string s(n, 'x');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

// Fed in small pieces, so that every split point between reads is exercised.
State feed_in_pieces(HttpResponseParser& p, const std::string& wire, std::size_t piece = 7) {
  State st = State::need_more;
  for (std::size_t i = 0; i < wire.size() && st == State::need_more; i += piece)
    st = p.feed(wire.substr(i, piece));
  return st;
}

TEST(HttpOutput, WithoutSinkTheLimitsAreTheReportsCaps) {
  const HttpLimits l = http_limits_for(HttpOptions{});
  EXPECT_EQ(l.sink, nullptr);
  EXPECT_EQ(l.max_body_bytes, HttpLimits{}.max_body_bytes);
  EXPECT_FALSE(l.refuse_oversize_length);
}

TEST(HttpOutput, ContentLengthBodyBeyondTheReportCapGoesWholeToTheSink) {
  StringSink sink;
  HttpResponseParser p(sink_limits(sink, std::nullopt));
  const std::string body = body_of(3 << 20);  // three times the report's 1 MiB cap
  const std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  EXPECT_EQ(feed_in_pieces(p, wire, 40000), State::complete);
  EXPECT_EQ(sink.data, body);
  EXPECT_EQ(p.body_bytes(), body.size());
  EXPECT_FALSE(p.body_truncated());
  EXPECT_EQ(p.body_kept().size(), HttpLimits{}.body_keep);  // the excerpt stays bounded
}

TEST(HttpOutput, ChunkedBodyGoesToTheSinkWithoutFraming) {
  StringSink sink;
  HttpResponseParser p(sink_limits(sink, std::nullopt));
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  EXPECT_EQ(feed_in_pieces(p, wire, 3), State::complete);
  EXPECT_EQ(sink.data, "hello world");
}

TEST(HttpOutput, UntilCloseBodyGoesToTheSink) {
  StringSink sink;
  HttpResponseParser p(sink_limits(sink, std::nullopt));
  EXPECT_EQ(p.feed("HTTP/1.1 200 OK\r\n\r\nsome "), State::need_more);
  EXPECT_EQ(p.feed("bytes"), State::need_more);
  EXPECT_EQ(p.finish(), State::complete);
  EXPECT_EQ(sink.data, "some bytes");
}

TEST(HttpOutput, ContentLengthAboveMaxFilesizeReadsNoBody) {
  StringSink sink;
  HttpResponseParser p(sink_limits(sink, 100));
  EXPECT_EQ(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\nxyz"), State::complete);
  EXPECT_EQ(p.oversize_length(), std::optional<std::uint64_t>(101));
  EXPECT_TRUE(p.body_truncated());
  EXPECT_EQ(p.body_bytes(), 0u);
  EXPECT_EQ(sink.data, "");
}

TEST(HttpOutput, ContentLengthEqualToMaxFilesizeIsDownloaded) {
  StringSink sink;
  HttpResponseParser p(sink_limits(sink, 100));
  const std::string body = body_of(100);
  EXPECT_EQ(feed_in_pieces(p, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + body), State::complete);
  EXPECT_FALSE(p.oversize_length());
  EXPECT_FALSE(p.body_truncated());
  EXPECT_EQ(sink.data, body);
}

TEST(HttpOutput, ChunkedBodyBeyondMaxFilesizeStopsAtTheLimit) {
  StringSink sink;
  HttpResponseParser p(sink_limits(sink, 8));
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  EXPECT_EQ(feed_in_pieces(p, wire, 4), State::complete);
  EXPECT_TRUE(p.body_truncated());
  EXPECT_FALSE(p.oversize_length());
  EXPECT_EQ(sink.data, "hello wo");  // what was written is kept, as curl
  EXPECT_EQ(p.body_bytes(), 8u);
}

TEST(HttpOutput, UntilCloseBodyExactlyAtMaxFilesizeIsNotExceeded) {
  StringSink sink;
  HttpResponseParser p(sink_limits(sink, 4));
  EXPECT_EQ(p.feed("HTTP/1.1 200 OK\r\n\r\nabcd"), State::need_more);
  EXPECT_EQ(p.finish(), State::complete);
  EXPECT_FALSE(p.body_truncated());
  EXPECT_EQ(p.feed(""), State::complete);
}

TEST(HttpOutput, ASinkThatFailsStopsReading) {
  StringSink sink(10);
  HttpResponseParser p(sink_limits(sink, std::nullopt));
  const std::string body = body_of(100);
  EXPECT_EQ(feed_in_pieces(p, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + body, 8), State::complete);
  EXPECT_TRUE(p.sink_failed());
  EXPECT_LE(sink.data.size(), 10u);
}

TEST(HttpOutput, HeadDoesNotWaitForTheAnnouncedBody) {
  StringSink sink;
  HttpResponseParser p(sink_limits(sink, std::nullopt), /*head_request=*/true);
  EXPECT_EQ(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\nContent-Type: text/plain\r\n\r\n"),
            State::complete);
  EXPECT_EQ(p.status(), std::optional<int>(200));
  EXPECT_EQ(p.header("content-length"), std::optional<std::string>("5000000"));
  EXPECT_EQ(p.body_bytes(), 0u);
  EXPECT_FALSE(p.oversize_length());
  EXPECT_EQ(sink.data, "");
}

TEST(HttpOutput, HeadWithChunkedFramingIsCompleteAtTheBlankLine) {
  HttpResponseParser p(HttpLimits{}, /*head_request=*/true);
  EXPECT_EQ(p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), State::complete);
  EXPECT_EQ(p.body_bytes(), 0u);
}

TEST(HttpOutput, HeadRequestIsSentAsHead) {
  HttpOptions http;
  http.method = "HEAD";
  const std::string req = build_request(http, "h", "/f");
  EXPECT_TRUE(req.starts_with("HEAD /f HTTP/1.1\r\n")) << req;
  EXPECT_EQ(req.find("Content-Length"), std::string::npos);
}

}  // namespace
}  // namespace mtls_probe
