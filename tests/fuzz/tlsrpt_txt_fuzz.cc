// _smtp._tls TXT records (RFC 8460 §3) from the DNS, one per input line: the
// parser never crashes, and a valid record has at least one rua URI, each
// mailto: or https: and free of the characters the RFC makes encode.
#include <cstdint>
#include <string>
#include <vector>

#include "danekit/mta_sts.h"
#include "policy/reason_catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> records;
  for (std::size_t start = 0; start <= text.size() && records.size() < 64;) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    records.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  auto r = danekit::sts::parse_tlsrpt_txt(records);
  for (const auto& f : r.findings) {
    if (!danekit::find_reason(f.code)) __builtin_trap();
    for (char c : f.text)
      if (c < 0x20 || c >= 0x7f) __builtin_trap();
  }
  if (r.findings.size() > 64) __builtin_trap();
  if (r.status != danekit::sts::RecordStatus::valid) {
    if (!r.rua.empty()) __builtin_trap();
    return 0;
  }
  if (r.rua.empty()) __builtin_trap();
  for (const auto& u : r.rua) {
    std::string lower;
    for (char c : u.substr(0, 8)) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (!lower.starts_with("mailto:") && !lower.starts_with("https://")) __builtin_trap();
    if (u.find_first_of("!, ;\t") != std::string::npos) __builtin_trap();
  }
  return 0;
}
