// -L/--location: which redirect a hop's facts lead to, and the command line of the next hop. Pure: the front
// end (tool_cli.cc) runs one whole probe per hop, the engine stays one probe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/http.h"  // is_followed_redirect
#include "tool_options.h"

namespace mtls_probe::tool {

// RFC 3986 section 5.2: `reference` (absolute, network-path "//h/p", absolute-path "/p", relative "p",
// "?q", "") resolved against the absolute URL `base`, dot segments removed, the fragment dropped.
std::string resolve_reference(std::string_view base, std::string_view reference);

// curl's method after a redirect: 301 and 302 turn POST into GET, 303 turns anything but HEAD into GET,
// 307 and 308 keep the method (and the body).
std::string method_after_redirect(int status, std::string_view method);

// -H headers curl does not send to another host than the first one: Authorization and Cookie.
bool is_credential_header(std::string_view header_option);

struct RedirectPlan {
  enum class Kind {
    none,        // not a redirect to follow: this hop is the last
    follow,      // probe next_url
    too_many,    // a redirect beyond --max-redirs
    plain_http,  // to http://: not followed, no client certificate can be presented there
    unusable,    // a Location mtls-probe cannot probe (another scheme, userinfo, bad port): `problem`
  };
  Kind kind = Kind::none;
  int status = 0;
  std::string location;  // as the server sent it
  std::string next_url;  // resolved, without fragment
  std::string problem;   // unusable: why (never the Location's userinfo)
};

// What to do after a hop whose URL was `hop_url`, `followed` redirects having been followed so far.
// max_redirs -1: no limit.
RedirectPlan plan_redirect(const ProbeFacts& hop, std::string_view hop_url, int followed, long max_redirs);

// The command line of the hop after `current` (plan.kind == follow): the URL, the method and body after
// plan.status, and from `first` the -H headers (Authorization/Cookie only while the host and port are the
// first URL's) and --servername (only for the first host). auth_dropped: some header was left out.
RawProbeArgs next_hop_args(const RawProbeArgs& first, const RawProbeArgs& current, const RedirectPlan& plan,
                           bool& auth_dropped);

// The method a command line probes with (-X, else POST with -d, else GET).
std::string effective_method(const RawProbeArgs& raw);

}  // namespace mtls_probe::tool
