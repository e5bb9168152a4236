// curl's -w/--write-out: a printer like the text and JSON reports, a pure function of a finished
// ProbeResult and the user's format. Variables carry curl's names where they mean the same thing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/diagnosis/diagnosis.h"

namespace mtls_probe {

enum class WriteOutStream { out, err };  // stdout, stderr

struct WriteOutPiece {
  WriteOutStream stream = WriteOutStream::out;
  std::string text;
};

struct WriteOut {
  std::vector<WriteOutPiece> pieces;  // in order; consecutive text for one stream is one piece
  std::vector<std::string> warnings;  // "unknown --write-out variable: 'x'" (curl prints these, and nothing)
};

// Expands format: %{var}, %header{name} (the response header's values, ", "-joined as curl does), %{json}
// (every variable as one object), %{stdout} / %{stderr} (where the rest goes), %% and the escapes \n \t \r
// \\ (any other backslash stays as it is, as in curl). start: where output starts; with --json the front end
// passes err and lock_stream, so that stdout stays one JSON object (%{stdout} is then ignored).
WriteOut render_write_out(const ProbeResult& result, std::string_view format,
                          WriteOutStream start = WriteOutStream::out, bool lock_stream = false);

// Every variable's value, as %{json} prints it (times in seconds, counts as numbers).
nlohmann::json write_out_variables(const ProbeResult& result);

}  // namespace mtls_probe
