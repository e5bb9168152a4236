// Wires the command line to the engine; everything else lives in tool_* and the engine modules.
#include "tool_cli.h"

int main(int argc, char** argv) { return mtls_probe::tool::run(argc, argv); }
