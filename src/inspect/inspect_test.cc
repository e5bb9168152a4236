// `inspect`: facts and findings for identities made with the openssl CLI at test time, the printers, and the
// subcommand's option handling.
#include "mtls_probe/inspect/inspect.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/front_end.h"
#include "cli/tool_inspect.h"
#include "identity/pkcs12_craft_testutil.h"
#include "mtls_probe/report/inspect_report.h"

namespace mtls_probe::inspect {
namespace {

namespace fs = std::filesystem;

// Throw-away passwords: they must never appear in anything inspect reports, nor in this binary's output.
constexpr const char* kPassword = "Insp3ct-pw-Zq81";
constexpr const char* kWrongPassword = "wr0ng-Insp-pw";

// Lets a death-test child (the re-executed binary) reuse the parent's PKI instead of building its own.
constexpr const char* kPkiDirEnv = "MTLS_PROBE_INSPECT_TEST_PKI_DIR";

std::string mask(std::string text) {
  for (const char* secret : {kPassword, kWrongPassword}) {
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret)) {
      text.replace(pos, std::strlen(secret), "<password>");
    }
  }
  return text;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Extension sections for `openssl x509 -req -extfile`, and the minimal `openssl ca` setup: in OpenSSL 3.0's
// CLI only `openssl ca` can choose a notBefore, for expired and not-yet-valid certificates.
constexpr const char* kConfig = R"(
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:alice.example, IP:127.0.0.1
authorityKeyIdentifier = keyid

[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid

[noeku_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
authorityKeyIdentifier = keyid

[anyeku_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = anyExtendedKeyUsage
authorityKeyIdentifier = keyid

[kuenc_ext]
basicConstraints = CA:FALSE
keyUsage = critical, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid

[ca]
default_ca = test_ca

[test_ca]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
default_md = sha256
policy = any_policy
unique_subject = no
email_in_dn = no

[any_policy]
organizationName = optional
commonName = supplied
)";

// root -> int -> leaves of every kind; a second, unrelated root; SHA-1 signed intermediate and root; PKCS#12
// files in modern, legacy and SHA-1/3DES encryption; PEM files with and without chain and key.
class InspectPki {
 public:
  static const InspectPki& get() {
    static InspectPki pki;
    return pki;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  bool ok() const { return ok_; }
  const std::string& failed_step() const { return failed_step_; }

  InspectPki(const InspectPki&) = delete;
  InspectPki& operator=(const InspectPki&) = delete;

 private:
  InspectPki() {
    if (const char* inherited = std::getenv(kPkiDirEnv)) {
      dir_ = inherited;
      ok_ = true;
      return;
    }
    owner_ = true;
    char tmpl[] = "/tmp/mtls-probe-inspect-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      failed_step_ = "mkdtemp";
      return;
    }
    dir_ = tmpl;
    ok_ = build();
  }
  ~InspectPki() {
    std::error_code ec;
    if (owner_) fs::remove_all(dir_, ec);
  }

  // One openssl CLI step in the PKI directory, quietly (the commands carry -passout pass:...).
  bool run(const std::string& cmd) {
    const std::string full = "cd '" + dir_.string() + "' && (" + cmd + ") >/dev/null 2>&1";
    if (std::system(full.c_str()) == 0) return true;
    failed_step_ = mask(cmd);
    return false;
  }

  bool build() {
    const std::string pw = kPassword;
    const std::string p256 = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    write_file(dir_ / "ext.cnf", kConfig);
    write_file(dir_ / "index.txt", "");
    write_file(dir_ / "serial", "2000\n");
    fs::create_directory(dir_ / "newcerts");
    write_file(dir_ / "garbage.bin", "neither PEM nor PKCS#12\n\x01\x02");
    auto root = [&](const std::string& name, const std::string& cn, const std::string& md) {
      return run("openssl req -x509 " + p256 + " -" + md + " -keyout " + name + ".key -out " + name +
                 ".pem -days 400 -subj '/O=Corp/CN=" + cn +
                 "' -addext 'keyUsage=critical,keyCertSign,cRLSign'");
    };
    auto request = [&](const std::string& name, const std::string& keyopts) {
      return run("openssl req " + keyopts + " -keyout " + name + ".key -out " + name +
                 ".csr -subj '/O=Corp/CN=" + name + "'");
    };
    int serial = 0x100;
    auto sign = [&](const std::string& name, const std::string& ca, const std::string& ext, int days,
                    const std::string& md = "sha256") {
      return run("openssl x509 -req -" + md + " -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
                 ".key -days " + std::to_string(days) + " -set_serial " + std::to_string(++serial) +
                 " -extfile ext.cnf -extensions " + ext + " -out " + name + ".pem");
    };
    auto leaf = [&](const std::string& name, const std::string& ca, const std::string& ext, int days = 400,
                    const std::string& md = "sha256", const std::string& keyopts = "") {
      return request(name, keyopts.empty() ? p256 : keyopts) && sign(name, ca, ext, days, md) &&
             run("cat " + name + ".pem " + ca + ".pem > " + name + "-chain.pem");
    };
    auto ca_sign = [&](const std::string& name, const std::string& start, const std::string& end) {
      return request(name, p256) &&
             run("openssl ca -batch -config ext.cnf -cert int.pem -keyfile int.key -extfile ext.cnf "
                 "-extensions client_ext -startdate " +
                 start + " -enddate " + end + " -in " + name + ".csr -out " + name + ".pem") &&
             run("cat " + name + ".pem int.pem > " + name + "-chain.pem");
    };
    const std::string p12 = "openssl pkcs12 -export -passout pass:" + pw + " ";
    return root("root", "Inspect Root CA", "sha256") && root("other-root", "Other Root CA", "sha256") &&
           root("sha1root", "SHA1 Root CA", "sha1") && request("int", p256) &&
           sign("int", "root", "ca_ext", 400) && request("int-sha1", p256) &&
           sign("int-sha1", "root", "ca_ext", 400, "sha1") && leaf("alice", "int", "client_ext") &&
           leaf("soon", "int", "client_ext", 10) && leaf("serverauth", "int", "server_ext") &&
           leaf("noeku", "int", "noeku_ext") && leaf("anyeku", "int", "anyeku_ext") &&
           leaf("kuenc", "int", "kuenc_ext") &&
           leaf("weak", "int", "client_ext", 400, "sha256", "-newkey rsa:1024 -nodes") &&
           leaf("p224", "int", "client_ext", 400, "sha256",
                "-newkey ec -pkeyopt ec_paramgen_curve:P-224 -nodes") &&
           leaf("sha1leaf", "int", "client_ext", 400, "sha1") &&
           leaf("under-sha1int", "int-sha1", "client_ext") &&
           leaf("under-sha1root", "sha1root", "client_ext") &&
           ca_sign("expired", "20200101000000Z", "20200201000000Z") &&
           ca_sign("future", "20990101000000Z", "20990201000000Z") &&
           run("openssl req -x509 " + p256 +
               " -keyout self.key -out self.pem -days 400 -subj '/CN=self-client' -addext "
               "'extendedKeyUsage=clientAuth'") &&
           run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key") &&
           run("cat alice.pem int.pem alice.key > alice-combined.pem") &&
           run("cat root.pem int.pem > bundle.pem") && run("cat int.pem root.pem > int-root.pem") &&
           run("openssl x509 -in alice.pem -noout -fingerprint -sha256 > alice.fp") &&
           run(p12 + "-inkey alice.key -in alice.pem -certfile int.pem -out alice-int.p12") &&
           run(p12 + "-inkey alice.key -in alice.pem -certfile int-root.pem -out alice-full.p12") &&
           run(p12 + "-inkey alice.key -in alice.pem -out alice-only.p12") &&
           run(p12 + "-legacy -inkey alice.key -in alice.pem -certfile int.pem -out alice-legacy.p12") &&
           run(p12 +
               "-certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1 -inkey alice.key -in alice.pem "
               "-certfile int.pem -out alice-3des.p12") &&
           run(p12 + "-nokeys -in alice.pem -certfile int.pem -out alice-nokey.p12") &&
           run(p12 + "-inkey serverauth.key -in serverauth.pem -certfile int.pem -out serverauth.p12") &&
           run("cp alice-int.p12 alice-int.pem.bak");  // a PKCS#12 under a misleading name
  }

  fs::path dir_;
  bool owner_ = false;
  bool ok_ = false;
  std::string failed_step_;
};

std::string f(const std::string& name) {
  return InspectPki::get().path(name);
}

InspectOptions p12(const std::string& name, std::optional<std::string> password = kPassword,
                   const std::string& cacert = "") {
  InspectOptions o;
  o.identity.p12_file = f(name);
  o.identity.password = std::move(password);
  if (!cacert.empty()) o.cacert_file = f(cacert);
  return o;
}

InspectOptions pem(const std::string& cert, const std::string& key = "", const std::string& cacert = "") {
  InspectOptions o;
  o.identity.cert_file = f(cert);
  if (!key.empty()) o.identity.key_file = f(key);
  if (!cacert.empty()) o.cacert_file = f(cacert);
  return o;
}

std::vector<std::string> codes(const InspectResult& r) {
  std::vector<std::string> out;
  for (const auto& x : r.findings) out.push_back(x.code);
  std::sort(out.begin(), out.end());
  return out;
}

std::string describe(const InspectResult& r) {
  std::string s;
  for (const auto& x : r.findings)
    s += fmt::format("[{} {}] {}\n", severity_name(x.severity), x.code, x.message);
  if (r.facts.identity_error) s += "identity error: " + r.facts.identity_error->message + "\n";
  return mask(s);
}

const Finding* find(const InspectResult& r, const std::string& code) {
  for (const auto& x : r.findings) {
    if (x.code == code) return &x;
  }
  return nullptr;
}

class InspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InspectPki::get().ok())
        << "building the test PKI failed at: " << InspectPki::get().failed_step();
  }

  // Gathers and judges; checks that nothing reported carries a password and the error queue is left clean.
  static InspectResult inspect(const InspectOptions& o) {
    auto facts = gather_facts(o);
    if (!facts) {
      ADD_FAILURE() << "gather_facts failed: " << mask(facts.error().message);
      return {};
    }
    EXPECT_EQ(ERR_peek_error(), 0UL) << "the error queue was left non-empty";
    InspectResult r = make_result(std::move(facts.value()));
    const std::string json = report_json(r).dump();
    const std::string text = report_text(r);
    for (const char* secret : {kPassword, kWrongPassword}) {
      // EXPECT_TRUE, not EXPECT_EQ: a failure must not print the secret it found.
      EXPECT_TRUE(json.find(secret) == std::string::npos) << "the JSON report contains a password";
      EXPECT_TRUE(text.find(secret) == std::string::npos) << "the text report contains a password";
    }
    EXPECT_TRUE(json.find("PRIVATE KEY") == std::string::npos);
    return r;
  }
  static void expect_codes(const InspectOptions& o, std::vector<std::string> want) {
    InspectResult r = inspect(o);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(codes(r), want) << describe(r);
  }
};

using Codes = std::vector<std::string>;

// ------------------------------------------------------------------------------------------- PKCS#12

TEST_F(InspectTest, ModernPkcs12FactsAndNoFindings) {
  InspectResult r = inspect(p12("alice-int.p12"));
  EXPECT_EQ(codes(r), Codes{}) << describe(r);
  EXPECT_TRUE(r.usable());
  EXPECT_EQ(r.exit_code(), 0);
  const IdentityFacts& x = r.facts;
  EXPECT_EQ(x.format, Format::pkcs12);
  ASSERT_TRUE(x.pkcs12);
  EXPECT_FALSE(x.pkcs12->legacy);
  EXPECT_TRUE(x.pkcs12->pbes2_only);
  EXPECT_EQ(x.pkcs12->key_encryption, "PBES2 / AES-256-CBC, PBKDF2 HMAC-SHA256");
  EXPECT_EQ(x.pkcs12->cert_encryption, "PBES2 / AES-256-CBC, PBKDF2 HMAC-SHA256");
  EXPECT_EQ(x.pkcs12->key_iterations, 2048);
  EXPECT_EQ(x.pkcs12->mac_algorithm, "HMAC-SHA256");
  EXPECT_EQ(x.pkcs12->mac_iterations, 2048);

  ASSERT_TRUE(x.leaf);
  const CertificateFacts& c = *x.leaf;
  EXPECT_EQ(c.summary.subject, "CN=alice,O=Corp");
  EXPECT_EQ(c.summary.issuer, "CN=int,O=Corp");
  EXPECT_EQ(c.summary.serial_hex, "0103");
  EXPECT_EQ(c.summary.subject_alt_names, (Codes{"DNS:alice.example", "IP:127.0.0.1"}));
  EXPECT_GE(c.summary.days_left, 398);
  EXPECT_EQ(c.signature_algorithm, "ecdsa-with-SHA256");
  EXPECT_FALSE(c.weak_signature_digest);
  EXPECT_EQ(c.public_key.type, "EC");
  EXPECT_EQ(c.public_key.bits, 256);
  EXPECT_EQ(c.public_key.curve, "P-256");
  EXPECT_EQ(c.key_usage, Codes{"digitalSignature"});
  EXPECT_EQ(c.extended_key_usage, Codes{"clientAuth"});
  EXPECT_FALSE(c.is_ca);
  EXPECT_FALSE(c.self_signed);
  // Same as `openssl x509 -fingerprint -sha256`: "sha256 Fingerprint=AB:CD:..."
  std::string fp = read_text(f("alice.fp"));
  fp = fp.substr(fp.find('=') + 1);
  fp.erase(fp.find_last_not_of("\r\n") + 1);
  EXPECT_EQ(c.sha256_fingerprint, fp);

  ASSERT_TRUE(x.private_key);
  EXPECT_EQ(x.private_key->type, "EC");
  EXPECT_EQ(x.key_matches, true);
  ASSERT_EQ(x.chain.size(), 1U);
  EXPECT_EQ(x.chain[0].cert.summary.subject, "CN=int,O=Corp");
  EXPECT_TRUE(x.chain[0].in_path);
  EXPECT_TRUE(x.chain[0].cert.is_ca);
  EXPECT_TRUE(x.leaf_issuer_carried);
  EXPECT_FALSE(x.chain_reaches_root);
  EXPECT_EQ(x.chain_end, "CN=int,O=Corp");
  EXPECT_FALSE(x.verification);
}

TEST_F(InspectTest, LegacyPkcs12IsAWarningWithItsAlgorithms) {
  InspectResult r = inspect(p12("alice-legacy.p12"));
  EXPECT_EQ(codes(r), Codes{"legacy-pkcs12"}) << describe(r);
  EXPECT_TRUE(r.usable()) << "legacy is a compatibility warning, the identity works";
  EXPECT_EQ(find(r, "legacy-pkcs12")->severity, Severity::warning);
  ASSERT_TRUE(r.facts.pkcs12);
  const Pkcs12Facts& p = *r.facts.pkcs12;
  EXPECT_TRUE(p.legacy);
  EXPECT_FALSE(p.pbes2_only);
  EXPECT_EQ(p.cert_encryption, "pbeWithSHA1And40BitRC2-CBC");
  EXPECT_EQ(p.key_encryption, "pbeWithSHA1And3-KeyTripleDES-CBC");
  EXPECT_EQ(p.mac_algorithm, "HMAC-SHA1");
  EXPECT_GE(p.mac_iterations, 1);
  ASSERT_TRUE(r.facts.leaf);
  EXPECT_EQ(r.facts.leaf->summary.subject, "CN=alice,O=Corp");
}

TEST_F(InspectTest, TripleDesPkcs12IsNotLegacy) {
  // SHA-1/3DES is in OpenSSL 3's default provider: it loads without the legacy one.
  InspectResult r = inspect(p12("alice-3des.p12"));
  EXPECT_EQ(codes(r), Codes{}) << describe(r);
  ASSERT_TRUE(r.facts.pkcs12);
  EXPECT_FALSE(r.facts.pkcs12->legacy);
  EXPECT_FALSE(r.facts.pkcs12->pbes2_only);
  EXPECT_EQ(r.facts.pkcs12->key_encryption, "pbeWithSHA1And3-KeyTripleDES-CBC");
  EXPECT_EQ(r.facts.pkcs12->cert_encryption, "pbeWithSHA1And3-KeyTripleDES-CBC");
  EXPECT_EQ(r.facts.pkcs12->mac_algorithm, "HMAC-SHA1");
}

TEST_F(InspectTest, WrongPasswordStillShowsTheAlgorithms) {
  InspectResult r = inspect(p12("alice-legacy.p12", kWrongPassword));
  EXPECT_EQ(codes(r), (Codes{"legacy-pkcs12", "wrong-password"})) << describe(r);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_FALSE(r.facts.leaf);
  ASSERT_TRUE(r.facts.pkcs12);
  EXPECT_EQ(r.facts.pkcs12->cert_encryption, "pbeWithSHA1And40BitRC2-CBC");
  EXPECT_EQ(r.findings.front().code, "wrong-password") << "errors come first";
}

TEST_F(InspectTest, IdentityErrorsBecomeErrorFindings) {
  expect_codes(p12("does-not-exist.p12"), {"file-missing"});
  expect_codes(p12("alice-int.p12", std::nullopt), {"password-needed"});
  expect_codes(p12("garbage.bin"), {"not-recognised"});
  InspectResult r = inspect(p12("garbage.bin"));
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_FALSE(r.facts.pkcs12);
}

// A crafted 2^31-1 iteration count is refused by the loader before any KDF, and inspect opens no
// encrypted safe with such a count either: the report comes at once, the algorithms still described.
TEST_F(InspectTest, HugeIterationCountIsAnIdentityErrorWithoutRunningTheKdf) {
  using test::KdfTarget;
  for (KdfTarget target : {KdfTarget::mac, KdfTarget::encrypted_safe, KdfTarget::shrouded_key}) {
    const std::string name = "huge-iter-" + std::to_string(static_cast<int>(target)) + ".p12";
    SCOPED_TRACE(name);
    ASSERT_TRUE(test::craft_p12(f("alice-int.p12"), f(name), target, 2147483647L, kPassword));
    ERR_clear_error();
    const auto start = std::chrono::steady_clock::now();
    InspectResult r = inspect(p12(name));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2)) << "a KDF ran";
    EXPECT_EQ(codes(r), Codes{"unsupported-algorithm"}) << describe(r);
    EXPECT_EQ(r.exit_code(), 2);
    ASSERT_TRUE(r.facts.identity_error);
    EXPECT_NE(
        r.facts.identity_error->message.find("iteration count 2147483647 exceeds the limit of 10000000"),
        std::string::npos)
        << r.facts.identity_error->message;
    EXPECT_TRUE(r.facts.pkcs12);
  }
}

TEST_F(InspectTest, Pkcs12WithoutKeyShowsItsCertificates) {
  InspectResult r = inspect(p12("alice-nokey.p12"));
  EXPECT_EQ(codes(r), Codes{"no-private-key"}) << describe(r);
  EXPECT_EQ(r.exit_code(), 2);
  ASSERT_TRUE(r.facts.leaf);
  EXPECT_EQ(r.facts.leaf->summary.subject, "CN=alice,O=Corp");
  EXPECT_FALSE(r.facts.private_key);
  ASSERT_EQ(r.facts.chain.size(), 1U);
  EXPECT_TRUE(r.facts.leaf_issuer_carried);
  ASSERT_TRUE(r.facts.pkcs12);
  EXPECT_FALSE(r.facts.pkcs12->key_encryption);
}

// Runs in the death-test child: what inspecting the legacy file gave, without printing any secret.
[[noreturn]] void inspect_legacy_without_provider_and_exit() {
  ::setenv("OPENSSL_MODULES", InspectPki::get().path("no-modules-here").c_str(), 1);
  ::setenv("OPENSSL_CONF", "/dev/null", 1);  // a system config might activate legacy itself
  auto facts = gather_facts(p12("alice-legacy.p12"));
  if (!facts) std::_Exit(3);
  InspectResult r = make_result(std::move(facts.value()));
  std::string list;
  for (const auto& c : codes(r)) list += (list.empty() ? "" : ",") + c;
  std::fprintf(stderr, "codes=%s legacy=%d cert=%s\n", list.c_str(), r.facts.pkcs12 && r.facts.pkcs12->legacy,
               r.facts.pkcs12 ? r.facts.pkcs12->cert_encryption.value_or("-").c_str() : "-");
  std::_Exit(0);
}

// The legacy provider cannot be unloaded once loaded, so this runs in a fresh process (threadsafe death-test
// style re-executes the binary) whose provider search path leads nowhere: the file is still described as
// legacy, from its algorithms alone.
TEST_F(InspectTest, LegacyPkcs12WithoutLegacyProvider) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ::setenv(kPkiDirEnv, InspectPki::get().path("").c_str(), 1);
  EXPECT_EXIT(inspect_legacy_without_provider_and_exit(), ::testing::ExitedWithCode(0),
              "codes=legacy-pkcs12,legacy-unavailable legacy=1 cert=pbeWithSHA1And40BitRC2-CBC");
  ::unsetenv(kPkiDirEnv);
}

// ------------------------------------------------------------------------------------------- chain

TEST_F(InspectTest, ChainIncompleteOnlyWhenTheIssuerIsMissing) {
  expect_codes(p12("alice-only.p12"), {"chain-incomplete"});
  expect_codes(pem("alice.pem", "alice.key"), {"chain-incomplete"});
  expect_codes(pem("alice-chain.pem", "alice.key"), {});
  expect_codes(pem("alice-combined.pem"), {});
  expect_codes(p12("alice-full.p12"), {});
  InspectResult r = inspect(p12("alice-only.p12"));
  EXPECT_TRUE(r.usable()) << "the server may have the intermediate: a warning";
  EXPECT_EQ(find(r, "chain-incomplete")->severity, Severity::warning);
  EXPECT_NE(find(r, "chain-incomplete")->message.find("CN=int,O=Corp"), std::string::npos);
  EXPECT_FALSE(r.facts.leaf_issuer_carried);
}

TEST_F(InspectTest, FullChainLinksUpToTheRoot) {
  InspectResult r = inspect(p12("alice-full.p12"));
  ASSERT_EQ(r.facts.chain.size(), 2U);
  EXPECT_EQ(r.facts.chain[0].cert.summary.subject, "CN=int,O=Corp");
  EXPECT_EQ(r.facts.chain[1].cert.summary.subject, "CN=Inspect Root CA,O=Corp");
  EXPECT_TRUE(r.facts.chain[1].cert.self_signed);
  EXPECT_TRUE(r.facts.chain[1].in_path);
  EXPECT_TRUE(r.facts.chain_reaches_root);
  EXPECT_EQ(r.facts.chain_end, "CN=Inspect Root CA,O=Corp");
}

TEST_F(InspectTest, UnrelatedCarriedCertificateIsNotInThePath) {
  // alice + int + the other root: the other root does not link to anything.
  std::ofstream(f("alice-stray.pem"), std::ios::binary)
      << read_text(f("alice.pem")) << read_text(f("int.pem")) << read_text(f("other-root.pem"));
  InspectResult r = inspect(pem("alice-stray.pem", "alice.key"));
  EXPECT_EQ(codes(r), Codes{}) << describe(r);
  ASSERT_EQ(r.facts.chain.size(), 2U);
  EXPECT_TRUE(r.facts.chain[0].in_path);
  EXPECT_FALSE(r.facts.chain[1].in_path);
  EXPECT_FALSE(r.facts.chain_reaches_root);
}

TEST_F(InspectTest, SelfSignedClientCertificateIsItsOwnRoot) {
  InspectResult r = inspect(pem("self.pem", "self.key"));
  EXPECT_EQ(codes(r), Codes{}) << describe(r);
  ASSERT_TRUE(r.facts.leaf);
  EXPECT_TRUE(r.facts.leaf->self_signed);
  EXPECT_TRUE(r.facts.chain_reaches_root);
}

// ------------------------------------------------------------------------------------------- validity

TEST_F(InspectTest, ExpiredIsAnError) {
  InspectResult r = inspect(pem("expired-chain.pem", "expired.key"));
  EXPECT_EQ(codes(r), Codes{"expired"}) << describe(r);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(find(r, "expired")->message.find("2020-02-01"), std::string::npos);
  EXPECT_TRUE(r.facts.leaf->summary.expired);
  EXPECT_LT(r.facts.leaf->summary.days_left, 0);
}

TEST_F(InspectTest, NotYetValidIsAnError) {
  InspectResult r = inspect(pem("future-chain.pem", "future.key"));
  EXPECT_EQ(codes(r), Codes{"not-yet-valid"}) << describe(r);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(find(r, "not-yet-valid")->message.find("2099-01-01"), std::string::npos);
  EXPECT_GT(r.facts.leaf->days_until_valid, 0);
}

TEST_F(InspectTest, ExpiringWithin30DaysIsAWarning) {
  InspectResult r = inspect(pem("soon-chain.pem", "soon.key"));
  EXPECT_EQ(codes(r), Codes{"expiring-soon"}) << describe(r);
  EXPECT_TRUE(r.usable());
  EXPECT_EQ(find(r, "expiring-soon")->severity, Severity::warning);
}

TEST_F(InspectTest, ClockOverrideDecidesValidity) {
  InspectOptions o = pem("alice-chain.pem", "alice.key");
  // The intermediate has the same lifetime: it is checked like the leaf.
  o.now = static_cast<long long>(std::time(nullptr)) + 500LL * 86400;
  expect_codes(o, {"expired", "expired"});
  o.now = static_cast<long long>(std::time(nullptr)) + 380LL * 86400;
  expect_codes(o, {"expiring-soon", "expiring-soon"});
  o.now = static_cast<long long>(std::time(nullptr)) - 2LL * 86400;
  expect_codes(o, {"not-yet-valid", "not-yet-valid"});
}

// ------------------------------------------------------------------------------------------- purpose

TEST_F(InspectTest, ServerAuthOnlyEkuIsNoClientAuth) {
  InspectResult r = inspect(pem("serverauth-chain.pem", "serverauth.key"));
  EXPECT_EQ(codes(r), Codes{"no-client-auth-eku"}) << describe(r);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(find(r, "no-client-auth-eku")->message.find("serverAuth"), std::string::npos);
  EXPECT_EQ(r.facts.leaf->summary.has_client_auth_eku, false);
}

TEST_F(InspectTest, NoEkuOrAnyEkuIsFine) {
  expect_codes(pem("noeku-chain.pem", "noeku.key"), {});
  expect_codes(pem("anyeku-chain.pem", "anyeku.key"), {});
  InspectResult r = inspect(pem("noeku-chain.pem", "noeku.key"));
  EXPECT_FALSE(r.facts.leaf->extended_key_usage);
}

TEST_F(InspectTest, KeyUsageWithoutDigitalSignatureIsNoClientAuth) {
  InspectResult r = inspect(pem("kuenc-chain.pem", "kuenc.key"));
  EXPECT_EQ(codes(r), Codes{"no-client-auth-eku"}) << describe(r);
  EXPECT_NE(find(r, "no-client-auth-eku")->message.find("digitalSignature"), std::string::npos);
  EXPECT_EQ(r.facts.leaf->key_usage, Codes{"keyEncipherment"});
}

// ------------------------------------------------------------------------------------------- keys

TEST_F(InspectTest, KeyMismatchShowsTheCertificateAnyway) {
  InspectResult r = inspect(pem("alice-chain.pem", "other.key"));
  EXPECT_EQ(codes(r), Codes{"key-mismatch"}) << describe(r);
  EXPECT_EQ(r.exit_code(), 2);
  ASSERT_TRUE(r.facts.identity_error);
  EXPECT_EQ(r.facts.identity_error->problem, IdentityProblem::key_mismatch);
  ASSERT_TRUE(r.facts.leaf);
  EXPECT_EQ(r.facts.leaf->summary.subject, "CN=alice,O=Corp");
  ASSERT_TRUE(r.facts.private_key);
  EXPECT_EQ(r.facts.key_matches, false);
}

TEST_F(InspectTest, CertificateWithoutKeyIsNoPrivateKey) {
  InspectResult r = inspect(pem("alice-chain.pem"));
  EXPECT_EQ(codes(r), Codes{"no-private-key"}) << describe(r);
  ASSERT_TRUE(r.facts.leaf);
  EXPECT_FALSE(r.facts.private_key);
  EXPECT_FALSE(r.facts.key_matches);
  EXPECT_EQ(r.facts.chain.size(), 1U);
}

TEST_F(InspectTest, WeakKeys) {
  InspectResult rsa = inspect(pem("weak-chain.pem", "weak.key"));
  EXPECT_EQ(codes(rsa), Codes{"weak-key"}) << describe(rsa);
  EXPECT_EQ(find(rsa, "weak-key")->severity, Severity::error);
  EXPECT_EQ(rsa.facts.leaf->public_key.type, "RSA");
  EXPECT_EQ(rsa.facts.leaf->public_key.bits, 1024);
  EXPECT_FALSE(rsa.facts.leaf->public_key.curve);
  EXPECT_EQ(rsa.facts.private_key->bits, 1024);

  InspectResult ec = inspect(pem("p224-chain.pem", "p224.key"));
  EXPECT_EQ(codes(ec), Codes{"weak-key"}) << describe(ec);
  EXPECT_EQ(find(ec, "weak-key")->severity, Severity::warning);
  EXPECT_EQ(ec.facts.leaf->public_key.curve, "P-224");
  EXPECT_TRUE(ec.usable());
}

// ------------------------------------------------------------------------------------------- signatures

TEST_F(InspectTest, Sha1SignedLeafOrIntermediate) {
  InspectResult r = inspect(pem("sha1leaf-chain.pem", "sha1leaf.key"));
  EXPECT_EQ(codes(r), Codes{"sha1-signature"}) << describe(r);
  EXPECT_EQ(r.facts.leaf->signature_algorithm, "ecdsa-with-SHA1");
  EXPECT_TRUE(r.facts.leaf->weak_signature_digest);

  InspectResult i = inspect(pem("under-sha1int-chain.pem", "under-sha1int.key"));
  EXPECT_EQ(codes(i), Codes{"sha1-signature"}) << describe(i);
  EXPECT_NE(find(i, "sha1-signature")->message.find("CN=int-sha1"), std::string::npos);
}

TEST_F(InspectTest, Sha1SelfSignatureOfACarriedRootDoesNotCount) {
  InspectResult r = inspect(pem("under-sha1root-chain.pem", "under-sha1root.key"));
  EXPECT_EQ(codes(r), Codes{}) << describe(r);
  EXPECT_TRUE(r.facts.chain_reaches_root);
  ASSERT_EQ(r.facts.chain.size(), 1U);
  EXPECT_TRUE(r.facts.chain[0].cert.weak_signature_digest);
}

// ------------------------------------------------------------------------------------------- --cacert

TEST_F(InspectTest, VerifiesToTheRightCa) {
  InspectResult r = inspect(p12("alice-int.p12", kPassword, "root.pem"));
  EXPECT_EQ(codes(r), Codes{}) << describe(r);
  ASSERT_TRUE(r.facts.verification);
  EXPECT_TRUE(r.facts.verification->verified);
  EXPECT_FALSE(r.facts.verification->error);
  EXPECT_EQ(r.facts.verification->cacert, f("root.pem"));
}

TEST_F(InspectTest, OtherCaIsVerifyFailed) {
  InspectResult r = inspect(p12("alice-int.p12", kPassword, "other-root.pem"));
  EXPECT_EQ(codes(r), Codes{"verify-failed"}) << describe(r);
  EXPECT_EQ(r.exit_code(), 2);
  ASSERT_TRUE(r.facts.verification);
  EXPECT_FALSE(r.facts.verification->verified);
  EXPECT_EQ(r.facts.verification->error, "unable to get local issuer certificate");
}

TEST_F(InspectTest, MissingIntermediateVerifiesWhenTheCaFileHasIt) {
  InspectResult bare = inspect(p12("alice-only.p12", kPassword, "root.pem"));
  EXPECT_EQ(codes(bare), (Codes{"chain-incomplete", "verify-failed"})) << describe(bare);
  InspectResult bundle = inspect(p12("alice-only.p12", kPassword, "bundle.pem"));
  EXPECT_EQ(codes(bundle), Codes{"chain-incomplete"}) << describe(bundle);
  EXPECT_TRUE(bundle.facts.verification->verified);
}

TEST_F(InspectTest, VerificationChecksTheClientPurposeAndDates) {
  InspectResult purpose = inspect(p12("serverauth.p12", kPassword, "root.pem"));
  EXPECT_EQ(codes(purpose), (Codes{"no-client-auth-eku", "verify-failed"})) << describe(purpose);
  EXPECT_EQ(purpose.facts.verification->error_code, X509_V_ERR_INVALID_PURPOSE);
  InspectResult expired = inspect(pem("expired-chain.pem", "expired.key", "root.pem"));
  EXPECT_EQ(codes(expired), (Codes{"expired", "verify-failed"})) << describe(expired);
  EXPECT_EQ(expired.facts.verification->error, "certificate has expired");
}

TEST_F(InspectTest, UnusableCaFileIsAnErrorValue) {
  for (const char* ca : {"garbage.bin", "no-such-ca.pem"}) {
    SCOPED_TRACE(ca);
    auto facts = gather_facts(p12("alice-int.p12", kPassword, ca));
    ASSERT_FALSE(facts.has_value());
    EXPECT_NE(facts.error().message.find("--cacert"), std::string::npos);
    EXPECT_EQ(ERR_peek_error(), 0UL);
  }
}

// ------------------------------------------------------------------------------------------- format

TEST_F(InspectTest, DetectFormatByContentThenName) {
  EXPECT_EQ(read_identity(f("alice-int.p12")).format, Format::pkcs12);
  EXPECT_EQ(read_identity(f("alice-int.pem.bak")).format, Format::pkcs12);
  EXPECT_EQ(read_identity(f("alice-chain.pem")).format, Format::pem);
  EXPECT_EQ(read_identity(f("missing.pfx")).format, Format::pkcs12);
  EXPECT_EQ(read_identity(f("missing.crt")).format, Format::pem);
  EXPECT_EQ(read_identity(f("garbage.bin")).format, Format::pem);
  // A kind named by an option wins over the content.
  EXPECT_EQ(read_identity(f("alice-int.p12"), Format::pem).format, Format::pem);
}

// The file is read once and, for PKCS#12, parsed once: what the loader and the container description use.
TEST_F(InspectTest, ReadIdentityKeepsTheBytesAndTheParsedFile) {
  IdentityFile p12 = read_identity(f("alice-int.p12"));
  EXPECT_FALSE(p12.error);
  EXPECT_FALSE(p12.bytes.empty());
  EXPECT_TRUE(p12.pkcs12);
  IdentityFile pem = read_identity(f("alice-chain.pem"));
  EXPECT_FALSE(pem.error);
  EXPECT_FALSE(pem.pkcs12);
  IdentityFile missing = read_identity(f("missing.pfx"));
  ASSERT_TRUE(missing.error);
  EXPECT_EQ(missing.error->problem, IdentityProblem::file_missing);
  IdentityFile garbage = read_identity(f("garbage.bin"), Format::pkcs12);
  ASSERT_TRUE(garbage.error);
  EXPECT_EQ(garbage.error->problem, IdentityProblem::not_recognised);
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

// A FIFO can be read only once: inspecting `<(cat id.p12)` works only because the file is read once.
TEST_F(InspectTest, IdentityFromAFifoIsReadOnce) {
  const std::string fifo = f("identity.fifo");
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << read_text(f("alice-int.p12")); });
  InspectResult r = inspect([&] {
    InspectOptions o = p12("alice-int.p12");
    o.identity.p12_file = fifo;
    return o;
  }());
  writer.join();
  EXPECT_EQ(codes(r), Codes{}) << describe(r);
  EXPECT_TRUE(r.facts.pkcs12);
  ::unlink(fifo.c_str());
}

// ------------------------------------------------------------------------------------------- pure rules

IdentityFacts clean_facts() {
  IdentityFacts x;
  x.file = "id.p12";
  x.format = Format::pkcs12;
  CertificateFacts c;
  c.summary.subject = "CN=alice";
  c.summary.issuer = "CN=int";
  c.summary.days_left = 200;
  c.public_key = KeyFacts{"EC", 256, "P-256"};
  c.signature_algorithm = "ecdsa-with-SHA256";
  c.signature_digest = "SHA256";
  x.leaf = c;
  x.private_key = KeyFacts{"EC", 256, "P-256"};
  x.key_matches = true;
  x.leaf_issuer_carried = true;
  return x;
}

Codes rule_codes(const IdentityFacts& x) {
  return codes(make_result(x));
}

TEST(InspectFindings, CleanFactsHaveNoFindings) {
  EXPECT_EQ(rule_codes(clean_facts()), Codes{});
}

TEST(InspectFindings, ExpiringSoonBoundary) {
  IdentityFacts x = clean_facts();
  x.leaf->summary.days_left = kExpiringSoonDays;
  EXPECT_EQ(rule_codes(x), Codes{});
  x.leaf->summary.days_left = kExpiringSoonDays - 1;
  EXPECT_EQ(rule_codes(x), Codes{"expiring-soon"});
  x.leaf->summary.days_left = 0;
  EXPECT_EQ(rule_codes(x), Codes{"expiring-soon"});
  x.leaf->summary.expired = true;
  x.leaf->summary.days_left = -1;
  EXPECT_EQ(rule_codes(x), Codes{"expired"});
}

TEST(InspectFindings, KeyRules) {
  IdentityFacts x = clean_facts();
  x.key_matches = false;
  EXPECT_EQ(rule_codes(x), Codes{"key-mismatch"});
  x = clean_facts();
  x.private_key.reset();
  x.key_matches.reset();
  EXPECT_EQ(rule_codes(x), Codes{"no-private-key"});
  // The loader's own problem is not reported twice.
  x.identity_error = IdentityFailure{IdentityProblem::no_private_key, "no key in id.p12", ""};
  EXPECT_EQ(rule_codes(x), Codes{"no-private-key"});
  x = clean_facts();
  x.leaf->public_key = KeyFacts{"RSA", 2048, std::nullopt};
  EXPECT_EQ(rule_codes(x), Codes{});
  x.leaf->public_key.bits = 2047;
  EXPECT_EQ(rule_codes(x), Codes{"weak-key"});
  x.leaf->public_key = KeyFacts{"Ed25519", 253, std::nullopt};  // 253 bits is not a weak curve
  EXPECT_EQ(rule_codes(x), Codes{});
}

TEST(InspectFindings, ChainRules) {
  IdentityFacts x = clean_facts();
  x.leaf_issuer_carried = false;
  EXPECT_EQ(rule_codes(x), Codes{"chain-incomplete"});
  x.leaf->self_signed = true;
  EXPECT_EQ(rule_codes(x), Codes{});
  // Chain certificates on the path are checked like the leaf; strays are not.
  x = clean_facts();
  ChainEntry e{CertificateFacts{}, true};
  e.cert.summary.subject = "CN=int";
  e.cert.summary.days_left = 5;
  e.cert.public_key = KeyFacts{"EC", 256, "P-256"};
  x.chain.push_back(e);
  EXPECT_EQ(rule_codes(x), Codes{"expiring-soon"});
  x.chain[0].in_path = false;
  EXPECT_EQ(rule_codes(x), Codes{});
}

TEST(InspectFindings, ErrorsComeFirst) {
  IdentityFacts x = clean_facts();
  x.leaf_issuer_carried = false;
  x.key_matches = false;
  InspectResult r = make_result(x);
  ASSERT_EQ(r.findings.size(), 2U);
  EXPECT_EQ(r.findings[0].code, "key-mismatch");
  EXPECT_EQ(r.findings[1].code, "chain-incomplete");
  for (const Finding& fi : r.findings) EXPECT_FALSE(fi.hint.empty()) << fi.code;
}

// ------------------------------------------------------------------------------------------- printers

TEST(InspectReport, JsonShape) {
  IdentityFacts x = clean_facts();
  x.pkcs12 = Pkcs12Facts{};
  x.pkcs12->key_encryption = "PBES2 / AES-256-CBC, PBKDF2 HMAC-SHA256";
  x.pkcs12->mac_algorithm = "HMAC-SHA256";
  x.pkcs12->mac_iterations = 2048;
  x.leaf->summary.subject = "CN=J\xfcrgen";  // Latin-1, not UTF-8: must still give valid JSON
  InspectResult r = make_result(x);
  nlohmann::json j = report_json(r);
  EXPECT_EQ(j["verdict"], "ok");
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_EQ(j["file"], "id.p12");
  EXPECT_EQ(j["format"], "pkcs12");
  EXPECT_EQ(j["pkcs12"]["legacy"], false);
  EXPECT_EQ(j["pkcs12"]["key_encryption"], "PBES2 / AES-256-CBC, PBKDF2 HMAC-SHA256");
  EXPECT_TRUE(j["pkcs12"]["cert_encryption"].is_null());
  EXPECT_EQ(j["pkcs12"]["mac_algorithm"], "HMAC-SHA256");
  EXPECT_EQ(j["pkcs12"]["mac_iterations"], 2048);
  for (const char* k :
       {"subject", "issuer", "serial", "not_before", "not_after", "days_left", "subject_alt_names",
        "signature_algorithm", "public_key", "key_usage", "extended_key_usage", "sha256_fingerprint"}) {
    EXPECT_TRUE(j["certificate"].contains(k)) << k;
  }
  EXPECT_EQ(j["certificate"]["subject"], "CN=J\xef\xbf\xbdrgen");
  EXPECT_TRUE(j["chain"].is_array());
  EXPECT_EQ(j["key"]["type"], "EC");
  EXPECT_EQ(j["key"]["bits"], 256);
  EXPECT_EQ(j["key"]["curve"], "P-256");
  EXPECT_EQ(j["key"]["matches_certificate"], true);
  EXPECT_TRUE(j["verification"].is_null());
  EXPECT_TRUE(j["findings"].is_array());
  EXPECT_NO_THROW((void)j.dump());

  x.key_matches = false;
  j = report_json(make_result(x));
  EXPECT_EQ(j["verdict"], "identity-error");
  EXPECT_EQ(j["exit_code"], 2);
  ASSERT_EQ(j["findings"].size(), 1U);
  EXPECT_EQ(j["findings"][0]["severity"], "error");
  EXPECT_EQ(j["findings"][0]["code"], "key-mismatch");
  EXPECT_TRUE(j["findings"][0]["hint"].is_string());
}

TEST(InspectReport, UsageErrorJson) {
  nlohmann::json j = usage_error_json("no identity file given", "");
  EXPECT_EQ(j["verdict"], "usage-error");
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_TRUE(j["file"].is_null());
  EXPECT_TRUE(j["certificate"].is_null());
  EXPECT_TRUE(j["findings"].empty());
}

TEST(InspectReport, TextVerdictLineAndFindings) {
  IdentityFacts x = clean_facts();
  std::string ok = report_text(make_result(x));
  EXPECT_EQ(ok.substr(0, ok.find('\n')), "✓ usable for client authentication (exit 0)  id.p12");
  x.leaf_issuer_carried = false;
  x.leaf->summary.subject = "CN=evil\x1b[2J";
  x.key_matches = false;
  std::string bad = report_text(make_result(x));
  EXPECT_EQ(bad.substr(0, bad.find('\n')), "✗ identity-error (exit 2)  id.p12");
  EXPECT_NE(bad.find("error: [key-mismatch]"), std::string::npos) << bad;
  EXPECT_NE(bad.find("warning: [chain-incomplete]"), std::string::npos) << bad;
  EXPECT_NE(bad.find("hint: "), std::string::npos) << bad;
  EXPECT_EQ(bad.find('\x1b'), std::string::npos) << "terminal escapes from a certificate must be escaped";
  std::string colored = report_text(make_result(x), TextStyle{true});
  EXPECT_NE(colored.find("\x1b[31m"), std::string::npos);
}

}  // namespace
}  // namespace mtls_probe::inspect

// ------------------------------------------------------------------------------------------- the subcommand

namespace mtls_probe::tool {
namespace {

using inspect::InspectPki;

class InspectCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InspectPki::get().ok()) << InspectPki::get().failed_step(); }
  static std::string f(const std::string& name) { return InspectPki::get().path(name); }

  struct Run {
    int code = -1;
    std::string out, err;
  };
  static Run run(RawInspectArgs raw) {
    InspectCommand cmd = make_inspect_command(raw);
    std::ostringstream out, err;
    auto log = make_stream_logger(err, 0);
    Run r;
    r.code = execute_inspect(cmd, out, err, *log, false);
    r.out = out.str();
    r.err = err.str();
    EXPECT_FALSE(cmd.options.identity.password && !cmd.options.identity.password->empty() &&
                 cmd.options.identity.password->find_first_not_of('\0') != std::string::npos)
        << "the password was not wiped";
    for (const char* secret : {inspect::kPassword, inspect::kWrongPassword}) {
      EXPECT_TRUE(r.out.find(secret) == std::string::npos) << "stdout contains a password";
      EXPECT_TRUE(r.err.find(secret) == std::string::npos) << "stderr contains a password";
    }
    return r;
  }
  static nlohmann::json one_json(const Run& r) {
    // Exactly one JSON object: parsing the whole text fails on anything after it.
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << inspect::mask(r.out);
    return j;
  }
};

TEST_F(InspectCommandTest, UsageErrors) {
  auto usage = [](const RawInspectArgs& raw) { return make_inspect_command(raw).usage_error.has_value(); };
  RawInspectArgs none;
  EXPECT_TRUE(usage(none));
  RawInspectArgs two;
  two.file = f("alice-int.p12");
  two.p12 = f("alice-int.p12");
  EXPECT_TRUE(usage(two));
  RawInspectArgs key_for_p12;
  key_for_p12.p12 = f("alice-int.p12");
  key_for_p12.key = f("alice.key");
  EXPECT_TRUE(usage(key_for_p12));
  RawInspectArgs bad_type;
  bad_type.file = f("alice-int.p12");
  bad_type.cert_type = "DER";
  EXPECT_TRUE(usage(bad_type));
  RawInspectArgs two_passwords;
  two_passwords.file = f("alice-int.p12");
  two_passwords.pass = inspect::kPassword;
  two_passwords.p12_password_env = "MTLS_PROBE_INSPECT_TEST_PW";
  EXPECT_TRUE(usage(two_passwords));

  RawInspectArgs json_usage;
  json_usage.json = true;
  Run r = run(json_usage);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(one_json(r)["verdict"], "usage-error");
  RawInspectArgs text_usage;
  r = run(text_usage);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("no identity file"), std::string::npos);
}

TEST_F(InspectCommandTest, FormatFromOptionOrContent) {
  RawInspectArgs raw;
  raw.file = f("alice-int.pem.bak");
  EXPECT_EQ(make_inspect_command(raw).format, std::nullopt) << "detected when the file is read";
  raw.cert_type = "pem";
  EXPECT_EQ(make_inspect_command(raw).format, inspect::Format::pem);
  raw.cert_type = "P12";
  EXPECT_EQ(make_inspect_command(raw).format, inspect::Format::pkcs12);
  RawInspectArgs cert;
  cert.cert = f("alice-chain.pem");
  cert.key = f("alice.key");
  InspectCommand c = make_inspect_command(cert);
  EXPECT_FALSE(c.usage_error);
  EXPECT_EQ(c.file, f("alice-chain.pem"));
  EXPECT_EQ(c.options.identity.key_file, f("alice.key"));

  // A PKCS#12 under a PEM name is found by its content, and then --key contradicts it.
  ::setenv("MTLS_PROBE_INSPECT_TEST_PW", inspect::kPassword, 1);
  RawInspectArgs disguised;
  disguised.file = f("alice-int.pem.bak");
  disguised.p12_password_env = "MTLS_PROBE_INSPECT_TEST_PW";
  disguised.json = true;
  Run r = run(disguised);
  EXPECT_EQ(r.code, 0) << inspect::mask(r.out);
  EXPECT_EQ(one_json(r)["format"], "pkcs12");
  disguised.key = f("alice.key");
  r = run(disguised);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(one_json(r)["error"].get<std::string>().find("--key goes with a PEM certificate"),
            std::string::npos);
  ::unsetenv("MTLS_PROBE_INSPECT_TEST_PW");
}

TEST_F(InspectCommandTest, PasswordSourcesAndWarnings) {
  ::setenv("MTLS_PROBE_INSPECT_TEST_PW", inspect::kPassword, 1);
  RawInspectArgs env;
  env.file = f("alice-int.p12");
  env.p12_password_env = "MTLS_PROBE_INSPECT_TEST_PW";
  env.json = true;
  Run r = run(env);
  EXPECT_EQ(r.code, 0) << inspect::mask(r.out);
  nlohmann::json j = one_json(r);
  EXPECT_EQ(j["verdict"], "ok");
  EXPECT_EQ(j["format"], "pkcs12");
  EXPECT_TRUE(j["warnings"].empty());
  EXPECT_TRUE(r.err.empty()) << inspect::mask(r.err);
  ::unsetenv("MTLS_PROBE_INSPECT_TEST_PW");

  RawInspectArgs pass;
  pass.file = f("alice-int.p12");
  pass.pass = inspect::kPassword;
  r = run(pass);
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.err.find("process list"), std::string::npos);
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "✓ usable for client authentication (exit 0)  " + pass.file);

  RawInspectArgs cert_pw;
  cert_pw.cert = f("alice-int.p12") + ":" + inspect::kPassword;
  cert_pw.json = true;
  r = run(cert_pw);
  EXPECT_EQ(r.code, 0) << inspect::mask(r.out);
  EXPECT_EQ(one_json(r)["warnings"].size(), 1U);
  EXPECT_NE(r.err.find("process list"), std::string::npos);

  RawInspectArgs unset;
  unset.file = f("alice-int.p12");
  unset.p12_password_env = "MTLS_PROBE_INSPECT_NOT_SET";
  unset.json = true;
  r = run(unset);
  EXPECT_EQ(r.code, 2);
  j = one_json(r);
  EXPECT_EQ(j["verdict"], "identity-error");
  EXPECT_EQ(j["findings"][0]["code"], "password-source");

  RawInspectArgs wrong;
  wrong.file = f("alice-int.p12");
  wrong.pass = inspect::kWrongPassword;
  wrong.json = true;
  r = run(wrong);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(one_json(r)["identity_error"]["problem"], "wrong-password");
}

TEST_F(InspectCommandTest, CacertProblemsAreUsageErrors) {
  RawInspectArgs raw;
  raw.file = f("alice-chain.pem");
  raw.key = f("alice.key");
  raw.cacert = f("no-such-ca.pem");
  raw.json = true;
  Run r = run(raw);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(one_json(r)["verdict"], "usage-error");
  raw.cacert = f("root.pem");
  r = run(raw);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(one_json(r)["verification"]["verified"], true);
}

}  // namespace
}  // namespace mtls_probe::tool
