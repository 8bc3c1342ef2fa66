// _mta-sts TXT records (RFC 8461 §3.1) from the DNS, one per input line: the
// parser never crashes, a valid record has an id a record can carry, and
// every finding is a catalogued code with printable text.
#include <cstdint>
#include <string>
#include <vector>

#include "danekit/mta_sts.h"
#include "policy/reason_catalog.h"

namespace {

void check_findings(const std::vector<danekit::sts::Finding>& findings) {
  for (const auto& f : findings) {
    if (!danekit::find_reason(f.code)) __builtin_trap();
    for (char c : f.text)
      if (c < 0x20 || c >= 0x7f) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> records;
  for (std::size_t start = 0; start <= text.size() && records.size() < 64;) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    records.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  auto r = danekit::sts::parse_sts_txt(records);
  check_findings(r.findings);
  if (r.findings.size() > 64) __builtin_trap();
  if (r.status == danekit::sts::RecordStatus::valid) {
    if (r.id.empty() || r.id.size() > 32) __builtin_trap();
    for (char c : r.id)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) __builtin_trap();
    auto again = danekit::sts::parse_sts_txt(std::vector<std::string>{danekit::sts::sts_txt_value(r.id)});
    if (again.status != danekit::sts::RecordStatus::valid || again.id != r.id) __builtin_trap();
  } else if (!r.id.empty()) {
    __builtin_trap();
  }
  return 0;
}
