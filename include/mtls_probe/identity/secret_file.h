// Reading files that may hold a private key or a password: bounded in size and in time, wiped on release.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/base/result.h"

namespace mtls_probe {

// File contents that may hold a private key or a password: wiped when released, and never reallocated
// behind our back (a reallocation would leave an uncleared copy on the heap).
class SecretBytes {
 public:
  SecretBytes() = default;
  SecretBytes(SecretBytes&& o) noexcept : data_(std::move(o.data_)) {}
  SecretBytes& operator=(SecretBytes&& o) noexcept {
    wipe();
    data_ = std::move(o.data_);
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { wipe(); }

  // Appends n bytes, growing by hand so that the old storage is wiped before it is freed.
  void append(const char* p, std::size_t n);
  const char* data() const { return data_.data(); }
  std::size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  std::string_view view() const { return {data_.data(), data_.size()}; }

 private:
  void wipe();
  std::vector<char> data_;
};

// How long a read waits for a FIFO or device to deliver (`--p12 <(vault read ...)` works; a FIFO that no
// one writes to ends in an error instead of a hang).
inline constexpr std::chrono::milliseconds kSecretFileWait{10000};

// Reads the whole file, classifying why it could not be read: file_missing, file_unreadable (permissions,
// a directory, a FIFO with no writer within `wait`), not_recognised (larger than `limit`). `what` names the
// file in messages: "PKCS#12 file", "key file", ...
Expected<SecretBytes, IdentityFailure> read_secret_file(const std::string& path, const char* what,
                                                        std::size_t limit,
                                                        std::chrono::milliseconds wait = kSecretFileWait);

}  // namespace mtls_probe
