// The pure parts of the revocation check (URLs, the HTTP head, the bounds, names) and the CRL method with a
// PKI made here in memory; the fetch's refusal and timeout against sockets of this process on loopback.
#include "mtls_probe/inspect/revocation.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>

#include "mtls_probe/engine/net.h"
#include "revocation_fetch.h"

namespace mtls_probe::inspect {
namespace {

UniqueEvpPkey rev_test_key() {
  return UniqueEvpPkey(EVP_EC_gen("P-256"));
}

void rev_test_add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `cn` (serial), signed by issuer_key (self-signed when issuer is null).
UniqueX509 rev_test_cert(const char* cn, long serial, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                         const char* aia = nullptr, const char* cdp = nullptr) {
  UniqueX509 x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400);
  X509_set_pubkey(x.get(), key);
  if (aia) rev_test_add_ext(x.get(), issuer ? issuer : x.get(), NID_info_access, aia);
  if (cdp) rev_test_add_ext(x.get(), issuer ? issuer : x.get(), NID_crl_distribution_points, cdp);
  if (!issuer) rev_test_add_ext(x.get(), x.get(), NID_basic_constraints, "critical,CA:TRUE");
  X509_sign(x.get(), issuer_key ? issuer_key : key, EVP_sha256());
  return x;
}

// A CRL by `ca` (signed with `key`) listing `revoked_serial` (0: none) with reason keyCompromise.
UniqueX509Crl rev_test_crl(X509* ca, EVP_PKEY* key, long revoked_serial, long next_update_offset = 3600) {
  UniqueX509Crl crl(X509_CRL_new());
  X509_CRL_set_version(crl.get(), 1);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca));
  ASN1_TIME* last = ASN1_TIME_adj(nullptr, std::time(nullptr), 0, -60);
  ASN1_TIME* next = ASN1_TIME_adj(nullptr, std::time(nullptr), 0, next_update_offset);
  X509_CRL_set1_lastUpdate(crl.get(), last);
  X509_CRL_set1_nextUpdate(crl.get(), next);
  if (revoked_serial != 0) {
    X509_REVOKED* rev = X509_REVOKED_new();
    ASN1_INTEGER* serial = ASN1_INTEGER_new();
    ASN1_INTEGER_set(serial, revoked_serial);
    X509_REVOKED_set_serialNumber(rev, serial);
    X509_REVOKED_set_revocationDate(rev, last);
    ASN1_ENUMERATED* reason = ASN1_ENUMERATED_new();
    ASN1_ENUMERATED_set(reason, 1);
    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0);
    ASN1_ENUMERATED_free(reason);
    ASN1_INTEGER_free(serial);
    X509_CRL_add0_revoked(crl.get(), rev);
  }
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  X509_CRL_sort(crl.get());
  X509_CRL_sign(crl.get(), key, EVP_sha256());
  return crl;
}

struct RevTestPki {
  UniqueEvpPkey ca_key = rev_test_key(), leaf_key = rev_test_key(), other_key = rev_test_key();
  UniqueX509 ca = rev_test_cert("Rev Test CA", 1, ca_key.get(), nullptr, nullptr);
  UniqueX509 leaf = rev_test_cert("alice", 0x1001, leaf_key.get(), ca.get(), ca_key.get(),
                                  "OCSP;URI:ldap://ldap.example/,OCSP;URI:http://127.0.0.1:1/ocsp",
                                  "URI:https://crl.example/ca.crl,URI:http://127.0.0.1:2/ca.crl");
};

std::vector<LocalCrl> rev_one_crl(UniqueX509Crl crl) {
  std::vector<LocalCrl> v;
  v.push_back(LocalCrl{"test.crl", std::move(crl)});
  return v;
}

TEST(Revocation, HttpUrls) {
  auto u = parse_http_url("http://127.0.0.1:8888/ocsp?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8888);
  EXPECT_EQ(u->path, "/ocsp?x=1");
  u = parse_http_url("HTTP://[::1]");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path, "/");
  for (const char* bad :
       {"https://ca.example/", "ldap://ca.example/", "http://", "http://:80/", "http://host:0/",
        "http://host:65536/", "http://user@host/", "http://host:/", "http://[::1/", "http://host/a b"}) {
    EXPECT_FALSE(parse_http_url(bad)) << bad;
  }
  EXPECT_EQ(first_http_url({"ldap://x/", "https://y/", "http://z/c.crl"}),
            std::optional<std::string>("http://z/c.crl"));
  EXPECT_FALSE(first_http_url({"ldap://x/"}));
}

TEST(Revocation, ResponseHead) {
  EXPECT_FALSE(parse_response_head("HTTP/1.0 200 OK\r\nContent-Le"));  // not complete yet
  auto h = parse_response_head("HTTP/1.0 200 OK\r\nContent-Length: 12\r\nServer: x\r\n\r\nbody");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->content_length, std::optional<std::size_t>(12));
  EXPECT_EQ(h->size, 50u);  // the head, blank line included
  h = parse_response_head("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 404);
  EXPECT_TRUE(h->chunked);
  h = parse_response_head("SSH-2.0-OpenSSH");  // not HTTP: known from the first bytes
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 0);
  h = parse_response_head("HTTP/1.0 200 OK\r\nContent-Length: 1x\r\n\r\n");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 0);
}

TEST(Revocation, SizeBounds) {
  EXPECT_EQ(kMaxCrlBytes, 10u * 1024 * 1024);
  EXPECT_EQ(kMaxOcspResponseBytes, 1024u * 1024);
  EXPECT_EQ(check_size(std::nullopt, 100, 100), SizeVerdict::fits);
  EXPECT_EQ(check_size(std::nullopt, 101, 100), SizeVerdict::too_large);
  EXPECT_EQ(check_size(std::size_t{101}, 0, 100), SizeVerdict::too_large);  // refused before reading
  EXPECT_EQ(check_size(std::size_t{100}, 100, 100), SizeVerdict::fits);
  EXPECT_TRUE(check_revocation_timeout(0));
  EXPECT_TRUE(check_revocation_timeout(601));
  EXPECT_FALSE(check_revocation_timeout(0.5));
}

TEST(Revocation, StatusAndReasonNames) {
  EXPECT_EQ(ocsp_cert_status(V_OCSP_CERTSTATUS_GOOD), RevocationStatus::good);
  EXPECT_EQ(ocsp_cert_status(V_OCSP_CERTSTATUS_REVOKED), RevocationStatus::revoked);
  EXPECT_EQ(ocsp_cert_status(V_OCSP_CERTSTATUS_UNKNOWN), RevocationStatus::unknown);
  EXPECT_EQ(ocsp_cert_status(42), RevocationStatus::unknown);
  EXPECT_EQ(crl_reason_name(1), std::optional<std::string>("keyCompromise"));
  EXPECT_EQ(crl_reason_name(0), std::optional<std::string>("unspecified"));
  EXPECT_EQ(crl_reason_name(10), std::optional<std::string>("aACompromise"));
  EXPECT_FALSE(crl_reason_name(7));   // not defined by RFC 5280
  EXPECT_FALSE(crl_reason_name(-1));  // no reason given
}

TEST(Revocation, UrlsFromTheCertificate) {
  RevTestPki pki;
  EXPECT_EQ(ocsp_urls(pki.leaf.get()),
            (std::vector<std::string>{"ldap://ldap.example/", "http://127.0.0.1:1/ocsp"}));
  EXPECT_EQ(crl_urls(pki.leaf.get()),
            (std::vector<std::string>{"https://crl.example/ca.crl", "http://127.0.0.1:2/ca.crl"}));
  EXPECT_TRUE(ocsp_urls(pki.ca.get()).empty());
  const RevocationCheck none = no_url_check(RevocationMethod::crl, {});
  EXPECT_EQ(none.status, RevocationStatus::not_available);
  const RevocationCheck ldap = no_url_check(RevocationMethod::ocsp, {"ldap://x/"});
  EXPECT_EQ(ldap.status, RevocationStatus::unreachable);
  EXPECT_EQ(ldap.failure, RevocationFailure::bad_url);
}

TEST(Revocation, LocalCrlRevokedWithReasonAndTime) {
  RevTestPki pki;
  RevocationCheck c = crl_check(pki.leaf.get(), pki.ca.get(), {},
                                rev_one_crl(rev_test_crl(pki.ca.get(), pki.ca_key.get(), 0x1001)));
  EXPECT_EQ(c.status, RevocationStatus::revoked) << c.detail;
  EXPECT_EQ(c.reason, std::optional<std::string>("keyCompromise"));
  ASSERT_TRUE(c.revoked_at);
  EXPECT_EQ(c.revoked_at->back(), 'Z');
  EXPECT_EQ(c.source, "test.crl");
}

TEST(Revocation, LocalCrlNotListingIsGood) {
  RevTestPki pki;
  RevocationCheck c = crl_check(pki.leaf.get(), pki.ca.get(), {},
                                rev_one_crl(rev_test_crl(pki.ca.get(), pki.ca_key.get(), 0x2002)));
  EXPECT_EQ(c.status, RevocationStatus::good) << c.detail;
}

TEST(Revocation, CrlSignedByAnotherKeyIsNotBelieved) {
  RevTestPki pki;
  RevocationCheck c = crl_check(pki.leaf.get(), pki.ca.get(), {},
                                rev_one_crl(rev_test_crl(pki.ca.get(), pki.other_key.get(), 0x1001)));
  EXPECT_EQ(c.status, RevocationStatus::unreachable);
  EXPECT_EQ(c.failure, RevocationFailure::signature_invalid);
}

TEST(Revocation, StaleCrlIsNotBelieved) {
  RevTestPki pki;
  RevocationCheck c = crl_check(pki.leaf.get(), pki.ca.get(), {},
                                rev_one_crl(rev_test_crl(pki.ca.get(), pki.ca_key.get(), 0x1001, -3600)));
  EXPECT_EQ(c.failure, RevocationFailure::stale);
  // Within the skew it is current.
  c = crl_check(
      pki.leaf.get(), pki.ca.get(), {},
      rev_one_crl(rev_test_crl(pki.ca.get(), pki.ca_key.get(), 0x1001, -kRevocationSkewSeconds / 2)));
  EXPECT_EQ(c.status, RevocationStatus::revoked) << c.detail;
}

TEST(Revocation, IssuerUnknownAsksNothing) {
  RevTestPki pki;
  const RevocationFacts r = check_revocation(pki.leaf.get(), {}, {}, RevocationOptions{}, {});
  ASSERT_EQ(r.certificates.size(), 1u);
  EXPECT_FALSE(r.certificates[0].issuer_known);
  EXPECT_EQ(r.certificates[0].ocsp.status, RevocationStatus::unknown);
  EXPECT_NE(r.certificates[0].ocsp.detail.find("issuer unknown"), std::string::npos);
  EXPECT_EQ(r.certificates[0].serial_hex, "1001");
}

TEST(Revocation, TheRootIsNotChecked) {
  RevTestPki pki;
  std::vector<LocalCrl> crls = rev_one_crl(rev_test_crl(pki.ca.get(), pki.ca_key.get(), 0));
  const RevocationFacts r = check_revocation(pki.leaf.get(), {pki.ca.get()}, {}, RevocationOptions{}, crls);
  ASSERT_EQ(r.certificates.size(), 1u);
  EXPECT_TRUE(r.certificates[0].issuer_known);
  EXPECT_EQ(r.certificates[0].crl.status, RevocationStatus::good);
}

// A listening socket that never accepts: connect succeeds (the backlog), nothing is ever answered.
struct RevSilentListener {
  UniqueFd fd{::socket(AF_INET, SOCK_STREAM, 0)};
  uint16_t port = 0;
  RevSilentListener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd.get(), 4) != 0)
      return;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
};

TEST(Revocation, FetchFromAClosedPortIsRefused) {
  uint16_t port = 0;
  {
    RevSilentListener l;  // a port that was free a moment ago, closed again
    port = l.port;
  }
  ASSERT_NE(port, 0);
  auto r = http_fetch(FetchRequest{"http://127.0.0.1:" + std::to_string(port) + "/", "", "", 100,
                                   std::chrono::milliseconds(2000)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().failure, RevocationFailure::refused) << r.error().detail;
}

TEST(Revocation, FetchFromASilentServerEndsAtTheTimeout) {
  RevSilentListener l;
  ASSERT_NE(l.port, 0);
  constexpr int kTimeoutMs = 500;
  const Clock::time_point start = Clock::now();
  auto r = http_fetch(FetchRequest{"http://127.0.0.1:" + std::to_string(l.port) + "/", "", "", 100,
                                   std::chrono::milliseconds(kTimeoutMs)});
  const double ms = ms_since(start);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().failure, RevocationFailure::timeout) << r.error().detail;
  EXPECT_GE(ms, kTimeoutMs - 10);
  EXPECT_LT(ms, 3 * kTimeoutMs);  // the deadline bounds it: a multiple of it, not a figure of this machine
}

}  // namespace
}  // namespace mtls_probe::inspect
