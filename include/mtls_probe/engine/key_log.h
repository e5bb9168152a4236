// SSLKEYLOGFILE: the TLS secrets of every connection, in the NSS key log format that curl, browsers and
// Wireshark share ("CLIENT_HANDSHAKE_TRAFFIC_SECRET <client_random> <secret>"), so a capture of a probe can
// be decrypted. Appended to, created 0600, one line per write under a lock (a batch's loops share the file).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/base/result.h"

namespace mtls_probe {

class KeyLogFile {
 public:
  static Expected<std::unique_ptr<KeyLogFile>> open(const std::string& path);
  ~KeyLogFile();
  KeyLogFile(const KeyLogFile&) = delete;
  KeyLogFile& operator=(const KeyLogFile&) = delete;

  void write(const char* line);
  // Makes every SSL of ctx log its secrets into this file (which must outlive ctx).
  void attach(SSL_CTX* ctx);

 private:
  KeyLogFile() = default;
  std::mutex mutex_;
  int fd_ = -1;
};

}  // namespace mtls_probe
