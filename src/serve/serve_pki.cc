// The throw-away PKI of `serve`, made with the OpenSSL API so that no openssl CLI is needed at run time.
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/serve/serve.h"

namespace mtls_probe::serve {

namespace {

namespace fs = std::filesystem;

using UniqueBn = std::unique_ptr<BIGNUM, OsslDeleter<BN_free>>;
using UniqueExt = std::unique_ptr<X509_EXTENSION, OsslDeleter<X509_EXTENSION_free>>;

Unexpected<Error> openssl_failure(const std::string& what) {
  return Unexpected(Error{what, drain_openssl_errors()});
}

struct KeyAndCert {
  UniqueEvpPkey key;
  UniqueX509 cert;
};

struct CertSpec {
  std::string common_name;
  bool is_ca = false;
  const char* eku = nullptr;  // "clientAuth", "serverAuth", or none
  const char* san = nullptr;  // subjectAltName value, or none
  long not_before_days = -1;  // relative to now; a day back absorbs clock skew between machines
  long not_after_days = 365;
};

Expected<UniqueEvpPkey> new_p256_key() {
  UniqueEvpPkey key(EVP_EC_gen("P-256"));
  if (!key) return openssl_failure("cannot generate an EC P-256 key");
  return key;
}

bool add_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  UniqueExt ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// issuer == nullptr: self-signed.
Expected<KeyAndCert> make_cert(const CertSpec& spec, const KeyAndCert* issuer) {
  auto key = new_p256_key();
  if (!key) return Unexpected(key.error());
  UniqueX509 cert(X509_new());
  if (!cert) return openssl_failure("X509_new failed");
  X509* x = cert.get();

  // 127-bit random serials: unique enough that re-generated certificates never collide in a browser cache.
  UniqueBn serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x)) == nullptr) {
    return openssl_failure("cannot make a serial number");
  }
  X509_NAME* name = X509_get_subject_name(x);
  const auto* org = reinterpret_cast<const unsigned char*>("mtls-probe serve");
  const auto* cn = reinterpret_cast<const unsigned char*>(spec.common_name.c_str());
  if (X509_set_version(x, X509_VERSION_3) != 1 ||
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, org, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer->cert.get()) : name) != 1 ||
      X509_time_adj_ex(X509_getm_notBefore(x), static_cast<int>(spec.not_before_days), 0, nullptr) ==
          nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(x), static_cast<int>(spec.not_after_days), 0, nullptr) == nullptr ||
      X509_set_pubkey(x, key->get()) != 1) {
    return openssl_failure("cannot fill in certificate " + spec.common_name);
  }

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->cert.get() : x, x, nullptr, nullptr, 0);
  bool ok = true;
  if (spec.is_ca) {
    ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") &&
         add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         add_ext(x, &ctx, NID_subject_key_identifier, "hash");
  } else {
    ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") &&
         add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
         add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") &&
         (spec.eku == nullptr || add_ext(x, &ctx, NID_ext_key_usage, spec.eku)) &&
         (spec.san == nullptr || add_ext(x, &ctx, NID_subject_alt_name, spec.san));
  }
  if (!ok) return openssl_failure("cannot add the extensions of certificate " + spec.common_name);

  EVP_PKEY* signer = issuer != nullptr ? issuer->key.get() : key->get();
  if (X509_sign(x, signer, EVP_sha256()) <= 0)
    return openssl_failure("cannot sign certificate " + spec.common_name);
  return KeyAndCert{std::move(*key), std::move(cert)};
}

// Writes via a temp file + rename so that an interrupted run never leaves a half-written file that a
// later run would re-use. Private material gets 0600 from the start (no window with wider rights).
Expected<bool> write_file(const std::string& path, const std::string& data, mode_t mode) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Unexpected(Error{"cannot create " + tmp + ": " + std::strerror(errno), ""});
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Unexpected(Error{"cannot write " + tmp + ": " + std::strerror(e), ""});
    }
    done += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, mode);  // the umask may have narrowed the mode given to open()
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Unexpected(Error{"cannot write " + path + ": " + std::strerror(e), ""});
  }
  return true;
}

std::string bio_text(BIO* bio) {
  char* mem = nullptr;
  long len = BIO_get_mem_data(bio, &mem);
  return len > 0 ? std::string(mem, static_cast<std::size_t>(len)) : std::string();
}

Expected<bool> write_cert(const std::string& path, X509* cert) {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return openssl_failure("cannot encode " + path);
  return write_file(path, bio_text(bio.get()), 0644);
}

Expected<bool> write_key(const std::string& path, EVP_PKEY* key) {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl_failure("cannot encode " + path);
  }
  return write_file(path, bio_text(bio.get()), 0600);
}

// OpenSSL 3's PKCS12_create defaults: AES-256-CBC with PBKDF2 and a SHA-256 MAC (not "legacy").
Expected<bool> write_p12(const std::string& path, const KeyAndCert& id, const std::string& password,
                         const std::string& friendly_name) {
  std::unique_ptr<PKCS12, OsslDeleter<PKCS12_free>> p12(PKCS12_create(
      password.c_str(), friendly_name.c_str(), id.key.get(), id.cert.get(), nullptr, 0, 0, 0, 0, 0));
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (!p12 || !bio || i2d_PKCS12_bio(bio.get(), p12.get()) != 1)
    return openssl_failure("cannot make " + path);
  return write_file(path, bio_text(bio.get()), 0600);
}

Expected<std::string> random_password() {
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  unsigned char raw[24];
  if (RAND_bytes(raw, sizeof raw) != 1) return openssl_failure("no random bytes for the password");
  std::string out;
  for (unsigned char b : raw) out += kAlphabet[b % (sizeof kAlphabet - 1)];
  OPENSSL_cleanse(raw, sizeof raw);
  return out;
}

#define TRY(expr)                                             \
  do {                                                        \
    auto try_result_ = (expr);                                \
    if (!try_result_) return Unexpected(try_result_.error()); \
  } while (0)

Expected<bool> generate(const PkiFiles& f) {
  auto ca = make_cert({"mtls-probe serve CA", true, nullptr, nullptr, -1, 3650}, nullptr);
  if (!ca) return Unexpected(ca.error());
  auto other_ca = make_cert({"mtls-probe serve other CA", true, nullptr, nullptr, -1, 3650}, nullptr);
  if (!other_ca) return Unexpected(other_ca.error());
  auto server =
      make_cert({"localhost", false, "serverAuth", "DNS:localhost,IP:127.0.0.1,IP:::1", -1, 365}, &*ca);
  if (!server) return Unexpected(server.error());
  auto client = make_cert({"mtls-probe client", false, "clientAuth", nullptr, -1, 365}, &*ca);
  if (!client) return Unexpected(client.error());
  auto other = make_cert({"mtls-probe other client", false, "clientAuth", nullptr, -1, 365}, &*other_ca);
  if (!other) return Unexpected(other.error());
  auto expired = make_cert({"mtls-probe expired client", false, "clientAuth", nullptr, -30, -1}, &*ca);
  if (!expired) return Unexpected(expired.error());
  auto serverauth =
      make_cert({"mtls-probe serverAuth-only client", false, "serverAuth", nullptr, -1, 365}, &*ca);
  if (!serverauth) return Unexpected(serverauth.error());
  auto password = random_password();
  if (!password) return Unexpected(password.error());

  TRY(write_cert(f.ca_cert, ca->cert.get()));
  TRY(write_cert(f.server_cert, server->cert.get()));
  TRY(write_key(f.server_key, server->key.get()));
  TRY(write_cert(f.client_cert, client->cert.get()));
  TRY(write_key(f.client_key, client->key.get()));
  TRY(write_file(f.password_file, *password + "\n", 0600));
  TRY(write_p12(f.client_p12, *client, *password, "mtls-probe client"));
  TRY(write_cert(f.other_ca_cert, other_ca->cert.get()));
  TRY(write_cert(f.other_client_cert, other->cert.get()));
  TRY(write_key(f.other_client_key, other->key.get()));
  TRY(write_p12(f.other_client_p12, *other, *password, "mtls-probe other client"));
  TRY(write_p12(f.expired_client_p12, *expired, *password, "mtls-probe expired client"));
  TRY(write_p12(f.serverauth_client_p12, *serverauth, *password, "mtls-probe serverAuth-only client"));
  OPENSSL_cleanse(password->data(), password->size());
  // The CA keys are not kept: nothing else is ever signed with this throw-away PKI.
  return true;
}

#undef TRY

}  // namespace

std::vector<std::string> PkiFiles::all() const {
  return {ca_cert,          server_cert,        server_key,           client_cert,       client_key,
          client_p12,       password_file,      other_ca_cert,        other_client_cert, other_client_key,
          other_client_p12, expired_client_p12, serverauth_client_p12};
}

PkiFiles pki_files(const std::string& dir) {
  auto in = [&](const char* name) { return (fs::path(dir) / name).string(); };
  PkiFiles f;
  f.dir = dir;
  f.ca_cert = in("ca.pem");
  f.server_cert = in("server.pem");
  f.server_key = in("server.key");
  f.client_cert = in("client.pem");
  f.client_key = in("client.key");
  f.client_p12 = in("client.p12");
  f.password_file = in("client.pass");
  f.other_ca_cert = in("other-ca.pem");
  f.other_client_cert = in("other-client.pem");
  f.other_client_key = in("other-client.key");
  f.other_client_p12 = in("other-client.p12");
  f.expired_client_p12 = in("expired-client.p12");
  f.serverauth_client_p12 = in("serverauth-client.p12");
  return f;
}

Expected<PkiResult> ensure_pki(const std::string& dir) {
  PkiResult result;
  result.files = pki_files(dir);
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (!fs::create_directories(dir, ec)) {
      return Unexpected(Error{"cannot create the PKI directory " + dir + ": " + ec.message(), ""});
    }
    ::chmod(dir.c_str(), 0700);  // it holds private keys
  } else if (!fs::is_directory(dir, ec)) {
    return Unexpected(Error{"--pki-dir " + dir + " is not a directory", ""});
  }
  std::vector<std::string> present, missing;
  for (const auto& path : result.files.all()) (fs::exists(path, ec) ? present : missing).push_back(path);
  if (missing.empty()) {
    result.reused = true;
    return result;
  }
  if (!present.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + fs::path(m).filename().string();
    return Unexpected(Error{"--pki-dir " + dir + " holds an incomplete PKI (missing " + names +
                                "); remove the directory or name an empty one",
                            ""});
  }
  auto made = generate(result.files);
  if (!made) return Unexpected(made.error());
  return result;
}

Expected<std::string> make_temp_dir() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp") + "/mtls-probe-serve-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return Unexpected(
        Error{"cannot create a temporary directory " + pattern + ": " + std::strerror(errno), ""});
  }
  return std::string(buf.data());
}

}  // namespace mtls_probe::serve
