#include "redirect.h"

#include <vector>

#include "mtls_probe/base/ascii.h"
#include "mtls_probe/engine/http.h"
#include "mtls_probe/engine/url.h"

namespace mtls_probe::tool {
namespace {

// A URI reference split as RFC 3986 appendix B does (the fragment is dropped).
struct UriParts {
  std::optional<std::string> scheme, authority, query;
  std::string path;
};

UriParts split_uri(std::string_view s) {
  UriParts u;
  if (auto hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
  const std::size_t colon = s.find(':');
  const std::size_t stop = s.find_first_of("/?");
  if (colon != std::string_view::npos && colon > 0 && (stop == std::string_view::npos || colon < stop)) {
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    bool is_scheme = alpha(s[0]);
    for (char c : s.substr(0, colon))
      is_scheme = is_scheme && (alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
    if (is_scheme) {
      u.scheme = std::string(s.substr(0, colon));
      s.remove_prefix(colon + 1);
    }
  }
  if (s.starts_with("//")) {
    s.remove_prefix(2);
    const std::size_t end = s.find_first_of("/?");
    u.authority = std::string(s.substr(0, end));
    s = end == std::string_view::npos ? std::string_view() : s.substr(end);
  }
  const std::size_t q = s.find('?');
  u.path = std::string(s.substr(0, q));
  if (q != std::string_view::npos) u.query = std::string(s.substr(q + 1));
  return u;
}

// RFC 3986 5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::vector<std::string> out;
  const bool absolute = in.starts_with('/');
  bool trailing_slash = false;
  std::size_t i = absolute ? 1 : 0;
  while (i <= in.size()) {
    const std::size_t end = std::min(in.find('/', i), in.size());
    const std::string_view seg = in.substr(i, end - i);
    const bool last = end == in.size();
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = last;
    } else if (seg == ".") {
      trailing_slash = last;
    } else {
      out.emplace_back(seg);
      trailing_slash = false;
    }
    i = end + 1;
  }
  std::string path = absolute ? "/" : "";
  for (std::size_t k = 0; k < out.size(); ++k) path += (k ? "/" : "") + out[k];
  if (trailing_slash && !path.ends_with('/')) path += '/';
  return path;
}

// RFC 3986 5.2.3.
std::string merge_paths(const UriParts& base, std::string_view ref_path) {
  if (base.authority && base.path.empty()) return "/" + std::string(ref_path);
  const std::size_t slash = base.path.rfind('/');
  return (slash == std::string::npos ? "" : base.path.substr(0, slash + 1)) + std::string(ref_path);
}

std::string recompose(const UriParts& u) {
  std::string s;
  if (u.scheme) s += *u.scheme + ":";
  if (u.authority) s += "//" + *u.authority;
  s += u.path;
  if (u.query) s += "?" + *u.query;
  return s;
}

std::string header_name(std::string_view header_option) {
  return std::string(header_option.substr(0, header_option.find_first_of(":;")));
}

}  // namespace

std::string resolve_reference(std::string_view base_text, std::string_view reference) {
  const UriParts base = split_uri(base_text);
  const UriParts ref = split_uri(reference);
  UriParts t;
  if (ref.scheme) {
    t = ref;
    t.path = remove_dot_segments(ref.path);
  } else if (ref.authority) {
    t = ref;
    t.scheme = base.scheme;
    t.path = remove_dot_segments(ref.path);
  } else {
    t.scheme = base.scheme;
    t.authority = base.authority;
    if (ref.path.empty()) {
      t.path = base.path;
      t.query = ref.query ? ref.query : base.query;
    } else {
      t.path = remove_dot_segments(ref.path.starts_with('/') ? ref.path : merge_paths(base, ref.path));
      t.query = ref.query;
    }
  }
  return recompose(t);
}

std::string method_after_redirect(int status, std::string_view method) {
  if ((status == 301 || status == 302) && method == "POST") return "GET";
  if (status == 303 && method != "HEAD") return "GET";
  return std::string(method);
}

bool is_credential_header(std::string_view header_option) {
  const std::string name = header_name(header_option);
  return iequals(name, "authorization") || iequals(name, "cookie");
}

std::string effective_method(const RawProbeArgs& raw) {
  return raw.method.empty() ? (raw.data ? "POST" : "GET") : raw.method;
}

RedirectPlan plan_redirect(const ProbeFacts& hop, std::string_view hop_url, int followed, long max_redirs) {
  RedirectPlan plan;
  if (!hop.http_status || !is_followed_redirect(*hop.http_status)) return plan;
  const std::optional<std::string> location = response_header(hop, "location");
  if (!location || location->empty()) return plan;  // curl too stops at a 3xx without Location
  plan.status = *hop.http_status;
  plan.location = redact_urls_in_text(*location);  // shown in the report: never a password
  plan.next_url = resolve_reference(hop_url, *location);
  if (max_redirs >= 0 && followed >= max_redirs) {
    plan.kind = RedirectPlan::Kind::too_many;
    plan.next_url = redact_url(plan.next_url);
    return plan;
  }
  const UriParts next = split_uri(plan.next_url);
  if (next.scheme && iequals(*next.scheme, "http")) {
    plan.kind = RedirectPlan::Kind::plain_http;
    plan.next_url = redact_url(plan.next_url);
    return plan;
  }
  if (auto url = parse_url(plan.next_url); !url) {
    plan.kind = RedirectPlan::Kind::unusable;
    plan.next_url = redact_url(plan.next_url);
    plan.problem = redact_urls_in_text(url.error().message);
    return plan;
  }
  plan.kind = RedirectPlan::Kind::follow;
  return plan;
}

RawProbeArgs next_hop_args(const RawProbeArgs& first, const RawProbeArgs& current, const RedirectPlan& plan,
                           bool& auth_dropped) {
  RawProbeArgs next = current;
  next.url = plan.next_url;
  const std::string method = effective_method(current);
  const std::string after = method_after_redirect(plan.status, method);
  if (after != method) {
    next.method = after;
    next.data.reset();  // a POST turned GET goes without its body
  }
  const auto first_url = parse_url(first.url);
  const auto next_url = parse_url(plan.next_url);
  const bool same_origin =
      first_url && next_url && first_url->host == next_url->host && first_url->port == next_url->port;
  next.servername = same_origin || (first_url && next_url && first_url->host == next_url->host)
                        ? first.servername
                        : std::string();
  next.headers.clear();
  auth_dropped = false;
  for (const auto& h : first.headers) {
    if (!same_origin && is_credential_header(h)) {
      auth_dropped = true;
      continue;
    }
    next.headers.push_back(h);
  }
  return next;
}

}  // namespace mtls_probe::tool
