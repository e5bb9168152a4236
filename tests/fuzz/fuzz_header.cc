// parse_header_option (-H 'Name: value') and build_request with the result: no CR/LF injection.
//
// The whole input is first parsed as one -H argument. Then it is split at '\n' (which no accepted header
// contains anyway): the first line is the method (-X), the rest are -H arguments, and an odd input length
// adds a -d body. The request head built from that must have exactly the expected number of CRLF lines:
// the request line, each default header not replaced by the user, each user header that is sent, and the
// blank line; no bare CR, LF or NUL anywhere in the head.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.h"
#include "mtls_probe/engine/http.h"
#include "mtls_probe/engine/url.h"

using namespace mtls_probe;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  return out;
}

void check_parsed(const std::string& raw, const std::pair<std::string, std::string>& h) {
  FUZZ_CHECK(is_http_token(h.first));
  for (char ch : h.second) {
    auto c = static_cast<unsigned char>(ch);
    FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0' && c != 0x7f);
    FUZZ_CHECK(c >= 0x20 || c == '\t');
  }
  FUZZ_CHECK(h.second.empty() || (h.second.front() != ' ' && h.second.front() != '\t'));
  FUZZ_CHECK(h.second.empty() || (h.second.back() != ' ' && h.second.back() != '\t'));
  FUZZ_CHECK(raw.find(h.first) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);

  if (auto h = parse_header_option(input)) {
    check_parsed(input, *h);
    FUZZ_CHECK(input.find_first_of(std::string("\r\n\0", 3)) == std::string::npos);
  }

  // Method, then -H arguments, one per line.
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (true) {
    std::size_t nl = input.find('\n', start);
    lines.push_back(input.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  HttpOptions opts;
  opts.method = lines.front();
  if (size % 2 == 1) opts.data = "a=1&b=\r\n\r\nX-Injected: 1";  // the body may hold anything

  // Only what the front end's parsing lets through reaches build_request.
  std::set<std::string> user_names;
  std::size_t sent = 0;
  for (auto it = lines.begin() + 1; it != lines.end(); ++it) {
    const std::string& raw = *it;
    auto h = parse_header_option(raw);
    auto req = parse_request_header(raw);
    FUZZ_CHECK(h.has_value() == req.has_value());
    if (!h) continue;
    check_parsed(raw, *h);
    user_names.insert(lower(h->first));
    bool removes_default = h->second.empty() && raw.find(':') != std::string::npos;
    FUZZ_CHECK(req->send == !removes_default);
    if (!removes_default) ++sent;
    opts.headers.push_back(std::move(*req));
  }
  auto has = [&](const char* name) { return user_names.count(name) != 0; };
  std::size_t expected = 1 /* request line */ + 1 /* blank line */ + sent;
  for (const char* def : {"host", "user-agent", "accept", "connection"}) expected += has(def) ? 0 : 1;
  if (opts.data) expected += (has("content-length") ? 0 : 1) + (has("content-type") ? 0 : 1);

  const std::string authority = "example.com:8443";
  const std::string target = "/path?q=1";
  const std::string request = build_request(opts, authority, target);
  std::size_t head_end = request.find("\r\n\r\n");
  FUZZ_CHECK(head_end != std::string::npos);
  std::string_view head(request.data(), head_end + 4);
  if (opts.data)
    FUZZ_CHECK(request.substr(head_end + 4) == *opts.data);
  else
    FUZZ_CHECK(request.size() == head_end + 4);
  FUZZ_CHECK(head.find('\0') == std::string_view::npos);

  // Every CR is followed by LF and every LF preceded by CR.
  std::size_t crlf_lines = 0;
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r') FUZZ_CHECK(i + 1 < head.size() && head[i + 1] == '\n');
    if (head[i] == '\n') {
      FUZZ_CHECK(i > 0 && head[i - 1] == '\r');
      ++crlf_lines;
    }
  }
  FUZZ_CHECK(crlf_lines == expected);

  // Request line: METHOD SP target SP HTTP/1.1, with the method a token (or the GET fallback).
  std::string_view first = head.substr(0, head.find("\r\n"));
  std::string_view method = first.substr(0, first.find(' '));
  FUZZ_CHECK(is_http_token(method));
  FUZZ_CHECK(method == opts.method || method == "GET");
  FUZZ_CHECK(first.substr(method.size()) == " " + target + " HTTP/1.1");

  // Every header line has a token name and a colon.
  std::string_view rest = head.substr(first.size() + 2);
  while (rest.size() > 2) {
    std::string_view line = rest.substr(0, rest.find("\r\n"));
    std::size_t colon = line.find(':');
    FUZZ_CHECK(colon != std::string_view::npos);
    FUZZ_CHECK(is_http_token(line.substr(0, colon)));
    rest.remove_prefix(line.size() + 2);
  }
  FUZZ_CHECK(rest == "\r\n");
  return 0;
}
