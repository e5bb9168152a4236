// Client identity loading, against a throw-away PKI made with the openssl CLI at test time.
#include "mtls_probe/identity/identity.h"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/identity/secret_file.h"
#include "identity/pkcs12_craft_testutil.h"

namespace mtls_probe {
namespace {

using test::craft_p12;
using test::KdfTarget;

namespace fs = std::filesystem;

// Throw-away passwords. They must never appear in what the loader reports, nor in this binary's output.
constexpr const char* kPassword = "Tr0ub4dor-x9Q";
constexpr const char* kWrongPassword = "not-the-Pw-7";

// Lets a death-test child (re-executed binary) reuse the parent's PKI instead of building its own.
constexpr const char* kPkiDirEnv = "MTLS_PROBE_TEST_PKI_DIR";

std::string mask(std::string text) {
  for (const char* secret : {kPassword, kWrongPassword}) {
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret)) {
      text.replace(pos, std::strlen(secret), "<password>");
    }
  }
  return text;
}

std::string describe(const IdentityFailure& f) {
  return mask(std::string(identity_problem_name(f.problem)) + ": " + f.message + " [" + f.openssl_detail +
              "]");
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Ext sections for `openssl x509 -req -extfile` and the minimal `openssl ca` setup (the only way in
// OpenSSL 3.0's CLI to choose a notBefore, for expired and not-yet-valid certificates).
constexpr const char* kExtConfig = R"(
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:alice.example, IP:127.0.0.1, IP:::1, email:alice@example.com, URI:spiffe://corp/alice
authorityKeyIdentifier = keyid

[server_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:server.example

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

// The PKI: root -> intermediate -> alice (clientAuth, SANs), root -> server-only, short-lived, expired,
// not-yet-valid certificates; PKCS#12 files in modern and legacy encryption; PEM variants.
class TestPki {
 public:
  static const TestPki& get() {
    static TestPki pki;
    return pki;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  bool ok() const { return ok_; }
  const std::string& failed_step() const { return failed_step_; }

  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

 private:
  TestPki() {
    if (const char* inherited = std::getenv(kPkiDirEnv)) {
      dir_ = inherited;
      ok_ = true;
      return;
    }
    char tmpl[] = "/tmp/mtls-probe-identity-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      failed_step_ = "mkdtemp";
      return;
    }
    dir_ = tmpl;
    owner_ = true;
    ok_ = build();
  }
  ~TestPki() {
    std::error_code ec;
    if (owner_) fs::remove_all(dir_, ec);
  }

  // Runs one openssl CLI step in the PKI directory, quietly: the commands carry -passout pass:...
  bool run(const std::string& cmd) {
    std::string full = "cd '" + dir_.string() + "' && (" + cmd + ") >/dev/null 2>&1";
    if (std::system(full.c_str()) == 0) return true;
    failed_step_ = mask(cmd);
    return false;
  }

  bool build() {
    const std::string pw = kPassword;
    const std::string ec_key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    write_file(dir_ / "ext.cnf", kExtConfig);
    write_file(dir_ / "index.txt", "");
    write_file(dir_ / "serial", "1000\n");
    fs::create_directory(dir_ / "newcerts");
    fs::create_directory(dir_ / "a-directory");
    write_file(dir_ / "empty.bin", "");
    write_file(dir_ / "garbage.bin", "this is not a certificate, key or PKCS#12 file\n\x01\x02\x03");
    // A leaf request for each certificate signed below.
    auto request = [&](const std::string& name, const std::string& subject) {
      return run("openssl req " + ec_key + " -keyout " + name + ".key -out " + name + ".csr -subj '" +
                 subject + "'");
    };
    auto sign = [&](const std::string& name, const std::string& ca, const std::string& ext, int days,
                    const std::string& serial) {
      return run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca + ".key -days " +
                 std::to_string(days) + " -set_serial " + serial + " -extfile ext.cnf -extensions " + ext +
                 " -out " + name + ".pem");
    };
    auto ca_sign = [&](const std::string& name, const std::string& start, const std::string& end) {
      return run(
          "openssl ca -batch -config ext.cnf -cert root.pem -keyfile root.key -extfile ext.cnf "
          "-extensions client_ext -startdate " +
          start + " -enddate " + end + " -in " + name + ".csr -out " + name + ".pem");
    };
    const std::string p12 = "openssl pkcs12 -export ";
    return run("openssl req -x509 " + ec_key +
               " -keyout root.key -out root.pem -days 30 -subj '/O=Corp/CN=Test Root CA' -addext "
               "'keyUsage=critical,keyCertSign,cRLSign'") &&
           request("int", "/O=Corp/CN=Test Intermediate CA") && sign("int", "root", "ca_ext", 30, "0x10") &&
           request("alice", "/O=Corp/CN=alice") && sign("alice", "int", "client_ext", 30, "0x1234ABCD") &&
           request("server", "/CN=server.example") && sign("server", "root", "server_ext", 30, "0x11") &&
           request("short", "/CN=short-lived") && sign("short", "root", "client_ext", 1, "0x12") &&
           request("expired", "/CN=expired") && ca_sign("expired", "20200101000000Z", "20200201000000Z") &&
           request("future", "/CN=future") && ca_sign("future", "20990101000000Z", "20990201000000Z") &&
           run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key") &&
           // Chain given root first on purpose: the loader must put the leaf's issuer first.
           run("cat root.pem int.pem > chain-reversed.pem") &&
           run("cat alice.pem int.pem root.pem alice.key > alice-combined.pem") &&
           run("cat int.pem root.pem > not-a-leaf-first.pem") &&
           run("openssl pkey -in alice.key -aes256 -passout pass:" + pw + " -out alice-enc.key") &&
           run("openssl ec -in alice.key -aes256 -passout pass:" + pw + " -out alice-enc-traditional.key") &&
           // DES-CBC lives in the legacy provider: such keys come from old tools.
           run("openssl ec -provider legacy -provider default -in alice.key -des -passout pass:" + pw +
               " -out alice-enc-des.key") &&
           run(p12 + "-inkey alice.key -in alice.pem -passout pass:" + pw + " -out modern.p12") &&
           run(p12 + "-legacy -inkey alice.key -in alice.pem -passout pass:" + pw + " -out legacy.p12") &&
           run(p12 + "-inkey alice.key -in alice.pem -certfile chain-reversed.pem -passout pass:" + pw +
               " -out chain.p12") &&
           run(p12 + "-legacy -inkey alice.key -in alice.pem -certfile chain-reversed.pem -passout pass:" +
               pw + " -out legacy-chain.p12") &&
           run(p12 + "-nokeys -in alice.pem -passout pass:" + pw + " -out nokey.p12") &&
           run(p12 + "-nocerts -inkey alice.key -passout pass:" + pw + " -out nocert.p12") &&
           run(p12 + "-inkey alice.key -in alice.pem -passout pass: -out nopass.p12") &&
           run(p12 + "-nomac -inkey alice.key -in alice.pem -passout pass:" + pw + " -out nomac.p12");
  }

  fs::path dir_;
  bool owner_ = false;
  bool ok_ = false;
  std::string failed_step_;
};

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(TestPki::get().ok()) << "building the test PKI failed at: " << TestPki::get().failed_step();
  }
  static std::string f(const std::string& name) { return TestPki::get().path(name); }

  static IdentityOptions p12(const std::string& name, std::optional<std::string> password = kPassword) {
    IdentityOptions o;
    o.p12_file = f(name);
    o.password = std::move(password);
    return o;
  }
  static IdentityOptions pem(const std::string& cert, const std::string& key,
                             std::optional<std::string> password = std::nullopt) {
    IdentityOptions o;
    o.cert_file = f(cert);
    o.key_file = key.empty() ? "" : f(key);
    o.password = std::move(password);
    return o;
  }

  // Loads, expecting failure with `problem`; checks the report names the file, carries no secret, and
  // leaves no stale entries on the thread's error queue.
  static void expect_failure(const IdentityOptions& opts, IdentityProblem problem, const std::string& file) {
    auto r = load_client_identity(opts);
    ASSERT_FALSE(r.has_value()) << "loaded, expected " << identity_problem_name(problem);
    EXPECT_EQ(identity_problem_name(r.error().problem), std::string(identity_problem_name(problem)))
        << describe(r.error());
    EXPECT_NE(r.error().message.find(f(file)), std::string::npos) << describe(r.error());
    expect_no_secret(r.error());
    EXPECT_EQ(ERR_peek_error(), 0UL) << "the error queue was left non-empty";
  }
  static void expect_no_secret(const IdentityFailure& e) {
    for (const char* secret : {kPassword, kWrongPassword}) {
      // EXPECT_TRUE, not EXPECT_EQ: a failure must not print the secret it found.
      EXPECT_TRUE(e.message.find(secret) == std::string::npos) << "message contains a password";
      EXPECT_TRUE(e.openssl_detail.find(secret) == std::string::npos) << "openssl_detail contains a password";
    }
  }
  static ClientIdentity expect_load(const IdentityOptions& opts) {
    auto r = load_client_identity(opts);
    if (!r.has_value()) {
      ADD_FAILURE() << describe(r.error());
      return {};
    }
    EXPECT_EQ(ERR_peek_error(), 0UL) << "the error queue was left non-empty";
    return std::move(r).value();
  }
  static std::string subject(X509* x) { return name_to_string(X509_get_subject_name(x)); }
};

// ------------------------------------------------------------------------------------------- PKCS#12

TEST_F(IdentityTest, ModernP12Loads) {
  ClientIdentity id = expect_load(p12("modern.p12"));
  ASSERT_TRUE(id.key && id.leaf);
  EXPECT_EQ(subject(id.leaf.get()), "CN=alice,O=Corp");
  EXPECT_TRUE(id.chain.empty());
  EXPECT_FALSE(id.legacy_pkcs12);
}

TEST_F(IdentityTest, LegacyP12LoadsWithRightPasswordAndSaysSo) {
  ClientIdentity id = expect_load(p12("legacy.p12"));
  ASSERT_TRUE(id.key && id.leaf);
  EXPECT_EQ(subject(id.leaf.get()), "CN=alice,O=Corp");
  EXPECT_TRUE(id.legacy_pkcs12);
  // Once the legacy provider is loaded, a second load still reports the file as legacy.
  ClientIdentity again = expect_load(p12("legacy.p12"));
  EXPECT_TRUE(again.legacy_pkcs12);
  // and a modern file is still not legacy.
  EXPECT_FALSE(expect_load(p12("modern.p12")).legacy_pkcs12);
}

TEST_F(IdentityTest, WrongPasswordIsWrongPasswordForModernAndLegacy) {
  for (const char* file : {"modern.p12", "legacy.p12", "legacy-chain.p12"}) {
    SCOPED_TRACE(file);
    expect_failure(p12(file, kWrongPassword), IdentityProblem::wrong_password, file);
    auto r = load_client_identity(p12(file, kWrongPassword));
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("MAC did not verify"), std::string::npos) << describe(r.error());
  }
}

TEST_F(IdentityTest, NoPasswordForProtectedP12IsPasswordNeeded) {
  expect_failure(p12("modern.p12", std::nullopt), IdentityProblem::password_needed, "modern.p12");
  expect_failure(p12("legacy.p12", std::nullopt), IdentityProblem::password_needed, "legacy.p12");
  // An explicitly empty password is a (wrong) password, not a missing one.
  expect_failure(p12("modern.p12", ""), IdentityProblem::wrong_password, "modern.p12");
}

TEST_F(IdentityTest, P12WithoutPasswordLoadsWithNoneOrEmpty) {
  EXPECT_TRUE(expect_load(p12("nopass.p12", std::nullopt)).leaf);
  EXPECT_TRUE(expect_load(p12("nopass.p12", "")).leaf);
  auto r = load_client_identity(p12("nopass.p12", kWrongPassword));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().problem, IdentityProblem::wrong_password) << describe(r.error());
  EXPECT_NE(r.error().message.find("has no password"), std::string::npos) << describe(r.error());
}

TEST_F(IdentityTest, P12WithoutMacDecryptsOrReportsWrongPassword) {
  EXPECT_TRUE(expect_load(p12("nomac.p12")).leaf);
  expect_failure(p12("nomac.p12", kWrongPassword), IdentityProblem::wrong_password, "nomac.p12");
}

TEST_F(IdentityTest, P12ChainIsOrderedIssuerFirst) {
  for (const char* file : {"chain.p12", "legacy-chain.p12"}) {
    SCOPED_TRACE(file);
    ClientIdentity id = expect_load(p12(file));
    ASSERT_TRUE(id.leaf);
    ASSERT_EQ(id.chain.size(), 2U);
    EXPECT_EQ(subject(id.chain[0].get()), "CN=Test Intermediate CA,O=Corp");
    EXPECT_EQ(subject(id.chain[1].get()), "CN=Test Root CA,O=Corp");
  }
}

TEST_F(IdentityTest, P12WithoutKeyOrCertificate) {
  expect_failure(p12("nokey.p12"), IdentityProblem::no_private_key, "nokey.p12");
  expect_failure(p12("nocert.p12"), IdentityProblem::no_certificate, "nocert.p12");
}

TEST_F(IdentityTest, P12FileProblems) {
  expect_failure(p12("does-not-exist.p12"), IdentityProblem::file_missing, "does-not-exist.p12");
  expect_failure(p12("no-such-dir/x.p12"), IdentityProblem::file_missing, "no-such-dir/x.p12");
  expect_failure(p12("a-directory"), IdentityProblem::file_unreadable, "a-directory");
  expect_failure(p12("garbage.bin"), IdentityProblem::not_recognised, "garbage.bin");
  expect_failure(p12("empty.bin"), IdentityProblem::not_recognised, "empty.bin");
}

TEST_F(IdentityTest, PemGivenAsP12SaysSo) {
  expect_failure(p12("alice-combined.pem"), IdentityProblem::not_recognised, "alice-combined.pem");
  auto r = load_client_identity(p12("alice-combined.pem"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("looks like PEM; use --cert/--key"), std::string::npos)
      << describe(r.error());
}

// ------------------------------------------------------------------------------ PKCS#12 KDF bounds
// Crafted files: a real file's iteration counts rewritten in place, so the test never runs a long KDF.

TEST_F(IdentityTest, P12IterationCountsAboveTheLimitFailAtOnce) {
  struct Case {
    const char* from;
    KdfTarget target;
    const char* what;
  };
  const Case cases[] = {
      {"modern.p12", KdfTarget::mac, "PKCS#12 MAC iteration count 2147483647 exceeds the limit of 10000000"},
      {"modern.p12", KdfTarget::encrypted_safe,
       "PKCS#12 encrypted safe PBKDF2 iteration count 2147483647 exceeds the limit of 10000000"},
      {"modern.p12", KdfTarget::shrouded_key,
       "PKCS#12 shrouded private key PBKDF2 iteration count 2147483647 exceeds the limit of 10000000"},
      {"legacy.p12", KdfTarget::encrypted_safe,
       "PKCS#12 encrypted safe iteration count 2147483647 exceeds the limit of 10000000"},
      {"legacy.p12", KdfTarget::shrouded_key,
       "PKCS#12 shrouded private key iteration count 2147483647 exceeds the limit of 10000000"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string name = "huge-iter-" + std::to_string(n++) + ".p12";
    SCOPED_TRACE(name + " " + c.what);
    ASSERT_TRUE(craft_p12(f(c.from), f(name), c.target, 2147483647L, kPassword));
    ERR_clear_error();
    for (const std::optional<std::string>& pw :
         {std::optional<std::string>(kPassword), std::optional<std::string>(kWrongPassword)}) {
      const auto start = std::chrono::steady_clock::now();
      expect_failure(p12(name, pw), IdentityProblem::unsupported_algorithm, name);
      EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2)) << "a KDF ran";
      auto r = load_client_identity(p12(name, pw));
      ASSERT_FALSE(r.has_value());
      EXPECT_NE(r.error().message.find(c.what), std::string::npos) << describe(r.error());
    }
  }
}

TEST_F(IdentityTest, P12CountsWithinTheLimitAreNotRefused) {
  // The crafting itself keeps a file intact: the key's count rewritten to its own value (2048) loads,
  // so the refusals above are the bound's, not a broken file's.
  ASSERT_TRUE(craft_p12(f("modern.p12"), f("iter-key-2048.p12"), KdfTarget::shrouded_key, 2048, kPassword));
  EXPECT_TRUE(expect_load(p12("iter-key-2048.p12")).leaf);
  // A MAC count within the bound but not the file's: the loader goes on to the MAC check, which fails.
  ASSERT_TRUE(craft_p12(f("modern.p12"), f("iter-1.p12"), KdfTarget::mac, 1, kPassword));
  expect_failure(p12("iter-1.p12"), IdentityProblem::wrong_password, "iter-1.p12");
}

// Runs as root too (CI does): permissions cannot make a file unreadable there, a FIFO with no writer can.
// Opening one blocks forever unless the loader opens it non-blocking and bounds its wait.
TEST_F(IdentityTest, FifoWithoutWriterIsUnreadableNotAHang) {
  const std::string file = f("no-writer.fifo");
  ::unlink(file.c_str());
  ASSERT_EQ(::mkfifo(file.c_str(), 0600), 0) << std::strerror(errno);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = read_secret_file(file, "PKCS#12 file", 1 << 20, std::chrono::milliseconds(300));
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().problem, IdentityProblem::file_unreadable);
  EXPECT_NE(r.error().message.find("no-writer.fifo"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos) << r.error().message;
  EXPECT_GE(waited, std::chrono::milliseconds(300));  // it did wait for a writer, up to the bound
  ::unlink(file.c_str());
}

// The same FIFO with a writer (what `--p12 <(vault read ...)` gives) is read to its end.
TEST_F(IdentityTest, FifoWithWriterLoads) {
  const std::string file = f("writer.fifo");
  ::unlink(file.c_str());
  ASSERT_EQ(::mkfifo(file.c_str(), 0600), 0) << std::strerror(errno);
  std::thread writer([&] {
    std::ifstream in(f("modern.p12"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the reader is already waiting
    std::ofstream out(file, std::ios::binary);
    out << bytes;
  });
  auto r = load_client_identity(p12("writer.fifo"));
  writer.join();
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  ::unlink(file.c_str());
}

// Runs in the death-test child: reports what loading legacy.p12 gave, without printing any secret.
[[noreturn]] void load_legacy_without_provider_and_exit() {
  ::setenv("OPENSSL_MODULES", TestPki::get().path("no-modules-here").c_str(), 1);
  ::setenv("OPENSSL_CONF", "/dev/null", 1);  // a system config might activate legacy itself
  IdentityOptions o;
  o.p12_file = TestPki::get().path("legacy.p12");
  o.password = kPassword;
  IdentityOptions des;
  des.cert_file = TestPki::get().path("alice.pem");
  des.key_file = TestPki::get().path("alice-enc-des.key");
  des.password = kPassword;
  auto report = [](const IdentityOptions& opts, const char* algorithm) {
    auto r = load_client_identity(opts);
    bool named = !r.has_value() && r.error().message.find(algorithm) != std::string::npos &&
                 r.error().message.find("not a wrong password") != std::string::npos;
    bool secret = !r.has_value() && (r.error().message.find(kPassword) != std::string::npos ||
                                     r.error().openssl_detail.find(kPassword) != std::string::npos);
    std::fprintf(stderr, "problem=%s named=%d secret=%d\n",
                 r.has_value() ? "none" : identity_problem_name(r.error().problem), named, secret);
  };
  report(o, "RC2-40-CBC");
  report(des, "DES-CBC");
  std::_Exit(0);
}

// The legacy provider cannot be unloaded once a test has loaded it, so this runs in a fresh process
// (threadsafe death-test style re-executes the binary) whose provider search path leads nowhere.
TEST_F(IdentityTest, LegacyP12WithoutLegacyProviderIsLegacyUnavailable) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string dir = f("");
  ::setenv(kPkiDirEnv, dir.c_str(), 1);
  EXPECT_EXIT(load_legacy_without_provider_and_exit(), ::testing::ExitedWithCode(0),
              "problem=legacy-unavailable named=1 secret=0\nproblem=legacy-unavailable named=1 secret=0");
  ::unsetenv(kPkiDirEnv);
}

// ------------------------------------------------------------------------------------------- PEM

TEST_F(IdentityTest, PemCertAndKeyLoad) {
  ClientIdentity id = expect_load(pem("alice.pem", "alice.key"));
  ASSERT_TRUE(id.key && id.leaf);
  EXPECT_EQ(subject(id.leaf.get()), "CN=alice,O=Corp");
  EXPECT_TRUE(id.chain.empty());
  EXPECT_FALSE(id.legacy_pkcs12);
}

TEST_F(IdentityTest, PemCombinedFileWithChainAndKey) {
  ClientIdentity id = expect_load(pem("alice-combined.pem", ""));
  ASSERT_TRUE(id.key && id.leaf);
  EXPECT_EQ(subject(id.leaf.get()), "CN=alice,O=Corp");
  ASSERT_EQ(id.chain.size(), 2U);
  EXPECT_EQ(subject(id.chain[0].get()), "CN=Test Intermediate CA,O=Corp");
}

TEST_F(IdentityTest, PemEncryptedKey) {
  for (const char* key : {"alice-enc.key", "alice-enc-traditional.key"}) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(expect_load(pem("alice.pem", key, kPassword)).key);
    expect_failure(pem("alice.pem", key, kWrongPassword), IdentityProblem::wrong_password, key);
    // No password: fails at once, without prompting on the terminal.
    expect_failure(pem("alice.pem", key, std::nullopt), IdentityProblem::password_needed, key);
  }
}

TEST_F(IdentityTest, PemKeyInLegacyCipherLoadsOrReportsWrongPassword) {
  EXPECT_TRUE(expect_load(pem("alice.pem", "alice-enc-des.key", kPassword)).key);
  expect_failure(pem("alice.pem", "alice-enc-des.key", kWrongPassword), IdentityProblem::wrong_password,
                 "alice-enc-des.key");
}

TEST_F(IdentityTest, PemKeyMismatchNamesBothFiles) {
  expect_failure(pem("alice.pem", "other.key"), IdentityProblem::key_mismatch, "other.key");
  auto r = load_client_identity(pem("alice.pem", "other.key"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find(f("alice.pem")), std::string::npos) << describe(r.error());
  // Chain first, leaf missing: the first certificate does not belong to the key.
  expect_failure(pem("not-a-leaf-first.pem", "alice.key"), IdentityProblem::key_mismatch,
                 "not-a-leaf-first.pem");
}

// The loader's steps for a caller that reads the file itself (inspect): the same results as
// load_client_identity, and what was read when a pair is refused as unusable.
TEST_F(IdentityTest, StepsOfTheLoaderHandOutWhatAnUnusablePairHeld) {
  auto bytes = read_identity_bytes(f("alice.pem"), "certificate file");
  ASSERT_TRUE(bytes.has_value());
  UnusableIdentity mismatch;
  auto r = load_pem_identity(f("alice.pem"), *bytes, f("other.key"), std::nullopt, &mismatch);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().problem, IdentityProblem::key_mismatch);
  ASSERT_TRUE(mismatch.leaf);
  EXPECT_EQ(subject(mismatch.leaf.get()), "CN=alice,O=Corp");
  EXPECT_TRUE(mismatch.key) << "the key that does not match is described too";
  UnusableIdentity no_key;
  EXPECT_FALSE(load_pem_identity(f("alice.pem"), *bytes, "", std::nullopt, &no_key).has_value());
  EXPECT_TRUE(no_key.leaf);
  EXPECT_FALSE(no_key.key);

  auto p12_bytes = read_identity_bytes(f("nokey.p12"), "PKCS#12 file");
  ASSERT_TRUE(p12_bytes.has_value());
  auto parsed = parse_pkcs12_file(f("nokey.p12"), *p12_bytes);
  ASSERT_TRUE(parsed.has_value());
  UnusableIdentity p12_no_key;
  auto loaded = load_pkcs12_identity(f("nokey.p12"), parsed->get(), std::string(kPassword), &p12_no_key);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().problem, IdentityProblem::no_private_key);
  EXPECT_TRUE(p12_no_key.leaf) << "the end-entity of the certificates it carries";
  EXPECT_FALSE(p12_no_key.key);

  auto pem_as_p12 = parse_pkcs12_file(f("alice.pem"), *bytes);
  ASSERT_FALSE(pem_as_p12.has_value());
  EXPECT_EQ(pem_as_p12.error().problem, IdentityProblem::not_recognised);
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST_F(IdentityTest, PemProblems) {
  expect_failure(pem("alice.pem", ""), IdentityProblem::no_private_key, "alice.pem");
  expect_failure(pem("alice.pem", "root.pem"), IdentityProblem::no_private_key, "root.pem");
  expect_failure(pem("alice.key", ""), IdentityProblem::no_certificate, "alice.key");
  expect_failure(pem("garbage.bin", "alice.key"), IdentityProblem::not_recognised, "garbage.bin");
  expect_failure(pem("alice.pem", "garbage.bin"), IdentityProblem::not_recognised, "garbage.bin");
  expect_failure(pem("empty.bin", "alice.key"), IdentityProblem::not_recognised, "empty.bin");
  expect_failure(pem("alice.pem", "empty.bin"), IdentityProblem::not_recognised, "empty.bin");
  expect_failure(pem("missing.pem", "alice.key"), IdentityProblem::file_missing, "missing.pem");
  expect_failure(pem("alice.pem", "missing.key"), IdentityProblem::file_missing, "missing.key");
  expect_failure(pem("a-directory", "alice.key"), IdentityProblem::file_unreadable, "a-directory");
  expect_failure(pem("modern.p12", ""), IdentityProblem::not_recognised, "modern.p12");
}

// ------------------------------------------------------------------------------------------- summaries

UniqueX509 read_cert(const std::string& path) {
  UniqueBio bio(BIO_new_file(path.c_str(), "rb"));
  if (!bio) return nullptr;
  return UniqueX509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

long long now() {
  return static_cast<long long>(std::time(nullptr));
}

TEST_F(IdentityTest, SummaryOfClientCertificate) {
  UniqueX509 cert = read_cert(f("alice.pem"));
  ASSERT_TRUE(cert);
  CertificateSummary s = summarize_certificate(cert.get(), now());
  EXPECT_EQ(s.subject, "CN=alice,O=Corp");
  EXPECT_EQ(s.issuer, "CN=Test Intermediate CA,O=Corp");
  EXPECT_EQ(s.serial_hex, "1234ABCD");
  EXPECT_EQ(s.subject_alt_names,
            (std::vector<std::string>{"DNS:alice.example", "IP:127.0.0.1", "IP:::1",
                                      "email:alice@example.com", "URI:spiffe://corp/alice"}));
  EXPECT_TRUE(s.days_left == 29 || s.days_left == 30) << s.days_left;
  EXPECT_FALSE(s.expired);
  EXPECT_FALSE(s.not_yet_valid);
  ASSERT_TRUE(s.has_client_auth_eku.has_value());
  EXPECT_TRUE(*s.has_client_auth_eku);
  ASSERT_EQ(s.not_before.size(), 20U) << s.not_before;
  EXPECT_EQ(s.not_before[10], 'T');
  EXPECT_EQ(s.not_after.back(), 'Z');

  // The same certificate a year later: expired, negative days.
  CertificateSummary later = summarize_certificate(cert.get(), now() + 400LL * 86400);
  EXPECT_TRUE(later.expired);
  EXPECT_TRUE(later.days_left < 0) << later.days_left;
}

TEST_F(IdentityTest, SummaryValidityWindows) {
  UniqueX509 shortlived = read_cert(f("short.pem"));
  UniqueX509 expired = read_cert(f("expired.pem"));
  UniqueX509 future = read_cert(f("future.pem"));
  ASSERT_TRUE(shortlived && expired && future);

  CertificateSummary s = summarize_certificate(shortlived.get(), now());
  EXPECT_TRUE(s.days_left == 0 || s.days_left == 1) << s.days_left;
  EXPECT_FALSE(s.expired);

  CertificateSummary e = summarize_certificate(expired.get(), now());
  EXPECT_TRUE(e.expired);
  EXPECT_FALSE(e.not_yet_valid);
  EXPECT_LT(e.days_left, 0);
  EXPECT_EQ(e.not_before, "2020-01-01T00:00:00Z");
  EXPECT_EQ(e.not_after, "2020-02-01T00:00:00Z");
  // Floor, not truncation: one second after expiry is day -1.
  EXPECT_EQ(summarize_certificate(expired.get(), 1580515200LL + 1).days_left, -1);
  EXPECT_EQ(summarize_certificate(expired.get(), 1580515200LL - 1).days_left, 0);

  CertificateSummary fut = summarize_certificate(future.get(), now());
  EXPECT_TRUE(fut.not_yet_valid);
  EXPECT_FALSE(fut.expired);
  EXPECT_GT(fut.days_left, 0);
}

TEST_F(IdentityTest, SummaryExtendedKeyUsage) {
  UniqueX509 server = read_cert(f("server.pem"));
  UniqueX509 root = read_cert(f("root.pem"));
  ASSERT_TRUE(server && root);
  CertificateSummary s = summarize_certificate(server.get(), now());
  ASSERT_TRUE(s.has_client_auth_eku.has_value());
  EXPECT_FALSE(*s.has_client_auth_eku);
  EXPECT_EQ(s.subject_alt_names, std::vector<std::string>{"DNS:server.example"});
  EXPECT_FALSE(summarize_certificate(root.get(), now()).has_client_auth_eku.has_value());
  EXPECT_TRUE(summarize_certificate(root.get(), now()).subject_alt_names.empty());
}

// ------------------------------------------------------------------------------------------- passwords

TEST(IdentityPassword, FromEnvironment) {
  ::setenv("MTLS_PROBE_TEST_PW", kPassword, 1);
  auto r = password_from_env("MTLS_PROBE_TEST_PW");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(*r == kPassword);  // not EXPECT_EQ: would print the password on failure
  ::setenv("MTLS_PROBE_TEST_PW", "", 1);
  ASSERT_TRUE(password_from_env("MTLS_PROBE_TEST_PW").has_value());
  EXPECT_TRUE(password_from_env("MTLS_PROBE_TEST_PW")->empty());
  ::unsetenv("MTLS_PROBE_TEST_PW");

  auto missing = password_from_env("MTLS_PROBE_TEST_PW");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().problem, IdentityProblem::password_source);
  EXPECT_EQ(missing.error().message, "environment variable MTLS_PROBE_TEST_PW is not set");
}

TEST(IdentityPassword, FromFileFirstLine) {
  char tmpl[] = "/tmp/mtls-probe-pw-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  write_file(dir / "crlf", std::string(kPassword) + "\r\nsecond line\n");
  write_file(dir / "bare", kPassword);
  write_file(dir / "empty", "");
  auto crlf = password_from_file((dir / "crlf").string());
  auto bare = password_from_file((dir / "bare").string());
  auto empty = password_from_file((dir / "empty").string());
  ASSERT_TRUE(crlf.has_value() && bare.has_value() && empty.has_value());
  EXPECT_TRUE(*crlf == kPassword);
  EXPECT_TRUE(*bare == kPassword);
  EXPECT_TRUE(empty->empty());

  for (const fs::path& bad : {dir / "missing", dir}) {
    auto r = password_from_file(bad.string());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().problem, IdentityProblem::password_source);
    EXPECT_NE(r.error().message.find(bad.string()), std::string::npos) << r.error().message;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// ------------------------------------------------------------------------------------------- ossl helpers

TEST(OsslHelpers, NameToStringIsRfc4514WithReadableUtf8) {
  X509_NAME* name = X509_NAME_new();
  ASSERT_NE(name, nullptr);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Corp, Inc."),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("J\xC3\xBCrgen"), -1, -1, 0);
  EXPECT_EQ(name_to_string(name), "CN=J\xC3\xBCrgen,O=Corp\\, Inc.");
  X509_NAME_free(name);
  EXPECT_EQ(name_to_string(nullptr), "");
}

TEST(OsslHelpers, Asn1TimeToIso) {
  ASN1_TIME* t = ASN1_TIME_new();
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(ASN1_TIME_set_string(t, "261123100000Z"), 1);  // UTCTime
  EXPECT_EQ(asn1_time_to_iso(t), "2026-11-23T10:00:00Z");
  ASSERT_EQ(ASN1_TIME_set_string(t, "20991231235959Z"), 1);  // GeneralizedTime
  EXPECT_EQ(asn1_time_to_iso(t), "2099-12-31T23:59:59Z");
  ASN1_TIME_free(t);
  EXPECT_EQ(asn1_time_to_iso(nullptr), "");
}

TEST(OsslHelpers, DrainOpensslErrorsEmptiesTheQueue) {
  ERR_clear_error();
  EXPECT_EQ(drain_openssl_errors(), "");
  ERR_raise(ERR_LIB_PEM, PEM_R_NO_START_LINE);
  ERR_raise_data(ERR_LIB_EVP, ERR_R_UNSUPPORTED, "Algorithm (%s : 0)", "RC2-40-CBC");
  std::string text = drain_openssl_errors();
  EXPECT_EQ(text,
            "PEM routines:no start line; digital envelope routines:unsupported (Algorithm (RC2-40-CBC : 0))");
  EXPECT_EQ(ERR_peek_error(), 0UL);

  // Bounded, and still drained completely.
  // The queue keeps the last 16 entries; long attached texts overflow the bound all the same.
  const std::string filler(200, 'x');
  for (int i = 0; i < 40; ++i)
    ERR_raise_data(ERR_LIB_PEM, PEM_R_BAD_DECRYPT, "entry %d %s", i, filler.c_str());
  text = drain_openssl_errors();
  EXPECT_LE(text.size(), 1100U);
  EXPECT_EQ(text.substr(text.size() - 3), "...");
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

}  // namespace
}  // namespace mtls_probe
