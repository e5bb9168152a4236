// What the diagnosis tests share. Only tests include this.
#pragma once

#include <string>

#include "mtls_probe/diagnosis/diagnosis.h"

namespace mtls_probe {

inline bool any_hint_contains(const Diagnosis& d, const std::string& needle) {
  for (const auto& h : d.hints)
    if (h.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace mtls_probe
