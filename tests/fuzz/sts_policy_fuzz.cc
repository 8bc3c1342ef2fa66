// MTA-STS policy bodies (RFC 8461 §3.2) from a hostile web server: the parser
// never crashes, bounds its findings, and a valid policy holds only valid
// patterns that cover what they should and survives a print-and-parse.
#include <cstdint>
#include <string>
#include <vector>

#include "danekit/mta_sts.h"
#include "policy/reason_catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sts = danekit::sts;
  std::string body(reinterpret_cast<const char*>(data), size);
  auto p = sts::parse_sts_policy(body);
  if (p.findings.size() > 20 * sts::max_findings_per_code) __builtin_trap();
  for (const auto& f : p.findings) {
    if (!danekit::find_reason(f.code)) __builtin_trap();
    for (char c : f.text)
      if (c < 0x20 || c >= 0x7f) __builtin_trap();
  }
  for (const auto& m : p.mx) {
    if (sts::mx_pattern_error(m)) __builtin_trap();
    // A wildcard covers one label in its place, never its own base name.
    if (m.starts_with("*.")) {
      auto base = m.substr(2);
      if (!sts::mx_pattern_covers(m, "x1." + base) || sts::mx_pattern_covers(m, base) ||
          sts::mx_pattern_covers(m, "a.b." + base))
        __builtin_trap();
    } else if (!sts::mx_pattern_covers(m, m) || sts::mx_pattern_covers(m, m + ".evil.example")) {
      __builtin_trap();
    }
  }
  if (!p.valid) return 0;
  if (!p.mode || !p.max_age || *p.max_age > sts::max_max_age) __builtin_trap();
  if (*p.mode != sts::Mode::none && p.mx.empty()) __builtin_trap();
  // Printing adds a space and a CR per line, so a body near the size bound may
  // print larger than it.
  auto printed = sts::policy_body({*p.mode, *p.max_age, p.mx});
  if (printed.size() > sts::max_policy_bytes) return 0;
  auto again = sts::parse_sts_policy(printed);
  if (!again.valid || again.mode != p.mode || again.max_age != p.max_age || again.mx.size() != p.mx.size())
    __builtin_trap();
  for (std::size_t i = 0; i < p.mx.size(); ++i)
    if (!sts::mx_pattern_covers(again.mx[i], p.mx[i]) && !p.mx[i].starts_with("*.")) __builtin_trap();
  return 0;
}
