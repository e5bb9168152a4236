#include "mtls_probe/base/words.h"

#include <fmt/format.h>

namespace mtls_probe {

std::string plural(long n, std::string_view unit) {
  return fmt::format("{} {}{}", n, unit, n == 1 || n == -1 ? "" : "s");
}

std::string date(std::string_view iso) {
  if (iso.size() >= 10 && iso[4] == '-' && iso[7] == '-') return std::string(iso.substr(0, 10));
  return std::string(iso);
}

}  // namespace mtls_probe
