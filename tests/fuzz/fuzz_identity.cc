// load_client_identity on arbitrary file contents: as PKCS#12 (password "x", none, and an empty one) and as
// PEM (certificate and key in one file, with and without a password). When the input contains the line
// "=KEY=", the bytes before it are the certificate file and the bytes after it a separate key file.
//
// The files are memfds opened through /proc/self/fd, so nothing is written to disk and parallel fuzzers do
// not collide. Invariants: a failure has a message; a success has a key and a leaf that match; the password
// never appears in a message or in the OpenSSL detail; summarize_certificate works on whatever loaded.
#include <openssl/err.h>
#include <openssl/x509.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "mtls_probe/identity/identity.h"

using namespace mtls_probe;

namespace {

constexpr std::string_view kSecret = "Fuzz-Secret-Pass-7731";

struct MemFile {
  int fd = -1;
  std::string path;
  explicit MemFile(const char* name) {
    fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) std::abort();
    path = "/proc/self/fd/" + std::to_string(fd);
  }
  void write(std::string_view bytes) const {
    if (ftruncate(fd, 0) != 0) std::abort();
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<std::size_t>(n);
    }
  }
};

// MTLS_FUZZ_DEBUG=1: print each outcome (to check what the seeds reach).
const bool kDebug = std::getenv("MTLS_FUZZ_DEBUG") != nullptr;

void check(const Expected<ClientIdentity, IdentityFailure>& r, const std::optional<std::string>& password) {
  if (kDebug) {
    std::fprintf(
        stderr, "  password %-8s -> %s\n",
        password ? (password->size() < 8 ? password->c_str() : "secret") : "(none)",
        r ? "loaded"
          : (std::string(identity_problem_name(r.error().problem)) + ": " + r.error().message).c_str());
  }
  if (!r) {
    const IdentityFailure& f = r.error();
    FUZZ_CHECK(!f.message.empty());
    if (password && password->size() >= 8) {
      FUZZ_CHECK(f.message.find(*password) == std::string::npos);
      FUZZ_CHECK(f.openssl_detail.find(*password) == std::string::npos);
    }
    ERR_clear_error();
    return;
  }
  const ClientIdentity& id = r.value();
  FUZZ_CHECK(id.key != nullptr);
  FUZZ_CHECK(id.leaf != nullptr);
  FUZZ_CHECK(X509_check_private_key(id.leaf.get(), id.key.get()) == 1);
  for (const auto& c : id.chain) FUZZ_CHECK(c != nullptr);
  constexpr long long kNow = 1767225600;  // 2026-01-01T00:00:00Z: no clock in a fuzz target
  CertificateSummary s = summarize_certificate(id.leaf.get(), kNow);
  (void)s;
  for (const auto& c : id.chain) (void)summarize_certificate(c.get(), kNow);
  ERR_clear_error();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const MemFile main_file("mtls-fuzz-identity");
  static const MemFile key_file("mtls-fuzz-key");
  std::string_view input(reinterpret_cast<const char*>(data), size);
  main_file.write(input);

  const std::optional<std::string> passwords[] = {std::string("x"), std::nullopt, std::string(kSecret)};

  // PKCS#12.
  for (const auto& pw : passwords) {
    IdentityOptions opts;
    opts.p12_file = main_file.path;
    opts.password = pw;
    check(load_client_identity(opts), pw);
  }
  {
    IdentityOptions opts;
    opts.p12_file = main_file.path;
    opts.password = std::string();
    check(load_client_identity(opts), opts.password);
  }

  // PEM, certificate and key in one file.
  for (const auto& pw : passwords) {
    IdentityOptions opts;
    opts.cert_file = main_file.path;
    opts.password = pw;
    check(load_client_identity(opts), pw);
  }

  // PEM (or DER), separate key file.
  constexpr std::string_view kMarker = "\n=KEY=\n";
  if (std::size_t at = input.find(kMarker); at != std::string_view::npos) {
    main_file.write(input.substr(0, at));
    key_file.write(input.substr(at + kMarker.size()));
    for (const auto& pw : passwords) {
      IdentityOptions opts;
      opts.cert_file = main_file.path;
      opts.key_file = key_file.path;
      opts.password = pw;
      check(load_client_identity(opts), pw);
    }
  }
  return 0;
}
