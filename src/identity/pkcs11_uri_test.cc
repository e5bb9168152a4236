#include "mtls_probe/identity/pkcs11_uri.h"

#include <gtest/gtest.h>

#include "mtls_probe/identity/pkcs11_backend.h"
#include "mtls_probe/identity/pkcs11_token.h"

namespace mtls_probe {
namespace {

TEST(Pkcs11Uri, ParsesPathAndQueryAttributes) {
  auto u = parse_pkcs11_uri("pkcs11:token=My%20Card;object=client;id=%01%a2;type=private?module-path=/m.so");
  ASSERT_TRUE(u) << u.error();
  EXPECT_EQ(u->token, "My Card");
  EXPECT_EQ(u->object, "client");
  EXPECT_EQ(u->id, std::string("\x01\xa2", 2));
  EXPECT_EQ(u->type, "private");
  EXPECT_EQ(u->module_path, "/m.so");
  EXPECT_FALSE(u->has_pin_value);
  EXPECT_EQ(pkcs11_id_hex(*u->id), "01a2");
}

TEST(Pkcs11Uri, SchemeIsCaseInsensitiveAndEmptyPathMatchesEverything) {
  EXPECT_TRUE(is_pkcs11_uri("PKCS11:"));
  EXPECT_FALSE(is_pkcs11_uri("pkcs11"));
  EXPECT_FALSE(is_pkcs11_uri("/tmp/pkcs11:x.pem"));
  auto u = parse_pkcs11_uri("pkcs11:");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->token);
  EXPECT_TRUE(object_matches(*u, "anything", "\x01"));
}

TEST(Pkcs11Uri, RefusesMalformedAttributesWithoutQuotingAPin) {
  EXPECT_FALSE(parse_pkcs11_uri("pkcs11:token"));
  EXPECT_FALSE(parse_pkcs11_uri("pkcs11:token=a;token=b"));
  EXPECT_FALSE(parse_pkcs11_uri("pkcs11:object=%zz"));
  EXPECT_FALSE(parse_pkcs11_uri("pkcs11:object=%4"));
  EXPECT_FALSE(parse_pkcs11_uri("pkcs11:type=key"));
  EXPECT_FALSE(parse_pkcs11_uri("pkcs11:slot-id=x1"));
  EXPECT_FALSE(parse_pkcs11_uri("file:/x"));
  auto u = parse_pkcs11_uri("pkcs11:token=a?pin-value=123456");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->has_pin_value);
  EXPECT_EQ(redact_pkcs11_uri("pkcs11:token=a?pin-value=123456&module-path=/m.so"),
            "pkcs11:token=a?module-path=/m.so");
  EXPECT_EQ(redact_pkcs11_uri("pkcs11:token=a?pin-value=123456"), "pkcs11:token=a");
  auto bad = parse_pkcs11_uri("pkcs11:object=%zz?pin-value=123456");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().find("123456"), std::string::npos);
}

TEST(Pkcs11Uri, BackendUriGetsTheTypeAndLosesTheQuery) {
  EXPECT_EQ(pkcs11_uri_with_type("pkcs11:token=a;type=cert;object=k?module-path=/m.so", "private"),
            "pkcs11:token=a;object=k;type=private");
  EXPECT_EQ(pkcs11_uri_with_type("pkcs11:", "cert"), "pkcs11:type=cert");
}

TEST(Pkcs11Uri, TokenMatchingUsesEveryGivenAttribute) {
  TokenInfo t;
  t.label = "probe-rsa";
  t.serial = "abc";
  t.slot_id = 7;
  EXPECT_TRUE(token_matches(*parse_pkcs11_uri("pkcs11:token=probe-rsa"), t));
  EXPECT_TRUE(token_matches(*parse_pkcs11_uri("pkcs11:token=probe-rsa;serial=abc;slot-id=7"), t));
  EXPECT_FALSE(token_matches(*parse_pkcs11_uri("pkcs11:token=probe-rsa;serial=abd"), t));
  EXPECT_FALSE(token_matches(*parse_pkcs11_uri("pkcs11:token=probe"), t));
  EXPECT_FALSE(token_matches(*parse_pkcs11_uri("pkcs11:slot-id=8"), t));
}

TEST(Pkcs11Backend, FindsTheTokensReturnValueInOpenSslErrorText) {
  const std::string wrong_pin =
      "40C7BA585F7F0000:error:418000A0:PKCS#11 module:ERR_CKR_error:PIN incorrect:p11_slot.c:208:\n"
      "40C7BA585F7F0000:error:13000080:engine routines:ENGINE_load_private_key:failed loading private key";
  EXPECT_EQ(pkcs11_rv_in_error_text(wrong_pin), kCkrPinIncorrect);
  EXPECT_EQ(problem_for_rv(*pkcs11_rv_in_error_text(wrong_pin)), IdentityProblem::wrong_pin);
  EXPECT_EQ(pkcs11_rv_in_error_text("error:41800070:PKCS#11 module:ERR_CKR_error:Mechanism invalid:x"),
            kCkrMechanismInvalid);
  EXPECT_FALSE(pkcs11_rv_in_error_text("error:0A000086:SSL routines::certificate verify failed"));
  EXPECT_FALSE(pkcs11_rv_in_error_text(":PKCS#11 module:"));
  EXPECT_EQ(problem_for_rv(kCkrPinLocked), IdentityProblem::pin_locked);
  EXPECT_EQ(problem_for_rv(kCkrKeyFunctionNotPermitted), IdentityProblem::key_cannot_sign);
  EXPECT_EQ(problem_for_rv(kCkrMechanismInvalid), IdentityProblem::mechanism_unsupported);
  EXPECT_EQ(problem_for_rv(0x5), IdentityProblem::signing_failed);
  EXPECT_EQ(ckr_name(kCkrPinIncorrect), "CKR_PIN_INCORRECT");
  EXPECT_EQ(ckr_name(0x12345), "CKR_0x12345");
}

TEST(Pkcs11Token, MissingModuleIsToldAsSuch) {
  auto s = survey_tokens("/nonexistent/module.so", *parse_pkcs11_uri("pkcs11:"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().problem, IdentityProblem::pkcs11_module_not_found);
  auto t = survey_tokens("/etc/hostname", *parse_pkcs11_uri("pkcs11:"));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().problem, IdentityProblem::pkcs11_module_failed);
}

}  // namespace
}  // namespace mtls_probe
