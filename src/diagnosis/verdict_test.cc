#include "mtls_probe/diagnosis/verdict.h"

#include <gtest/gtest.h>

#include "mtls_probe/base/alerts.h"

namespace mtls_probe {
namespace {

TEST(Verdict, ExitCodesAreTheContractTable) {
  EXPECT_EQ(exit_code(Verdict::ok), 0);
  EXPECT_EQ(exit_code(Verdict::usage_error), 1);
  EXPECT_EQ(exit_code(Verdict::identity_error), 2);
  EXPECT_EQ(exit_code(Verdict::dns_failure), 3);
  EXPECT_EQ(exit_code(Verdict::connect_failure), 4);
  EXPECT_EQ(exit_code(Verdict::timeout), 5);
  EXPECT_EQ(exit_code(Verdict::tls_handshake_failure), 6);
  EXPECT_EQ(exit_code(Verdict::server_cert_untrusted), 7);
  EXPECT_EQ(exit_code(Verdict::client_cert_required), 8);
  EXPECT_EQ(exit_code(Verdict::client_cert_rejected), 9);
  EXPECT_EQ(exit_code(Verdict::http_error), 10);
  EXPECT_EQ(exit_code(Verdict::protocol_error), 11);
  EXPECT_EQ(exit_code(Verdict::proxy_error), 12);
}

TEST(Verdict, NamesRoundTrip) {
  const char* names[] = {"ok",
                         "usage-error",
                         "identity-error",
                         "dns-failure",
                         "connect-failure",
                         "timeout",
                         "tls-handshake-failure",
                         "server-cert-untrusted",
                         "client-cert-required",
                         "client-cert-rejected",
                         "http-error",
                         "protocol-error",
                         "proxy-error"};
  for (int code = 0; code <= 12; ++code) {
    auto v = static_cast<Verdict>(code);
    EXPECT_EQ(verdict_name(v), names[code]);
    ASSERT_TRUE(verdict_from_name(names[code]).has_value());
    EXPECT_EQ(*verdict_from_name(names[code]), v);
    EXPECT_FALSE(verdict_meaning(v).empty());
  }
  EXPECT_FALSE(verdict_from_name("nope").has_value());
}

TEST(Alerts, NamesAreRfcIdentifiers) {
  EXPECT_EQ(alert_name(116), "certificate_required");
  EXPECT_EQ(alert_name(48), "unknown_ca");
  EXPECT_EQ(alert_name(40), "handshake_failure");
  EXPECT_EQ(alert_name(70), "protocol_version");
  EXPECT_EQ(alert_name(42), "bad_certificate");
  EXPECT_EQ(alert_name(45), "certificate_expired");
  EXPECT_EQ(alert_name(255), "alert_255");
}

TEST(Alerts, Classification) {
  EXPECT_EQ(classify_alert(0), AlertClass::close);
  EXPECT_EQ(classify_alert(116), AlertClass::client_cert_missing);
  for (int c : {42, 43, 44, 45, 46, 48, 49})
    EXPECT_EQ(classify_alert(c), AlertClass::client_cert_problem) << c;
  EXPECT_EQ(classify_alert(40), AlertClass::handshake_generic);
  EXPECT_EQ(classify_alert(70), AlertClass::protocol_mismatch);
  EXPECT_EQ(classify_alert(50), AlertClass::decode_or_internal);
  EXPECT_EQ(classify_alert(200), AlertClass::other);
}

}  // namespace
}  // namespace mtls_probe
