// The revocation options of the probe and `inspect`: what goes with --check-revocation, and its bounds.
#include "revocation_options.h"

#include <gtest/gtest.h>

namespace mtls_probe::tool {
namespace {

TEST(RevocationOptions, NotAskedIsNothing) {
  auto o = make_revocation_options(RawRevocationArgs{});
  ASSERT_TRUE(o);
  EXPECT_FALSE(*o);
}

TEST(RevocationOptions, TheOthersGoWithCheckRevocation) {
  for (RawRevocationArgs raw : {RawRevocationArgs{false, {"a.crl"}, "", std::nullopt},
                                RawRevocationArgs{false, {}, "http://127.0.0.1/", std::nullopt},
                                RawRevocationArgs{false, {}, "", 3.0}}) {
    auto o = make_revocation_options(raw);
    ASSERT_FALSE(o);
    EXPECT_NE(o.error().find("go with --check-revocation"), std::string::npos);
  }
}

TEST(RevocationOptions, DefaultsAndValues) {
  auto o = make_revocation_options(RawRevocationArgs{true, {}, "", std::nullopt});
  ASSERT_TRUE(o && *o);
  EXPECT_EQ((*o)->timeout, std::chrono::milliseconds(10000));
  EXPECT_FALSE((*o)->ocsp_url);
  o = make_revocation_options(RawRevocationArgs{true, {"a.crl", "b.crl"}, "http://127.0.0.1:8888/", 2.5});
  ASSERT_TRUE(o && *o);
  EXPECT_EQ((*o)->timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ((*o)->ocsp_url, std::optional<std::string>("http://127.0.0.1:8888/"));
  EXPECT_EQ((*o)->crl_files, (std::vector<std::string>{"a.crl", "b.crl"}));
}

TEST(RevocationOptions, BadValuesAreUsageErrors) {
  EXPECT_FALSE(make_revocation_options(RawRevocationArgs{true, {}, "https://ocsp.example/", std::nullopt}));
  EXPECT_FALSE(make_revocation_options(RawRevocationArgs{true, {}, "", 0.0}));
  EXPECT_FALSE(make_revocation_options(RawRevocationArgs{true, {}, "", 601.0}));
}

}  // namespace
}  // namespace mtls_probe::tool
