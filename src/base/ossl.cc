#include "mtls_probe/base/ossl.h"

#include <openssl/asn1.h>
#include <openssl/err.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace mtls_probe {

namespace {

// Error queues can be long (every layer adds an entry); a report line must stay readable.
constexpr std::size_t kMaxErrorText = 1024;

std::string describe_error(unsigned long code, const char* data, int flags) {
  std::string out;
  const char* lib = ERR_lib_error_string(code);
  const char* reason = ERR_reason_error_string(code);
  out += lib != nullptr ? lib : "lib(" + std::to_string(ERR_GET_LIB(code)) + ")";
  out += ':';
  out += reason != nullptr ? reason : "reason(" + std::to_string(ERR_GET_REASON(code)) + ")";
  // The attached text names what failed (e.g. "Algorithm (RC2-40-CBC : 0)"): worth keeping.
  if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') {
    out += " (";
    out += data;
    out += ')';
  }
  return out;
}

}  // namespace

std::string drain_openssl_errors(std::vector<unsigned long>* codes) {
  std::string out;
  std::vector<std::string> seen;
  bool truncated = false;
  const char* data = nullptr;
  int flags = 0;
  // Keep looping after the text is full: the queue must be empty afterwards so that a later
  // failure is not blamed on these stale entries.
  while (unsigned long code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    if (codes != nullptr) codes->push_back(code);
    std::string entry = describe_error(code, data, flags);
    // The same failure is often queued more than once (nested callers, a decoder retried per format).
    if (std::find(seen.begin(), seen.end(), entry) != seen.end()) continue;
    seen.push_back(entry);
    if (truncated) continue;
    std::string next = out.empty() ? entry : out + "; " + entry;
    if (next.size() > kMaxErrorText) {
      out += out.empty() ? "..." : "; ...";
      truncated = true;
      continue;
    }
    out = std::move(next);
  }
  return out;
}

std::string name_to_string(const X509_NAME* name) {
  if (name == nullptr) return "";
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (!bio) return "";
  // RFC 2253 flags escape bytes >= 0x80; without ESC_MSB UTF-8 names (CN=Jürgen) stay readable.
  const unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) {
    ERR_clear_error();
    return "";
  }
  char* mem = nullptr;
  long len = BIO_get_mem_data(bio.get(), &mem);
  return len > 0 ? std::string(mem, static_cast<std::size_t>(len)) : std::string();
}

std::string asn1_time_to_iso(const ASN1_TIME* t) {
  if (t == nullptr) return "";
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return "";
  }
  char buf[80];  // sized for any int the compiler can imagine, not just valid dates
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace mtls_probe
