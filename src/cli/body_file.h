// -o FILE: the sink the engine writes the response body to, opened by the front end before any network so
// that a file that cannot be written is a usage error, not a failed probe.
#pragma once

#include <memory>
#include <string>

#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/options.h"

namespace mtls_probe::tool {

// FILE created (or truncated) for writing, mode 0666 & ~umask as curl; "-": stdout (not closed). The error
// names the file and the reason.
Expected<std::shared_ptr<BodySink>, std::string> open_body_file(const std::string& name);

}  // namespace mtls_probe::tool
