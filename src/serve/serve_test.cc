// Unit tests of `serve`: option pieces, the exact pages, the generated PKI, and a few in-process
// handshakes against a Server on 127.0.0.1 (no other process involved).
#include "mtls_probe/serve/serve.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/engine/grpc.h"
#include "mtls_probe/engine/probe.h"
#include "mtls_probe/engine/tls_context.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/identity.h"
#include "serve/serve_grpc.h"
#include "serve/serve_testutil.h"

namespace mtls_probe::serve {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------
// option pieces

TEST(ServeOptions, ParsesClientAuthModes) {
  EXPECT_EQ(parse_client_auth("require"), ClientAuth::require);
  EXPECT_EQ(parse_client_auth("optional"), ClientAuth::optional);
  EXPECT_EQ(parse_client_auth("optional-no-verify"), ClientAuth::optional_no_verify);
  EXPECT_STREQ(client_auth_name(ClientAuth::optional_no_verify), "optional-no-verify");
  EXPECT_FALSE(parse_client_auth("optional_no_ca").has_value());
  EXPECT_EQ(parse_client_auth("none"), ClientAuth::none);
  EXPECT_EQ(parse_client_auth("post-handshake"), ClientAuth::post_handshake);
  EXPECT_FALSE(parse_client_auth("post_handshake").has_value());
  EXPECT_FALSE(parse_client_auth("").has_value());
  EXPECT_STREQ(client_auth_name(ClientAuth::post_handshake), "post-handshake");
}

TEST(ServeStatusRule, ParsesPathEqualsCode) {
  auto rule = parse_status_rule("/admin=403");
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(rule->prefix, "/admin");
  EXPECT_EQ(rule->status, 403);
  auto with_eq = parse_status_rule("/a=b=404");  // the last '=' separates
  ASSERT_TRUE(with_eq);
  EXPECT_EQ(with_eq->prefix, "/a=b");
  EXPECT_EQ(with_eq->status, 404);
}

TEST(ServeStatusRule, RejectsBadSpecs) {
  EXPECT_FALSE(parse_status_rule("/admin"));
  EXPECT_FALSE(parse_status_rule("admin=403"));  // no leading '/'
  EXPECT_FALSE(parse_status_rule("=403"));
  EXPECT_FALSE(parse_status_rule("/x=forbidden"));
  EXPECT_FALSE(parse_status_rule("/x=403x"));
  EXPECT_FALSE(parse_status_rule("/x=99"));
  EXPECT_FALSE(parse_status_rule("/x=600"));
  EXPECT_FALSE(parse_status_rule("/x="));
}

TEST(ServeStatusRule, LongestPrefixWins) {
  std::vector<StatusRule> rules = {{"/api", 403}, {"/api/public", 200}, {"/", 404}};
  EXPECT_EQ(status_for_path(rules, "/api/private", 200), 403);
  EXPECT_EQ(status_for_path(rules, "/api/public/x", 200), 200);
  EXPECT_EQ(status_for_path(rules, "/other", 200), 404);
  EXPECT_EQ(status_for_path({}, "/other", 201), 201);
  // plain string prefix, as nginx's prefix locations: "/api" also covers "/apix"
  EXPECT_EQ(status_for_path(rules, "/apix", 200), 403);
  // the query does not take part
  EXPECT_EQ(status_for_path({{"/a", 500}}, "/b?x=/a", 200), 200);
  EXPECT_EQ(status_for_path({{"/a", 500}}, "/a?x", 200), 500);
  // the same prefix twice: the later rule wins
  EXPECT_EQ(status_for_path({{"/a", 401}, {"/a", 402}}, "/a", 200), 402);
}

TEST(ServeStatusRule, ReasonPhrases) {
  EXPECT_STREQ(reason_phrase(200), "OK");
  EXPECT_STREQ(reason_phrase(400), "Bad Request");
  EXPECT_STREQ(reason_phrase(403), "Forbidden");
  EXPECT_STREQ(reason_phrase(599), "Unknown");
}

TEST(ServePages, NginxPagesAreByteExact) {
  // As nginx 1.22.1 sends them (checked against a real nginx with ssl_verify_client on).
  EXPECT_EQ(
      nginx_error_page(NginxPage::no_certificate),
      "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n"
      "<center><h1>400 Bad Request</h1></center>\r\n<center>No required SSL certificate was sent</center>\r\n"
      "<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n");
  EXPECT_EQ(nginx_error_page(NginxPage::no_certificate).size(), 237u);
  EXPECT_EQ(nginx_error_page(NginxPage::certificate_error),
            "<html>\r\n<head><title>400 The SSL certificate error</title></head>\r\n<body>\r\n"
            "<center><h1>400 Bad Request</h1></center>\r\n<center>The SSL certificate error</center>\r\n"
            "<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n");
  EXPECT_NE(nginx_error_page(NginxPage::plain_http)
                .find("<title>400 The plain HTTP request was sent to HTTPS port"),
            std::string::npos);
}

TEST(ServePages, ApachePhaPageNamesTheReason) {
  const std::string page = apache_pha_forbidden_page();
  EXPECT_NE(page.find("<title>403 Forbidden</title>"), std::string::npos);
  EXPECT_NE(page.find("Cannot perform Post-Handshake Authentication"), std::string::npos);
}

TEST(ServePages, UnverifiedPageNamesTheProblemAsNodeAppsDo) {
  EXPECT_EQ(unverified_page(false, X509_V_OK), "no client certificate\n");
  EXPECT_EQ(unverified_page(true, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
            "client certificate not verified: unable to get local issuer certificate\n");
  EXPECT_EQ(unverified_page(true, X509_V_ERR_CERT_HAS_EXPIRED),
            "client certificate not verified: certificate has expired\n");
}

TEST(ServePages, UrlsBracketIpv6) {
  EXPECT_EQ(https_url("127.0.0.1", 8443), "https://127.0.0.1:8443/");
  EXPECT_EQ(https_url("::1", 443), "https://[::1]:443/");
}

ServeConfig minimal_config() {
  ServeConfig c;
  c.cert_file = "server.pem";
  c.key_file = "server.key";
  c.client_ca_file = "ca.pem";
  return c;
}

bool has_problem(const ServeConfig& c, const std::string& words) {
  for (const auto& p : check_config(c)) {
    if (p.find(words) != std::string::npos) return true;
  }
  return false;
}

TEST(ServeConfigCheck, AcceptsTheDefaults) {
  EXPECT_TRUE(check_config(minimal_config()).empty());
}

TEST(ServeConfigCheck, NamesEachProblem) {
  ServeConfig c = minimal_config();
  c.p12_file = "id.p12";
  EXPECT_TRUE(has_problem(c, "not both"));

  c = minimal_config();
  c.cert_file.clear();
  EXPECT_TRUE(has_problem(c, "no server identity"));

  c = minimal_config();
  c.client_ca_file.clear();
  EXPECT_TRUE(has_problem(c, "needs --client-ca"));
  c.client_auth = ClientAuth::none;
  EXPECT_TRUE(check_config(c).empty());

  c = minimal_config();
  c.client_auth = ClientAuth::optional;
  c.client_auth_path = "/secure";
  EXPECT_TRUE(has_problem(c, "--client-auth-path needs"));

  c = minimal_config();
  c.client_auth_path = "secure";
  EXPECT_TRUE(has_problem(c, "must start with '/'"));

  c = minimal_config();
  c.client_auth = ClientAuth::post_handshake;
  c.nginx_style = true;
  EXPECT_TRUE(has_problem(c, "nginx"));

  c = minimal_config();
  c.min_version = TlsVersion::v1_3;
  c.max_version = TlsVersion::v1_2;
  EXPECT_TRUE(has_problem(c, "--tls-min is above --tls-max"));

  c = minimal_config();
  c.status = 99;
  EXPECT_TRUE(has_problem(c, "--status"));
}

TEST(ServeConfigCheck, StatusIfUnverifiedNeedsAnOptionalMode) {
  ServeConfig c = minimal_config();
  c.client_auth = ClientAuth::optional_no_verify;
  EXPECT_TRUE(check_config(c).empty());
  c.status_if_unverified = 401;
  EXPECT_TRUE(check_config(c).empty());
  c.client_auth = ClientAuth::optional;
  EXPECT_TRUE(check_config(c).empty());
  for (ClientAuth mode : {ClientAuth::require, ClientAuth::none, ClientAuth::post_handshake}) {
    c.client_auth = mode;
    EXPECT_TRUE(has_problem(c, "--status-if-unverified needs --client-auth optional"))
        << client_auth_name(mode);
  }
  c.client_auth = ClientAuth::optional_no_verify;
  c.status_if_unverified = 99;
  EXPECT_TRUE(has_problem(c, "--status-if-unverified must be between 200 and 599"));
  c.status_if_unverified = 600;
  EXPECT_TRUE(has_problem(c, "--status-if-unverified must be between 200 and 599"));
  // optional-no-verify needs the CA too: it still verifies (and sends the CA names)
  c = minimal_config();
  c.client_auth = ClientAuth::optional_no_verify;
  c.client_ca_file.clear();
  EXPECT_TRUE(has_problem(c, "--client-auth optional-no-verify needs --client-ca"));
}

TEST(ServeConfigCheck, CloseWithoutAlertNeedsAHandshakeCheck) {
  ServeConfig c = minimal_config();
  c.close_without_alert = true;
  EXPECT_TRUE(check_config(c).empty());  // with require (the default)
  c.client_auth = ClientAuth::optional;
  EXPECT_TRUE(check_config(c).empty());
  for (ClientAuth mode : {ClientAuth::optional_no_verify, ClientAuth::none, ClientAuth::post_handshake}) {
    c.client_auth = mode;
    EXPECT_TRUE(has_problem(c, "--close-without-alert needs --client-auth require or optional"))
        << client_auth_name(mode);
  }
  c = minimal_config();
  c.close_without_alert = true;
  c.client_auth_path = "/secure";
  EXPECT_TRUE(has_problem(c, "--client-auth-path"));
  c = minimal_config();
  c.close_without_alert = true;
  c.nginx_style = true;
  EXPECT_TRUE(has_problem(c, "--nginx-style"));
  c = minimal_config();
  c.client_auth = ClientAuth::optional;
  c.close_without_alert = true;
  c.status_if_unverified = 401;
  EXPECT_TRUE(has_problem(c, "exclude each other"));
}

// ---------------------------------------------------------------------------------------------------
// the generated PKI (made once for the whole file: EC keys are fast, but the p12s take a moment)

class TempDir {
 public:
  TempDir() {
    auto made = make_temp_dir();
    if (made) path_ = *made;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const PkiFiles& shared_pki() {
  static TempDir dir;
  static PkiFiles files = [] {
    auto made = ensure_pki(dir.path() + "/pki");
    if (!made) ADD_FAILURE() << made.error().message << " " << made.error().openssl_detail;
    return made ? made->files : PkiFiles{};
  }();
  return files;
}

UniqueX509 read_cert(const std::string& path) {
  UniqueBio bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return UniqueX509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// X509_V_OK or the verify error of cert against ca for the given purpose (and, for servers, host/IP).
long verify(const std::string& ca, X509* cert, int purpose, const char* host = nullptr,
            const char* ip = nullptr) {
  UniqueX509Store store(X509_STORE_new());
  X509_STORE_load_file(store.get(), ca.c_str());
  std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  if (host != nullptr) X509_VERIFY_PARAM_set1_host(param, host, 0);
  if (ip != nullptr) X509_VERIFY_PARAM_set1_ip_asc(param, ip);
  X509_verify_cert(ctx.get());
  ERR_clear_error();
  return X509_STORE_CTX_get_error(ctx.get());
}

TEST(ServePki, ServerCertificateVerifiesForLocalhostAndLoopbackIps) {
  const auto& f = shared_pki();
  auto server = read_cert(f.server_cert);
  ASSERT_TRUE(server);
  EXPECT_EQ(verify(f.ca_cert, server.get(), X509_PURPOSE_SSL_SERVER, "localhost"), X509_V_OK);
  EXPECT_EQ(verify(f.ca_cert, server.get(), X509_PURPOSE_SSL_SERVER, nullptr, "127.0.0.1"), X509_V_OK);
  EXPECT_EQ(verify(f.ca_cert, server.get(), X509_PURPOSE_SSL_SERVER, nullptr, "::1"), X509_V_OK);
  EXPECT_EQ(verify(f.ca_cert, server.get(), X509_PURPOSE_SSL_SERVER, "example.com"),
            X509_V_ERR_HOSTNAME_MISMATCH);
  // an EC P-256 key
  EVP_PKEY* key = X509_get0_pubkey(server.get());
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key), 256);
}

TEST(ServePki, ClientCertificatesVerifyAsTheirRoleSays) {
  const auto& f = shared_pki();
  auto client = read_cert(f.client_cert);
  auto other = read_cert(f.other_client_cert);
  ASSERT_TRUE(client && other);
  EXPECT_EQ(verify(f.ca_cert, client.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_EQ(X509_get_extended_key_usage(client.get()) & XKU_SSL_CLIENT,
            static_cast<uint32_t>(XKU_SSL_CLIENT));
  // the other CA's client is unknown to ca.pem, and fine for other-ca.pem
  EXPECT_EQ(verify(f.ca_cert, other.get(), X509_PURPOSE_SSL_CLIENT),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_EQ(verify(f.other_ca_cert, other.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST(ServePki, PrivateFilesAreOwnerOnly) {
  const auto& f = shared_pki();
  for (const auto& path : {f.server_key, f.client_key, f.client_p12, f.password_file, f.other_client_key}) {
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
  }
  struct stat dir {};
  ASSERT_EQ(::stat(f.dir.c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & 0077, 0u) << "the PKI directory must not be readable by others";
}

Expected<ClientIdentity, IdentityFailure> load_p12(const PkiFiles& f, const std::string& p12) {
  IdentityOptions opts;
  opts.p12_file = p12;
  auto pw = password_from_file(f.password_file);
  if (!pw) return Unexpected(pw.error());
  opts.password = *pw;
  return load_client_identity(opts);
}

TEST(ServePki, P12sLoadWithThePasswordFile) {
  const auto& f = shared_pki();
  auto id = load_p12(f, f.client_p12);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_FALSE(id->legacy_pkcs12);  // OpenSSL 3 defaults: AES-256 + PBKDF2, SHA-256 MAC
  EXPECT_EQ(verify(f.ca_cert, id->leaf.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  auto expired = load_p12(f, f.expired_client_p12);
  ASSERT_TRUE(expired) << expired.error().message;
  EXPECT_EQ(verify(f.ca_cert, expired->leaf.get(), X509_PURPOSE_SSL_CLIENT), X509_V_ERR_CERT_HAS_EXPIRED);
  auto serverauth = load_p12(f, f.serverauth_client_p12);
  ASSERT_TRUE(serverauth) << serverauth.error().message;
  EXPECT_EQ(verify(f.ca_cert, serverauth->leaf.get(), X509_PURPOSE_SSL_CLIENT), X509_V_ERR_INVALID_PURPOSE);
  auto other = load_p12(f, f.other_client_p12);
  ASSERT_TRUE(other) << other.error().message;
}

TEST(ServePki, ReusesACompletePkiAndRefusesAPartialOne) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/pki";
  auto first = ensure_pki(dir);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(first->reused);
  auto ca_before = read_cert(first->files.ca_cert);
  auto second = ensure_pki(dir);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->reused);
  auto ca_after = read_cert(second->files.ca_cert);
  EXPECT_EQ(X509_cmp(ca_before.get(), ca_after.get()), 0) << "a re-used PKI keeps its CA";
  fs::remove(second->files.client_p12);
  auto partial = ensure_pki(dir);
  ASSERT_FALSE(partial);
  EXPECT_NE(partial.error().message.find("client.p12"), std::string::npos);
}

TEST(ServePki, PasswordIsRandomPerPki) {
  const auto& f = shared_pki();
  std::ifstream in(f.password_file);
  std::string pw;
  std::getline(in, pw);
  EXPECT_GE(pw.size(), 20u);
  TempDir tmp;
  auto again = ensure_pki(tmp.path() + "/pki");
  ASSERT_TRUE(again);
  std::ifstream in2(again->files.password_file);
  std::string pw2;
  std::getline(in2, pw2);
  EXPECT_NE(pw, pw2);
}

// ---------------------------------------------------------------------------------------------------
// in-process server: a few handshakes on 127.0.0.1 (the integration suite covers every mode end to end)

class LogCapture {
 public:
  LogCapture() {
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    logger_ = std::make_shared<spdlog::logger>("serve-test", sink_);
    logger_->set_level(spdlog::level::debug);
  }
  std::shared_ptr<spdlog::logger> logger() const { return logger_; }
  std::string text() {
    logger_->flush();
    std::lock_guard<std::mutex> lock(mu_);
    return stream_.str();
  }

 private:
  std::mutex mu_;
  std::ostringstream stream_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

using testing::RunningServer;

struct ClientResult {
  bool handshake_ok = false;
  std::string response;  // what came back (may be empty)
  int alert = -1;        // fatal alert received from the server
};

void client_info_cb(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_ALERT) != 0 && (where & SSL_CB_READ) != 0 && (ret & 0xff) != 0) {
    *static_cast<int*>(SSL_get_app_data(ssl)) = ret & 0xff;
  }
}

// A blocking OpenSSL client: handshake, one GET, read to the end.
ClientResult fetch(uint16_t port, const PkiFiles& f, const std::string& p12, const std::string& path,
                   bool enable_pha = false, int max_version = 0) {
  ClientResult out;
  UniqueSslCtx ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_load_verify_file(ctx.get(), f.ca_cert.c_str());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (max_version != 0) SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  if (!p12.empty()) {
    auto id = load_p12(f, p12);
    if (!id) {
      ADD_FAILURE() << id.error().message;
      return out;
    }
    SSL_CTX_use_certificate(ctx.get(), id->leaf.get());
    SSL_CTX_use_PrivateKey(ctx.get(), id->key.get());
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    ADD_FAILURE() << "connect failed";
    return out;
  }
  UniqueSsl ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), fd);
  SSL_set_app_data(ssl.get(), &out.alert);
  SSL_set_info_callback(ssl.get(), client_info_cb);
  if (enable_pha) SSL_set_post_handshake_auth(ssl.get(), 1);
  out.handshake_ok = SSL_connect(ssl.get()) == 1;
  if (out.handshake_ok) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    SSL_write(ssl.get(), req.data(), static_cast<int>(req.size()));
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl.get(), buf, sizeof buf)) > 0)
      out.response.append(buf, static_cast<std::size_t>(n));
  }
  ERR_clear_error();
  ::close(fd);
  return out;
}

ServeConfig pki_config(const PkiFiles& f, LogCapture& log) {
  ServeConfig c;
  c.cert_file = f.server_cert;
  c.key_file = f.server_key;
  c.client_ca_file = f.ca_cert;
  c.logger = log.logger();
  c.io_timeout = std::chrono::milliseconds(3000);
  return c;
}

// Why a server did not start decides the front end's exit code (docs/exit-codes.md): config 1,
// identity 2, listen 4.
TEST(ServeServer, StartFailuresSayWhy) {
  const PkiFiles& f = shared_pki();
  LogCapture log;
  ServeConfig bad_bind = pki_config(f, log);
  bad_bind.bind_address = "localhost";
  auto made = Server::create(bad_bind);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().failure, StartFailure::config) << made.error().message;

  ServeConfig missing = pki_config(f, log);
  missing.cert_file = f.server_cert + ".missing";
  made = Server::create(missing);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().failure, StartFailure::identity) << made.error().message;

  // The port of a running server is taken.
  RunningServer first(pki_config(f, log));
  ASSERT_TRUE(first.ok());
  ServeConfig same_port = pki_config(f, log);
  same_port.port = first.port();
  made = Server::create(same_port);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().failure, StartFailure::listen) << made.error().message;
  EXPECT_NE(made.error().message.find("cannot bind"), std::string::npos) << made.error().message;

  ServeConfig usage = pki_config(f, log);
  usage.status = 99;
  made = Server::create(usage);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().failure, StartFailure::config);
}

TEST(ServeServer, RequireAcceptsTheGoodClientAndAlertsOthers) {
  const auto& f = shared_pki();
  LogCapture log;
  RunningServer server(pki_config(f, log));
  ASSERT_TRUE(server.ok());

  auto good = fetch(server.port(), f, f.client_p12, "/hello");
  EXPECT_NE(good.response.find("HTTP/1.1 200 OK"), std::string::npos) << good.response;
  EXPECT_NE(good.response.find("client certificate: CN=mtls-probe client"), std::string::npos);

  auto none = fetch(server.port(), f, "", "/");
  EXPECT_EQ(none.response, "");
  EXPECT_EQ(none.alert, SSL_AD_CERTIFICATE_REQUIRED);

  auto other = fetch(server.port(), f, f.other_client_p12, "/");
  EXPECT_EQ(other.alert, SSL_AD_UNKNOWN_CA);

  auto expired = fetch(server.port(), f, f.expired_client_p12, "/");
  EXPECT_EQ(expired.alert, SSL_AD_CERTIFICATE_EXPIRED);

  auto serverauth = fetch(server.port(), f, f.serverauth_client_p12, "/");
  EXPECT_EQ(serverauth.alert, SSL_AD_UNSUPPORTED_CERTIFICATE);

  auto tls12 = fetch(server.port(), f, "", "/", false, TLS1_2_VERSION);
  EXPECT_EQ(tls12.alert, SSL_AD_HANDSHAKE_FAILURE);

  const std::string text = log.text();
  EXPECT_NE(text.find("peer did not return a certificate -- No CAs known to server for verification?"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("client SSL certificate verify error: (20:unable to get local issuer certificate)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("(10:certificate has expired)"), std::string::npos) << text;
  EXPECT_NE(text.find("\"GET /hello HTTP/1.1\" 200"), std::string::npos) << text;
}

TEST(ServeServer, NginxStyleAnswers400Pages) {
  const auto& f = shared_pki();
  LogCapture log;
  ServeConfig cfg = pki_config(f, log);
  cfg.nginx_style = true;
  RunningServer server(cfg);
  ASSERT_TRUE(server.ok());
  auto none = fetch(server.port(), f, "", "/");
  EXPECT_TRUE(none.handshake_ok);
  EXPECT_NE(none.response.find("HTTP/1.1 400 Bad Request"), std::string::npos);
  EXPECT_NE(none.response.find(nginx_error_page(NginxPage::no_certificate)), std::string::npos);
  auto other = fetch(server.port(), f, f.other_client_p12, "/");
  EXPECT_NE(other.response.find(nginx_error_page(NginxPage::certificate_error)), std::string::npos);
  auto good = fetch(server.port(), f, f.client_p12, "/");
  EXPECT_NE(good.response.find("HTTP/1.1 200 OK"), std::string::npos);
  const std::string text = log.text();
  EXPECT_NE(text.find("client sent no required SSL certificate while reading client request headers"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("client SSL certificate verify error: (21:unable to verify the first certificate)"),
            std::string::npos)
      << text;
}

TEST(ServeServer, PostHandshakeAuthOnAPathOnly) {
  const auto& f = shared_pki();
  LogCapture log;
  ServeConfig cfg = pki_config(f, log);
  cfg.client_auth = ClientAuth::post_handshake;
  cfg.client_auth_path = "/secure";
  cfg.status_rules = {{"/secure/admin", 403}};
  RunningServer server(cfg);
  ASSERT_TRUE(server.ok());
  auto open = fetch(server.port(), f, f.client_p12, "/open", true);
  EXPECT_NE(open.response.find("client certificate: none"), std::string::npos) << open.response;
  auto secure = fetch(server.port(), f, f.client_p12, "/secure/x", true);
  EXPECT_NE(secure.response.find("HTTP/1.1 200 OK"), std::string::npos) << secure.response;
  EXPECT_NE(secure.response.find("client certificate: CN=mtls-probe client"), std::string::npos);
  auto admin = fetch(server.port(), f, f.client_p12, "/secure/admin", true);
  EXPECT_NE(admin.response.find("HTTP/1.1 403 Forbidden"), std::string::npos) << admin.response;
  auto no_pha = fetch(server.port(), f, f.client_p12, "/secure/x", false);
  EXPECT_NE(no_pha.response.find("HTTP/1.1 403 Forbidden"), std::string::npos) << no_pha.response;
  EXPECT_NE(no_pha.response.find("Cannot perform Post-Handshake Authentication"), std::string::npos);
  auto renegotiated = fetch(server.port(), f, f.client_p12, "/secure/x", false, TLS1_2_VERSION);
  EXPECT_NE(renegotiated.response.find("client certificate: CN=mtls-probe client"), std::string::npos)
      << renegotiated.response;
  EXPECT_NE(log.text().find("by renegotiation (TLS 1.2)"), std::string::npos) << log.text();
}

TEST(ServeServer, OptionalNoVerifyAnswersTheUnverifiedStatus) {
  const auto& f = shared_pki();
  LogCapture log;
  ServeConfig cfg = pki_config(f, log);
  cfg.client_auth = ClientAuth::optional_no_verify;
  cfg.status_if_unverified = 401;
  RunningServer server(cfg);
  ASSERT_TRUE(server.ok());
  auto good = fetch(server.port(), f, f.client_p12, "/");
  EXPECT_NE(good.response.find("HTTP/1.1 200 OK"), std::string::npos) << good.response;
  auto other = fetch(server.port(), f, f.other_client_p12, "/");
  EXPECT_TRUE(other.handshake_ok);
  EXPECT_EQ(other.alert, -1);
  EXPECT_NE(other.response.find("HTTP/1.1 401 Unauthorized"), std::string::npos) << other.response;
  EXPECT_NE(other.response.find(
                "\r\n\r\nclient certificate not verified: unable to get local issuer certificate\n"),
            std::string::npos)
      << other.response;
  auto none = fetch(server.port(), f, "", "/");
  EXPECT_NE(none.response.find("HTTP/1.1 401 Unauthorized"), std::string::npos) << none.response;
  EXPECT_NE(none.response.find("\r\n\r\nno client certificate\n"), std::string::npos) << none.response;
  const std::string text = log.text();
  EXPECT_NE(
      text.find("client SSL certificate verify error: (20:unable to get local issuer certificate) while "
                "reading client request headers"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("\"GET / HTTP/1.1\" 401 (no client certificate)"), std::string::npos) << text;
}

TEST(ServeServer, OptionalNoVerifyWithoutAStatusAnswersNormally) {
  const auto& f = shared_pki();
  LogCapture log;
  ServeConfig cfg = pki_config(f, log);
  cfg.client_auth = ClientAuth::optional_no_verify;
  RunningServer server(cfg);
  ASSERT_TRUE(server.ok());
  auto other = fetch(server.port(), f, f.other_client_p12, "/");
  EXPECT_NE(other.response.find("HTTP/1.1 200 OK"), std::string::npos) << other.response;
  EXPECT_NE(
      other.response.find("client certificate verified: no (20:unable to get local issuer certificate)"),
      std::string::npos)
      << other.response;
}

TEST(ServeServer, CloseWithoutAlertSendsNoAlertAndNoAnswer) {
  const auto& f = shared_pki();
  LogCapture log;
  ServeConfig cfg = pki_config(f, log);
  cfg.close_without_alert = true;
  RunningServer server(cfg);
  ASSERT_TRUE(server.ok());
  auto good = fetch(server.port(), f, f.client_p12, "/");
  EXPECT_NE(good.response.find("HTTP/1.1 200 OK"), std::string::npos) << good.response;
  // TLS 1.3: the client's handshake completes, then the connection just ends.
  auto none = fetch(server.port(), f, "", "/");
  EXPECT_TRUE(none.handshake_ok);
  EXPECT_EQ(none.alert, -1);
  EXPECT_EQ(none.response, "");
  auto other = fetch(server.port(), f, f.other_client_p12, "/");
  EXPECT_TRUE(other.handshake_ok);
  EXPECT_EQ(other.alert, -1);
  EXPECT_EQ(other.response, "");
  // TLS 1.2: the server closes before its Finished, so the client's handshake fails, without an alert.
  auto none12 = fetch(server.port(), f, "", "/", false, TLS1_2_VERSION);
  EXPECT_FALSE(none12.handshake_ok);
  EXPECT_EQ(none12.alert, -1);
  auto other12 = fetch(server.port(), f, f.other_client_p12, "/", false, TLS1_2_VERSION);
  EXPECT_FALSE(other12.handshake_ok);
  EXPECT_EQ(other12.alert, -1);
  auto good12 = fetch(server.port(), f, f.client_p12, "/", false, TLS1_2_VERSION);
  EXPECT_NE(good12.response.find("HTTP/1.1 200 OK"), std::string::npos) << good12.response;
  const std::string text = log.text();
  EXPECT_NE(text.find("peer did not return a certificate: closed the connection without an alert after the "
                      "handshake"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("(20:unable to get local issuer certificate), depth 0"), std::string::npos) << text;
  EXPECT_NE(text.find("without an alert before sending Finished (TLS 1.2)"), std::string::npos) << text;
}

TEST(ServeServer, SilentClientDoesNotBlockOthersAndStopIsPrompt) {
  const auto& f = shared_pki();
  LogCapture log;
  ServeConfig cfg = pki_config(f, log);
  cfg.client_auth = ClientAuth::none;
  // Blocking on the silent client would take the whole io_timeout: make it long, so that the bounds below
  // (a third of it) tell "not blocked" from "blocked" on any machine, however loaded.
  cfg.io_timeout = std::chrono::seconds(30);
  const auto not_blocked = cfg.io_timeout / 3;
  auto server = std::make_unique<RunningServer>(cfg);
  ASSERT_TRUE(server->ok());
  int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto t0 = std::chrono::steady_clock::now();
  auto res = fetch(server->port(), f, "", "/");
  EXPECT_NE(res.response.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, not_blocked);
  t0 = std::chrono::steady_clock::now();
  server.reset();  // request_stop + join, with the silent client still connected
  EXPECT_LT(std::chrono::steady_clock::now() - t0, not_blocked);
  ::close(silent);
}

// ---------------------------------------------------------------------------------------------------
// --grpc-health / --grpc-status

TEST(ServeGrpc, ServingAnswerIsAMessageAndTrailers) {
  const serve_grpc::GrpcAnswer a = serve_grpc::health_check_answer(0);
  EXPECT_EQ(a.headers, (serve_grpc::Fields{{"content-type", "application/grpc"}}));
  EXPECT_EQ(a.body, grpc_frame("\x08\x01"));  // HealthCheckResponse{status: SERVING}
  EXPECT_EQ(a.trailers, (serve_grpc::Fields{{"grpc-status", "0"}}));
}

TEST(ServeGrpc, ErrorStatusIsATrailersOnlyAnswer) {
  const serve_grpc::GrpcAnswer a = serve_grpc::health_check_answer(7);
  ASSERT_EQ(a.headers.size(), 3U);
  EXPECT_EQ(a.headers[1], (std::pair<std::string, std::string>{"grpc-status", "7"}));
  EXPECT_EQ(a.headers[2].first, "grpc-message");
  EXPECT_EQ(grpc_percent_decode(a.headers[2].second, 200),
            "mtls-probe serve: --grpc-status 7 (PERMISSION_DENIED)");
  EXPECT_TRUE(a.body.empty());
  EXPECT_TRUE(a.trailers.empty());
}

TEST(ServeConfigCheck, GrpcHealthNeedsHttp2AndAStatusInRange) {
  ServeConfig c = minimal_config();
  c.grpc_health = true;
  EXPECT_TRUE(has_problem(c, "--grpc-health needs --http2"));
  c.http2 = true;
  EXPECT_TRUE(check_config(c).empty());
  for (int bad : {-1, 17}) {
    c.grpc_status = bad;
    EXPECT_TRUE(has_problem(c, "--grpc-status must be between 0 and 16")) << bad;
  }
  c.grpc_status = 16;
  EXPECT_TRUE(check_config(c).empty());
  c.grpc_health = false;
  EXPECT_TRUE(has_problem(c, "--grpc-status needs --grpc-health"));
}

// The probe's --grpc-health against serve --http2 --grpc-health in process: the trailers (grpc-status 0)
// after the message, and a trailers-only error.
ProbeFacts grpc_probe(uint16_t port, const std::string& service) {
  const PkiFiles& pki = testing::shared_pki();  // the PKI of testing::default_config()
  IdentityOptions id;
  id.cert_file = pki.client_cert;
  id.key_file = pki.client_key;
  auto loaded = load_client_identity(id);
  EXPECT_TRUE(loaded.has_value());
  TlsOptions tls;
  tls.cacert_file = pki.ca_cert;
  auto ctx = ClientTlsContext::create(
      tls, loaded ? std::make_shared<const ClientIdentity>(std::move(loaded.value())) : nullptr, false);
  EXPECT_TRUE(ctx.has_value());
  if (!ctx) return {};
  TargetOptions t;
  t.url_text = "https://127.0.0.1:" + std::to_string(port) + "/";
  t.url = parse_url(t.url_text).value();
  t.alpn = {"h2"};
  make_grpc_health_request(t, service);
  return run_probe(t, **ctx);
}

TEST(ServeGrpc, AnswersTheProbesHealthCheck) {
  ServeConfig cfg = testing::default_config();
  cfg.http2 = true;
  cfg.grpc_health = true;
  testing::RunningServer server(cfg);
  ASSERT_TRUE(server.ok());
  const ProbeFacts f = grpc_probe(server.port(), "some.Service");
  EXPECT_EQ(f.request_line, "POST /grpc.health.v1.Health/Check HTTP/2") << f.tls_error;
  EXPECT_EQ(f.http_status, 200);
  ASSERT_TRUE(f.grpc);
  EXPECT_EQ(f.grpc->service, "some.Service");
  EXPECT_EQ(f.grpc->status, 0);
  EXPECT_EQ(f.grpc->serving_status_name, "SERVING");
  EXPECT_FALSE(f.grpc->trailers_only);
  EXPECT_FALSE(f.grpc->problem) << *f.grpc->problem;

  cfg.grpc_status = 16;
  testing::RunningServer refusing(cfg);
  ASSERT_TRUE(refusing.ok());
  const ProbeFacts r = grpc_probe(refusing.port(), "");
  ASSERT_TRUE(r.grpc);
  EXPECT_EQ(r.grpc->status, 16);
  EXPECT_EQ(r.grpc->status_name, "UNAUTHENTICATED");
  EXPECT_TRUE(r.grpc->trailers_only);
  EXPECT_EQ(r.grpc->message, "mtls-probe serve: --grpc-status 16 (UNAUTHENTICATED)");
  EXPECT_FALSE(r.grpc->serving_status);
}

TEST(ServeGrpc, WithoutGrpcHealthTheAnswerIsAPlainPage) {
  ServeConfig cfg = testing::default_config();
  cfg.http2 = true;
  testing::RunningServer server(cfg);
  ASSERT_TRUE(server.ok());
  const ProbeFacts f = grpc_probe(server.port(), "");
  ASSERT_TRUE(f.grpc);
  EXPECT_FALSE(f.grpc->status);
  ASSERT_TRUE(f.grpc->problem);
  EXPECT_NE(f.grpc->problem->find("not application/grpc"), std::string::npos) << *f.grpc->problem;
}

}  // namespace
}  // namespace mtls_probe::serve
