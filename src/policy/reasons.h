// Constructors for the reasons the policy emits. Codes are stable public
// vocabulary (docs/reasons.md); keep the list there in step with this file.
#pragma once

#include <string>

#include "danekit/report.h"

namespace danekit {

inline Reason make_reason(std::string code, Severity sev, std::string rfc, std::string text, std::string fix = {},
                          std::string host = {}, std::string address = {}) {
  Reason r;
  r.code = std::move(code);
  r.severity = sev;
  r.rfc = std::move(rfc);
  r.text = std::move(text);
  r.fix = std::move(fix);
  r.host = std::move(host);
  r.address = std::move(address);
  return r;
}

}  // namespace danekit
