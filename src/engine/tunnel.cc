// The HTTP CONNECT tunnel through a proxy: request and bounded answer reader (curl's lib/cf-h1-proxy.c
// does the same job; we keep it as pure functions for the engine's tunnel phase).
#include "mtls_probe/engine/tunnel.h"

#include <openssl/evp.h>

#include <algorithm>

#include "mtls_probe/base/ascii.h"

#ifndef MTLS_PROBE_VERSION
#define MTLS_PROBE_VERSION "0"
#endif

namespace mtls_probe {
namespace {

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
         c == '+' || c == '^' || c == '`' || c == '|' || c == '~';
}

}  // namespace

std::string build_connect_request(std::string_view authority, const std::optional<ProxyCredentials>& creds) {
  std::string req;
  req.reserve(160);
  req.append("CONNECT ").append(authority).append(" HTTP/1.1\r\n");
  req.append("Host: ").append(authority).append("\r\n");
  req.append("User-Agent: mtls-probe/" MTLS_PROBE_VERSION "\r\n");
  req.append("Proxy-Connection: Keep-Alive\r\n");
  if (creds) {
    std::string pair = creds->user + ":" + creds->password;
    req.append("Proxy-Authorization: Basic ").append(base64(pair)).append("\r\n");
    OPENSSL_cleanse(pair.data(), pair.size());
  }
  req.append("\r\n");
  return req;
}

ConnectResponseReader::ConnectResponseReader(HttpLimits limits)
    : limits_(limits), parser_(limits, /*head_request=*/true) {}

ConnectResponseReader::State ConnectResponseReader::feed(std::string_view bytes, std::size_t& consumed) {
  consumed = 0;
  if (state_ != State::need_more) return state_;
  // Find the end of the head ourselves: the parser would take the tunnel's first bytes as a body.
  std::size_t end = bytes.size();
  bool head_end = false;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\n') {
      if (line_end_ == 1) {  // a line with nothing on it but (an optional) CR: the blank line
        end = i + 1;
        head_end = true;
        break;
      }
      line_end_ = 1;
    } else if (c != '\r') {
      line_end_ = 0;
    }
  }
  consumed = end;
  seen_ += end;
  if (seen_ > limits_.max_header_bytes) {
    error_ = "the proxy's answer to CONNECT is larger than " + std::to_string(limits_.max_header_bytes) +
             " bytes before the end of its headers";
    return state_ = State::error;
  }
  const auto st = parser_.feed(bytes.substr(0, end));
  if (st == HttpResponseParser::State::error) {
    error_ = "the proxy's answer to CONNECT is not HTTP: " + parser_.error();
    return state_ = State::error;
  }
  if (!head_end) return state_;
  if (!parser_.headers_complete() || !parser_.status()) {
    error_ = "the proxy's answer to CONNECT ended without a status line";
    return state_ = State::error;
  }
  if (*parser_.status() < 200) {
    error_ = "the proxy answered CONNECT with an interim " + std::to_string(*parser_.status()) +
             " response and no final one";
    return state_ = State::error;
  }
  return state_ = State::complete;
}

ConnectResponseReader::State ConnectResponseReader::finish() {
  if (state_ != State::need_more) return state_;
  error_ = seen_ == 0 ? "the proxy closed the connection without answering CONNECT"
                      : "the proxy closed the connection in the middle of its answer to CONNECT";
  return state_ = State::error;
}

std::vector<std::string> proxy_auth_schemes(const std::vector<std::pair<std::string, std::string>>& headers,
                                            std::string_view header) {
  std::vector<std::string> schemes;
  for (const auto& [name, value] : headers) {
    if (!iequals(name, header)) continue;
    // A header may carry several challenges: "Negotiate, Basic realm=\"x\"". A challenge starts with a
    // token that is not followed by '=' (which would make it a parameter).
    std::size_t i = 0;
    bool in_quotes = false;
    bool at_item_start = true;
    while (i < value.size()) {
      const char c = value[i];
      if (in_quotes) {
        if (c == '\\') ++i;
        if (c == '"') in_quotes = false;
        ++i;
        continue;
      }
      if (c == '"') {
        in_quotes = true;
        ++i;
        continue;
      }
      if (c == ',') {
        at_item_start = true;
        ++i;
        continue;
      }
      if (c == ' ' || c == '\t') {
        ++i;
        continue;
      }
      const std::size_t start = i;
      while (i < value.size() && is_token_char(value[i])) ++i;
      if (i == start) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < value.size() && (value[j] == ' ' || value[j] == '\t')) ++j;
      const bool is_param = j < value.size() && value[j] == '=';
      if (at_item_start && !is_param) {
        std::string scheme = value.substr(start, i - start);
        if (scheme.size() <= 32 && std::none_of(schemes.begin(), schemes.end(),
                                                [&](const std::string& s) { return iequals(s, scheme); }))
          schemes.push_back(std::move(scheme));
        if (schemes.size() >= 16) return schemes;
      }
      at_item_start = false;
    }
  }
  return schemes;
}

}  // namespace mtls_probe
