// The engine: one probe as a resumable state machine of phases, resolve -> connect -> [tunnel] ->
// TLS handshake -> HTTP request -> HTTP response -> done, recording facts. It never blocks: at every step it
// says which fd it waits on, for what, and until when (Pollable), so one EventLoop drives one probe or ten
// thousand (curl's multi interface: multi_runsingle advances each transfer's state until it would block).
// Diagnosis is separate (diagnosis/diagnosis.h).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/engine/dns.h"
#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/happy_eyeballs.h"
#include "mtls_probe/engine/http.h"
#include "mtls_probe/engine/http_exchange.h"
#include "mtls_probe/engine/options.h"
#include "mtls_probe/engine/pollable.h"
#include "mtls_probe/engine/probe_log.h"
#include "mtls_probe/engine/tls_context.h"
#include "mtls_probe/engine/tls_session.h"
#include "mtls_probe/engine/transport.h"
#include "mtls_probe/engine/tunnel.h"

namespace mtls_probe {

// Where the origin's connection goes: the URL's host and port, or where the first matching --connect-to
// rule sends it (SNI, Host and the name check stay the URL's). Through a proxy, the CONNECT target.
struct OriginEndpoint {
  std::string host;
  uint16_t port = 0;
  bool host_is_ip = false;
  bool by_connect_to = false;
};
OriginEndpoint origin_endpoint(const TargetOptions& t);

enum class ProbeStage { resolve, connect, proxy_tls, tunnel, tls_handshake, send_request, read_response, done };
const char* stage_name(ProbeStage s);  // "resolve", "connect", "tls-handshake", ...

// Where the engine meets the operating system, replaceable in tests (ninja's CommandRunner seam): the
// socket a connection attempt starts on. A test hands over one end of a socketpair with a scripted peer.
struct ProbeSeams {
  SocketStarter start_socket = start_tcp_connect;
};

class Probe final : public Pollable {
 public:
  // tls is shared by every probe of a run and must outlive this one.
  Probe(TargetOptions target, const ClientTlsContext& tls, ProbeLog log = {}, ProbeSeams seams = {});
  ~Probe() override;
  Probe(const Probe&) = delete;  // OpenSSL's callbacks and c-ares hold pointers into it
  Probe& operator=(const Probe&) = delete;

  // Records the setup facts and starts resolving. Every time limit counts from `now`.
  void start(Clock::time_point now = Clock::now());

  ProbeStage stage() const { return stage_; }
  bool done() const override { return stage_ == ProbeStage::done; }
  std::vector<pollfd> poll_fds() const override;
  Clock::time_point wake_at() const override;
  void process(const std::vector<pollfd>& ready, Clock::time_point now) override;

  const ProbeFacts& facts() const { return facts_; }
  ProbeFacts take_facts() { return std::move(facts_); }

 private:
  using Io = SslIo;
  Io after_ssl_call(int rc);

  void advance();
  void begin_resolve(Clock::time_point now);
  void finish_resolve();
  void begin_connect(std::vector<Endpoint> endpoints);
  void finish_connect();
  void begin_proxy_tls();
  bool proxy_tls_step();
  void begin_tunnel();
  bool tunnel_step();
  void record_transport_error();
  void finish_tunnel();
  void begin_handshake(UniqueFd fd);
  void begin_tls();
  bool handshake_step();
  void handshake_failed(Io io);
  void begin_request();
  bool exchange_step();
  void finish_response();
  bool h1_retry_due() const;
  void begin_h1_retry();
  void on_stage_deadline();
  void mark_timeout(Phase phase, bool connect_phase);
  void finish();
  Clock::time_point stage_deadline() const;

  TargetOptions target_;
  const ClientTlsContext& tls_;
  ProbeLog log_;
  ProbeSeams seams_;
  ProbeStage stage_ = ProbeStage::resolve;
  ProbeFacts facts_;

  Clock::time_point start_{};
  Clock::time_point connect_deadline_{};  // DNS + TCP + TLS handshake
  Clock::time_point max_deadline_{};      // the whole probe
  Clock::time_point stage_start_{};
  long long epoch_ = 0;  // wall clock at the start: certificate validity is judged against it

  std::unique_ptr<DnsQuery> dns_;
  std::optional<DnsOutcome> given_;  // addresses known without a lookup (--resolve, IP literal, localhost)
  std::unique_ptr<ConnectRace> race_;
  std::optional<Endpoint> endpoint_;  // the address connected to: an HTTP/1.1 retry goes there again
  std::unique_ptr<Transport> transport_;
  UniqueSsl ssl_;
  ProbeSession session_;
  short io_events_ = 0;  // what the TLS phase waits for on the transport: POLLIN or POLLOUT

  // The CONNECT exchange with the proxy (probe_tunnel.cc).
  struct TunnelState {
    std::string request;  // holds the Proxy-Authorization value: cleansed when the tunnel ends
    std::size_t sent = 0;
    ConnectResponseReader reader;
    ~TunnelState();
  };
  std::unique_ptr<TunnelState> tunnel_;
  UniqueSsl proxy_ssl_;  // TLS to an https:// proxy, until its handshake is done (then inside transport_)
  std::unique_ptr<HttpExchange> exchange_;  // HTTP/1.1 or HTTP/2, by the ALPN the server picked
};

// A loop of one: runs a probe to completion and returns what happened. Never throws for network or peer
// behaviour; every phase is bounded in time and memory.
ProbeFacts run_probe(const TargetOptions& target, const ClientTlsContext& tls, const ProbeLog& log = {});

}  // namespace mtls_probe
