// gRPC health checking by hand (see grpc.h): a few bytes of protobuf each way, the status from the trailers.
#include "mtls_probe/base/ascii.h"
#include "mtls_probe/engine/grpc.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>
#include <vector>

namespace mtls_probe {
namespace {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

const std::string* find_field(const HeaderList& fields, std::string_view name) {
  for (const auto& [n, v] : fields)
    if (n == name) return &v;  // HTTP/2 field names are lower case (nghttp2 enforces it)
  return nullptr;
}

void append_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

// Reads a protobuf varint at pos (advancing it); nullopt when it runs off the end or past 10 bytes.
std::optional<std::uint64_t> read_varint(std::string_view in, std::size_t& pos) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 70 && pos < in.size(); shift += 7) {
    const auto b = static_cast<unsigned char>(in[pos++]);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return std::nullopt;
}

// application/grpc, application/grpc+proto, application/grpc;charset=... (gRPC's accepted forms).
bool is_grpc_content_type(std::string_view v) {
  constexpr std::string_view kType = "application/grpc";
  if (v.size() < kType.size()) return false;
  for (std::size_t i = 0; i < kType.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(v[i])) != kType[i]) return false;
  return v.size() == kType.size() || v[kType.size()] == '+' || v[kType.size()] == ';';
}

// grpc-status is a decimal number (grpc-core rejects anything else; so do we).
std::optional<int> parse_status_code(std::string_view v) {
  if (v.empty() || v.size() > 9) return std::nullopt;
  int code = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    code = code * 10 + (c - '0');
  }
  return code;
}

// The status fields: from the trailers, or from the headers of a trailers-only answer. false: none there.
bool record_status(const ProbeFacts& f, GrpcFacts& g) {
  const HeaderList* block = &f.response_trailers;
  const std::string* status = find_field(f.response_trailers, "grpc-status");
  if (status == nullptr && (status = find_field(f.response_headers, "grpc-status")) != nullptr) {
    block = &f.response_headers;
    g.trailers_only = f.response_trailers.empty();
  }
  if (status == nullptr) return false;
  g.status = parse_status_code(*status);
  if (!g.status) {
    g.problem = fmt::format("grpc-status \"{}\" is not a status code", status->substr(0, 40));
    return true;
  }
  g.status_name = grpc_status_name(*g.status);
  if (const std::string* m = find_field(*block, "grpc-message"); m != nullptr)
    g.message = grpc_percent_decode(*m, kGrpcMessageKeep);
  return true;
}

void record_health_message(const ProbeFacts& f, const HttpLimits& limits, GrpcFacts& g) {
  std::string problem;
  const std::optional<std::string> message =
      parse_grpc_message({f.body_excerpt, f.body_bytes, f.body_truncated, limits.max_body_bytes}, problem);
  if (!message) {
    g.problem = problem;
    return;
  }
  if (f.body_bytes == 0) {
    // No message: normal for an error status; OK must carry the HealthCheckResponse.
    if (g.status == 0) g.problem = "grpc-status 0 (OK) came without a HealthCheckResponse message";
    return;
  }
  if (g.status != 0) return;  // the status decides; a message beside an error is not read
  g.serving_status = parse_health_check_response(*message, problem);
  if (!g.serving_status) {
    g.problem = "the HealthCheckResponse is not valid protobuf: " + problem;
    return;
  }
  g.serving_status_name = serving_status_name(*g.serving_status);
}

}  // namespace

std::string grpc_status_name(int code) {
  static constexpr std::array<const char*, 17> kNames{
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  if (code >= 0 && static_cast<std::size_t>(code) < kNames.size())
    return kNames[static_cast<std::size_t>(code)];
  return fmt::format("CODE_{}", code);
}

std::string serving_status_name(int value) {
  switch (value) {
    case 0: return "UNKNOWN";
    case 1: return "SERVING";
    case 2: return "NOT_SERVING";
    case 3: return "SERVICE_UNKNOWN";
    default: return fmt::format("VALUE_{}", value);
  }
}

std::string encode_health_check_request(std::string_view service) {
  std::string out;
  if (service.empty()) return out;  // proto3: a field at its default is not on the wire
  out += '\x0a';                    // field 1, wire type 2 (length-delimited)
  append_varint(out, service.size());
  out.append(service);
  return out;
}

std::string encode_health_check_response(int serving_status) {
  std::string out;
  if (serving_status == 0) return out;
  out += '\x08';  // field 1, wire type 0 (varint); an enum is an int32: negative ones take 10 bytes
  append_varint(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(serving_status)));
  return out;
}

std::string grpc_frame(std::string_view message) {
  std::string out(5, '\0');  // compressed flag 0
  const auto n = static_cast<std::uint32_t>(message.size());
  for (int i = 0; i < 4; ++i)
    out[static_cast<std::size_t>(1 + i)] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
  out.append(message);
  return out;
}

std::string grpc_percent_encode(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b <= 0x7e && b != '%') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", b);
    }
  }
  return out;
}

std::string grpc_percent_decode(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && out.size() < max_bytes; ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

void make_grpc_health_request(TargetOptions& target, std::string_view service) {
  target.grpc_health = std::string(service);
  HttpOptions& http = target.http;
  http.method = "POST";
  http.data = grpc_frame(encode_health_check_request(service));
  target.url.target = std::string(kGrpcHealthCheckPath);
  auto user_has = [&](std::string_view name) {
    return std::any_of(http.headers.begin(), http.headers.end(), [&](const RequestHeader& h) {
      return std::equal(h.name.begin(), h.name.end(), name.begin(), name.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    });
  };
  // gRPC's required request fields go first; a user's own (-H 'content-type: application/grpc+proto') wins.
  std::vector<RequestHeader> fields;
  if (!user_has("content-type")) fields.push_back({"content-type", "application/grpc", true});
  if (!user_has("te")) fields.push_back({"te", "trailers", true});
  http.headers.insert(http.headers.begin(), fields.begin(), fields.end());
}

std::optional<std::string> parse_grpc_message(const GrpcBody& in, std::string& problem) {
  if (in.truncated) {
    problem = fmt::format("the response body went past the {}-byte cap: not one small health message",
                          in.max_body_bytes);
    return std::nullopt;
  }
  if (in.body_bytes == 0) return std::string();
  if (in.body_bytes < 5) {
    problem = fmt::format("the response body ({} bytes) is shorter than a gRPC message prefix (5 bytes)",
                          in.body_bytes);
    return std::nullopt;
  }
  const auto flag = static_cast<unsigned char>(in.body[0]);
  std::uint64_t length = 0;
  for (std::size_t i = 1; i < 5; ++i) length = (length << 8) | static_cast<unsigned char>(in.body[i]);
  if (flag > 1) {
    problem = fmt::format("the message prefix's compressed flag is {} (0 or 1 only): not gRPC framing", flag);
    return std::nullopt;
  }
  if (flag == 1) {
    problem = "the server compressed its message though we offered no grpc-accept-encoding";
    return std::nullopt;
  }
  if (length > in.max_body_bytes) {
    problem = fmt::format("the message prefix announces {} bytes, past the {}-byte body cap", length,
                          in.max_body_bytes);
    return std::nullopt;
  }
  if (in.body_bytes < 5 + length) {
    problem = fmt::format("the body ends inside the message: {} of the {} bytes its prefix announced",
                          in.body_bytes - 5, length);
    return std::nullopt;
  }
  if (in.body_bytes > 5 + length) {
    problem = fmt::format("{} bytes follow the first message: a unary call answers with one message",
                          in.body_bytes - 5 - length);
    return std::nullopt;
  }
  if (in.body.size() < 5 + length) {
    problem = fmt::format("the message ({} bytes) is larger than the {} bytes kept of the body", length,
                          in.body.size());
    return std::nullopt;
  }
  return std::string(in.body.substr(5, length));
}

std::optional<int> parse_health_check_response(std::string_view message, std::string& problem) {
  int status = 0;
  std::size_t pos = 0;
  while (pos < message.size()) {
    const std::optional<std::uint64_t> key = read_varint(message, pos);
    if (!key || (*key >> 3) == 0) {
      problem = "bad field key";
      return std::nullopt;
    }
    const std::uint64_t field = *key >> 3;
    const auto wire = static_cast<unsigned>(*key & 7);
    std::optional<std::uint64_t> value;
    std::uint64_t skip = 0;
    switch (wire) {
      case 0: value = read_varint(message, pos); break;
      case 1: skip = 8; break;
      case 2: value = read_varint(message, pos), skip = value.value_or(0); break;
      case 5: skip = 4; break;
      default:
        problem = fmt::format("wire type {} of field {} is not one protobuf uses", wire, field);
        return std::nullopt;
    }
    if ((wire == 0 || wire == 2) && !value) {
      problem = fmt::format("field {} is cut short", field);
      return std::nullopt;
    }
    if (skip > message.size() - pos) {
      problem = fmt::format("field {} runs past the end of the message", field);
      return std::nullopt;
    }
    pos += skip;
    if (field == 1) {
      if (wire != 0) {
        problem = fmt::format("field 1 (status) has wire type {}, not varint", wire);
        return std::nullopt;
      }
      status = static_cast<int>(static_cast<std::int32_t>(*value & 0xffffffffU));  // int32 enum
    }
  }
  return status;
}

void record_grpc_response(ProbeFacts& f, const HttpLimits& limits) {
  GrpcFacts& g = *f.grpc;
  if (!f.http_status || f.http_error) return;  // no whole response: the HTTP facts say why
  const bool has_status = record_status(f, g);
  if (g.problem) return;
  if (*f.http_status != 200) return;  // gRPC always answers 200: what else came is HTTP's to judge
  const std::optional<std::string> type = response_header(f, "content-type");
  if (!type || !is_grpc_content_type(*type)) {
    g.problem =
        type ? fmt::format("the response's content-type is \"{}\", not application/grpc", type->substr(0, 80))
             : std::string("the response has no content-type (gRPC answers application/grpc)");
    return;
  }
  if (!has_status) {
    g.problem =
        "the response ended without grpc-status (neither in its trailers nor in a trailers-only answer)";
    return;
  }
  record_health_message(f, limits, g);
}

}  // namespace mtls_probe
