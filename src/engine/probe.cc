// The probe's state machine. Each stage starts in begin_*(), advances in *_step() until it would block (it
// then leaves io_events_ / its component's fds for the loop to wait on), and ends in finish_*(), which
// records the stage's facts and begins the next one, or finish() at the first stage that fails.
#include "mtls_probe/engine/probe.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "mtls_probe/engine/local_bind.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe {
namespace {

// Where the probe's TCP connection goes: the origin, or the proxy it tunnels through.
struct ConnectTarget {
  std::string host;
  uint16_t port = 0;
  bool host_is_ip = false;
};

bool is_ip_literal(const std::string& host) {
  Endpoint ep;
  return numeric_endpoint(host, 0, ep);
}

ConnectTarget connect_target(const TargetOptions& t) {
  if (t.proxy) return {t.proxy->host, t.proxy->port, is_ip_literal(t.proxy->host)};
  const OriginEndpoint origin = origin_endpoint(t);
  return {origin.host, origin.port, origin.host_is_ip};
}

// The local end --interface names, for the families of `endpoints` (the others are dropped): checked by
// binding a socket once here, so that an address that is not on this machine fails before any connect().
std::optional<std::string> bind_problem(const std::string& spec, const LocalBind& local,
                                        std::vector<Endpoint>& endpoints) {
  std::erase_if(endpoints,
                [&](const Endpoint& ep) { return local.for_family(ep.addr.ss_family) == nullptr; });
  if (endpoints.empty()) return fmt::format("{} has no address of the target's IP family", spec);
  for (int family : {AF_INET, AF_INET6}) {
    const Endpoint* from = local.for_family(family);
    const bool used = std::any_of(endpoints.begin(), endpoints.end(),
                                  [&](const Endpoint& ep) { return ep.addr.ss_family == family; });
    if (from == nullptr || !used) continue;
    UniqueFd probe_fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe_fd) return fmt::format("{}: {}", from->ip, std::strerror(errno));
    if (const int e = bind_local(probe_fd.get(), *from); e != 0)
      return fmt::format("{}: {}", from->ip, std::strerror(e));
  }
  return std::nullopt;
}

// --resolve or an IP literal: the addresses given, without a lookup (empty when neither applies).
std::vector<Endpoint> given_endpoints(const TargetOptions& t, const ConnectTarget& to, ProbeFacts& f) {
  std::vector<Endpoint> endpoints;
  for (const auto& r : t.resolve) {
    if (r.port == to.port && (r.host == to.host || r.host == "*")) {
      for (const auto& a : r.addresses) {
        Endpoint ep;
        if (numeric_endpoint(a, to.port, ep)) endpoints.push_back(ep);
      }
      f.resolved_by_override = !endpoints.empty();
      break;
    }
  }
  if (endpoints.empty() && to.host_is_ip) {
    Endpoint ep;
    if (numeric_endpoint(to.host, to.port, ep)) endpoints.push_back(ep);
    f.resolved_by_override = true;
  }
  return endpoints;
}

// The IP-family restriction applied to addresses that were given, not looked up.
DnsOutcome only_family(std::vector<Endpoint> endpoints, IpFamily family) {
  DnsOutcome out;
  std::erase_if(endpoints, [&](const Endpoint& ep) {
    return (family == IpFamily::v4 && ep.addr.ss_family != AF_INET) ||
           (family == IpFamily::v6 && ep.addr.ss_family != AF_INET6);
  });
  if (endpoints.empty()) {
    out.error = family == IpFamily::v4 ? "no IPv4 address (-4 allows only IPv4)"
                                       : "no IPv6 address (-6 allows only IPv6)";
    return out;
  }
  out.status = NetStatus::ok;
  out.endpoints = std::move(endpoints);
  return out;
}

}  // namespace

OriginEndpoint origin_endpoint(const TargetOptions& t) {
  if (auto to = apply_connect_to(t.connect_to, t.url.host, t.url.port))
    return {to->first, to->second, is_ip_literal(to->first), true};
  return {t.url.host, t.url.port, t.url.host_is_ip, false};
}

const char* stage_name(ProbeStage s) {
  switch (s) {
    case ProbeStage::resolve: return "resolve";
    case ProbeStage::connect: return "connect";
    case ProbeStage::proxy_tls: return "proxy-tls";
    case ProbeStage::tunnel: return "tunnel";
    case ProbeStage::tls_handshake: return "tls-handshake";
    case ProbeStage::send_request: return "send-request";
    case ProbeStage::read_response: return "read-response";
    case ProbeStage::done: return "done";
  }
  return "?";
}

Probe::Probe(TargetOptions target, const ClientTlsContext& tls, ProbeLog log, ProbeSeams seams)
    : target_(std::move(target)), tls_(tls), log_(std::move(log)), seams_(std::move(seams)) {}

Probe::~Probe() = default;

// ---- the loop's view

std::vector<pollfd> Probe::poll_fds() const {
  switch (stage_) {
    case ProbeStage::resolve: return dns_ ? dns_->poll_fds() : std::vector<pollfd>{};
    case ProbeStage::connect: return race_->poll_fds();
    case ProbeStage::proxy_tls:
    case ProbeStage::tunnel:
    case ProbeStage::tls_handshake:
    case ProbeStage::send_request:
    case ProbeStage::read_response: return {pollfd{transport_->poll_fd(), transport_->poll_events(io_events_), 0}};
    case ProbeStage::done: return {};
  }
  return {};
}

Clock::time_point Probe::stage_deadline() const {
  const bool connect_phase =
      stage_ == ProbeStage::resolve || stage_ == ProbeStage::connect || stage_ == ProbeStage::proxy_tls ||
      stage_ == ProbeStage::tunnel || stage_ == ProbeStage::tls_handshake;
  return connect_phase ? connect_deadline_ : max_deadline_;
}

Clock::time_point Probe::wake_at() const {
  switch (stage_) {
    case ProbeStage::resolve: return dns_ ? dns_->wake_at() : Clock::time_point::min();
    case ProbeStage::connect: return race_->wake_at();
    case ProbeStage::done: return Clock::time_point::max();
    default: return stage_deadline();
  }
}

void Probe::process(const std::vector<pollfd>& ready, Clock::time_point now) {
  switch (stage_) {
    case ProbeStage::resolve:
      if (dns_) dns_->process(ready, now);
      break;
    case ProbeStage::connect: race_->process(ready, now); break;
    case ProbeStage::done: return;
    default:
      if (ready.empty()) {
        if (now >= stage_deadline()) on_stage_deadline();
        return;
      }
  }
  advance();
}

// Moves through the stages until one has to wait (or the probe is done): multi_runsingle's loop.
void Probe::advance() {
  for (;;) {
    switch (stage_) {
      case ProbeStage::resolve:
        if (dns_ && !dns_->done()) return;
        finish_resolve();
        break;
      case ProbeStage::connect:
        if (!race_->done()) return;
        finish_connect();
        break;
      case ProbeStage::proxy_tls:
        if (!proxy_tls_step()) return;
        break;
      case ProbeStage::tunnel:
        if (!tunnel_step()) return;
        break;
      case ProbeStage::tls_handshake:
        if (!handshake_step()) return;
        break;
      case ProbeStage::send_request:
      case ProbeStage::read_response:
        if (!exchange_step()) return;
        break;
      case ProbeStage::done: return;
    }
  }
}

void Probe::mark_timeout(Phase phase, bool connect_phase) {
  facts_.timed_out_in = phase;
  const bool connect_limit = connect_phase && connect_deadline_ < max_deadline_;
  facts_.time_limit_hit = connect_limit ? ProbeFacts::TimeLimit::connect : ProbeFacts::TimeLimit::total;
  facts_.time_limit_value = connect_limit ? target_.connect_timeout : target_.max_time;
}

// The loop woke us at the stage's deadline with nothing to read or write.
void Probe::on_stage_deadline() {
  switch (stage_) {
    case ProbeStage::proxy_tls:
    case ProbeStage::tunnel:
      mark_timeout(Phase::proxy, true);
      finish();
      break;
    case ProbeStage::tls_handshake:
      mark_timeout(Phase::tls, true);
      handshake_failed(Io::failed);
      break;
    case ProbeStage::send_request:
      mark_timeout(Phase::http, false);
      finish();
      break;
    case ProbeStage::read_response:
      mark_timeout(Phase::http, false);
      finish_response();
      break;
    default: break;
  }
}

void Probe::finish() {
  record_transport_error();
  stage_ = ProbeStage::done;
  facts_.total_ms = ms_since(start_);
  // What the probe holds goes now, not when its owner drops it: a run of thousands keeps only facts.
  ssl_.reset();
  transport_.reset();
  race_.reset();
  dns_.reset();
  exchange_.reset();
  tunnel_.reset();
  proxy_ssl_.reset();
}

// ---- setup and DNS

void Probe::start(Clock::time_point now) {
  start_ = now;
  epoch_ = static_cast<long long>(std::time(nullptr));
  max_deadline_ = now + target_.max_time;
  connect_deadline_ = std::min(now + target_.connect_timeout, max_deadline_);
  ProbeFacts& f = facts_;
  f.url = redact_url(target_.url_text);  // shown in every report: never with a password
  f.insecure = tls_.options().insecure;
  f.no_cert = tls_.no_cert();
  f.client_behaviour = tls_.behaviour() == ClientBehaviour::strict ? "strict" : "openssl";
  if (const ClientIdentity* id = tls_.identity(); id != nullptr && id->leaf) {
    f.identity_configured = true;
    f.client_cert = summarize_certificate(id->leaf.get(), epoch_);
    for (const auto& c : id->chain)
      f.client_chain_subjects.push_back(name_to_string(X509_get_subject_name(c.get())));
    f.legacy_pkcs12 = id->legacy_pkcs12;
    f.identity_source = id->source;
    f.pkcs11 = id->pkcs11;
  }
  f.host = target_.url.host;
  f.port = target_.url.port;
  f.proxy_bypassed_by = target_.proxy_bypassed_by;
  f.expect_client_auth = target_.expect_client_auth;
  if (target_.proxy) {
    f.proxy.emplace();
    f.proxy->url = target_.proxy->display();
    f.proxy->source = target_.proxy_source;
    f.proxy->host = target_.proxy->host;
    f.proxy->port = target_.proxy->port;
  }
  f.path = target_.url.target;
  if (const OriginEndpoint origin = origin_endpoint(target_); origin.by_connect_to) {
    f.connect_to_host = origin.host;
    f.connect_to_port = origin.port;
  }
  f.interface_spec = target_.interface_spec;
  begin_resolve(now);
  advance();
}

// The addresses to connect to: --resolve and IP literals first, then localhost (RFC 6761, as curl), then a
// c-ares lookup (/etc/hosts, then DNS) bounded by the connect deadline.
void Probe::begin_resolve(Clock::time_point now) {
  stage_ = ProbeStage::resolve;
  stage_start_ = now;
  facts_.dns_attempted = true;
  const ConnectTarget to = connect_target(target_);
  std::vector<Endpoint> given = given_endpoints(target_, to, facts_);
  if (!given.empty()) {
    given_ = only_family(std::move(given), target_.ip_family);
  } else if (auto local = localhost_endpoints(to.host, to.port, target_.ip_family)) {
    given_ = only_family(std::move(*local), target_.ip_family);
  } else {
    dns_ = std::make_unique<DnsQuery>();
    dns_->start(to.host, to.port, DnsConfig{target_.ip_family, target_.dns_servers}, Deadline{connect_deadline_});
  }
}

void Probe::finish_resolve() {
  DnsOutcome dns = given_ ? std::move(*given_) : dns_->outcome();
  given_.reset();
  dns_.reset();
  ProbeFacts& f = facts_;
  if (dns.status == NetStatus::timed_out) {
    mark_timeout(Phase::dns, true);
    return finish();
  }
  if (dns.status != NetStatus::ok) {
    f.dns_error = dns.error;
    return finish();
  }
  for (const auto& ep : dns.endpoints) f.addresses.push_back(ep.ip);
  f.dns_ms = ms_since(stage_start_);
  log_.debug("{}{} resolved to {} address(es){}", target_.proxy ? "proxy " : "", connect_target(target_).host,
             dns.endpoints.size(), f.resolved_by_override ? " (--resolve or IP literal)" : "");
  begin_connect(std::move(dns.endpoints));
}

// ---- TCP: every address, Happy Eyeballs

void Probe::begin_connect(std::vector<Endpoint> endpoints) {
  stage_ = ProbeStage::connect;
  stage_start_ = Clock::now();
  facts_.connect_attempted = true;
  SocketStarter starter = seams_.start_socket;
  if (!target_.interface_spec.empty()) {
    LocalBindResult local = resolve_local_bind(target_.interface_spec);
    std::optional<std::string> problem =
        local.error.empty() ? bind_problem(target_.interface_spec, local.bind, endpoints) : local.error;
    if (problem) {
      facts_.bind_error = std::move(problem);
      return finish();
    }
    starter = [bind = local.bind](const Endpoint& ep, int& err) {
      return start_bound_tcp_connect(ep, bind, err);
    };
  }
  race_ = std::make_unique<ConnectRace>(happy_eyeballs_order(endpoints), Deadline{connect_deadline_},
                                        ConnectRace::kAttemptDelay, std::move(starter));
  race_->start(stage_start_);
}

void Probe::finish_connect() {
  ConnectOutcome conn = race_->take_outcome();
  race_.reset();
  ProbeFacts& f = facts_;
  f.connect_attempts = conn.attempts;
  if (conn.status == NetStatus::timed_out) {
    mark_timeout(Phase::connect, true);
    return finish();
  }
  if (conn.status != NetStatus::ok) {
    f.connect_error = conn.error;
    f.connect_errno = conn.error_number;
    return finish();
  }
  f.connected_address = conn.endpoint.text();
  if (auto local = local_endpoint(conn.fd.get())) {
    f.local_ip = local->ip;
    f.local_port = local->port;
  }
  endpoint_ = conn.endpoint;
  f.connect_ms = ms_since(stage_start_);
  log_.debug("connected to {}{}", target_.proxy ? "proxy " : "", *f.connected_address);
  if (!target_.proxy) return begin_handshake(std::move(conn.fd));
  transport_ = std::make_unique<SocketTransport>(std::move(conn.fd));
  if (target_.proxy->scheme == ProxySpec::Scheme::https) return begin_proxy_tls();
  begin_tunnel();
}

ProbeFacts run_probe(const TargetOptions& target, const ClientTlsContext& tls, const ProbeLog& log) {
  Probe probe(target, tls, log);
  probe.start();
  drive(probe);  // an EventLoop of one
  return probe.take_facts();
}

}  // namespace mtls_probe
