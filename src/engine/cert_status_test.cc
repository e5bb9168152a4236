// The stapled OCSP response's evaluation (--cert-status) with a PKI and responses made here with the
// OpenSSL API: no files, no sockets.
#include "mtls_probe/engine/cert_status.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <string>
#include <vector>

namespace mtls_probe {
namespace {

using OcspBasic = std::unique_ptr<OCSP_BASICRESP, OsslDeleter<OCSP_BASICRESP_free>>;
using OcspResponse = std::unique_ptr<OCSP_RESPONSE, OsslDeleter<OCSP_RESPONSE_free>>;
using OcspId = std::unique_ptr<OCSP_CERTID, OsslDeleter<OCSP_CERTID_free>>;
using Asn1Time = std::unique_ptr<ASN1_TIME, OsslDeleter<ASN1_TIME_free>>;
struct ChainFree {  // sk_X509_free is a macro: no function to name in OsslDeleter
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using Chain = std::unique_ptr<STACK_OF(X509), ChainFree>;

struct StapleTestCert {
  UniqueEvpPkey key;
  UniqueX509 cert;
};

void add_staple_test_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for cn, signed by issuer (null: self-signed), valid from a day ago for a year.
StapleTestCert make_staple_test_cert(const std::string& cn, const StapleTestCert* issuer, long serial,
                                     bool ca, const char* eku = nullptr) {
  StapleTestCert out;
  out.key.reset(EVP_EC_gen("P-256"));
  out.cert.reset(X509_new());
  X509* c = out.cert.get();
  X509_set_version(c, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
  X509_gmtime_adj(X509_getm_notBefore(c), -86400);
  X509_gmtime_adj(X509_getm_notAfter(c), 365L * 86400);
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : c;
  X509_set_issuer_name(c, X509_get_subject_name(issuer_cert));
  X509_set_pubkey(c, out.key.get());
  add_staple_test_ext(c, issuer_cert, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (ca) add_staple_test_ext(c, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  if (eku != nullptr) add_staple_test_ext(c, issuer_cert, NID_ext_key_usage, eku);
  X509_sign(c, issuer != nullptr ? issuer->key.get() : out.key.get(), EVP_sha256());
  return out;
}

Asn1Time staple_time_from_now(long seconds) {
  return Asn1Time(X509_gmtime_adj(nullptr, seconds));
}

struct SingleSpec {
  int status = V_OCSP_CERTSTATUS_GOOD;
  int reason = -1;
  long revoked_ago = 3600;
  long this_update = -60;        // seconds from now
  long next_update = 7 * 86400;  // seconds from now
};

class CertStatus : public ::testing::Test {
 protected:
  void SetUp() override {
    root = make_staple_test_cert("Stapling Test Root", nullptr, 1, true);
    leaf = make_staple_test_cert("localhost", &root, 2, false, "serverAuth");
    other_leaf = make_staple_test_cert("other.example", &root, 3, false, "serverAuth");
    delegate = make_staple_test_cert("Stapling Test OCSP Responder", &root, 4, false, "OCSPSigning");
    plain = make_staple_test_cert("Stapling Test Not A Responder", &root, 5, false, "serverAuth");
    stranger = make_staple_test_cert("Stapling Test Stranger CA", nullptr, 6, true);
    store.reset(X509_STORE_new());
    X509_STORE_add_cert(store.get(), root.cert.get());
    chain.reset(sk_X509_new_null());
    sk_X509_push(chain.get(), leaf.cert.get());
  }

  // A successful response about `about` (issued by root), signed by `signer`.
  std::vector<unsigned char> response(const SingleSpec& spec, const StapleTestCert& signer,
                                      const StapleTestCert* about = nullptr) {
    OcspBasic basic(OCSP_BASICRESP_new());
    OCSP_CERTID* id =
        OCSP_cert_to_id(EVP_sha1(), (about != nullptr ? *about : leaf).cert.get(), root.cert.get());
    const Asn1Time revoked = staple_time_from_now(-spec.revoked_ago);
    const Asn1Time this_update = staple_time_from_now(spec.this_update);
    const Asn1Time next_update = staple_time_from_now(spec.next_update);
    OCSP_basic_add1_status(basic.get(), id, spec.status, spec.reason,
                           spec.status == V_OCSP_CERTSTATUS_REVOKED ? revoked.get() : nullptr,
                           this_update.get(), next_update.get());
    OCSP_CERTID_free(id);
    EXPECT_EQ(OCSP_basic_sign(basic.get(), signer.cert.get(), signer.key.get(), EVP_sha256(), nullptr, 0), 1);
    OcspResponse r(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
    return der_of(r.get());
  }

  static std::vector<unsigned char> der_of(OCSP_RESPONSE* r) {
    unsigned char* der = nullptr;
    const int len = i2d_OCSP_RESPONSE(r, &der);
    std::vector<unsigned char> out(der, der + (len > 0 ? len : 0));
    OPENSSL_free(der);
    return out;
  }

  ServerCertStatus evaluate(const std::vector<unsigned char>& der, X509* issuer) {
    return evaluate_ocsp_response(der, leaf.cert.get(), issuer, chain.get(), store.get());
  }
  ServerCertStatus evaluate(const std::vector<unsigned char>& der) { return evaluate(der, root.cert.get()); }

  StapleTestCert root, leaf, other_leaf, delegate, plain, stranger;
  UniqueX509Store store;
  Chain chain;
};

TEST_F(CertStatus, GoodFromTheIssuer) {
  const ServerCertStatus s = evaluate(response({}, root));
  EXPECT_TRUE(s.checked);
  EXPECT_TRUE(s.stapled);
  EXPECT_FALSE(s.error) << *s.error;
  EXPECT_EQ(s.problem, CertStatusProblem::none);
  EXPECT_EQ(s.response_status, "successful");
  EXPECT_TRUE(s.verified);
  EXPECT_EQ(s.cert_status, "good");
  EXPECT_EQ(s.responder, "CN=Stapling Test Root");
  ASSERT_TRUE(s.this_update && s.next_update);
  EXPECT_LT(*s.this_update, *s.next_update);  // ISO 8601 compares as text
  EXPECT_FALSE(s.revoked_at);
}

TEST_F(CertStatus, GoodFromADelegatedResponder) {
  const ServerCertStatus s = evaluate(response({}, delegate));
  EXPECT_FALSE(s.error) << *s.error;
  EXPECT_EQ(s.responder, "CN=Stapling Test OCSP Responder");
}

TEST_F(CertStatus, NothingStapled) {
  const ServerCertStatus s = evaluate({});
  EXPECT_TRUE(s.checked);
  EXPECT_FALSE(s.stapled);
  EXPECT_EQ(s.problem, CertStatusProblem::not_stapled);
  EXPECT_EQ(s.error, "no OCSP response stapled (--cert-status)");
}

TEST_F(CertStatus, BytesThatAreNoResponse) {
  const ServerCertStatus s = evaluate({0x30, 0x03, 0x0a, 0x01, 0x00, 0xff});
  EXPECT_EQ(s.problem, CertStatusProblem::malformed);
  EXPECT_TRUE(s.stapled);
}

TEST_F(CertStatus, ResponderErrorIsNotSuccessful) {
  OcspResponse r(OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, nullptr));
  const ServerCertStatus s = evaluate(der_of(r.get()));
  EXPECT_EQ(s.problem, CertStatusProblem::not_successful);
  EXPECT_EQ(s.response_status, "trylater");
  EXPECT_EQ(s.error, "OCSP: the responder answered trylater (3), not successful");
}

TEST_F(CertStatus, RevokedSaysReasonAndTime) {
  SingleSpec spec;
  spec.status = V_OCSP_CERTSTATUS_REVOKED;
  spec.reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
  const ServerCertStatus s = evaluate(response(spec, root));
  EXPECT_EQ(s.problem, CertStatusProblem::revoked);
  EXPECT_EQ(s.cert_status, "revoked");
  EXPECT_EQ(s.reason, "keyCompromise");
  ASSERT_TRUE(s.revoked_at);
  EXPECT_EQ(s.error, "OCSP: certificate revoked (keyCompromise, " + *s.revoked_at + ")");
  EXPECT_TRUE(s.verified);
}

TEST_F(CertStatus, RevokedWithoutReason) {
  SingleSpec spec;
  spec.status = V_OCSP_CERTSTATUS_REVOKED;
  const ServerCertStatus s = evaluate(response(spec, root));
  EXPECT_EQ(s.problem, CertStatusProblem::revoked);
  EXPECT_EQ(s.reason, "");
  EXPECT_NE(s.error->find("(no reason given, "), std::string::npos) << *s.error;
}

TEST_F(CertStatus, Unknown) {
  SingleSpec spec;
  spec.status = V_OCSP_CERTSTATUS_UNKNOWN;
  const ServerCertStatus s = evaluate(response(spec, root));
  EXPECT_EQ(s.problem, CertStatusProblem::unknown);
  EXPECT_EQ(s.cert_status, "unknown");
  EXPECT_EQ(s.error, "OCSP: certificate status unknown to the responder");
}

TEST_F(CertStatus, SignedByAnUntrustedCaDoesNotVerify) {
  const ServerCertStatus s = evaluate(response({}, stranger));
  EXPECT_EQ(s.problem, CertStatusProblem::bad_signature);
  EXPECT_FALSE(s.verified);
  EXPECT_EQ(s.cert_status, "good");  // what it claims, kept as evidence, not believed
  EXPECT_NE(s.error->find("signature does not verify"), std::string::npos) << *s.error;
}

// Issued by the right CA, but without id-kp-OCSPSigning: not a responder the CA delegated to.
TEST_F(CertStatus, SignedByACertificateWithoutOcspSigningDoesNotVerify) {
  const ServerCertStatus s = evaluate(response({}, plain));
  EXPECT_EQ(s.problem, CertStatusProblem::bad_signature) << s.error.value_or("no error");
}

TEST_F(CertStatus, Expired) {
  SingleSpec spec;
  spec.this_update = -3 * 86400;
  spec.next_update = -2 * 86400;
  const ServerCertStatus s = evaluate(response(spec, root));
  EXPECT_EQ(s.problem, CertStatusProblem::expired);
  EXPECT_EQ(s.error, "OCSP: the response has expired (nextUpdate " + s.next_update.value_or("?") + ")");
}

// Within the clock skew (5 minutes) it still passes; beyond it, it does not.
TEST_F(CertStatus, ExpiredOnlyBeyondTheSkew) {
  SingleSpec spec;
  spec.this_update = -3600;
  spec.next_update = -(kOcspClockSkewSeconds - 60);
  EXPECT_FALSE(evaluate(response(spec, root)).error);
  spec.next_update = -(kOcspClockSkewSeconds + 60);
  EXPECT_EQ(evaluate(response(spec, root)).problem, CertStatusProblem::expired);
}

TEST_F(CertStatus, NotYetValid) {
  SingleSpec spec;
  spec.this_update = 86400;
  spec.next_update = 2 * 86400;
  const ServerCertStatus s = evaluate(response(spec, root));
  EXPECT_EQ(s.problem, CertStatusProblem::not_yet_valid);
  EXPECT_NE(s.error->find("not valid yet (thisUpdate "), std::string::npos) << *s.error;
}

TEST_F(CertStatus, AResponseAboutAnotherCertificate) {
  const ServerCertStatus s = evaluate(response({}, root, &other_leaf));
  EXPECT_EQ(s.problem, CertStatusProblem::not_for_leaf);
  EXPECT_EQ(s.cert_status, "");
}

TEST_F(CertStatus, NoIssuerFound) {
  const ServerCertStatus s = evaluate(response({}, root), nullptr);
  EXPECT_EQ(s.problem, CertStatusProblem::no_issuer);
}

TEST_F(CertStatus, IssuerFromTheChainThenTheStore) {
  Chain with_issuer(sk_X509_new_null());
  sk_X509_push(with_issuer.get(), leaf.cert.get());
  sk_X509_push(with_issuer.get(), root.cert.get());
  UniqueX509 from_chain = find_issuer(leaf.cert.get(), with_issuer.get(), nullptr);
  ASSERT_TRUE(from_chain);
  EXPECT_EQ(X509_cmp(from_chain.get(), root.cert.get()), 0);
  UniqueX509 from_store = find_issuer(leaf.cert.get(), chain.get(), store.get());
  ASSERT_TRUE(from_store);
  EXPECT_EQ(X509_cmp(from_store.get(), root.cert.get()), 0);
  UniqueX509Store empty(X509_STORE_new());
  EXPECT_FALSE(find_issuer(leaf.cert.get(), chain.get(), empty.get()));
  EXPECT_FALSE(find_issuer(leaf.cert.get(), chain.get(), nullptr));
}

}  // namespace
}  // namespace mtls_probe
