// An output file written whole or not at all: a temp file in the same directory (hidden: ".NAME.tmpXXXXXX",
// so node_exporter's *.prom glob never reads a half-written one), then rename() over the target.
// open() checks the place when the run starts (a temp file is made and removed at once, so an unwritable
// directory is a usage error before anything is probed); the temp file that carries the content exists only
// inside commit(), so a run that is killed while it probes leaves nothing behind.
#pragma once

#include <optional>
#include <string>

namespace mtls_probe::tool {

class AtomicFile {
 public:
  // Checks that a temp file can be made beside path; nullopt on success, else what went wrong (names the
  // file).
  std::optional<std::string> open(const std::string& path);
  // Writes content to a new temp file, flushes it to disk and renames it over path (mode 0666 & ~umask, as
  // a file made by open(2)); nullopt on success, else the error (the temp file is then removed).
  std::optional<std::string> commit(const std::string& content);

  const std::string& path() const { return path_; }
  bool is_open() const { return open_; }

 private:
  // Makes the hidden temp file beside path_: its descriptor and name, or the error.
  std::optional<std::string> make_temp(int& fd, std::string& name) const;
  std::string path_;
  bool open_ = false;
};

}  // namespace mtls_probe::tool
