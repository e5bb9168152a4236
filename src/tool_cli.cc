#include "tool_cli.h"

namespace mtls_probe::tool {

int run(int, char**) { return 1; }  // replaced below in this session

}  // namespace mtls_probe::tool
