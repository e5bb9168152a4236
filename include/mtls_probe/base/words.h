// Small pieces of wording shared by the findings, the diagnosis and the printers.
#pragma once

#include <string>
#include <string_view>

namespace mtls_probe {

// "1 day", "-1 day", "3 days", "0 days".
std::string plural(long n, std::string_view unit);
// The date of an ISO 8601 time: "2027-03-01" of "2027-03-01T00:00:00Z"; anything else as given.
std::string date(std::string_view iso);

}  // namespace mtls_probe
