// An output file written whole or not at all: a temp file in the same directory (hidden: ".NAME.tmpXXXXXX",
// so node_exporter's *.prom glob never reads a half-written one), then rename() over the target. The temp
// file is made when the run starts (so an unwritable directory is a usage error before anything is probed)
// and removed if the run never commits it.
#pragma once

#include <optional>
#include <string>

namespace mtls_probe::tool {

class AtomicFile {
 public:
  AtomicFile() = default;
  ~AtomicFile();
  AtomicFile(AtomicFile&& o) noexcept;
  AtomicFile& operator=(AtomicFile&& o) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Creates the temp file beside path; nullopt on success, else what went wrong (names the file).
  std::optional<std::string> open(const std::string& path);
  // Writes content to the temp file, flushes it to disk and renames it over path (mode 0666 & ~umask, as a
  // file made by open(2)); nullopt on success, else the error (the temp file is then removed).
  std::optional<std::string> commit(const std::string& content);

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }
  bool is_open() const { return fd_ >= 0; }

 private:
  void discard();
  std::string path_, temp_;
  int fd_ = -1;
};

}  // namespace mtls_probe::tool
